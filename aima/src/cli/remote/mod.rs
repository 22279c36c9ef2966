//! The CLI as a client of a daemon (`--host`): each command sent to the daemon's API and its
//! answer printed exactly as the in-process command prints, with the same exit codes.

mod apply;
mod client;
mod daemon_url;
mod paths;
mod remote_error;
mod service_io;
mod services;
mod start_progress;

use std::path::Path;

pub(crate) use daemon_url::DaemonUrl;

use super::args::{Cli, Command};
use crate::config::Env;
use crate::error::{Error, Result};

/// Runs `cli` against the daemon at `url`.
pub(crate) fn run(cli: Cli, url: DaemonUrl, env: &Env) -> Result<String> {
    let token = token(cli.token_file.as_deref(), env)?;
    let client = client::Client::new(url, token);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal("cannot start the async runtime").caused_by(e))?;
    let output = cli.output;
    runtime.block_on(async {
        match cli.command {
            Command::Model(cmd) => services::model(&client, cmd, output).await,
            Command::Service(cmd) => services::service(&client, cmd, output).await,
            Command::Inference(cmd) => service_io::chat(&client, cmd, output).await,
            Command::Cache(cmd) => service_io::cache(&client, cmd, output).await,
            Command::Events { since, service } => {
                service_io::events(&client, since, service, output).await
            }
            Command::Info => service_io::info(&client, output).await,
            Command::Token(cmd) => service_io::tokens(&client, cmd, output).await,
            Command::Quota { user } => service_io::quota(&client, user, output).await,
            Command::Apply(args) => apply::apply(&client, args, output).await,
            Command::Export => apply::export(&client, output).await,
            other => Err(local_only(&other, client.url())),
        }
    })
}

/// `--token-file`, else `AIMA_API_TOKEN`: the token for TCP (the socket needs none).
fn token(file: Option<&Path>, env: &Env) -> Result<Option<String>> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!("cannot read the token file {}", path.display()))
                .caused_by(e)
                .with_help(
                    "give a file holding the daemon's API token (one line), or set AIMA_API_TOKEN",
                )
        })?;
        return Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()));
    }
    Ok(env
        .get("AIMA_API_TOKEN")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

/// Commands that act on this host's files or run the daemon itself.
fn local_only(command: &Command, url: &DaemonUrl) -> Error {
    let verb = match command {
        Command::Start { .. } => "start",
        Command::Backup { .. } => "backup",
        Command::Restore { .. } => "restore",
        _ => "this command",
    };
    Error::usage(format!(
        "`aima {verb}` does not work through a daemon (--host {url})"
    ))
    .with_help(format!(
        "run `aima {verb}` on the daemon's host, as a user who may write its data dir, without --host"
    ))
}
