//! The observer: every half second it reads the services through `aima service list -o json`
//! (the contract a person sees), Docker's containers of the run, each running engine's health
//! and the daemon's health, records the observation and applies the continuous rules.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fixtures::census::{DockerView, SERVICE_PREFIX};
use crate::fixtures::census_swarm::is_swarm_task;
use crate::fixtures::daemon::HEALTH_PATH;
use crate::fixtures::http::HttpRequest;

use super::rules::{ContainerView, ServiceView, SlotView, Snapshot, Tracker};
use super::world::World;

const PERIOD: Duration = Duration::from_millis(500);
/// The daemon must answer health within this (two misses in a row of one daemon count).
const HEALTH_BOUND: Duration = Duration::from_secs(1);

/// The health bound while Docker is away: the same, as health bounds its Docker check at
/// 800 ms (docs/daemon.md); only its answer may then be a 503 naming Docker.
const HEALTH_BOUND_DOCKER_AWAY: Duration = HEALTH_BOUND;
/// How long after the Docker proxy passes again the daemon may still report Docker away.
const DOCKER_BACK_GRACE: Duration = Duration::from_secs(5);

/// Observes until the lanes are done; `bystander` is the foreign container to leave out.
pub(crate) fn observe(world: &World, bystander: &str) {
    let docker = match DockerView::connect() {
        Ok(docker) => docker,
        Err(err) => {
            world.violation(
                "observer",
                None,
                "docker",
                format!("the observer cannot reach Docker: {err:#}"),
            );
            return;
        }
    };
    let mut tracker = Tracker::default();
    let mut health_misses: (u32, u32) = (0, 0);
    while !world.done.load(Ordering::SeqCst) {
        let began = Instant::now();
        check_health(world, &mut health_misses);
        if let Some(snap) = snapshot(world, &docker, bystander) {
            record(world, &snap);
            for finding in tracker.check(&snap) {
                world.violation(finding.rule, finding.slot, &finding.subject, finding.detail);
            }
        }
        std::thread::sleep(
            PERIOD
                .saturating_sub(began.elapsed())
                .max(Duration::from_millis(50)),
        );
    }
}

/// Health of the daemon that is up now; `misses` is (daemon pid, misses in a row).
fn check_health(world: &World, misses: &mut (u32, u32)) {
    let Some(pid) = world.daemon().as_ref().map(|d| d.pid) else {
        *misses = (0, 0);
        return;
    };
    // While the proxy keeps Docker away, health may answer 503 naming Docker.
    let docker_away = world
        .proxy
        .as_ref()
        .is_some_and(|p| p.away_within(DOCKER_BACK_GRACE));
    let bound = if docker_away {
        HEALTH_BOUND_DOCKER_AWAY
    } else {
        HEALTH_BOUND
    };
    let reply = HttpRequest::new("GET", HEALTH_PATH)
        .timeout(bound)
        .send(world.listen);
    // The contract lets health answer 503 naming Docker while Docker is unreachable
    // (docs/lifecycle.md#daemon-start): allowed while the proxy keeps it away and a few
    // seconds after, until the daemon's next passes notice it is back.
    let docker_excused = |r: &crate::fixtures::http::HttpReply| {
        r.status == 503 && r.body.contains("\"docker\"") && docker_away
    };
    let problem = match &reply {
        Ok(r)
            if (r.status == 200 || docker_excused(r))
                && r.elapsed_ms <= bound.as_millis() as u64 =>
        {
            None
        }
        Ok(r) => Some(format!("answered {}", r.summary())),
        Err(err) => Some(format!("no answer within {} ms: {err}", bound.as_millis())),
    };
    // A daemon the harness is killing or has just replaced is no longer the one asked.
    if world.daemon().as_ref().map(|d| d.pid) != Some(pid) {
        return;
    }
    match problem {
        None => *misses = (pid, 0),
        Some(why) => {
            let count = if misses.0 == pid { misses.1 + 1 } else { 1 };
            *misses = (pid, count);
            if count == 2 {
                world.violation(
                    "daemon-health",
                    None,
                    "GET /api/v2/health",
                    format!("daemon pid {pid} is up but its health {why} (twice in a row)"),
                );
            }
        }
    }
}

