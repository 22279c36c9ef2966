//! The liveness watch's bookkeeping, one small state machine per running service: when its
//! next probe is due, how many probes failed in a row, and since when it has been healthy.
//! Pure: times are milliseconds handed in, so tests need no clock and no Docker.
//!
//! Only `running` services are watched, and aima records `running` only after the engine
//! answered its health check (the start's wait, or a later look at a detached start), so a
//! slow-loading engine is never probed before it first reported healthy. A new container
//! (a restart) begins a new watch.

use std::collections::HashMap;

use crate::domain::{ContainerId, Service, ServiceId, Status};

/// How long an engine must stay healthy, with no failed probe, before its restarts in a row
/// are forgiven (so `on-failure:N` counts crashes in a row).
pub(crate) const FORGIVE_AFTER_MS: i64 = 10 * 60 * 1000;

/// How a service's engine is probed: every `every_ms` (0: never), dead after `failures`
/// failed probes in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probing {
    pub every_ms: i64,
    pub failures: u32,
}

/// What one probe's result makes of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Healthy,
    /// Failed probes in a row, not yet enough.
    Failing(u32),
    /// Enough failed probes in a row: take it for dead. Said once per watch.
    Dead(u32),
    /// The probe was of a container the service no longer runs.
    Stale,
}

#[derive(Debug)]
struct Watch {
    container: ContainerId,
    failures: u32,
    next_probe: i64,
    /// Since when every probe succeeded (or, unprobed, since it was first seen running).
    healthy_since: Option<i64>,
    dead: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Watches {
    by_service: HashMap<ServiceId, Watch>,
}

impl Watches {
    /// Follows `services` as just read: watches each running one (a new container starts a
    /// new watch, its first probe one period on), forgets the others, and returns those whose
    /// probe is due at `now`.
    pub(crate) fn follow(
        &mut self,
        services: &[Service],
        now: i64,
        probing: impl Fn(&Service) -> Probing,
    ) -> Vec<ServiceId> {
        let running = |s: &&Service| s.status == Status::Running && s.container_id.is_some();
        self.by_service
            .retain(|id, _| services.iter().filter(running).any(|s| &s.id == id));
        let mut due = Vec::new();
        for svc in services.iter().filter(running) {
            let Some(container) = &svc.container_id else {
                continue;
            };
            let p = probing(svc);
            let watch = self
                .by_service
                .entry(svc.id.clone())
                .or_insert_with(|| Watch::new(container, now, p));
            if &watch.container != container {
                *watch = Watch::new(container, now, p);
            }
            if p.every_ms > 0 && !watch.dead && watch.next_probe <= now {
                due.push(svc.id.clone());
            }
        }
        due
    }

    /// Records a probe of `container` begun at `began`.
    pub(crate) fn record(
        &mut self,
        id: &ServiceId,
        container: &ContainerId,
        healthy: bool,
        began: i64,
        p: Probing,
    ) -> Answer {
        let Some(watch) = self.by_service.get_mut(id) else {
            return Answer::Stale;
        };
        if &watch.container != container || watch.dead {
            return Answer::Stale;
        }
        watch.next_probe = began + p.every_ms;
        if healthy {
            watch.failures = 0;
            watch.healthy_since.get_or_insert(began);
            return Answer::Healthy;
        }
        watch.failures += 1;
        watch.healthy_since = None;
        if watch.failures >= p.failures {
            watch.dead = true;
            Answer::Dead(watch.failures)
        } else {
            Answer::Failing(watch.failures)
        }
    }

