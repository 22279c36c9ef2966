//! The quota part of preflight: the owner starting their own service is held to their quota
//! (see docs/configuration.md, "Quotas"), before any container exists. Also what each service
//! holds in a quota's terms, for `aima quota`.

use super::Deps;
use super::failure::Failure;
use crate::config::Config;
use crate::domain::{
    Actor, Applied, Gpus, Holding, Person, Phase, Service, Status, check_quota,
};
use crate::error::{Error, Kind};
use crate::host::GpuReport;
use crate::runtime::Runtime;

/// The limits `actor` is held to when starting `svc`; `None` when no quota applies: nobody
/// named (tools, tests), a service without a recorded owner, or someone acting for the owner
/// (an admin, the daemon's supervisor), who is not held to the owner's quota.
pub(crate) fn applies<'a>(config: &Config, actor: Option<&'a Actor>, svc: &Service) -> Option<(&'a Actor, Applied)> {
    let actor = actor?;
    if svc.created_by.as_deref() != Some(actor.name.as_str()) {
        return None;
    }
    let applied = config.quotas.for_person(person(actor));
    (!applied.is_empty()).then_some((actor, applied))
}

pub(crate) fn person(actor: &Actor) -> Person<'_> {
    Person {
        name: &actor.name,
        groups: &actor.groups,
        admin: actor.admin,
    }
}

/// Refuses the start of `svc` when it would take its owner past their quota; `others` are the
/// data dir's services as recorded when this start claimed its own.
pub(super) async fn check(
    deps: &Deps,
    rt: &dyn Runtime,
    svc: &Service,
    others: &[Service],
) -> Result<(), Failure> {
    let Some((actor, applied)) = applies(&deps.config, deps.acting.as_ref(), svc) else {
        return Ok(());
    };
    let mine = held_by(&actor.name, others);
    let mut all: Vec<&Service> = mine.clone();
    all.push(svc);
    let held = holdings(deps, Some(rt), &applied, &all)
        .await
        .map_err(|e| Failure::of(e, Phase::Preflight))?;
    let (wanted, held) = held.split_last().expect("the service itself is in the list");
    check_quota(&actor.name, &applied, wanted, held).map_err(|refusal| {
        Failure::fatal(Kind::QuotaExceeded, Phase::Preflight, refusal.message)
            .help(refusal.help)
            .cause("quota_exceeded")
    })
}

/// `name`'s services that count against a quota: starting or running.
pub(crate) fn held_by<'a>(name: &str, services: &'a [Service]) -> Vec<&'a Service> {
    services
        .iter()
        .filter(|s| s.created_by.as_deref() == Some(name))
        .filter(|s| matches!(s.status, Status::Starting | Status::Running))
        .collect()
}

/// What each of `services` holds. Docker is asked for the host's memory only when a memory
/// quota applies and a service has no limit of its own or its engine's; `nvidia-smi` only
/// when a GPU quota applies and a service asks for `all`.
pub(crate) async fn holdings(
    deps: &Deps,
    rt: Option<&dyn Runtime>,
    applied: &Applied,
    services: &[&Service],
) -> Result<Vec<Holding>, Error> {
    let limit_of = |s: &Service| {
        s.memory_bytes
            .or(deps.config.engine(s.engine_type).limits.memory_bytes)
    };
    let host_memory = match (&applied.memory, rt) {
        (Some(_), Some(rt)) if services.iter().any(|s| limit_of(s).is_none()) => {
            Some(rt.host_memory().await.map_err(Error::from)?)
        }
        _ => None,
    };
    let wants = |s: &Service| super::gpus::of(s, &deps.config);
    let all_gpus = match &applied.gpus {
        Some(quota) if services.iter().any(|s| wants(s) == Gpus::All) => {
            Some(host_gpu_count(deps).await.unwrap_or(quota.value))
        }
        _ => None,
    };
    Ok(services
        .iter()
        .map(|s| Holding {
            id: s.id.to_string(),
            name: s.name.clone(),
            gpus: match wants(s) {
                Gpus::None => 0,
                Gpus::Count(n) => n,
                Gpus::Devices(d) => d.len() as u32,
                Gpus::All => all_gpus.unwrap_or(0),
            },
            memory: limit_of(s).unwrap_or_else(|| {
                let limits = &deps.config.engine(s.engine_type).limits;
                host_memory.map_or(0, |host| limits.memory_on(host))
            }),
            port: s.port,
        })
        .collect())
}

/// How many GPUs `nvidia-smi` reports on this host; `None` when it reports none.
async fn host_gpu_count(deps: &Deps) -> Option<u32> {
    let host = deps.host.clone();
    match tokio::task::spawn_blocking(move || host.gpus()).await {
        Ok(GpuReport::Read { devices, .. }) if !devices.is_empty() => Some(devices.len() as u32),
        _ => None,
    }
}
