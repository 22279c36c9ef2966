//! Scenario 16's steps: services A and B on ports aima assigns, both started; A stopped while
//! B keeps serving; a new service C on A's port started right after.

use std::time::Instant;

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::scenario::aima_ops::{
    QUICK, create_model, create_service, engine_chat, engine_health, get_service, start_wait, stop,
};
use crate::scenario::context::RunContext;

/// One service's listed status next to what Docker says of its containers.
#[derive(Debug, Clone)]
pub struct Listed {
    pub service: String,
    pub status: Option<String>,
    /// Docker states of the containers labelled with the service (`running`, `exited`, ...).
    pub containers: Vec<String>,
}

/// `service list` with each service's Docker view, at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub moment: &'static str,
    pub list: CommandRecord,
    pub services: Vec<Listed>,
}

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    /// (service, port from its record) of A and B.
    pub ports: Vec<(String, Option<u16>)>,
    pub starts: Vec<CommandRecord>,
    /// (port, /health answer) of A and B while both run.
    pub both_health: Vec<(u16, Result<u16, String>)>,
    pub snapshots: Vec<Snapshot>,
    pub stop_a: Option<CommandRecord>,
    /// B's health and chat answers after A stopped.
    pub b_after: Option<(Result<u16, String>, Result<u16, String>)>,
    pub create_c: Option<Result<String, String>>,
    pub start_c: Option<CommandRecord>,
    pub c_health: Option<Result<u16, String>>,
    /// From A's stop returning to C's start returning.
    pub reuse_ms: Option<u64>,
    /// A's and B's arguments while both run.
    pub args: Vec<ArgsSeen>,
}

/// A service's own engine arguments next to its running container's.
#[derive(Debug, Clone)]
pub struct ArgsSeen {
    pub service: String,
    /// What it was created with after `--`.
    pub own: Vec<String>,
    /// Its running container's arguments (`docker inspect`), or why they cannot be read.
    pub container: Result<Vec<String>, String>,
}

/// The engine arguments A and B are created with: the same flag, different values.
pub const OWN_ARGS: [&[&str]; 2] = [&["--load-secs", "0"], &["--load-secs=1"]];

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn port_of(record: &Value) -> Option<u16> {
    record["port"].as_u64().and_then(|p| u16::try_from(p).ok())
}

fn snapshot(ctx: &mut RunContext, moment: &'static str) -> anyhow::Result<Snapshot> {
    let list = ctx.aima(
        &format!("{moment}: list"),
        &["service", "list", "--output", "json"],
        &[],
        QUICK,
    );
    let value: Value = serde_json::from_str(list.stdout.trim()).unwrap_or(Value::Null);
    let mut services = Vec::new();
    for item in value["items"].as_array().into_iter().flatten() {
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        let containers = ctx
            .docker
            .list_with_label(&format!("aima.service={id}"))?
            .into_iter()
            .map(|c| c.state)
            .collect();
        services.push(Listed {
            service: id,
            status: item["status"].as_str().map(str::to_owned),
            containers,
        });
    }
    Ok(Snapshot {
        moment,
        list,
        services,
    })
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let model = create_model(ctx, "pair-model")?;
    let mut ids = Vec::new();
    for (name, own) in ["A", "B"].iter().zip(OWN_ARGS) {
        let step = format!("setup: create service {name} -- {}", own.join(" "));
        let id = create_with_args(ctx, &step, &model, own)?;
        let (_, record) = get_service(ctx, &format!("setup: record of {name}"), &id);
        obs.ports.push((id.clone(), port_of(&record)));
        ids.push(id);
    }
    for (name, id) in ["A", "B"].iter().zip(&ids) {
        let start = start_wait(ctx, &format!("start {name}"), id, 60);
        obs.starts.push(start);
    }
    for (_, port) in obs.ports.clone() {
        if let Some(port) = port {
            obs.both_health.push((port, engine_health(port)));
        }
    }
    obs.snapshots.push(snapshot(ctx, "both running")?);
    for (id, own) in ids.iter().zip(OWN_ARGS) {
        let running = ctx
            .docker
            .list_with_label(&format!("aima.service={id}"))?
            .into_iter()
            .find(|c| c.state == "running");
        let args = match running {
            Some(c) => ctx.docker.args_of(&c.id).map_err(|e| format!("{e:#}")),
            None => Err("no running container".to_owned()),
        };
        let own = own.iter().map(|a| (*a).to_owned()).collect();
        obs.args.push(ArgsSeen {
            service: id.clone(),
            own,
            container: args,
        });
    }
    let stop_a = stop(ctx, "stop A", &ids[0]);
    let stopped_at = Instant::now();
    obs.stop_a = Some(stop_a);
    if let Some(port_b) = obs.ports[1].1 {
        obs.b_after = Some((engine_health(port_b), engine_chat(port_b)));
    }
    obs.snapshots.push(snapshot(ctx, "after stopping A")?);
    let Some(port_a) = obs.ports[0].1 else {
        anyhow::bail!("service A's record has no port");
    };
    let created = create_service(ctx, "create C on A's port", &model, Some(port_a));
    obs.create_c = Some(
        created
            .as_ref()
            .map(Clone::clone)
            .map_err(|e| format!("{e:#}")),
    );
    if let Ok(c) = created {
        obs.start_c = Some(start_wait(ctx, "start C on A's port", &c, 60));
        obs.reuse_ms = Some(crate::exec::millis(stopped_at.elapsed()));
        obs.c_health = Some(engine_health(port_a));
    }
    Ok(())
}

/// `service create` of a vLLM service on the port aima picks, with `own` engine arguments
/// after `--`; its id, read from the JSON record.
fn create_with_args(
    ctx: &mut RunContext,
    step: &str,
    model: &str,
    own: &[&str],
) -> anyhow::Result<String> {
    let mut args = vec![
        "service",
        "create",
        "--model-id",
        model,
        "--engine-type",
        "vllm",
        "--output",
        "json",
        "--",
    ];
    args.extend_from_slice(own);
    let create = ctx.aima(step, &args, &[], QUICK);
    anyhow::ensure!(
        create.succeeded(),
        "service create failed ({}): {}",
        create.outcome(),
        create.stderr.trim()
    );
    let record: Value = serde_json::from_str(create.stdout.trim())?;
    record["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("service create --output json has no id"))
}
