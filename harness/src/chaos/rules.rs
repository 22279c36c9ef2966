//! The invariants of a chaos run as plain functions over what the observer saw, so each rule is
//! unit-tested without Docker. Continuous rules tolerate in-flight transitions by time bounds
//! (below); a condition must hold at every observation for its whole bound to count.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Exit codes of aima's documented table (docs/lifecycle.md#exit-codes).
pub(crate) const EXIT_CODES: [i32; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 130];
/// JSON `code`s an API error may carry: the table's, and those of the daemon's own refusals
/// (docs/daemon.md#errors-and-limits).
pub(crate) const ERROR_CODES: [&str; 18] = [
    "internal",
    "forbidden",
    "quota_exceeded",
    "usage",
    "not_found",
    "conflict",
    "port_in_use",
    "docker_unavailable",
    "start_failed",
    "timeout",
    "storage",
    "engine",
    "disk_full",
    "gpu_in_use",
    "interrupted",
    "unavailable",
    "unauthorized",
    "forbidden",
];

/// A service may read `starting` this long with no operation of the harness on it in flight
/// (a detached start on a slow engine, a supervisor's restart).
pub(crate) const STARTING_BOUND_MS: u64 = 20_000;
/// After the harness SIGKILLed an attached starter of a service (and saw its process group
/// gone), and invoked no other start of it, a read begun this long after the kill may not show
/// it `starting` without a live owner process: the reader itself sees the owner gone and marks
/// it failed (a supervisor's restart has the daemon as its owner).
pub(crate) const KILLED_START_BOUND_MS: u64 = 2_000;
/// A `running` service may lack its one running container or a healthy engine this long with
/// no operation in flight (the reconciler's pass is 1 s; an engine just killed is noticed then).
pub(crate) const RUNNING_BOUND_MS: u64 = 8_000;
/// A container of the run without a live service may exist this long, counted while the
/// daemon is up (its reaper's grace is 5 s, its pass 1 s).
pub(crate) const ORPHAN_BOUND_MS: u64 = 15_000;

/// The supervisor's first backoff; it doubles per restart in a row up to [`BACKOFF_MAX_MS`].
pub(crate) const BACKOFF_FIRST_MS: u64 = 1_000;
/// `[supervision] backoff_max_secs` at its default (a chaos run does not change it).
pub(crate) const BACKOFF_MAX_MS: u64 = 300_000;
/// What a supervised restart may take on top of its backoff: the start of the plain simulator
/// (healthy 1–3 s after its container starts), the reconciler's 1 s pass, the observer's
/// half-second period, and room for a loaded host.
pub(crate) const RESTART_GRACE_MS: u64 = 12_000;

/// A desired-running service the supervisor owes a restart may read `failed` this long before
/// the supervisor takes it up (`backoff`, then `starting`): it hears the engine's death from
/// Docker's event stream at once, and its reconciler passes every second.
pub(crate) const TAKE_UP_BOUND_MS: u64 = 4_000;

/// How long a desired-running service with `restarts` restarts in a row may wait in
/// `failed`/`backoff` before it must read `running` again.
pub(crate) fn restart_bound_ms(restarts: u64) -> u64 {
    let backoff = BACKOFF_FIRST_MS
        .saturating_mul(1u64 << restarts.min(20))
        .min(BACKOFF_MAX_MS);
    backoff + RESTART_GRACE_MS
}

/// A service as `service list -o json` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServiceView {
    pub id: String,
    pub status: String,
    pub restart: String,
    /// What its operator asked for: `running` or `stopped` (empty when not shown).
    pub desired: String,
    /// Supervised restarts in a row.
    pub restarts: u64,
    pub last_error: Option<String>,
    pub attempts: usize,
    pub container_id: Option<String>,
    pub port: u16,
    /// Whether the recorded owner process (`owner.pid`) is alive here; `None`: no owner.
    pub owner_alive: Option<bool>,
}

