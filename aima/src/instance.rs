//! The identity of a data dir on a shared Docker daemon: the `aima.instance` label of its
//! containers, so that each aima removes only its own.
//!
//! It is a random id created once and kept in `<data dir>/instance-id`. (It used to be a hash of
//! the data dir's path, which two hosts with `/root/.aima` sharing one Docker had in common, so
//! each one's reaper removed the other's engines.) A data dir that already held a database when
//! its id was created keeps that old hash as its *legacy* label, in `instance-legacy`: containers
//! labelled with it are still recognised as this data dir's for their own service (stop, start,
//! status), but never removed as orphans, since another host may share that label.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::disk::is_full;
use crate::error::{Classified, Kind};

/// Why the data dir's identity cannot be read or made (exit 9, as other data dir failures).
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("cannot read or create {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} does not hold an instance id (8 to 64 lowercase hex digits or dashes)", path.display())]
    Malformed { path: PathBuf },
    #[error("{} vanished while it was created", path.display())]
    Vanished { path: PathBuf },
}

impl Classified for InstanceError {
    fn kind(&self) -> Kind {
        match self {
            InstanceError::Io { source, .. } if is_full(source) => Kind::DiskFull,
            _ => Kind::Storage,
        }
    }

    fn help(&self) -> Option<String> {
        Some(match self {
            InstanceError::Io { path, source } if is_full(source) => format!(
                "free space on the disk holding {} (`df -h` shows it), or point AIMA_DATA_DIR at a disk with room",
                path.display()
            ),
            InstanceError::Io { .. } | InstanceError::Vanished { .. } => {
                "check the data dir's permissions".to_owned()
            }
            InstanceError::Malformed { .. } => "restore the file; if this data dir has no engines \
                running, deleting it makes a new id"
                .to_owned(),
        })
    }
}

type Result<T, E = InstanceError> = std::result::Result<T, E>;

/// Documented file names: the harness and operators read them.
pub const ID_FILE: &str = "instance-id";
pub const LEGACY_FILE: &str = "instance-legacy";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The label of every container this data dir creates.
    pub id: String,
    /// The path hash that labelled containers created before the id existed.
    pub legacy: Option<String>,
}

/// Reads the data dir's identity, creating it on first use. Safe against concurrent first uses:
/// the id file appears atomically (hard link of a complete temp file), and the loser reads the
/// winner's id.
pub fn load_or_create(data_dir: &Path) -> Result<Identity> {
    let id_path = data_dir.join(ID_FILE);
    let id = match read_id(&id_path)? {
        Some(id) => id,
        None => {
            if data_dir.join("aima.db").exists() && !data_dir.join(LEGACY_FILE).exists() {
                // Written before the id appears, so no reader sees the id without it.
                match write_atomically(data_dir, LEGACY_FILE, &path_hash(data_dir)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(unusable(&data_dir.join(LEGACY_FILE), e)),
                }
            }
            match write_atomically(data_dir, ID_FILE, &random_id()?) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(unusable(&id_path, e)),
            }
            read_id(&id_path)?.ok_or(InstanceError::Vanished {
                path: id_path.clone(),
            })?
        }
    };
    let legacy_path = data_dir.join(LEGACY_FILE);
    let legacy = read_id(&legacy_path)?;
    Ok(Identity { id, legacy })
}

/// The id in `path`: one line of 8 to 64 lowercase hex digits or dashes.
fn read_id(path: &Path) -> Result<Option<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unusable(path, e)),
    };
    let id = text.trim();
    if !well_formed(id) {
        return Err(InstanceError::Malformed {
            path: path.to_owned(),
        });
    }
    Ok(Some(id.to_owned()))
}

/// 8 to 64 lowercase hex digits or dashes.
fn well_formed(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
}

/// A new instance id written beside `instance-id`, which [`Replacement::commit`] replaces in
/// one rename; dropped uncommitted, it is removed and nothing changed.
pub struct Replacement {
    tmp: PathBuf,
    target: PathBuf,
}

impl Replacement {
    /// Writes `id` (refused unless well formed) to a private temp file in `data_dir`.
    pub fn stage(data_dir: &Path, id: &str) -> Result<Replacement> {
        let target = data_dir.join(ID_FILE);
        if !well_formed(id) {
            return Err(InstanceError::Malformed { path: target });
        }
        let tmp = data_dir.join(format!(".{ID_FILE}.{}.replace.tmp", std::process::id()));
        let staged = Replacement { tmp, target };
        (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&staged.tmp)?;
            file.write_all(format!("{id}\n").as_bytes())?;
            file.sync_all()
        })()
        .map_err(|e| unusable(&staged.target, e))?;
        Ok(staged)
    }

    pub fn commit(self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.target).map_err(|e| unusable(&self.target, e))
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

fn write_atomically(dir: &Path, name: &str, value: &str) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{unique}.tmp", std::process::id()));
    let result = (|| {
        // Private like every file aima creates in the data dir.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(format!("{value}\n").as_bytes())?;
        file.sync_all()?;
        std::fs::hard_link(&tmp, dir.join(name))
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// 16 hex digits from the kernel's random source.
fn random_id() -> Result<String> {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|source| InstanceError::Io {
            path: PathBuf::from("/dev/urandom"),
            source,
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The label of data dirs before ids existed: a hash of the canonical path.
fn path_hash(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn unusable(path: &Path, source: std::io::Error) -> InstanceError {
    InstanceError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert_eq!(first.id.len(), 16);
        assert_eq!(first.legacy, None);
        assert_eq!(load_or_create(dir.path()).unwrap(), first);
        let on_disk = std::fs::read_to_string(dir.path().join(ID_FILE)).unwrap();
        assert_eq!(on_disk.trim(), first.id);
    }

    #[test]
    fn two_data_dirs_with_the_same_path_get_different_ids() {
        // Two hosts with `/root/.aima`: simulated by creating the id twice at one path.
        let dir = tempfile::tempdir().unwrap();
        let host_a = load_or_create(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join(ID_FILE)).unwrap();
        let host_b = load_or_create(dir.path()).unwrap();
        assert_ne!(host_a.id, host_b.id);
        assert_eq!((host_a.legacy, host_b.legacy), (None, None));
    }

    #[test]
    fn an_existing_database_keeps_its_old_label_as_legacy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("aima.db"), b"").unwrap();
        let identity = load_or_create(dir.path()).unwrap();
        let old = path_hash(dir.path());
        assert_eq!(identity.legacy.as_deref(), Some(old.as_str()));
        assert_ne!(identity.id, old);
    }

    #[test]
    fn concurrent_first_uses_agree() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| load_or_create(dir.path()).unwrap().id))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    }

    #[test]
    fn a_damaged_id_file_is_a_storage_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ID_FILE), "not an id\n").unwrap();
        let err = load_or_create(dir.path()).unwrap_err();
        assert_eq!(err.kind(), Kind::Storage);
    }
}
