//! Scenario 25's setup: the simulator images (plain for vLLM; crashing, later hanging, for
//! llama.cpp), the daemon, the model and the six services, each created with its restart policy
//! and started through the daemon's API with `wait`.

use anyhow::bail;

use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{Engine, VLLM, api_call, create_json, create_service_on};
use crate::scenario::context::RunContext;

/// Seconds the crashing engine serves before it exits with code 1.
pub const CRASH_AFTER_SECS: &str = "1";
/// Seconds the hanging engine answers before it falls silent.
pub const HANG_AFTER_SECS: &str = "2";
/// The liveness period the restarted daemon probes llama.cpp engines with.
pub const LIVENESS_SECS: &str = "1";
/// How long a setup start may take.
const START_TIMEOUT: u64 = 60;

/// One service of the scenario: its letter, id and host port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Svc {
    pub name: &'static str,
    pub id: String,
    pub port: u16,
}

/// The services and images the steps work with.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub model: String,
    pub crash_image: String,
    pub hang_image: String,
    /// `always`: killed (C1), then stopped by the operator.
    pub a: Svc,
    /// `on-failure:3` on the crashing engine (C2).
    pub b: Svc,
    /// `always`: its port taken between the kill and the restart (C3).
    pub c: Svc,
    /// `always` on the crashing engine, stopped during backoff (C5).
    pub d: Svc,
    /// `no`: killed (C7).
    pub e: Svc,
    /// `always`: killed while the daemon is dead (C4).
    pub f: Svc,
    /// When B's start returned (ms into the run).
    pub b_started_ms: u64,
}

/// The llama.cpp engine with `image`.
pub fn llamacpp(image: &str) -> Vec<(&'static str, String)> {
    vec![("AIMA_LLAMACPP_IMAGE", image.to_owned())]
}

/// Builds the images, starts the daemon and brings up the six services.
pub fn set_up(ctx: &mut RunContext) -> anyhow::Result<Fleet> {
    let mut fleet = Fleet {
        crash_image: ctx.sim_image(&[("AIMA_SIM_CRASH_AFTER_SECS", CRASH_AFTER_SECS)])?,
        hang_image: ctx.sim_image(&[("AIMA_SIM_HANG_AFTER_SECS", HANG_AFTER_SECS)])?,
        ..Fleet::default()
    };
    ctx.say(&format!(
        "llama.cpp images: {} (exits {CRASH_AFTER_SECS}s after loading), {} (silent {HANG_AFTER_SECS}s after loading)",
        fleet.crash_image, fleet.hang_image
    ));
    let crash = fleet.crash_image.clone();
    ctx.start_daemon(&[("AIMA_LLAMACPP_IMAGE", &crash)])?;
    let args = [
        "model",
        "create",
        "--name",
        "supervised",
        "--source",
        "huggingface",
        "--repo",
        "org/tiny-GGUF",
        "--output",
        "json",
    ];
    fleet.model = create_json(ctx, "setup: model create", &args, &[], "model create")?.0;
    let crash_env = llamacpp(&crash);
    let crash_env: Vec<(&str, &str)> = crash_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let crashing = Engine {
        kind: "llamacpp",
        env: &crash_env,
    };
    // The crash loops first, so they run while the other steps do.
    fleet.b = create_and_start(ctx, &fleet.model, crashing, "B", "on-failure:3", None)?;
    fleet.b_started_ms = ctx.timeline.elapsed_ms();
    fleet.d = create_and_start(ctx, &fleet.model, crashing, "D", "always", None)?;
    fleet.a = create_and_start(ctx, &fleet.model, VLLM, "A", "always", Some(ctx.port))?;
    fleet.c = create_and_start(ctx, &fleet.model, VLLM, "C", "always", None)?;
    fleet.e = create_and_start(ctx, &fleet.model, VLLM, "E", "no", None)?;
    fleet.f = create_and_start(ctx, &fleet.model, VLLM, "F", "always", None)?;
    Ok(fleet)
}

/// `service create … --restart POLICY` on `port` (a free one when `None`), then a start with
/// `wait` through the API; the start must end `running`.
pub fn create_and_start(
    ctx: &mut RunContext,
    model: &str,
    engine: Engine<'_>,
    name: &'static str,
    policy: &str,
    port: Option<u16>,
) -> anyhow::Result<Svc> {
    let port = match port {
        Some(port) => port,
        None => free_port()?,
    };
    let step = format!("setup: create {name}");
    let label = format!("sup-{}", name.to_lowercase());
    let extra = ["--restart", policy, "--name", &label];
    let (id, _) = create_service_on(ctx, engine, &step, model, port, &extra)?;
    // Through the daemon, which owns the start: a CLI start that ends just as the reconciler
    // looks at its row is a race of its own, not this scenario's subject.
    let started = api_call(
        ctx,
        &format!("setup: start {name}"),
        "POST",
        &format!("/api/v2/services/{id}/start"),
        Some(&format!(r#"{{"wait":true,"timeout":{START_TIMEOUT}}}"#)),
    )?;
    if started["status"] != "running" {
        bail!("the start of {name} ended {}", started["status"]);
    }
    Ok(Svc { name, id, port })
}
