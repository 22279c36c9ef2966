//! Scenario 25's small probes: an engine's `/health` with a short bound, a service record read
//! quietly through the API (polls would drown the console), a `docker kill` of a service's
//! container, and polling until something holds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixtures::http::HttpRequest;
use crate::scenario::context::RunContext;
use crate::timeline::EventKind;

/// The status of an engine's `GET /health` on a loopback port, or `None` when nothing answered
/// within `bound` (a dead engine, or a hung one).
pub fn health(port: u16, bound: Duration) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    HttpRequest::new("GET", "/health")
        .timeout(bound)
        .send(addr)
        .ok()
        .map(|r| r.status)
}

/// Polls `check` every `every` until it gives a value or `bound` has passed since now.
pub fn poll<T>(
    bound: Duration,
    every: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let since = Instant::now();
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if since.elapsed() >= bound {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// `GET /api/v2/services/{id}` without a line on the console or the timeline; `None` when the
/// daemon did not answer 200 with JSON.
pub fn record(ctx: &RunContext, service: &str) -> Option<Value> {
    let reply = ctx
        .api("GET", &format!("/api/v2/services/{service}"))
        .timeout(Duration::from_secs(5))
        .send(ctx.listen)
        .ok()?;
    (reply.status == 200).then(|| reply.json()).flatten()
}

/// The same read, recorded on the timeline and console under `step`.
pub fn read(ctx: &mut RunContext, step: &str, service: &str) -> Option<Value> {
    let request = ctx.api("GET", &format!("/api/v2/services/{service}"));
    let reply = ctx.http(step, request).ok()?;
    (reply.status == 200).then(|| reply.json()).flatten()
}

/// Reads the record quietly every 100 ms until it reads `want` (at most `bound`; an engine
/// that answers is a moment ahead of the start that waits for it), then once more on the
/// record under `step`.
pub fn read_when(
    ctx: &mut RunContext,
    step: &str,
    service: &str,
    want: &str,
    bound: Duration,
) -> Option<Value> {
    poll(bound, Duration::from_millis(100), || {
        (status(&record(ctx, service)) == want).then_some(())
    });
    read(ctx, step, service)
}

/// A record's `status` (empty when unreadable).
pub fn status(record: &Option<Value>) -> String {
    record
        .as_ref()
        .and_then(|r| r["status"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// One evidence line for a service record: status, restarts, last error.
pub fn summary(name: &str, record: &Option<Value>) -> String {
    match record {
        Some(r) => format!(
            "{name} ({}): status {}, desired {}, restart {}, restarts {}, next_restart_at {}, last_error {}",
            r["id"].as_str().unwrap_or("?"),
            r["status"].as_str().unwrap_or("?"),
            r["desired"].as_str().unwrap_or("?"),
            r["restart"].as_str().unwrap_or("?"),
            r["restarts"],
            r["next_restart_at"],
            r["last_error"]
        ),
        None => format!("{name}: the record could not be read"),
    }
}

/// The running container of `service` (labelled `aima.service=<id>`), if Docker shows one.
pub fn running_container(ctx: &RunContext, service: &str) -> Option<String> {
    ctx.docker
        .list_with_label(&format!("aima.service={service}"))
        .ok()?
        .into_iter()
        .find(|c| c.state == "running")
        .map(|c| c.id)
}

/// `docker kill` of the running container of `service` (through Docker's API, as the CLI
/// does); returns the container's id.
pub fn kill_engine(ctx: &mut RunContext, name: &str, service: &str) -> anyhow::Result<String> {
    let container = running_container(ctx, service)
        .ok_or_else(|| anyhow::anyhow!("{name} ({service}) has no running container to kill"))?;
    ctx.docker.kill(&container)?;
    ctx.event(
        EventKind::Fault,
        format!(
            "docker kill {} ({name}, {service})",
            &container[..12.min(container.len())]
        ),
    );
    Ok(container)
}
