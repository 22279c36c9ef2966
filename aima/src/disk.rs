//! Free space on the disks aima and Docker write to, and the one "disk full" error that both a
//! refused check (below the configured minimum) and a write that ran out of space become.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Classified, Detail, Kind};

/// Bytes an unprivileged writer may still use on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize.max(1)))
}

/// Whether an I/O error means the disk (or the user's quota on it) is full.
pub fn is_full(e: &io::Error) -> bool {
    use rustix::io::Errno;
    e.kind() == io::ErrorKind::StorageFull
        || e.raw_os_error().is_some_and(|code| {
            code == Errno::NOSPC.raw_os_error() || code == Errno::DQUOT.raw_os_error()
        })
}

/// Which disk is full: the advice differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// aima's data dir: the state database and its files.
    DataDir,
    /// Docker's data root (`docker info` → `DockerRootDir`): images, containers, volumes.
    DockerRoot,
}

impl Place {
    /// The setting that lowers the minimum aima keeps free there.
    pub fn setting(self) -> &'static str {
        match self {
            Place::DataDir => "AIMA_DATA_MIN_FREE ([disk] data_min_free)",
            Place::DockerRoot => "AIMA_DOCKER_MIN_FREE ([disk] docker_min_free)",
        }
    }
}

/// A disk aima or Docker must write to has no room: what could not be done, where, how much is
/// free and (for a refused check) the minimum aima keeps free.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DiskFull {
    /// Refused before writing: less than the configured minimum is free.
    #[error(
        "{what}: only {} free on the disk holding {}, below the {} aima keeps free there",
        Bytes(*free), path.display(), Bytes(*min)
    )]
    BelowMinimum {
        what: String,
        place: Place,
        path: PathBuf,
        free: u64,
        min: u64,
    },
    /// A write failed for lack of space.
    #[error("{what}: the disk holding {} is full ({})", path.display(), FreeText(*free))]
    Full {
        what: String,
        place: Place,
        path: PathBuf,
        /// `None` when the free space could not be measured.
        free: Option<u64>,
        /// The OS's, SQLite's or Docker's own words.
        #[source]
        cause: Detail,
    },
}

impl DiskFull {
    /// Refuses when less than `min` bytes are free on the disk holding `path` (`min` 0: never).
    /// A path whose free space cannot be read is not refused: the write itself will tell.
    pub fn check(what: &str, place: Place, path: &Path, min: u64) -> Result<(), DiskFull> {
        if min == 0 {
            return Ok(());
        }
        match free_bytes(path) {
            Ok(free) => DiskFull::against(what, place, path, free, min),
            Err(_) => Ok(()),
        }
    }

    /// Refuses when `free` (measured for `path`) is below `min`.
    pub fn against(
        what: &str,
        place: Place,
        path: &Path,
        free: u64,
        min: u64,
    ) -> Result<(), DiskFull> {
        if free >= min {
            return Ok(());
        }
        Err(DiskFull::BelowMinimum {
            what: what.to_owned(),
            place,
            path: path.to_owned(),
            free,
            min,
        })
    }

    /// A write under `path` that failed for lack of space, with the free space measured now.
    pub fn full(what: &str, place: Place, path: &Path, cause: impl fmt::Display) -> DiskFull {
        DiskFull::Full {
            what: what.to_owned(),
            place,
            path: path.to_owned(),
            free: free_bytes(path).ok(),
            cause: Detail(cause.to_string()),
        }
    }

    fn place(&self) -> Place {
        match self {
            DiskFull::BelowMinimum { place, .. } | DiskFull::Full { place, .. } => *place,
        }
    }

    fn path(&self) -> &Path {
        match self {
            DiskFull::BelowMinimum { path, .. } | DiskFull::Full { path, .. } => path,
        }
    }
}

impl Classified for DiskFull {
    fn kind(&self) -> Kind {
        Kind::DiskFull
    }

    fn help(&self) -> Option<String> {
        let path = self.path().display();
        let lower = match self {
            DiskFull::BelowMinimum { place, .. } => format!(", or lower {}", place.setting()),
            DiskFull::Full { .. } => String::new(),
        };
        Some(match self.place() {
            Place::DataDir => format!(
                "free space on the disk holding {path} (`df -h {path}` shows it) or point AIMA_DATA_DIR at a disk with room{lower}; what aima recorded before is kept"
            ),
            Place::DockerRoot => format!(
                "free space on the Docker host's disk holding {path} (`docker system df`; `docker image prune` removes unused images){lower}"
            ),
        })
    }
}

/// A byte count as people read it: `0 B`, `512 KiB`, `1.5 GiB`.
#[derive(Debug, Clone, Copy)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        if unit == 0 || value.fract() == 0.0 {
            write!(f, "{value:.0} {}", UNITS[unit])
        } else {
            write!(f, "{value:.1} {}", UNITS[unit])
        }
    }
}

/// `12 KiB free`, or that it could not be measured.
struct FreeText(Option<u64>);

impl fmt::Display for FreeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(free) => write!(f, "{} free", Bytes(free)),
            None => f.write_str("free space unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(Bytes(0).to_string(), "0 B");
        assert_eq!(Bytes(1023).to_string(), "1023 B");
        assert_eq!(Bytes(64 << 20).to_string(), "64 MiB");
        assert_eq!(Bytes(3 << 29).to_string(), "1.5 GiB");
    }

    #[test]
    fn no_space_and_quota_errors_are_a_full_disk() {
        use rustix::io::Errno;
        assert!(is_full(&io::Error::from_raw_os_error(
            Errno::NOSPC.raw_os_error()
        )));
        assert!(is_full(&io::Error::from_raw_os_error(
            Errno::DQUOT.raw_os_error()
        )));
        assert!(!is_full(&io::Error::from(io::ErrorKind::PermissionDenied)));
    }

    #[test]
    fn a_check_below_the_minimum_names_path_free_space_minimum_and_setting() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).unwrap();
        let err = DiskFull::check(
            "cannot record the change",
            Place::DataDir,
            dir.path(),
            free + (1 << 40),
        )
        .unwrap_err();
        let err = Error::from(err);
        assert_eq!(err.code, Kind::DiskFull);
        assert_eq!(err.code.exit_code(), 11);
        assert_eq!(err.code.http_status(), 507);
        assert!(
            err.message.starts_with("cannot record the change: only "),
            "{err:?}"
        );
        assert!(
            err.message.contains(&dir.path().display().to_string()),
            "{err:?}"
        );
        assert!(err.message.contains("TiB aima keeps free there"), "{err:?}");
        assert!(
            err.help.as_deref().unwrap().contains("AIMA_DATA_MIN_FREE"),
            "{err:?}"
        );
        // Zero turns the check off; room enough passes.
        DiskFull::check("x", Place::DataDir, dir.path(), 0).unwrap();
        DiskFull::check("x", Place::DataDir, dir.path(), 1).unwrap();
    }

    #[test]
    fn a_failed_write_keeps_the_cause_and_measures_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let err = Error::from(DiskFull::full(
            "cannot write the state database",
            Place::DockerRoot,
            dir.path(),
            "no space left on device",
        ));
        assert!(err.message.ends_with(" free)"), "{}", err.message);
        assert_eq!(err.causes(), ["no space left on device"]);
        assert!(err.help.as_deref().unwrap().contains("docker system df"));
    }
}
