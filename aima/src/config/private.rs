//! Whose data dir aima trusts. The data dir holds what decides what aima does and with whose
//! authority — `config.toml` (engine images, bind addresses, model roots, the API token), the
//! API token file, the instance id and the state database — so at every start, of the CLI and
//! of the daemon, the directory and each of those files that exists must belong to the
//! account running aima (or to root) and be writable by nobody else. Anything else is refused
//! before a byte of it is read: a directory another account can write is a directory that
//! account can fill with its own configuration.
//!
//! The checks follow symlinks: what counts is the file aima would open. The directories above
//! the data dir are not checked (the home directory, usually); see `docs/hardening.md`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::ConfigError;
use crate::instance::{ID_FILE, LEGACY_FILE};

/// The files of the data dir aima reads, each checked when it exists.
pub(crate) const READ_FILES: [&str; 7] = [
    "config.toml",
    "api-token",
    ID_FILE,
    LEGACY_FILE,
    "aima.db",
    "aima.db-wal",
    "aima.db-shm",
];

/// Why a file of the data dir is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distrust {
    /// Owned by another account than the one running aima (and not root).
    Owner,
    /// Writable by its group or by everyone.
    Writable,
}

/// The facts of a refused file, for the message and its fix.
#[derive(Debug)]
pub struct Untrusted {
    pub path: PathBuf,
    pub why: Distrust,
    pub uid: u32,
    /// The owner's account name, when `/etc/passwd` has it.
    pub owner: Option<String>,
    pub mode: u32,
    pub is_dir: bool,
}

impl Untrusted {
    /// `uid 1001 (mallory)`.
    pub fn owner_text(&self) -> String {
        match &self.owner {
            Some(name) => format!("uid {} ({name})", self.uid),
            None => format!("uid {}", self.uid),
        }
    }

    /// `refusing data dir /x: owned by uid 1001 (mallory), mode 0777; ...`.
    pub fn describe(&self) -> String {
        let what = if self.is_dir {
            "data dir"
        } else {
            "data dir file"
        };
        let problem = match self.why {
            Distrust::Owner => "another account owns it",
            Distrust::Writable => "other accounts may write it",
        };
        format!(
            "refusing {what} {}: owned by {}, mode {:04o}: {problem}, and aima reads only what its own account (or root) owns and no one else can write",
            self.path.display(),
            self.owner_text(),
            self.mode
        )
    }

    /// The commands that make it trusted, or the way around them.
    pub fn fix(&self) -> String {
        let path = self.path.display();
        let tighten = if self.is_dir { "go-w" } else { "600" };
        match self.why {
            Distrust::Writable => format!(
                "run `chmod {tighten} {path}` if you trust what it holds; otherwise move it away"
            ),
            Distrust::Owner => format!(
                "another account could have written it: check what it holds, then, if you trust it, `sudo chown \"$(id -un)\" {path} && chmod {tighten} {path}`; otherwise point AIMA_DATA_DIR at a directory of your own"
            ),
        }
    }
}

/// Refuses `dir`, or any of [`READ_FILES`] in it, that another account owns or may write.
pub(super) fn check_data_dir(dir: &Path) -> Result<(), ConfigError> {
    check(dir)?;
    for name in READ_FILES {
        check(&dir.join(name))?;
    }
    Ok(())
}

/// Refuses `path` when another account owns it or may write it; a missing file passes.
fn check(path: &Path) -> Result<(), ConfigError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let me = rustix::process::geteuid().as_raw();
    let why = if meta.uid() != me && meta.uid() != 0 {
        Distrust::Owner
    } else if meta.mode() & 0o022 != 0 {
        Distrust::Writable
    } else {
        return Ok(());
    };
    Err(ConfigError::Untrusted(Box::new(Untrusted {
        path: path.to_owned(),
        why,
        uid: meta.uid(),
        owner: account_name(meta.uid()),
        mode: meta.mode() & 0o7777,
        is_dir: meta.is_dir(),
    })))
}

/// The name `/etc/passwd` gives `uid`.
fn account_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (id.parse() == Ok(uid)).then(|| name.to_owned())
    })
}

#[cfg(test)]
#[path = "private_tests.rs"]
mod tests;
