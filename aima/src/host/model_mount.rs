//! The model directory an engine gets, held from its check to Docker's mount.
//!
//! A path checked long before Docker follows it can be swapped in between (a directory under a
//! model root replaced by a symlink to `/`). So the directory is opened when it is checked
//! ([`PinnedDir::open`]): the kernel's name for the open directory must be the canonical path
//! under a root, and its (device, inode) is kept — the open handle also keeps that inode from
//! being freed and its number reused. Docker is handed that canonical path. Once the container
//! has started, [`PinnedDir::verify`] proves the mount is the pinned directory:
//!
//! - where this host can look into the container (`/proc/<pid>/root`, readable by root, and
//!   only when that process's cgroup names the container), the directory Docker mounted at
//!   [`MOUNT_TARGET`] must have the pinned (device, inode): this catches any swap, even one
//!   undone right after Docker's mount;
//! - always, the canonical path must still name the pinned directory: this catches a swap
//!   still in place, when the container cannot be looked into.
//!
//! `docs/hardening.md` states the guarantee and its limits.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Classified, Kind};
use crate::runtime::MOUNT_TARGET;

/// A directory's identity: its device and inode numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirId {
    pub dev: u64,
    pub ino: u64,
}

impl DirId {
    fn of(meta: &std::fs::Metadata) -> Self {
        DirId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

impl std::fmt::Display for DirId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "device {}, inode {}", self.dev, self.ino)
    }
}

/// How the mount was verified after the container started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The directory at the mount point inside the container is the pinned one.
    InsideContainer,
    /// The container could not be looked into; the canonical path still names the pinned one.
    PathOnly,
}

/// Why the model directory cannot be pinned, or is not what Docker mounted.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("cannot open model directory {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model directory {} changed while it was checked: it opened as {opened}", path.display())]
    Moved { path: PathBuf, opened: String },
    #[error("model directory {} was swapped after its check: it now {now}, not the checked directory ({checked})", path.display())]
    Swapped {
        path: PathBuf,
        checked: DirId,
        now: String,
    },
    #[error("container {container} has another directory at {MOUNT_TARGET} ({found}) than the checked model directory {} ({checked}): it was swapped between the check and Docker's mount", path.display())]
    MountedOther {
        path: PathBuf,
        container: String,
        checked: DirId,
        found: DirId,
    },
}

impl Classified for MountError {
    fn kind(&self) -> Kind {
        match self {
            MountError::Open { .. } => Kind::Usage,
            _ => Kind::StartFailed,
        }
    }

    fn help(&self) -> Option<String> {
        Some(match self {
            MountError::Open { .. } => {
                "check that the directory exists and that this account may read it".to_owned()
            }
            _ => "someone who can write under the model root replaced the directory: check the \
                  model root's permissions and its contents, then start again; retrying as is \
                  will not help"
                .to_owned(),
        })
    }
}

/// A checked model directory, open, with its identity.
#[derive(Debug, Clone)]
pub struct PinnedDir {
    path: PathBuf,
    id: DirId,
    _pin: Arc<File>,
}

impl PartialEq for PinnedDir {
    fn eq(&self, other: &Self) -> bool {
        (&self.path, self.id) == (&other.path, other.id)
    }
}

impl Eq for PinnedDir {}