fn snapshot(world: &World, docker: &DockerView, bystander: &str) -> Option<Snapshot> {
    let daemon_up = world.daemon().is_some();
    let docker_away_before = docker_away(world);
    // The observation is stamped when the read begins: whatever it shows was true at or
    // after that moment, so a slow read never makes an old state look late.
    let t_ms = world.history.now_ms();
    let settled_before = settled_ids(world);
    let list = world.aima(
        "observe",
        &["service".into(), "list".into(), "-o".into(), "json".into()],
        &[],
    );
    if !list.succeeded() {
        world.history.record("observe", json!({"error": format!("service list: {}", list.outcome()), "stderr": super::ops::tail(&list.stderr, 300)}));
        super::ops::check_command(world, None, &list, false);
        return None;
    }
    let json: Value = serde_json::from_str(list.stdout.trim()).unwrap_or(Value::Null);
    let services: Vec<ServiceView> = json["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(ServiceView::from_json)
        .collect();
    let containers: Vec<ContainerView> = docker
        .owned_by_run(&world.instance, &world.run_id)
        .into_iter()
        .filter(|c| c.id != bystander && !super::blockers::is_blocker(c) && !is_swarm_task(c))
        .map(|c| {
            // On a Swarm an engine is a service: aima names it by the service's id, and it
            // is as `running` as its newest task.
            let service = c.label("aima.service").map(str::to_owned);
            let (id, state) = match c.id.strip_prefix(SERVICE_PREFIX) {
                Some(service) => (
                    service.to_owned(),
                    docker.service_state(service).unwrap_or(c.state),
                ),
                None => (c.id, c.state),
            };
            ContainerView {
                service,
                id,
                name: c.name,
                state,
            }
        })
        .collect();
    let slots: BTreeMap<String, SlotView> = {
        let slots = world.slots();
        slots
            .iter()
            .enumerate()
            .filter_map(|(n, s)| {
                let id = s.id.clone()?;
                Some((
                    id,
                    SlotView {
                        slot: n,
                        busy: s.in_flight > 0,
                        hang: s
                            .engines
                            .contains(&Some(super::fault::FaultKind::EngineHang)),
                        killed_start_ms: s.killed_start_ms,
                        blocked: s.blocked,
                        healthy_engine: s.engines.iter().all(Option::is_none),
                        stopped_ms: s.stopped_ms,
                        policy: s.policy.clone(),
                    },
                ))
            })
            .collect()
    };
    // Acknowledged services: created and not deleted before the read began, with nothing
    // acting on them from before the read until after it.
    let settled_after = settled_ids(world);
    let acknowledged = settled_before
        .into_iter()
        .filter(|(id, slot)| settled_after.get(id) == Some(slot))
        .collect();
    let engines = services
        .iter()
        .filter(|s| s.status == "running")
        .map(|s| (s.id.clone(), engine_health(s.port)))
        .collect();
    Some(Snapshot {
        t_ms,
        daemon_up,
        docker_away: docker_away_before || docker_away(world),
        services,
        containers,
        engines,
        slots,
        acknowledged,
    })
}

/// Whether the Docker proxy keeps the run's aima from Docker now.
fn docker_away(world: &World) -> bool {
    world.proxy.as_ref().is_some_and(|p| p.away())
}

/// Service ids of slots with a service and no operation in flight, by id.
fn settled_ids(world: &World) -> BTreeMap<String, usize> {
    world
        .slots()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.in_flight == 0)
        .filter_map(|(n, s)| Some((s.id.clone()?, n)))
        .collect()
}

fn engine_health(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match HttpRequest::new("GET", "/health")
        .timeout(Duration::from_millis(1500))
        .send(addr)
    {
        Ok(r) if r.status == 200 => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status)),
        Err(err) => Err(err.to_string()),
    }
}

fn record(world: &World, snap: &Snapshot) {
    let services: Vec<Value> = snap
        .services
        .iter()
        .map(|s| json!({"id": s.id, "status": s.status, "slot": snap.slots.get(&s.id).map(|v| v.slot), "engine": snap.engines.get(&s.id).map(|e| e.clone().err().unwrap_or_else(|| "ok".into()))}))
        .collect();
    let containers: Vec<Value> = snap
        .containers
        .iter()
        .map(|c| json!({"name": c.name, "state": c.state, "service": c.service}))
        .collect();
    world.history.record(
        "observe",
        json!({"daemon_up": snap.daemon_up, "services": services, "containers": containers}),
    );
}
