//! The day-to-day service verbs on the command line: `start` and `restart` with live progress,
//! `list` with filters, and `logs`.

use std::io::Write;
use std::time::Duration;

use super::args::{ListArgs, LogsArgs, Output, RestartArgs, StartArgs};
use super::progress::StartDisplay;
use super::{render, terminal};
use crate::config::Config;
use crate::domain::{RestartPolicy, Service};
use crate::error::{Error, Result};
use crate::lifecycle::{Deps, StartEvent, StartOptions, StopMode};
use crate::ops::{self, LogSource, LogsRequest};
use crate::store::StoreHandle;

/// Runs `opts`-shaped work (a start or a restart) with the progress display around it.
async fn with_progress<T>(
    args: &StartArgs,
    output: Output,
    run: impl AsyncFnOnce(StartOptions<'_>) -> Result<T>,
) -> Result<T> {
    let display = StartDisplay::new(output, Duration::from_secs(args.timeout));
    let show = |event: StartEvent<'_>| display.show(event);
    let progress: Option<&(dyn Fn(StartEvent<'_>) + Send + Sync)> =
        display.is_shown().then_some(&show);
    let opts = StartOptions {
        wait: args.wait,
        timeout: Duration::from_secs(args.timeout),
        progress,
        pull: args.pull,
        node: args.node.clone(),
    };
    let result = run(opts).await;
    display.finish();
    result
}

pub(crate) async fn start(
    deps: &Deps,
    store: &StoreHandle,
    args: StartArgs,
    output: Output,
) -> Result<Service> {
    with_progress(&args, output, async |opts| {
        ops::start_service(deps, store, &args.id, opts, interrupted()).await
    })
    .await
}

/// A service with a restart policy needs the daemon's supervisor: says so when no daemon
/// serves the data dir. A service that cannot be read is left to the start to report.
pub(crate) async fn unsupervised(config: &Config, store: &StoreHandle, given: &str) -> Vec<String> {
    let Ok(svc) = ops::get_service_recorded_by(store, given).await else {
        return Vec::new();
    };
    if svc.restart == RestartPolicy::No || crate::daemon::serves(&config.data_dir) {
        return Vec::new();
    }
    vec![format!(
        "service {} has restart policy {}, but no daemon serves {}: nothing restarts it until `aima start` runs",
        svc.id,
        svc.restart.text(),
        config.data_dir.display()
    )]
}

pub(crate) async fn restart(
    deps: &Deps,
    store: &StoreHandle,
    args: RestartArgs,
    output: Output,
) -> Result<Service> {
    let mode = StopMode::from_request(args.force, args.time)?;
    with_progress(&args.start, output, async |opts| {
        ops::restart_service(deps, store, &args.start.id, mode, opts, interrupted()).await
    })
    .await
}

pub(crate) async fn list(
    deps: &Deps,
    store: &StoreHandle,
    args: ListArgs,
    output: Output,
) -> Result<String> {
    let services = ops::refresh_and_list_services(deps, store, args.status).await?;
    Ok(list_shown(&services, args.quiet, output))
}

/// The services as `service list` prints them: ids only with `--quiet`, else JSON or a table.
pub(crate) fn list_shown(services: &[Service], quiet: bool, output: Output) -> String {
    if quiet {
        services.iter().map(|s| format!("{}\n", s.id)).collect()
    } else if output == Output::Json {
        render::json_list(services)
    } else {
        render::services_table(services)
    }
}

/// Lines go straight to stdout as they come (`-f` may run for hours), with control characters
/// escaped as all engine output aima prints (JSON carries them as they are); where they came
/// from goes to stderr when they are kept lines of a failed attempt.
pub(crate) async fn logs(
    deps: &Deps,
    store: &StoreHandle,
    args: LogsArgs,
    output: Output,
) -> Result<String> {
    refuse_json_follow(&args, output)?;
    let req = LogsRequest {
        tail: args.tail,
        follow: args.follow,
        attempt: args.attempt,
    };
    let mut lines = Vec::new();
    let json = output == Output::Json;
    let mut sink = |line: String| {
        if json {
            lines.push(line);
        } else {
            print_line(&line);
        }
    };
    let source = ops::service_logs(deps, store, &args.id, req, &mut sink).await?;
    if json {
        return Ok(render::to_json(&ops::LogLines::new(
            &args.id, source, lines,
        )));
    }
    if let LogSource::Kept { attempt, reason } = &source {
        kept_note(*attempt, reason, args.follow);
    }
    Ok(String::new())
}

pub(crate) fn refuse_json_follow(args: &LogsArgs, output: Output) -> Result<()> {
    if args.follow && output == Output::Json {
        return Err(Error::usage(
            "--follow streams plain lines and cannot be combined with --output json",
        )
        .with_help("drop --follow to get the lines as one JSON document"));
    }
    Ok(())
}

/// One engine line on stdout, control characters escaped, at once (`-f` may run for hours).
pub(crate) fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", terminal::cell(line));
    let _ = out.flush();
}

/// Said on stderr after lines kept from a failed attempt.
pub(crate) fn kept_note(attempt: u32, reason: &str, follow: bool) {
    eprintln!(
        "note: the container is gone; these are the lines kept from attempt {attempt}, which failed: {}",
        terminal::cell(reason)
    );
    if follow {
        eprintln!("note: nothing to follow: no container runs");
    }
}

/// Resolves with the signal's name on Ctrl-C or SIGTERM.
pub(crate) async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}
