//! `aima start`: the daemon — the HTTP API on a loopback TCP address and on a unix socket in the
//! data dir, the reconciler, and graceful shutdown.

mod connections;
mod docker_events;
mod docker_watch;
mod listen;
mod liveness;
mod reconcile;
mod serve;
mod settings;
mod signals;
mod socket;
mod socket_group;
pub(crate) use socket::{SOCKET_NAME, serves};
mod token;
mod watches;

use connections::Listener;
use listen::{bind, listen_address};
use serve::serve;
use settings::Settings;
pub(crate) use token::TOKEN_FILE;

use crate::api::ApiState;
use crate::config::Config;
use crate::error::Result;
use crate::lifecycle::Deps;

/// Runs the daemon until SIGTERM or Ctrl-C; a second signal exits at once. SIGHUP is logged and
/// ignored.
pub(crate) async fn run(config: Config, listen: Option<String>) -> Result<()> {
    signals::log_and_ignore_hangups();
    let settings = Settings::from_env(&config.env)?;
    let socket_group = socket_group::resolve(config.socket_group.as_deref())?;
    // A daemon that cannot record what it does is no use: refuse before serving anything.
    crate::disk::DiskFull::check(
        "cannot start the daemon",
        crate::disk::Place::DataDir,
        &config.data_dir,
        config.disk.data_min_free,
    )?;
    let token = token::api_token(&config)?;
    let listen = listen_address(
        listen.as_deref().unwrap_or(&config.api_listen),
        token.is_some(),
    )?;
    let fresh = !config.db_path().exists();
    // Migrations run here, once, when the schema is behind; request handlers only read it.
    drop(crate::store::Store::open_in(&config)?);
    let tcp = bind(listen).await?;
    let bound: Vec<String> = tcp.iter().map(|(_, a)| a.to_string()).collect();
    let (unix, socket_path) = socket::bind_socket(&config.data_dir)?;
    if let Some(group) = &socket_group {
        group.give_socket(&socket_path)?;
        group.open_data_dir(&config.data_dir, fresh)?;
    }
    tracing::info!(
        address = %listen,
        bound = %bound.join(" "),
        socket = %socket_path.display(),
        socket_group = socket_group.as_ref().map_or("(the daemon's own)", |g| g.name.as_str()),
        auth = if token.is_some() { "bearer token on TCP" } else { "none (opted out; loopback only)" },
        data_dir = %config.data_dir.display(),
        instance = %config.instance,
        "aima daemon listening"
    );
    let mut state = ApiState::new(Deps::real(config), token);
    state.body_timeout = settings.body_timeout;
    state.limit_sign_ins(settings.sign_ins());
    let mut listeners: Vec<Listener> = tcp.into_iter().map(|(l, _)| Listener::Tcp(l)).collect();
    listeners.push(Listener::Unix(unix));
    let served = serve(listeners, state, settings, signals::first_then_force_exit()).await;
    if let Err(e) = std::fs::remove_file(&socket_path) {
        tracing::warn!("cannot remove {}: {e}", socket_path.display());
    }
    served
}
