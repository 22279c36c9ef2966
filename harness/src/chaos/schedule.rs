//! The schedule of a chaos run, made up front from the seed: every operation and fault, its
//! time, its lane (the worker that carries it out) and its target service slot. The same seed,
//! length, service count and fault list give the same schedule; `--replay` reads it back from
//! a history instead.

use serde::{Deserialize, Serialize};

use super::fault::FaultKind;
use super::rng::Rng;

/// How an operation reaches aima.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Via {
    Cli,
    Api,
}

/// One thing a lane does. `slot` names one of the run's services (0-based); each slot has its
/// own host port, and a deleted slot's service is created again by a later `create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub(crate) enum Action {
    Create {
        slot: usize,
        restart: String,
        via: Via,
    },
    Start {
        slot: usize,
        wait: bool,
        via: Via,
        /// The engine fault whose image this (CLI) start runs; `None`: the plain simulator.
        engine: Option<FaultKind>,
    },
    Stop {
        slot: usize,
        via: Via,
    },
    Restart {
        slot: usize,
        engine: Option<FaultKind>,
    },
    Delete {
        slot: usize,
        via: Via,
    },
    KillStarter {
        slot: usize,
        after_ms: u64,
        engine: Option<FaultKind>,
    },
    KillStopper {
        slot: usize,
        after_ms: u64,
    },
    KillDaemon {
        down_ms: u64,
    },
    DockerKill {
        slot: usize,
    },
    DockerRm {
        slot: usize,
    },
    /// A foreign holder of the slot's port (`blocker`: which kind; histories from before the
    /// kinds existed mean the IPv4 listener).
    PortBlocker {
        slot: usize,
        hold_ms: u64,
        #[serde(default = "ipv4_blocker")]
        blocker: FaultKind,
    },
    /// The data dir's tmpfs is filled up for `hold_ms`, then freed.
    DiskFull {
        hold_ms: u64,
    },
    /// The Docker proxy pauses, slows or cuts (`fault`) for `hold_ms`.
    DockerAway {
        fault: FaultKind,
        hold_ms: u64,
    },
}

impl Action {
    /// The slot the action targets, if any.
    pub(crate) fn slot(&self) -> Option<usize> {
        match self {
            Action::Create { slot, .. }
            | Action::Start { slot, .. }
            | Action::Stop { slot, .. }
            | Action::Restart { slot, .. }
            | Action::Delete { slot, .. }
            | Action::KillStarter { slot, .. }
            | Action::KillStopper { slot, .. }
            | Action::DockerKill { slot }
            | Action::DockerRm { slot }
            | Action::PortBlocker { slot, .. } => Some(*slot),
            Action::KillDaemon { .. } | Action::DockerAway { .. } | Action::DiskFull { .. } => None,
        }
    }

    /// Whether the action may start its service (or replace it): a stop observed before it no
    /// longer forbids the service to run.
    pub(crate) fn may_start(&self) -> bool {
        matches!(
            self,
            Action::Create { .. }
                | Action::Start { .. }
                | Action::Restart { .. }
                | Action::Delete { .. }
                | Action::KillStarter { .. }
        )
    }

    /// The fault this action injects (`None` for a plain operation).
    pub(crate) fn fault(&self) -> Option<FaultKind> {
        match self {
            Action::KillStarter { .. } => Some(FaultKind::KillStarter),
            Action::KillStopper { .. } => Some(FaultKind::KillStopper),
            Action::KillDaemon { .. } => Some(FaultKind::KillDaemon),
            Action::DockerKill { .. } => Some(FaultKind::DockerKill),
            Action::DockerRm { .. } => Some(FaultKind::DockerRm),
            Action::PortBlocker { blocker, .. } => Some(*blocker),
            Action::DiskFull { .. } => Some(FaultKind::DiskFull),
            Action::DockerAway { fault, .. } => Some(*fault),
            Action::Start { engine, .. } | Action::Restart { engine, .. } => *engine,
            _ => None,
        }
    }