impl PinnedDir {
    /// Opens the canonical directory `path` (not through a symlink) and proves that what opened
    /// is `path` itself. The handle is an `O_PATH` one: it reads nothing (Docker, not aima,
    /// reads the model), it only holds the directory.
    pub fn open(path: &Path) -> Result<Self, MountError> {
        use rustix::fs::OFlags;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags.bits() as i32)
            .open(path)
            .map_err(|source| MountError::Open {
                path: path.to_owned(),
                source,
            })?;
        let meta = file.metadata().map_err(|source| MountError::Open {
            path: path.to_owned(),
            source,
        })?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let opened = std::fs::read_link(format!("/proc/self/fd/{fd}")).map_err(|source| {
            MountError::Open {
                path: path.to_owned(),
                source,
            }
        })?;
        if opened != path {
            return Err(MountError::Moved {
                path: path.to_owned(),
                opened: opened.display().to_string(),
            });
        }
        Ok(PinnedDir {
            path: path.to_owned(),
            id: DirId::of(&meta),
            _pin: Arc::new(file),
        })
    }

    #[cfg(test)]
    pub fn id(&self) -> DirId {
        self.id
    }

    /// After container `container` (whose main process is `pid`, when it runs) started: proves
    /// its mount is this directory, inside the container where this host can look, and by the
    /// canonical path always.
    pub fn verify(&self, container: &str, pid: Option<u32>) -> Result<Evidence, MountError> {
        let inside = pid.and_then(|pid| seen_inside(pid, container));
        if let Some(found) = inside
            && found != self.id
        {
            return Err(MountError::MountedOther {
                path: self.path.clone(),
                container: container.to_owned(),
                checked: self.id,
                found,
            });
        }
        self.still_named()?;
        Ok(match inside {
            Some(_) => Evidence::InsideContainer,
            None => Evidence::PathOnly,
        })
    }

    /// The canonical path, followed as Docker follows it, still names this directory.
    fn still_named(&self) -> Result<(), MountError> {
        let swapped = |now: String| MountError::Swapped {
            path: self.path.clone(),
            checked: self.id,
            now,
        };
        match std::fs::metadata(&self.path) {
            Ok(meta) if DirId::of(&meta) == self.id => Ok(()),
            Ok(meta) => {
                let target = self
                    .path
                    .canonicalize()
                    .map(|t| format!(" and resolves to {}", t.display()))
                    .unwrap_or_default();
                Err(swapped(format!("names {}{target}", DirId::of(&meta))))
            }
            Err(e) => Err(swapped(format!("cannot be read ({e})"))),
        }
    }
}

/// The identity of the directory at [`MOUNT_TARGET`] inside the container whose main process is
/// `pid`, when this host may look: the process's cgroup must name the container (so the pid is
/// of this host's PID namespace and is that container's), and its root must be readable.
fn seen_inside(pid: u32, container: &str) -> Option<DirId> {
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    if container.len() < 12 || !cgroup.contains(container) {
        return None;
    }
    let meta = std::fs::metadata(format!("/proc/{pid}/root{MOUNT_TARGET}")).ok()?;
    Some(DirId::of(&meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().canonicalize().unwrap().join("tiny");
        std::fs::create_dir(&dir).unwrap();
        (tmp, dir)
    }

    #[test]
    fn a_directory_left_alone_verifies_by_its_path() {
        let (_tmp, dir) = dir();
        let pinned = PinnedDir::open(&dir).unwrap();
        let found = std::fs::metadata(&dir).unwrap();
        assert_eq!(pinned.id(), DirId::of(&found));
        assert_eq!(pinned.verify("abc", None).unwrap(), Evidence::PathOnly);
    }

    #[test]
    fn a_symlink_or_a_moved_directory_is_not_pinned() {
        let (tmp, dir) = dir();
        let link = tmp.path().canonicalize().unwrap().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(matches!(
            PinnedDir::open(&link),
            Err(MountError::Open { .. })
        ));
        let dotted = dir.join("..").join("tiny");
        let err = PinnedDir::open(&dotted).unwrap_err();
        assert!(matches!(err, MountError::Moved { .. }), "{err}");
    }

    #[test]
    fn a_swap_for_a_symlink_to_root_is_caught() {
        let (tmp, dir) = dir();
        let pinned = PinnedDir::open(&dir).unwrap();
        std::fs::rename(&dir, tmp.path().join("moved")).unwrap();
        std::os::unix::fs::symlink("/", &dir).unwrap();
        let err = pinned.verify("abc", None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("was swapped after its check"), "{text}");
        assert!(text.contains("resolves to /"), "{text}");
        assert_eq!(err.kind(), Kind::StartFailed);
    }

    #[test]
    fn a_replaced_directory_is_caught_even_under_the_same_name() {
        let (tmp, dir) = dir();
        let pinned = PinnedDir::open(&dir).unwrap();
        std::fs::rename(&dir, tmp.path().join("moved")).unwrap();
        std::fs::create_dir(&dir).unwrap();
        assert!(matches!(
            pinned.verify("abc", None),
            Err(MountError::Swapped { .. })
        ));
    }
}
