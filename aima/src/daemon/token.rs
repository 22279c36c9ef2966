//! Which token the TCP listener requires: the operator's (`AIMA_API_TOKEN`, `[api] token`), or
//! else one generated at first start into `api-token` in the data dir (mode 0600) and reused
//! afterwards. `AIMA_API_AUTH=none` (`[api] auth = "none"`) opts out; the token itself is never
//! logged, only where it is.

use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use std::path::PathBuf;

use crate::config::{ApiAuth, Config, Source};
use crate::disk::{DiskFull, Place, is_full};
use crate::error::{Classified, Kind};

pub(crate) const TOKEN_FILE: &str = "api-token";
const TOKEN_BYTES: usize = 32;
/// The shortest token accepted from any source: a short one is guessed by a neighbour who may
/// try the TCP port as often as they like.
pub(crate) const MIN_TOKEN_BYTES: usize = 16;

/// Why the daemon has no token to require.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("an API token is configured but AIMA_API_AUTH / [api] auth says \"none\"")]
    TokenAndOptOut,
    #[error("cannot {action} the API token file {}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the API token file {} is readable by other accounts (mode {mode:03o})", path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("the API token file {} is empty", .0.display())]
    Empty(PathBuf),
    #[error(
        "the API token from {from} is {len} bytes long; at least {MIN_TOKEN_BYTES} are required"
    )]
    TooShort { from: String, len: usize },
    #[error(transparent)]
    Full(DiskFull),
}

impl Classified for TokenError {
    fn kind(&self) -> Kind {
        match self {
            TokenError::TokenAndOptOut | TokenError::TooShort { .. } => Kind::Usage,
            TokenError::Full(e) => e.kind(),
            _ => Kind::Storage,
        }
    }

    fn help(&self) -> Option<String> {
        Some(match self {
            TokenError::TokenAndOptOut => {
                "remove one of the two: the token, or the opt-out".to_owned()
            }
            TokenError::Full(e) => return e.help(),
            TokenError::File { .. } => {
                "check the data dir's permissions, or set AIMA_API_TOKEN".to_owned()
            }
            TokenError::Exposed { path, .. } => format!("run `chmod 600 {}`", path.display()),
            TokenError::Empty(_) => {
                "delete it: the daemon generates a new one at its next start".to_owned()
            }
            TokenError::TooShort { .. } => format!(
                "use a random token of at least {MIN_TOKEN_BYTES} bytes (`openssl rand -hex 32`), or unset it and delete the api-token file so the daemon generates one"
            ),
        })
    }
}

type Result<T> = std::result::Result<T, TokenError>;

/// The token to require, or `None` when the operator opted out.
pub(crate) fn api_token(config: &Config) -> Result<Option<String>> {
    match (config.api_auth, config.api_token.clone()) {
        (ApiAuth::None, Some(_)) => Err(TokenError::TokenAndOptOut),
        (ApiAuth::None, None) => Ok(None),
        (ApiAuth::Token, Some(token)) => {
            let from = match config.sources.of("api.token") {
                Source::Env(var) => var,
                _ => format!(
                    "[api] token in {}",
                    config.data_dir.join("config.toml").display()
                ),
            };
            long_enough(token, from).map(Some)
        }
        (ApiAuth::Token, None) => load_or_generate(&config.data_dir).map(Some),
    }
}

/// `token`, unless it is shorter than [`MIN_TOKEN_BYTES`]; `from` says where it came from.
fn long_enough(token: String, from: String) -> Result<String> {
    if token.len() < MIN_TOKEN_BYTES {
        return Err(TokenError::TooShort {
            from,
            len: token.len(),
        });
    }
    Ok(token)
}