    /// The running services among `services` with restarts counted whose engine has been
    /// healthy for [`FORGIVE_AFTER_MS`] at `now`, with the container that was.
    pub(crate) fn forgiven(&self, services: &[Service], now: i64) -> Vec<(ServiceId, ContainerId)> {
        services
            .iter()
            .filter(|s| s.status == Status::Running && s.restarts > 0)
            .filter_map(|s| {
                let watch = self.by_service.get(&s.id)?;
                let since = watch.healthy_since?;
                let same = s.container_id.as_ref() == Some(&watch.container);
                (same && !watch.dead && now - since >= FORGIVE_AFTER_MS)
                    .then(|| (s.id.clone(), watch.container.clone()))
            })
            .collect()
    }
}

impl Watch {
    fn new(container: &ContainerId, now: i64, p: Probing) -> Self {
        Watch {
            container: container.clone(),
            failures: 0,
            next_probe: now + p.every_ms,
            healthy_since: Some(now),
            dead: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Desired, EngineType, HostPort, ModelId, RestartPolicy};

    const EVERY: Probing = Probing {
        every_ms: 1_000,
        failures: 3,
    };

    fn svc(status: Status, container: Option<&str>, restarts: u32) -> Service {
        Service {
            id: ServiceId::parse("svc-0000aaaa").unwrap(),
            name: "s".into(),
            model_id: ModelId::parse("model-0000bbbb").unwrap(),
            engine_type: EngineType::Vllm,
            port: HostPort::new(8000).unwrap(),
            bind: "127.0.0.1".parse().unwrap(),
            endpoint: "http://127.0.0.1:8000".into(),
            gpus: None,
            memory_bytes: None,
            status,
            desired: Desired::Running,
            restart: RestartPolicy::Always,
            restarts,
            next_restart_at: None,
            last_error: None,
            attempts: Vec::new(),
            container_id: container.map(ContainerId::from),
            owner: None,
            created_by: None,
            started_by: None,
            created_at: 0,
            updated_at: 0,
            settings: Default::default(),
        }
    }

    fn c(id: &str) -> ContainerId {
        ContainerId::from(id)
    }

    /// Probes `s` at `now` when due, with the given result.
    fn probe(w: &mut Watches, s: &Service, now: i64, healthy: bool) -> Option<Answer> {
        let due = w.follow(std::slice::from_ref(s), now, |_| EVERY);
        due.contains(&s.id)
            .then(|| w.record(&s.id, s.container_id.as_ref().unwrap(), healthy, now, EVERY))
    }

    #[test]
    fn a_starting_engine_is_never_probed() {
        let mut w = Watches::default();
        for status in [
            Status::Starting,
            Status::Backoff,
            Status::Failed,
            Status::Stopped,
        ] {
            let s = svc(status, Some("c1"), 0);
            for now in [0, 1_000, 60_000] {
                assert!(
                    w.follow(std::slice::from_ref(&s), now, |_| EVERY)
                        .is_empty()
                );
            }
        }
    }

    #[test]
    fn three_failures_in_a_row_are_dead_and_a_success_starts_the_count_over() {
        let mut w = Watches::default();
        let s = svc(Status::Running, Some("c1"), 0);
        // Seen running at 0: first probe one period later.
        assert_eq!(probe(&mut w, &s, 0, false), None);
        assert_eq!(probe(&mut w, &s, 1_000, false), Some(Answer::Failing(1)));
        assert_eq!(probe(&mut w, &s, 1_500, false), None, "not due yet");
        assert_eq!(probe(&mut w, &s, 2_000, false), Some(Answer::Failing(2)));
        assert_eq!(probe(&mut w, &s, 3_000, true), Some(Answer::Healthy));
        assert_eq!(probe(&mut w, &s, 4_000, false), Some(Answer::Failing(1)));
        assert_eq!(probe(&mut w, &s, 5_000, false), Some(Answer::Failing(2)));
        assert_eq!(probe(&mut w, &s, 6_000, false), Some(Answer::Dead(3)));
        // Said once: the dead engine is not probed again while the row still runs it.
        assert_eq!(probe(&mut w, &s, 7_000, false), None);
    }

    #[test]
    fn a_new_container_is_a_new_watch_and_a_late_answer_about_the_old_one_is_stale() {
        let mut w = Watches::default();
        let old = svc(Status::Running, Some("c1"), 1);
        probe(&mut w, &old, 0, false);
        probe(&mut w, &old, 1_000, false);
        assert_eq!(probe(&mut w, &old, 2_000, false), Some(Answer::Failing(2)));
        let new = svc(Status::Running, Some("c2"), 1);
        assert!(
            w.follow(std::slice::from_ref(&new), 2_500, |_| EVERY)
                .is_empty()
        );
        assert_eq!(
            w.record(&new.id, &c("c1"), false, 2_600, EVERY),
            Answer::Stale
        );
        assert_eq!(probe(&mut w, &new, 3_500, false), Some(Answer::Failing(1)));
    }

    #[test]
    fn a_service_that_stops_running_is_forgotten() {
        let mut w = Watches::default();
        let s = svc(Status::Running, Some("c1"), 0);
        probe(&mut w, &s, 0, false);
        assert_eq!(probe(&mut w, &s, 1_000, false), Some(Answer::Failing(1)));
        w.follow(&[svc(Status::Stopped, None, 0)], 1_500, |_| EVERY);
        assert_eq!(
            w.record(&s.id, &c("c1"), false, 1_600, EVERY),
            Answer::Stale
        );
        // Started again in the same container id (a fake's): counted from zero.
        probe(&mut w, &s, 2_000, false);
        assert_eq!(probe(&mut w, &s, 3_000, false), Some(Answer::Failing(1)));
    }

    #[test]
    fn liveness_off_never_probes() {
        let mut w = Watches::default();
        let s = svc(Status::Running, Some("c1"), 0);
        let off = Probing {
            every_ms: 0,
            failures: 3,
        };
        for now in [0, 1_000, 3_600_000] {
            assert!(w.follow(std::slice::from_ref(&s), now, |_| off).is_empty());
        }
    }

    #[test]
    fn restarts_are_forgiven_after_ten_healthy_minutes_in_a_row() {
        let mut w = Watches::default();
        let s = svc(Status::Running, Some("c1"), 2);
        probe(&mut w, &s, 0, true);
        let at = |w: &Watches, now| w.forgiven(std::slice::from_ref(&s), now);
        assert!(at(&w, FORGIVE_AFTER_MS - 1).is_empty());
        assert_eq!(at(&w, FORGIVE_AFTER_MS), [(s.id.clone(), c("c1"))]);
        // A failed probe starts the ten minutes over, from the next healthy one.
        assert_eq!(probe(&mut w, &s, 1_000, false), Some(Answer::Failing(1)));
        assert!(at(&w, FORGIVE_AFTER_MS + 500).is_empty());
        assert_eq!(probe(&mut w, &s, 2_000, true), Some(Answer::Healthy));
        assert!(at(&w, 2_000 + FORGIVE_AFTER_MS - 1).is_empty());
        assert_eq!(at(&w, 2_000 + FORGIVE_AFTER_MS).len(), 1);
        // Nothing to forgive without restarts counted.
        let none = svc(Status::Running, Some("c1"), 0);
        assert!(w.forgiven(&[none], 3_600_000).is_empty());
    }

    #[test]
    fn unprobed_engines_are_forgiven_after_ten_minutes_running() {
        let mut w = Watches::default();
        let s = svc(Status::Running, Some("c1"), 1);
        let off = |_: &Service| Probing {
            every_ms: 0,
            failures: 3,
        };
        w.follow(std::slice::from_ref(&s), 5_000, off);
        assert!(
            w.forgiven(std::slice::from_ref(&s), 5_000 + FORGIVE_AFTER_MS - 1)
                .is_empty()
        );
        assert_eq!(
            w.forgiven(std::slice::from_ref(&s), 5_000 + FORGIVE_AFTER_MS)
                .len(),
            1
        );
    }
}
