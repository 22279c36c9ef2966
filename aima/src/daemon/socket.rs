//! The daemon's unix socket, `aima.sock` in the data dir, mode 0660: local clients whose
//! account may open it reach the API without a token (the file's permissions are the check).
//! A socket left by a daemon that died is replaced; one that still answers means another
//! daemon serves this data dir, and this one refuses to start.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

use crate::error::{Classified, Kind};

pub(crate) const SOCKET_NAME: &str = "aima.sock";
const SOCKET_MODE: u32 = 0o660;

/// Why the daemon cannot listen on its socket.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SocketError {
    #[error("{} exists and is not a socket", .0.display())]
    NotASocket(PathBuf),
    #[error("another aima daemon already serves data dir {} (its socket {} answers)", data_dir.display(), path.display())]
    Served { data_dir: PathBuf, path: PathBuf },
    #[error("cannot listen on the unix socket {}", path.display())]
    Bind {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Classified for SocketError {
    fn kind(&self) -> Kind {
        match self {
            SocketError::NotASocket(_) => Kind::Usage,
            SocketError::Served { .. } => Kind::Conflict,
            SocketError::Bind { .. } => Kind::Storage,
        }
    }

    fn help(&self) -> Option<String> {
        Some(
            match self {
                SocketError::NotASocket(_) => "move that file away: the daemon listens there",
                SocketError::Served { .. } => {
                    "stop that daemon first, or give this one another AIMA_DATA_DIR"
                }
                SocketError::Bind { .. } => {
                    "check that the data dir is writable and its path shorter than 100 bytes (a unix socket limit)"
                }
            }
            .to_owned(),
        )
    }
}

type Result<T> = std::result::Result<T, SocketError>;

/// Whether a daemon serves `data_dir`: its socket answers.
pub(crate) fn serves(data_dir: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(data_dir.join(SOCKET_NAME)).is_ok()
}

/// Binds `aima.sock` in `data_dir`; returns the listener and its path.
pub(crate) fn bind_socket(data_dir: &Path) -> Result<(UnixListener, PathBuf)> {
    let path = data_dir.join(SOCKET_NAME);
    if let Ok(meta) = std::fs::symlink_metadata(&path) {
        if !meta.file_type().is_socket() {
            return Err(SocketError::NotASocket(path));
        }
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            return Err(SocketError::Served {
                data_dir: data_dir.to_owned(),
                path,
            });
        }
        std::fs::remove_file(&path).map_err(|e| cannot_bind(&path, e))?;
    }
    let listener = UnixListener::bind(&path).map_err(|e| cannot_bind(&path, e))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(|e| cannot_bind(&path, e))?;
    Ok((listener, path))
}

fn cannot_bind(path: &Path, source: std::io::Error) -> SocketError {
    SocketError::Bind {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_0660_replaces_a_dead_socket_and_refuses_a_live_one() {
        let dir = tempfile::tempdir().unwrap();
        let (live, path) = bind_socket(dir.path()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, SOCKET_MODE);
        let err = bind_socket(dir.path()).unwrap_err();
        assert_eq!(err.kind(), Kind::Conflict, "{err}");
        drop(live); // the file stays, as after a crash
        assert!(path.exists());
        let (_again, _) = bind_socket(dir.path()).unwrap();
    }

    #[test]
    fn a_regular_file_in_the_way_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SOCKET_NAME), b"keep me").unwrap();
        let err = bind_socket(dir.path()).unwrap_err();
        assert_eq!(err.kind(), Kind::Usage, "{err}");
        assert_eq!(
            std::fs::read(dir.path().join(SOCKET_NAME)).unwrap(),
            b"keep me"
        );
    }
}