impl ServiceView {
    pub(crate) fn from_json(item: &Value) -> Self {
        Self {
            id: item["id"].as_str().unwrap_or_default().to_owned(),
            status: item["status"].as_str().unwrap_or_default().to_owned(),
            restart: item["restart"].as_str().unwrap_or("no").to_owned(),
            desired: item["desired"].as_str().unwrap_or_default().to_owned(),
            restarts: item["restarts"].as_u64().unwrap_or_default(),
            last_error: item["last_error"]
                .as_str()
                .filter(|e| !e.trim().is_empty())
                .map(str::to_owned),
            attempts: item["attempts"]
                .as_array()
                .map(Vec::len)
                .unwrap_or_default(),
            container_id: item["container_id"].as_str().map(str::to_owned),
            port: item["port"].as_u64().unwrap_or_default() as u16,
            owner_alive: item["owner"]["pid"]
                .as_u64()
                .map(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists()),
        }
    }
}

/// A container of the run (our instance label or run label).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ContainerView {
    pub id: String,
    pub name: String,
    pub state: String,
    pub service: Option<String>,
}

/// What the harness knows of a service's slot at the observation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SlotView {
    pub slot: usize,
    /// An operation or fault of the harness acts on it now.
    pub busy: bool,
    /// A start since its last clean stop ran the hanging engine (not held to answer health).
    pub hang: bool,
    pub killed_start_ms: Option<u64>,
    /// A port blocker of the harness holds its port.
    pub blocked: bool,
    /// Every start since its last clean stop ran the plain simulator, so a restart must come up.
    pub healthy_engine: bool,
    /// When a stop of the harness last succeeded, with nothing else acting on it, and nothing
    /// that may start it invoked since.
    pub stopped_ms: Option<u64>,
    /// The restart policy the harness asked for at create (the rules hold aima to it, not to
    /// the policy aima shows).
    pub policy: Option<String>,
}

/// One observation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    pub t_ms: u64,
    pub daemon_up: bool,
    /// The Docker proxy paused, slowed or cut the run's aima from Docker during the read.
    pub docker_away: bool,
    pub services: Vec<ServiceView>,
    pub containers: Vec<ContainerView>,
    /// Engine health of running services by service id: `Err(why)` when it did not answer 200.
    pub engines: BTreeMap<String, Result<(), String>>,
    pub slots: BTreeMap<String, SlotView>,
    /// Services whose create was acknowledged and which no operation touched around the read,
    /// by id (their slot): each must be listed.
    pub acknowledged: BTreeMap<String, usize>,
}

/// A broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub rule: &'static str,
    pub slot: Option<usize>,
    pub subject: String,
    pub detail: String,
}

/// What the continuous rules remember between observations.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    starting_since: BTreeMap<String, u64>,
    bad_running_since: BTreeMap<String, u64>,
    /// Service id → (since when it waits for its supervised restart, its `restarts` then).
    down_since: BTreeMap<String, (u64, u64)>,
    /// Service id → since when it reads `failed` while the supervisor owes it a restart.
    failed_since: BTreeMap<String, u64>,
    /// Container id → (orphan time counted, time of the last observation).
    orphan: BTreeMap<String, (u64, u64)>,
    reported: BTreeSet<String>,
}

const LIVE: [&str; 3] = ["starting", "running", "stopping"];

