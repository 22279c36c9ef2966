//! Scenario 6's steps: one service, five cycles of `start --wait` and `stop`, reading back the
//! status, the record, the engine's health and Docker's view after each; then the rounds of a
//! stop during a slow start (`race`).

use crate::exec::CommandRecord;
use crate::fixtures::census::ContainerInfo;
use crate::scenario::aima_ops::{
    StatusRead, create_model, create_service, engine_health, get_service, read_status, start_wait,
    stop,
};
use crate::scenario::context::{Census, RunContext};

use super::race::Round;

pub const CYCLES: usize = 5;

/// One start/stop cycle as observed.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub start: CommandRecord,
    pub after_start: StatusRead,
    pub get: CommandRecord,
    pub container_id: Option<String>,
    pub port: Option<u64>,
    /// HTTP status of the engine's `/health` on the service port while running.
    pub health: Result<u16, String>,
    pub stop: CommandRecord,
    pub after_stop: StatusRead,
    /// Containers labelled with the service after the stop.
    pub left: Vec<ContainerInfo>,
}

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    pub service: String,
    pub assigned_port: u16,
    pub cycles: Vec<Cycle>,
    pub final_census: Option<Census>,
    /// The stop-during-a-slow-start rounds.
    pub races: Vec<Round>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    let obs = Observations {
        assigned_port: ctx.port,
        ..Observations::default()
    };
    ctx.observe(obs, steps)
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let model = create_model(ctx, "stress-model")?;
    let port = ctx.port;
    obs.service = create_service(ctx, "setup: service create", &model, Some(port))?;
    let service = obs.service.clone();
    for n in 1..=CYCLES {
        let start = start_wait(ctx, &format!("cycle {n}: start"), &service, 60);
        let after_start = read_status(ctx, &format!("cycle {n}: status after start"), &service);
        let (get, record) = get_service(ctx, &format!("cycle {n}: record"), &service);
        let health = engine_health(port);
        let stop = stop(ctx, &format!("cycle {n}: stop"), &service);
        let after_stop = read_status(ctx, &format!("cycle {n}: status after stop"), &service);
        let left = ctx
            .docker
            .list_with_label(&format!("aima.service={service}"))?;
        obs.cycles.push(Cycle {
            start,
            after_start,
            get,
            container_id: record["container_id"].as_str().map(str::to_owned),
            port: record["port"].as_u64(),
            health,
            stop,
            after_stop,
            left,
        });
    }
    obs.final_census = Some(ctx.census("after the last stop")?);
    obs.races = super::race::rounds(ctx, &model)?;
    Ok(())
}
