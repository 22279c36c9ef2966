//! `aima start`: the daemon — the HTTP API, the reconciler, and graceful shutdown.

mod listen;
mod orphans;
mod reconcile;
mod serve;
mod settings;
mod signals;

use listen::{bind, listen_address};
use serve::serve;
use settings::Settings;

use crate::api::ApiState;
use crate::config::Config;
use crate::error::Result;
use crate::lifecycle::Deps;

/// Runs the daemon until SIGTERM or Ctrl-C; a second signal exits at once.
pub(crate) async fn run(config: Config, listen: Option<String>) -> Result<()> {
    let settings = Settings::from_env(&config.env)?;
    let token = config.api_token.clone().filter(|t| !t.is_empty());
    let addr = listen_address(
        listen.as_deref().unwrap_or(&config.api_listen),
        token.is_some(),
    )?;
    let listener = bind(addr).await?;
    tracing::info!(
        address = %addr,
        auth = if token.is_some() { "bearer token" } else { "none (loopback only)" },
        data_dir = %config.data_dir.display(),
        instance = %config.instance,
        "aima daemon listening"
    );
    let state = ApiState::new(Deps::real(config), token);
    serve(listener, state, settings, signals::first_then_force_exit()).await
}