impl Tracker {
    /// Applies every continuous rule to `snap`; each episode of a broken rule is reported once.
    pub(crate) fn check(&mut self, snap: &Snapshot) -> Vec<Finding> {
        let mut found = Vec::new();
        let mut broken = BTreeSet::new();
        for svc in &snap.services {
            let slot = snap.slots.get(&svc.id).cloned().unwrap_or_default();
            let slot_no = snap.slots.get(&svc.id).map(|s| s.slot);
            let mut hit = |rule: &'static str, detail: String| {
                broken.insert(format!("{rule}/{}", svc.id));
                found.push(Finding {
                    rule,
                    slot: slot_no,
                    subject: svc.id.clone(),
                    detail,
                });
            };
            // starting, with nobody of the harness acting on it.
            if svc.status == "starting" && !slot.busy {
                let since = *self
                    .starting_since
                    .entry(svc.id.clone())
                    .or_insert(snap.t_ms);
                let long = snap.t_ms - since;
                if long >= STARTING_BOUND_MS {
                    hit(
                        "starting-past-deadline",
                        format!(
                            "{} has read `starting` for {long} ms with no start of the harness in flight (bound {STARTING_BOUND_MS} ms)",
                            svc.id
                        ),
                    );
                }
                if let Some(killed) = slot.killed_start_ms {
                    let after = snap.t_ms.saturating_sub(killed);
                    if svc.owner_alive != Some(true) && after >= KILLED_START_BOUND_MS {
                        hit(
                            "starting-after-starter-died",
                            format!(
                                "{} still reads `starting` with no live owner {after} ms after the harness SIGKILLed its starter (no start invoked since; bound {KILLED_START_BOUND_MS} ms)",
                                svc.id
                            ),
                        );
                    }
                }
            } else {
                self.starting_since.remove(&svc.id);
            }
            // running ⇒ exactly one running container, and its engine answers.
            let problem = (svc.status == "running" && !slot.busy)
                .then(|| running_problem(svc, snap, slot.hang))
                .flatten();
            match problem {
                Some(why) => {
                    let since = *self
                        .bad_running_since
                        .entry(svc.id.clone())
                        .or_insert(snap.t_ms);
                    let long = snap.t_ms - since;
                    if long >= RUNNING_BOUND_MS {
                        hit(
                            "running-without-its-engine",
                            format!(
                                "{} reads `running` but {why}, for {long} ms (bound {RUNNING_BOUND_MS} ms)",
                                svc.id
                            ),
                        );
                    }
                }
                None => {
                    self.bad_running_since.remove(&svc.id);
                }
            }
            // desired running, policy applies, fault over ⇒ running again within the bound.
            if supervision_owes_restart(svc, &slot, snap.daemon_up && !snap.docker_away) {
                let entry = self
                    .down_since
                    .entry(svc.id.clone())
                    .or_insert((snap.t_ms, svc.restarts));
                if entry.1 != svc.restarts {
                    // A restart was made (and failed): its own backoff begins now.
                    *entry = (snap.t_ms, svc.restarts);
                }
                let long = snap.t_ms - entry.0;
                let bound = restart_bound_ms(svc.restarts);
                if long >= bound {
                    hit(
                        "supervised-not-restarted",
                        format!(
                            "{} (created with restart {}, shown as {}; desired running, {} restart(s) in a row) has read `{}` for {long} ms with its port free, a healthy engine image, the daemon up and nothing of the harness acting on it (bound {bound} ms: backoff plus {RESTART_GRACE_MS} ms)",
                            svc.id,
                            slot.policy.as_deref().unwrap_or("?"),
                            svc.restart,
                            svc.restarts,
                            svc.status
                        ),
                    );
                }
                if svc.status == "failed" {
                    let since = *self.failed_since.entry(svc.id.clone()).or_insert(snap.t_ms);
                    let long = snap.t_ms - since;
                    if long >= TAKE_UP_BOUND_MS {
                        hit(
                            "supervised-not-taken-up",
                            format!(
                                "{} (created with restart {}, shown as {}; desired running) has read `failed` for {long} ms with its port free, a healthy engine image, the daemon up and nothing of the harness acting on it, and its supervisor has not scheduled a restart (bound {TAKE_UP_BOUND_MS} ms)",
                                svc.id,
                                slot.policy.as_deref().unwrap_or("?"),
                                svc.restart
                            ),
                        );
                    }
                } else {
                    self.failed_since.remove(&svc.id);
                }
            } else {
                self.down_since.remove(&svc.id);
                self.failed_since.remove(&svc.id);
            }
            // desired stopped by the harness's stop ⇒ never started since.
            if let Some(stopped) = slot.stopped_ms
                && !slot.busy
                && stopped <= snap.t_ms
                && (svc.status == "starting" || svc.status == "running")
            {
                hit(
                    "started-while-stopped",
                    format!(
                        "{} reads `{}` in a read begun {} ms after the harness's stop of it succeeded, with no start, restart or other operation that may start it invoked since",
                        svc.id,
                        svc.status,
                        snap.t_ms - stopped
                    ),
                );
            }
            // failed ⇒ a reason; a failed start ⇒ its attempts.
            if svc.status == "failed" {
                match &svc.last_error {
                    None => hit(
                        "failed-without-reason",
                        format!("{} is `failed` with no last_error", svc.id),
                    ),
                    Some(error) if is_start_failure(error) && svc.attempts == 0 => hit(
                        "failed-without-attempts",
                        format!("{} failed a start ({error:?}) but lists no attempt", svc.id),
                    ),
                    Some(_) => {}
                }
            }
        }
        for (id, slot) in &snap.acknowledged {
            if !snap.services.iter().any(|s| &s.id == id) {
                broken.insert(format!("acknowledged-service-lost/{id}"));
                found.push(Finding {
                    rule: "acknowledged-service-lost",
                    slot: Some(*slot),
                    subject: id.clone(),
                    detail: format!("{id} was created (acknowledged) and not deleted, but `service list` does not show it"),
                });
            }
        }
        self.orphans(snap, &mut found, &mut broken);
        // One report per episode: a rule broken again after it held is reported again.
        found.retain(|f| !self.reported.contains(&format!("{}/{}", f.rule, f.subject)));
        self.reported = broken;
        self.starting_since
            .retain(|id, _| snap.services.iter().any(|s| &s.id == id));
        self.down_since
            .retain(|id, _| snap.services.iter().any(|s| &s.id == id));
        self.failed_since
            .retain(|id, _| snap.services.iter().any(|s| &s.id == id));
        found
    }

    fn orphans(
        &mut self,
        snap: &Snapshot,
        found: &mut Vec<Finding>,
        broken: &mut BTreeSet<String>,
    ) {
        let mut seen = BTreeSet::new();
        for c in &snap.containers {
            let owner = c
                .service
                .as_ref()
                .and_then(|id| snap.services.iter().find(|s| &s.id == id));
            let live = owner.is_some_and(|s| {
                LIVE.contains(&s.status.as_str())
                    && (s.status != "running"
                        || s.container_id.as_deref().is_none_or(|id| id == c.id))
            });
            seen.insert(c.id.clone());
            if live {
                // The clock pauses while its service is live (aima's reaper spares those too),
                // and goes on from there when it is not.
                if let Some((_, last)) = self.orphan.get_mut(&c.id) {
                    *last = snap.t_ms;
                }
                continue;
            }
            let (counted, last) = self.orphan.entry(c.id.clone()).or_insert((0, snap.t_ms));
            // The reaper needs Docker: time while the proxy keeps it away does not count.
            if snap.daemon_up && !snap.docker_away {
                *counted += snap.t_ms - *last;
            }
            *last = snap.t_ms;
            if *counted >= ORPHAN_BOUND_MS {
                let whose = match (&c.service, owner) {
                    (None, _) => "no aima.service label".to_owned(),
                    (Some(id), None) => format!("service {id}, which no longer exists"),
                    (Some(id), Some(s)) => format!("service {id}, which is `{}`", s.status),
                };
                broken.insert(format!("orphan-container/{}", c.id));
                found.push(Finding {
                    rule: "orphan-container",
                    slot: c.service.as_ref().and_then(|id| snap.slots.get(id)).map(|s| s.slot),
                    subject: c.name.clone(),
                    detail: format!(
                        "container {} ({}, {}) of this run belongs to {whose}; it stayed {counted} ms while the daemon was up (bound {ORPHAN_BOUND_MS} ms)",
                        c.name, short(&c.id), c.state
                    ),
                });
            }
        }
        self.orphan.retain(|id, _| seen.contains(id));
    }
}