    /// `start`, `kill-daemon`, …: the `op` name of the action.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Start { .. } => "start",
            Action::Stop { .. } => "stop",
            Action::Restart { .. } => "restart",
            Action::Delete { .. } => "delete",
            Action::KillStarter { .. } => "kill-starter",
            Action::KillStopper { .. } => "kill-stopper",
            Action::KillDaemon { .. } => "kill-daemon",
            Action::DockerKill { .. } => "docker-kill",
            Action::DockerRm { .. } => "docker-rm",
            Action::PortBlocker { blocker, .. } => blocker.name(),
            Action::DiskFull { .. } => "disk-full",
            Action::DockerAway { fault, .. } => fault.name(),
        }
    }
}

/// One scheduled action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Step {
    /// Position in the schedule (stable across shrinking, so a reduced schedule names its
    /// steps as the full one did).
    pub id: usize,
    /// Milliseconds after the run's start, the earliest the lane begins it.
    pub at_ms: u64,
    /// The worker carrying it out: lanes run concurrently, each in its own order.
    pub lane: usize,
    #[serde(flatten)]
    pub action: Action,
}

/// What a schedule is made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub seed: u64,
    pub seconds: u64,
    pub services: usize,
    pub faults: Vec<FaultKind>,
    /// Operation workers acting at once (the fault worker comes on top).
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// aima runs its engines on a Docker Swarm (`--runtime swarm`).
    #[serde(default)]
    pub swarm: bool,
}

fn ipv4_blocker() -> FaultKind {
    FaultKind::PortBlocker
}

fn default_workers() -> usize {
    DEFAULT_WORKERS
}

/// Operation lanes by default (the fault lane comes after them).
pub(crate) const DEFAULT_WORKERS: usize = 3;
/// No step is scheduled in the run's last seconds, so the last ones can finish.
const QUIET_END_MS: u64 = 3_000;
const POLICIES: [&str; 3] = ["no", "on-failure:2", "always"];

fn via(rng: &mut Rng) -> Via {
    if rng.chance(50) { Via::Cli } else { Via::Api }
}

/// An engine fault for a CLI start: one of the enabled ones, 40% of the time.
fn engine(rng: &mut Rng, engines: &[FaultKind]) -> Option<FaultKind> {
    (!engines.is_empty() && rng.chance(40)).then(|| engines[rng.index(engines.len())])
}

