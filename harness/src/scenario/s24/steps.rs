//! Scenario 24's steps, on a host whose Docker offers GPUs: two services on GPU 0 and one on
//! GPU 1 (when there is one), started on the command line; the first one's container inspected.

use std::process::Command;

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::fixtures::census::ContainerInfo;
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{create_model, create_service_with, get_service, start_wait};
use crate::scenario::context::RunContext;

#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// Why nothing could run (no GPU, a setup failure).
    pub missing: Vec<String>,
    /// GPUs `nvidia-smi -L` lists.
    pub gpus: usize,
    pub holder: Option<String>,
    pub holder_start: Option<CommandRecord>,
    pub contender_start: Option<CommandRecord>,
    pub contender_left: Option<Vec<ContainerInfo>>,
    pub other_start: Option<CommandRecord>,
    pub holder_host: Option<Result<Value, String>>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    let mut obs = Observations::default();
    if let Err(err) = steps(ctx, &mut obs) {
        ctx.say(&format!("not run: {err:#}"));
        obs.missing.push(format!("{err:#}"));
    }
    obs
}

/// GPUs `nvidia-smi -L` lists; an error says why there is no answer.
fn count_gpus() -> anyhow::Result<usize> {
    let out = Command::new("nvidia-smi")
        .arg("-L")
        .output()
        .map_err(|e| anyhow::anyhow!("nvidia-smi cannot run on this host ({e})"))?;
    anyhow::ensure!(
        out.status.success(),
        "nvidia-smi -L failed ({})",
        out.status
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("GPU "))
        .count())
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let Some(path) = ctx.docker.gpu_path()? else {
        anyhow::bail!(
            "this host has no GPU: docker info reports no NVIDIA runtime and no CDI spec directories"
        );
    };
    obs.gpus = count_gpus()?;
    anyhow::ensure!(obs.gpus > 0, "nvidia-smi lists no GPU");
    ctx.say(&format!("GPU path: {path}; {} GPU(s)", obs.gpus));
    ctx.start_daemon_on_sim(&[], None)?;
    let model = create_model(ctx, "gpu-model")?;

    let holder = create_service_with(ctx, &model, ctx.port, &["--gpus", "0"])?;
    let contender = create_service_with(ctx, &model, free_port()?, &["--gpus", "0"])?;
    obs.holder_start = Some(start_wait(ctx, "start on GPU 0", &holder, 60));
    obs.contender_start = Some(start_wait(ctx, "second start on GPU 0", &contender, 60));
    obs.contender_left = Some(
        ctx.docker
            .list_with_label(&format!("aima.service={contender}"))?,
    );
    let (_, shown) = get_service(ctx, "read the holder", &holder);
    obs.holder_host = Some(match shown["container_id"].as_str() {
        Some(id) => ctx.docker.host_config(id).map_err(|e| format!("{e:#}")),
        None => Err("no container is recorded for the holder".to_owned()),
    });
    obs.holder = Some(holder);
    if obs.gpus > 1 {
        let other = create_service_with(ctx, &model, free_port()?, &["--gpus", "1"])?;
        obs.other_start = Some(start_wait(ctx, "start on GPU 1", &other, 60));
    }
    Ok(())
}