/// Whether the supervisor owes `svc` a restart the rule may judge: wanted running, its policy
/// applies and has not given up, it reads `failed`/`backoff`, and the fault that felled it is
/// over (the daemon up, no operation or fault of the harness on it, no blocker on its port, its
/// last start on the plain simulator).
fn supervision_owes_restart(svc: &ServiceView, slot: &SlotView, daemon_up: bool) -> bool {
    if !daemon_up || slot.busy || slot.blocked || !slot.healthy_engine {
        return false;
    }
    if svc.desired != "running" || !matches!(svc.status.as_str(), "failed" | "backoff") {
        return false;
    }
    let error = svc.last_error.as_deref().unwrap_or_default();
    if error.contains("crash loop") || error.contains("not restarted") {
        return false;
    }
    let policy = slot.policy.as_deref().unwrap_or(&svc.restart);
    if policy == "always" {
        return true;
    }
    let Some(limit) = policy.strip_prefix("on-failure") else {
        return false;
    };
    // Under on-failure a start that failed in front of its operator stays `failed`.
    if svc.status == "failed" && is_start_failure(error) {
        return false;
    }
    match limit.strip_prefix(':').map(str::parse::<u64>) {
        Some(Ok(n)) => svc.restarts < n,
        Some(Err(_)) => false,
        None => true,
    }
}

