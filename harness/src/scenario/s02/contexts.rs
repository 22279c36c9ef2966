//! Scenario 2, step 8: two llama.cpp services of one model side by side, each with its own
//! `--ctx-size` given as a per-service engine argument (`service create --arg`), and the context
//! size each server reports on `/props`.

use std::time::Duration;

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::fixtures::http::HttpRequest;
use crate::fixtures::port_check::free_port;
use crate::scenario::context::RunContext;

/// The context sizes asked for; the tiny model was trained for 2048.
pub const SIZES: [u64; 2] = [256, 512];

/// One of the two services: what was asked, how it went, what its server said.
#[derive(Debug, Clone, Default)]
pub struct Sized {
    pub asked: u64,
    pub create: Option<CommandRecord>,
    pub start: Option<CommandRecord>,
    /// `n_ctx` from the server's `/props`, or why it could not be read.
    pub reported: Option<Result<u64, String>>,
    pub stop: Option<CommandRecord>,
    /// Its containers after the stop.
    pub left: Vec<String>,
}

/// Creates and starts both services (both run at once), reads `/props`, stops them.
pub fn side_by_side(
    ctx: &mut RunContext,
    envs: &[(&str, &str)],
    create: impl Fn(&mut RunContext, &str, u16, &[&str]) -> anyhow::Result<(String, CommandRecord)>,
    start: impl Fn(&mut RunContext, &str, &str) -> CommandRecord,
    containers: impl Fn(&mut RunContext, &str) -> anyhow::Result<Vec<String>>,
) -> Vec<Sized> {
    let mut services = Vec::new();
    let mut out = Vec::new();
    for asked in SIZES {
        let mut s = Sized {
            asked,
            ..Sized::default()
        };
        let size = asked.to_string();
        let args = ["--arg=--ctx-size", &format!("--arg={size}")];
        let step = format!("ctx-size {size}: service create --arg");
        match free_port()
            .map_err(anyhow::Error::from)
            .and_then(|port| create(ctx, &step, port, &args).map(|(id, record)| (id, record, port)))
        {
            Ok((id, record, port)) => {
                s.create = Some(record);
                s.start = Some(start(
                    ctx,
                    &format!("ctx-size {size}: service start --wait"),
                    &id,
                ));
                services.push((id, port));
            }
            Err(e) => ctx.say(&format!("ctx-size {size}: {e:#}")),
        }
        out.push(s);
    }
    // Both run now: ask each its context size.
    for (s, (_, port)) in out.iter_mut().filter(|s| s.create.is_some()).zip(&services) {
        s.reported = Some(n_ctx(*port));
    }
    for (s, (id, _)) in out.iter_mut().filter(|s| s.create.is_some()).zip(&services) {
        s.stop = Some(ctx.aima(
            &format!("ctx-size {}: service stop", s.asked),
            &["service", "stop", id],
            envs,
            Duration::from_secs(60),
        ));
        s.left = containers(ctx, id).unwrap_or_else(|e| vec![format!("census failed: {e:#}")]);
    }
    out
}

/// The context size a llama.cpp server reports: `n_ctx` of `/props`' default generation
/// settings (newer servers), else a top-level `n_ctx`.
fn n_ctx(port: u16) -> Result<u64, String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let reply = HttpRequest::new("GET", "/props")
        .timeout(Duration::from_secs(5))
        .send(addr)
        .map_err(|e| format!("GET /props: {e}"))?;
    if reply.status != 200 {
        return Err(format!("GET /props answered {}", reply.status));
    }
    let props: Value =
        serde_json::from_str(&reply.body).map_err(|e| format!("/props is not JSON: {e}"))?;
    props["default_generation_settings"]["n_ctx"]
        .as_u64()
        .or_else(|| props["n_ctx"].as_u64())
        .ok_or_else(|| {
            format!(
                "/props has no n_ctx: {}",
                reply.body.chars().take(300).collect::<String>()
            )
        })
}