fn load_or_generate(data_dir: &Path) -> Result<String> {
    let path = data_dir.join(TOKEN_FILE);
    let file_error = |action: &'static str| {
        let path = path.clone();
        move |source: std::io::Error| {
            if is_full(&source) {
                let what = format!("cannot {action} the API token file {}", path.display());
                TokenError::Full(DiskFull::full(&what, Place::DataDir, data_dir, source))
            } else {
                TokenError::File {
                    action,
                    path,
                    source,
                }
            }
        }
    };
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path);
    match created {
        Ok(mut file) => {
            let token = random_token().map_err(|e| file_error("generate")(e))?;
            if let Err(e) = file.write_all(format!("{token}\n").as_bytes()) {
                // A half-written file would be refused as empty at every later start.
                let _ = std::fs::remove_file(&path);
                return Err(file_error("write")(e));
            }
            tracing::info!(
                path = %path.display(),
                "generated an API token (mode 0600): TCP clients send it as `Authorization: Bearer <token>`"
            );
            return Ok(token);
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(file_error("create")(e)),
    }
    let meta = std::fs::metadata(&path).map_err(file_error("read"))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(TokenError::Exposed { path, mode });
    }
    let token = std::fs::read_to_string(&path).map_err(file_error("read"))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenError::Empty(path));
    }
    let token = long_enough(token.to_owned(), path.display().to_string())?;
    tracing::info!(path = %path.display(), "API token read from the data dir");
    Ok(token)
}

/// 32 bytes from the kernel's generator, hex-encoded.
fn random_token() -> std::io::Result<String> {
    crate::host::secret::random_hex(TOKEN_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, env: &[(&str, &str)]) -> Config {
        Config::load(dir, crate::config::Env::from_pairs(env.iter().copied())).unwrap()
    }

    #[test]
    fn generated_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path(), &[]);
        let first = api_token(&cfg).unwrap().unwrap();
        assert_eq!(first.len(), 2 * TOKEN_BYTES);
        let path = dir.path().join(TOKEN_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(api_token(&cfg).unwrap().unwrap(), first);
    }

    const MINE: &str = "the-operators-own-token";

    #[test]
    fn tokens_shorter_than_sixteen_bytes_are_refused_wherever_they_come_from() {
        let dir = tempfile::tempdir().unwrap();
        let err = api_token(&config(dir.path(), &[("AIMA_API_TOKEN", "t0ken")])).unwrap_err();
        assert_eq!(err.kind(), Kind::Usage);
        let text = err.to_string();
        assert!(
            text.contains("AIMA_API_TOKEN") && text.contains("5 bytes"),
            "{text}"
        );
        assert!(!text.contains("t0ken"), "the error shows the token: {text}");
        std::fs::write(dir.path().join("config.toml"), "[api]\ntoken = \"short\"\n").unwrap();
        let text = api_token(&config(dir.path(), &[])).unwrap_err().to_string();
        assert!(text.contains("[api] token in"), "{text}");
        std::fs::remove_file(dir.path().join("config.toml")).unwrap();
        let path = dir.path().join(TOKEN_FILE);
        std::fs::write(&path, "123456789012345\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let text = api_token(&config(dir.path(), &[])).unwrap_err().to_string();
        assert!(
            text.contains(TOKEN_FILE) && text.contains("15 bytes"),
            "{text}"
        );
        std::fs::write(&path, "1234567890123456\n").unwrap();
        assert_eq!(
            api_token(&config(dir.path(), &[])).unwrap().unwrap().len(),
            16
        );
    }

    #[test]
    fn operator_token_wins_and_opt_out_means_none() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path(), &[("AIMA_API_TOKEN", MINE)]);
        assert_eq!(api_token(&cfg).unwrap().as_deref(), Some(MINE));
        let cfg = config(dir.path(), &[("AIMA_API_AUTH", "none")]);
        assert_eq!(api_token(&cfg).unwrap(), None);
        assert!(!dir.path().join(TOKEN_FILE).exists());
        let both = config(
            dir.path(),
            &[("AIMA_API_AUTH", "none"), ("AIMA_API_TOKEN", MINE)],
        );
        assert_eq!(api_token(&both).unwrap_err().kind(), Kind::Usage);
    }

    #[test]
    fn a_token_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TOKEN_FILE);
        std::fs::write(&path, "leaked\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cfg = config(dir.path(), &[]);
        let text = api_token(&cfg).unwrap_err().to_string();
        assert!(text.contains("readable by other accounts"), "{text}");
        assert!(!text.contains("leaked"));
    }
}