/// Makes the schedule of `plan`.
pub(crate) fn generate(plan: &Plan) -> Vec<Step> {
    let mut rng = Rng::new(plan.seed);
    let end = (plan.seconds * 1000).saturating_sub(QUIET_END_MS);
    let services = plan.services.max(1);
    let lanes = plan.workers.max(1);
    let engines: Vec<FaultKind> = plan
        .faults
        .iter()
        .copied()
        .filter(|f| f.is_engine())
        .collect();
    let events: Vec<FaultKind> = plan
        .faults
        .iter()
        .copied()
        .filter(|f| !f.is_engine())
        .collect();
    let mut steps = Vec::new();
    // Every slot gets its service first.
    for slot in 0..services {
        let restart = POLICIES[rng.index(POLICIES.len())].to_owned();
        let action = Action::Create {
            slot,
            restart,
            via: via(&mut rng),
        };
        steps.push((slot as u64 * 50, slot % lanes, action));
    }
    for lane in 0..lanes {
        let mut at = 500 + lane as u64 * 150;
        loop {
            at += rng.between(300, 2_500);
            if at > end {
                break;
            }
            let slot = rng.index(services);
            let action = match rng.weighted(&[28, 10, 22, 10, 6, 6]) {
                0 => Action::Start {
                    slot,
                    wait: true,
                    via: Via::Cli,
                    engine: engine(&mut rng, &engines),
                },
                1 => match via(&mut rng) {
                    Via::Cli => Action::Start {
                        slot,
                        wait: false,
                        via: Via::Cli,
                        engine: engine(&mut rng, &engines),
                    },
                    Via::Api => Action::Start {
                        slot,
                        wait: rng.chance(50),
                        via: Via::Api,
                        engine: None,
                    },
                },
                2 => Action::Stop {
                    slot,
                    via: via(&mut rng),
                },
                3 => Action::Restart {
                    slot,
                    engine: engine(&mut rng, &engines),
                },
                4 => Action::Delete {
                    slot,
                    via: via(&mut rng),
                },
                _ => {
                    let restart = POLICIES[rng.index(POLICIES.len())].to_owned();
                    Action::Create {
                        slot,
                        restart,
                        via: via(&mut rng),
                    }
                }
            };
            steps.push((at, lane, action));
        }
    }
    if !events.is_empty() {
        let mut at = 1_000;
        loop {
            at += rng.between(1_500, 4_500);
            if at > end {
                break;
            }
            let slot = rng.index(services);
            let action = match events[rng.index(events.len())] {
                FaultKind::KillStarter => Action::KillStarter {
                    slot,
                    after_ms: rng.between(150, 1_500),
                    // A slow engine keeps the start in flight long enough to be killed in it.
                    engine: if engines.contains(&FaultKind::EngineSlow) && rng.chance(75) {
                        Some(FaultKind::EngineSlow)
                    } else {
                        engine(&mut rng, &engines)
                    },
                },
                FaultKind::KillStopper => Action::KillStopper {
                    slot,
                    after_ms: rng.between(30, 800),
                },
                FaultKind::KillDaemon => Action::KillDaemon {
                    down_ms: rng.between(300, 3_000),
                },
                FaultKind::DockerKill => Action::DockerKill { slot },
                FaultKind::DockerRm => Action::DockerRm { slot },
                fault if fault.is_docker_proxy() => Action::DockerAway {
                    fault,
                    hold_ms: rng.between(1_000, 5_000),
                },
                blocker if blocker.is_port_blocker() => Action::PortBlocker {
                    slot,
                    hold_ms: rng.between(1_000, 6_000),
                    blocker,
                },
                _ => Action::DiskFull {
                    hold_ms: rng.between(2_000, 6_000),
                },
            };
            steps.push((at, lanes, action));
        }
    }
    steps.sort_by_key(|(at, lane, _)| (*at, *lane));
    steps
        .into_iter()
        .enumerate()
        .map(|(id, (at_ms, lane, action))| Step {
            id,
            at_ms,
            lane,
            action,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64) -> Plan {
        Plan {
            seed,
            seconds: 60,
            services: 4,
            faults: FaultKind::ALL.to_vec(),
            workers: 3,
            swarm: false,
        }
    }

    #[test]
    fn one_seed_one_schedule() {
        assert_eq!(generate(&plan(1)), generate(&plan(1)));
        assert_ne!(generate(&plan(1)), generate(&plan(2)));
    }

    #[test]
    fn a_schedule_creates_every_slot_first_and_ends_before_the_quiet_end() {
        let steps = generate(&plan(3));
        for slot in 0..4 {
            let first = steps
                .iter()
                .find(|s| s.action.slot() == Some(slot))
                .unwrap();
            assert!(matches!(first.action, Action::Create { .. }), "{first:?}");
        }
        assert!(steps.iter().all(|s| s.at_ms <= 57_000));
        assert!(
            steps
                .iter()
                .any(|s| s.action.fault() == Some(FaultKind::KillDaemon))
        );
        let json = serde_json::to_string(&steps).unwrap();
        let back: Vec<Step> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, steps);
    }

    #[test]
    fn every_blocker_kind_and_the_full_disk_are_scheduled_and_old_histories_still_read() {
        let steps = generate(&Plan {
            seconds: 300,
            ..plan(5)
        });
        for fault in [
            FaultKind::PortBlocker,
            FaultKind::PortBlockerV6,
            FaultKind::PortBlockerBind,
            FaultKind::PortBlockerContainer,
            FaultKind::DiskFull,
        ] {
            assert!(
                steps.iter().any(|s| s.action.fault() == Some(fault)),
                "{fault} never scheduled"
            );
        }
        // A history written before the blocker kinds existed means the IPv4 listener.
        let old: Step = serde_json::from_str(
            r#"{"id": 3, "at_ms": 900, "lane": 3, "op": "port-blocker", "slot": 1, "hold_ms": 2000}"#,
        )
        .unwrap();
        assert_eq!(old.action.fault(), Some(FaultKind::PortBlocker));
    }

    #[test]
    fn no_faults_means_plain_operations_only() {
        let steps = generate(&Plan {
            faults: vec![],
            ..plan(4)
        });
        assert!(steps.iter().all(|s| s.action.fault().is_none()));
    }
}