/// A `last_error` of a failed start (aima records the attempts of those), as opposed to an
/// engine that died after it ran (no attempt is recorded then).
fn is_start_failure(error: &str) -> bool {
    error.starts_with("cannot start") || error.starts_with("start interrupted")
}

/// Why a `running` service is not really running, if it is not.
fn running_problem(svc: &ServiceView, snap: &Snapshot, hang: bool) -> Option<String> {
    let mine: Vec<&ContainerView> = snap
        .containers
        .iter()
        .filter(|c| c.service.as_deref() == Some(svc.id.as_str()))
        .collect();
    let running = mine.iter().filter(|c| c.state == "running").count();
    if running != 1 {
        let states: Vec<String> = mine
            .iter()
            .map(|c| format!("{} {}", short(&c.id), c.state))
            .collect();
        return Some(format!(
            "Docker holds {running} running container(s) of it [{}]",
            states.join(", ")
        ));
    }
    if hang {
        return None;
    }
    match snap.engines.get(&svc.id) {
        Some(Err(why)) => Some(format!(
            "its engine on port {} does not answer: {why}",
            svc.port
        )),
        _ => None,
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Why an aima command's outcome breaks the contract, if it does: an exit code outside the
/// table, or a panic.
pub(crate) fn command_problem(
    exit: Option<i32>,
    stderr: &str,
    killed_by_harness: bool,
) -> Option<String> {
    if stderr.contains("panicked at") {
        return Some("the command panicked".into());
    }
    match exit {
        Some(code) if !EXIT_CODES.contains(&code) => {
            Some(format!("exit code {code} is not in the documented table"))
        }
        None if !killed_by_harness => {
            Some("the command ended by a signal the harness did not send".into())
        }
        _ => None,
    }
}

/// Why an API answer breaks the documented error shape, if it does.
pub(crate) fn api_problem(status: u16, body: &str) -> Option<String> {
    if status < 400 {
        return None;
    }
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return Some(format!(
            "HTTP {status} with a body that is not JSON: {:.120}",
            body
        ));
    };
    let code = json["error"]["code"].as_str();
    let message = json["error"]["message"].as_str();
    match (code, message) {
        (Some(code), Some(m)) if ERROR_CODES.contains(&code) && !m.is_empty() => None,
        (Some(code), Some(_)) if !ERROR_CODES.contains(&code) => Some(format!(
            "HTTP {status} with an undocumented error code {code:?}"
        )),
        _ => Some(format!(
            "HTTP {status} without {{\"error\": {{\"code\", \"message\"}}}}: {:.120}",
            body
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(id: &str, status: &str) -> ServiceView {
        ServiceView {
            id: id.into(),
            status: status.into(),
            restart: "no".into(),
            port: 9000,
            ..Default::default()
        }
    }

    fn container(id: &str, service: &str, state: &str) -> ContainerView {
        ContainerView {
            id: id.into(),
            name: format!("n-{id}"),
            state: state.into(),
            service: Some(service.into()),
        }
    }

    fn snap(t_ms: u64, services: Vec<ServiceView>, containers: Vec<ContainerView>) -> Snapshot {
        Snapshot {
            t_ms,
            daemon_up: true,
            services,
            containers,
            ..Default::default()
        }
    }

    #[test]
    fn starting_is_reported_once_after_its_bound_and_again_in_a_new_episode() {
        let mut t = Tracker::default();
        assert!(
            t.check(&snap(0, vec![svc("a", "starting")], vec![]))
                .is_empty()
        );
        assert!(
            t.check(&snap(19_000, vec![svc("a", "starting")], vec![]))
                .is_empty()
        );
        let found = t.check(&snap(20_000, vec![svc("a", "starting")], vec![]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "starting-past-deadline");
        assert!(
            t.check(&snap(21_000, vec![svc("a", "starting")], vec![]))
                .is_empty()
        );
        assert!(
            t.check(&snap(
                22_000,
                vec![svc("a", "running")],
                vec![container("c", "a", "running")]
            ))
            .is_empty()
        );
        assert!(
            t.check(&snap(23_000, vec![svc("a", "starting")], vec![]))
                .is_empty()
        );
    }

    #[test]
    fn a_busy_slot_holds_the_starting_clock() {
        let mut t = Tracker::default();
        let mut s = snap(0, vec![svc("a", "starting")], vec![]);
        s.slots.insert(
            "a".into(),
            SlotView {
                slot: 0,
                busy: true,
                ..Default::default()
            },
        );
        t.check(&s);
        s.t_ms = 30_000;
        assert!(t.check(&s).is_empty());
    }

    #[test]
    fn a_killed_starter_must_be_resolved_soon_unless_a_live_owner_took_over() {
        let mut t = Tracker::default();
        let mut s = snap(3_000, vec![svc("a", "starting")], vec![]);
        s.slots.insert(
            "a".into(),
            SlotView {
                slot: 0,
                killed_start_ms: Some(1_000),
                ..Default::default()
            },
        );
        let found = t.check(&s);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "starting-after-starter-died");
        let mut supervised = s.clone();
        supervised.services[0].owner_alive = Some(true);
        assert!(Tracker::default().check(&supervised).is_empty());
    }

    #[test]
    fn running_needs_one_running_container_and_an_engine_for_its_bound() {
        let mut t = Tracker::default();
        let s = |t_ms| {
            snap(
                t_ms,
                vec![svc("a", "running")],
                vec![container("c", "a", "exited")],
            )
        };
        assert!(t.check(&s(0)).is_empty());
        let found = t.check(&s(8_000));
        assert_eq!(found[0].rule, "running-without-its-engine");
        assert!(found[0].detail.contains("0 running container"), "{found:?}");
        let mut ok = snap(
            9_000,
            vec![svc("a", "running")],
            vec![container("c", "a", "running")],
        );
        ok.engines.insert("a".into(), Err("refused".into()));
        let mut t = Tracker::default();
        t.check(&ok);
        ok.t_ms = 17_000;
        assert!(t.check(&ok)[0].detail.contains("does not answer"));
        ok.slots.insert(
            "a".into(),
            SlotView {
                hang: true,
                ..Default::default()
            },
        );
        assert!(Tracker::default().check(&ok).is_empty());
    }

    #[test]
    fn failed_needs_a_reason_and_a_failed_start_its_attempts() {
        let mut t = Tracker::default();
        let found = t.check(&snap(0, vec![svc("a", "failed")], vec![]));
        assert_eq!(found[0].rule, "failed-without-reason");
        let mut died = svc("b", "failed");
        died.last_error = Some("the engine exited with code 137: startup complete".into());
        let mut interrupted = svc("c", "failed");
        interrupted.last_error = Some("start interrupted: its process is gone".into());
        let found = Tracker::default().check(&snap(0, vec![died, interrupted], vec![]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "failed-without-attempts");
    }

    #[test]
    fn an_acknowledged_service_must_be_listed() {
        let mut s = snap(0, vec![svc("a", "running")], vec![]);
        s.acknowledged.insert("a".into(), 0);
        s.acknowledged.insert("b".into(), 1);
        let found = Tracker::default().check(&s);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].rule, found[0].subject.as_str()),
            ("acknowledged-service-lost", "b")
        );
    }

    #[test]
    fn orphans_count_only_while_the_daemon_is_up() {
        let mut t = Tracker::default();
        let orphan = vec![ContainerView {
            id: "x".into(),
            name: "leak".into(),
            state: "created".into(),
            service: None,
        }];
        assert!(t.check(&snap(0, vec![], orphan.clone())).is_empty());
        let mut down = snap(10_000, vec![], orphan.clone());
        down.daemon_up = false;
        assert!(t.check(&down).is_empty());
        assert!(t.check(&snap(20_000, vec![], orphan.clone())).is_empty());
        let found = t.check(&snap(25_000, vec![], orphan));
        assert_eq!(found[0].rule, "orphan-container");
        // A running service's own container is no orphan.
        let mine = vec![container("c", "a", "running")];
        let mut running = svc("a", "running");
        running.container_id = Some("c".into());
        let mut t = Tracker::default();
        t.check(&snap(0, vec![running.clone()], mine.clone()));
        assert!(t.check(&snap(60_000, vec![running], mine)).is_empty());
    }

    fn supervised(status: &str, restart: &str, restarts: u64) -> (ServiceView, SlotView) {
        let mut v = svc("a", status);
        v.restart = restart.into();
        v.desired = "running".into();
        v.restarts = restarts;
        v.last_error = Some("the engine exited with code 137".into());
        let slot = SlotView {
            healthy_engine: true,
            ..Default::default()
        };
        (v, slot)
    }

    fn with_slot(t_ms: u64, v: &ServiceView, slot: &SlotView) -> Snapshot {
        let mut s = snap(t_ms, vec![v.clone()], vec![]);
        s.slots.insert(v.id.clone(), slot.clone());
        s
    }

    #[test]
    fn restart_bounds_double_from_one_second_up_to_the_cap() {
        assert_eq!(restart_bound_ms(0), 1_000 + RESTART_GRACE_MS);
        assert_eq!(restart_bound_ms(3), 8_000 + RESTART_GRACE_MS);
        assert_eq!(restart_bound_ms(60), BACKOFF_MAX_MS + RESTART_GRACE_MS);
    }

    #[test]
    fn a_supervised_service_left_down_past_its_bound_is_reported() {
        let (v, slot) = supervised("backoff", "always", 1);
        let mut t = Tracker::default();
        assert!(t.check(&with_slot(0, &v, &slot)).is_empty());
        assert!(t.check(&with_slot(13_000, &v, &slot)).is_empty());
        let found = t.check(&with_slot(14_000, &v, &slot));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "supervised-not-restarted");
        // A new restart in a row restarts the clock with its own bound.
        let mut t = Tracker::default();
        t.check(&with_slot(0, &v, &slot));
        let (again, _) = supervised("backoff", "always", 2);
        assert!(t.check(&with_slot(20_000, &again, &slot)).is_empty());
        assert!(t.check(&with_slot(35_000, &again, &slot)).is_empty());
        assert_eq!(t.check(&with_slot(36_000, &again, &slot)).len(), 1);
    }

    #[test]
    fn a_failed_service_the_supervisor_owes_a_restart_must_be_taken_up_soon() {
        let (v, slot) = supervised("failed", "always", 0);
        let mut t = Tracker::default();
        assert!(t.check(&with_slot(0, &v, &slot)).is_empty());
        assert!(t.check(&with_slot(3_500, &v, &slot)).is_empty());
        let found = t.check(&with_slot(4_000, &v, &slot));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "supervised-not-taken-up");
        // In `backoff` it is taken up: only the restart bound applies.
        let (b, _) = supervised("backoff", "always", 0);
        let mut t = Tracker::default();
        t.check(&with_slot(0, &b, &slot));
        assert!(t.check(&with_slot(5_000, &b, &slot)).is_empty());
    }

    #[test]
    fn the_restart_rule_spares_what_the_contract_leaves_down() {
        let late = |v: &ServiceView, slot: &SlotView, up: bool| {
            let mut t = Tracker::default();
            let mut first = with_slot(0, v, slot);
            first.daemon_up = up;
            t.check(&first);
            let mut then = with_slot(400_000, v, slot);
            then.daemon_up = up;
            t.check(&then)
        };
        let (v, slot) = supervised("failed", "always", 0);
        assert_eq!(
            late(&v, &slot, true).len(),
            2,
            "taken up late and not restarted"
        );
        assert!(late(&v, &slot, false).is_empty(), "daemon down");
        let mut t = Tracker::default();
        let mut away = with_slot(0, &v, &slot);
        away.docker_away = true;
        t.check(&away);
        away.t_ms = 400_000;
        assert!(t.check(&away).is_empty(), "Docker away");
        for change in 0..7 {
            let (mut v, mut slot) = supervised("failed", "on-failure:2", 0);
            match change {
                0 => slot.busy = true,
                1 => slot.blocked = true,
                2 => slot.healthy_engine = false,
                3 => {
                    v.restart = "no".into();
                    slot.policy = Some("no".into());
                }
                4 => v.restarts = 2,
                5 => v.last_error = Some("cannot start: port 9000 is in use".into()),
                _ => v.desired = "stopped".into(),
            }
            assert!(late(&v, &slot, true).is_empty(), "case {change}");
        }
        let (v, mut slot) = supervised("failed", "on-failure:2", 1);
        assert_eq!(late(&v, &slot, true).len(), 2);
        // The policy the harness asked for counts, not the one aima shows.
        let mut dropped = v.clone();
        dropped.restart = "no".into();
        slot.policy = Some("always".into());
        assert_eq!(late(&dropped, &slot, true).len(), 2);
    }

    #[test]
    fn a_service_stopped_by_the_harness_must_not_start_by_itself() {
        let mut v = svc("a", "running");
        v.container_id = Some("c".into());
        let mut slot = SlotView {
            stopped_ms: Some(1_000),
            ..Default::default()
        };
        let mut s = with_slot(2_000, &v, &slot);
        s.containers = vec![container("c", "a", "running")];
        let found = Tracker::default().check(&s);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "started-while-stopped");
        // A read begun before the stop ended, or one with an operation in flight, proves nothing.
        s.t_ms = 900;
        assert!(Tracker::default().check(&s).is_empty());
        slot.busy = true;
        s = with_slot(2_000, &v, &slot);
        s.containers = vec![container("c", "a", "running")];
        assert!(Tracker::default().check(&s).is_empty());
    }

    #[test]
    fn commands_and_api_errors_are_held_to_the_tables() {
        assert!(command_problem(Some(5), "", false).is_none());
        assert!(command_problem(Some(42), "", false).unwrap().contains("42"));
        assert!(command_problem(Some(101), "thread 'main' panicked at src/x.rs", false).is_some());
        assert!(command_problem(None, "", true).is_none());
        assert!(api_problem(409, r#"{"error":{"code":"conflict","message":"busy"}}"#).is_none());
        assert!(api_problem(500, "oops").unwrap().contains("not JSON"));
        assert!(
            api_problem(409, r#"{"error":{"code":"weird","message":"x"}}"#)
                .unwrap()
                .contains("weird")
        );
        assert!(api_problem(200, "").is_none());
    }
}
