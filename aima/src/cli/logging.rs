//! Logs: to stderr only, filtered by `AIMA_LOG` (default: warnings; the daemon: info), as text
//! or as JSON lines (`AIMA_LOG_FORMAT=json`). Colours only on a terminal, never with `NO_COLOR`.

use crate::config::Env;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Sets up the global subscriber; a bad `AIMA_LOG_FORMAT` is a usage error.
pub(crate) fn init(daemon: bool, env: &Env) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let format = match env.get("AIMA_LOG_FORMAT").map(str::to_ascii_lowercase) {
        None => Format::Text,
        Some(v) if v == "text" => Format::Text,
        Some(v) if v == "json" => Format::Json,
        Some(_) => {
            return Err(Error::usage(format!(
                "AIMA_LOG_FORMAT must be text or json, not {:?}",
                env.get("AIMA_LOG_FORMAT").unwrap_or_default()
            )));
        }
    };
    let default = if daemon { "info" } else { "warn" };
    let filter = env
        .get("AIMA_LOG")
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        Format::Json => builder.json().flatten_event(true).try_init(),
        Format::Text => builder
            .with_ansi(colour(
                env,
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ))
            .try_init(),
    };
    Ok(())
}

/// <https://no-color.org>: any non-empty `NO_COLOR` turns colours off.
pub(crate) fn colour(env: &Env, terminal: bool) -> bool {
    terminal && env.get("NO_COLOR").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_over_a_terminal() {
        assert!(colour(&Env::default(), true));
        assert!(!colour(&Env::from_pairs([("NO_COLOR", "1")]), true));
        assert!(!colour(&Env::default(), false));
    }

    #[test]
    fn unknown_formats_are_refused() {
        let env = Env::from_pairs([("AIMA_LOG_FORMAT", "xml")]);
        let err = init(false, &env).unwrap_err();
        assert_eq!(err.code, crate::error::Kind::Usage);
        assert!(err.message.contains("xml"), "{}", err.message);
    }
}
