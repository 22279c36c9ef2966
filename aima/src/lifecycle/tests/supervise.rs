//! The supervisor's policy table and restarts, against the fake Docker: which failures it
//! restarts, that a restart is a full start, the crash-loop limit, and operator verbs winning.

use super::{Fixture, assert_has};
use crate::runtime::Runtime;
use crate::domain::{Desired, RestartPolicy, Service, ServiceId, Status};
use crate::lifecycle::supervise::{answer, restart};
use crate::lifecycle::{StopMode, refresh_all, stop};

/// Far enough after now that any restart is due.
const LATER: i64 = 3_600_000;

fn supervised(policy: &str) -> Fixture {
    let policy = RestartPolicy::parse(policy).unwrap();
    Fixture::with_engine(|spec| spec.restart = policy)
}

/// One pass of the daemon's supervisor at `now`: refresh, then answer the failures.
async fn pass(f: &Fixture, now: i64) -> Vec<ServiceId> {
    let services = refresh_all(&f.deps, &f.store).await.unwrap();
    answer(&f.store, &services, now, crate::domain::BACKOFF_MAX)
        .await
        .unwrap()
}

/// Starts the fixture's service, then its engine exits with code 1.
async fn dies_after_running(f: &mut Fixture) {
    let svc = f.start(true).await.unwrap();
    assert_eq!((svc.status, svc.desired), (Status::Running, Desired::Running));
    f.rt.exit_container(&svc.container_id.unwrap(), 1, &["CUDA error: device lost"]);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    FailedAfterRunning,
    /// The engine ended by itself with code 0 after it ran.
    ExitedCleanly,
    /// Its container was removed behind aima's back.
    Removed,
    OomKilled,
    FailedAtStart,
    Stopped,
}

/// The service after `case` and a supervisor's pass, and when that pass ran.
async fn status_after(policy: &str, case: Case) -> (Service, i64) {
    let mut f = supervised(policy);
    match case {
        Case::FailedAfterRunning => dies_after_running(&mut f).await,
        Case::ExitedCleanly => {
            let svc = f.start(true).await.unwrap();
            f.rt.exit_container(&svc.container_id.unwrap(), 0, &["INFO shutting down"]);
        }
        Case::Removed => {
            let svc = f.start(true).await.unwrap();
            let id = svc.container_id.unwrap();
            f.rt.stop_and_remove(&id, true).await.unwrap();
        }
        Case::OomKilled => {
            let svc = f.start(true).await.unwrap();
            f.rt.oom_kill(&svc.container_id.unwrap());
        }
        Case::FailedAtStart => {
            f.rt.crash_on_start(3, &["ValueError: bad model"]);
            f.start(true).await.unwrap_err();
        }
        Case::Stopped => {
            f.start(true).await.unwrap();
            f.stop_service(&f.id.clone()).await;
        }
    }
    let now = crate::clock::now_ms();
    assert!(pass(&f, now).await.is_empty(), "nothing is due before its backoff");
    (f.service(), now)
}

#[tokio::test]
async fn the_policy_table() {
    use Case::*;
    use Status::{Backoff, Failed, Stopped as Off};
    let cases = [FailedAfterRunning, ExitedCleanly, Removed, OomKilled, FailedAtStart, Stopped];
    let table = [
        ("no", [Failed, Failed, Failed, Failed, Failed, Off]),
        ("on-failure", [Backoff, Failed, Backoff, Backoff, Failed, Off]),
        ("on-failure:2", [Backoff, Failed, Backoff, Backoff, Failed, Off]),
        ("always", [Backoff, Backoff, Backoff, Backoff, Backoff, Off]),
        ("unless-stopped", [Backoff, Backoff, Backoff, Backoff, Backoff, Off]),
    ];
    for (policy, want) in table {
        for (case, want) in cases.into_iter().zip(want) {
            let (svc, now) = status_after(policy, case).await;
            assert_eq!(svc.status, want, "{policy} {case:?}");
            if want == Backoff {
                assert_eq!(svc.restarts, 1, "{policy} {case:?}");
                assert_eq!(svc.next_restart_at, Some(now + 1000), "first backoff: 1 s");
            }
            if case == Stopped {
                assert_eq!(svc.desired, Desired::Stopped);
            }
            if case == ExitedCleanly {
                let reason = svc.last_error.unwrap();
                assert_has(&reason, "the engine exited with code 0: INFO shutting down");
                if policy.starts_with("on-failure") {
                    assert_has(&reason, "not restarted: policy on-failure");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_due_restart_is_a_full_start_with_a_new_container() {
    let mut f = supervised("always");
    let first = f.start(true).await.unwrap().container_id.unwrap();
    f.rt.exit_container(&first, 137, &[]);
    pass(&f, crate::clock::now_ms()).await;
    assert_eq!(f.service().status, Status::Backoff);

    let due = pass(&f, crate::clock::now_ms() + LATER).await;
    assert_eq!(due, [f.id.clone()]);
    let svc = restart(&f.deps, &f.store, &f.id).await.unwrap();

    assert_eq!((svc.status, svc.desired, svc.restarts), (Status::Running, Desired::Running, 1));
    assert_ne!(svc.container_id.unwrap(), first);
    assert_eq!(f.own_containers().len(), 1, "the dead one was removed");
}

#[tokio::test]
async fn on_failure_n_gives_up_after_n_restarts_in_a_row() {
    let mut f = supervised("on-failure:2");
    dies_after_running(&mut f).await;
    f.rt.crash_on_start(100, &["RuntimeError: engine core died"]);
    for n in 1..=2 {
        pass(&f, crate::clock::now_ms()).await;
        assert_eq!((f.service().status, f.service().restarts), (Status::Backoff, n));
        // A restart that fails counts, and backs off again.
        restart(&f.deps, &f.store, &f.id).await.unwrap_err();
        assert_eq!(f.service().status, Status::Failed);
    }
    assert!(pass(&f, crate::clock::now_ms() + LATER).await.is_empty());
    let svc = f.service();
    assert_eq!((svc.status, svc.restarts), (Status::Failed, 2));
    let reason = svc.last_error.unwrap();
    assert_has(&reason, "crash loop: 2 restarts, last: ");
    assert_has(&reason, "engine core died");
    // Given up for good: later passes leave it as it is.
    pass(&f, crate::clock::now_ms() + LATER).await;
    assert_eq!(f.service().last_error.unwrap(), reason);
    assert!(f.own_containers().is_empty());
}

#[tokio::test]
async fn a_stop_during_backoff_cancels_the_restart() {
    let mut f = supervised("always");
    dies_after_running(&mut f).await;
    pass(&f, crate::clock::now_ms()).await;
    assert_eq!(f.service().status, Status::Backoff);

    let stopped = stop(&f.deps, &f.store, &f.id, StopMode::Kill).await.unwrap();

    let svc = stopped.service;
    assert_eq!((svc.status, svc.desired, svc.next_restart_at), (Status::Stopped, Desired::Stopped, None));
    assert!(pass(&f, crate::clock::now_ms() + LATER).await.is_empty());
    // A restart begun before the stop finds nothing to claim.
    restart(&f.deps, &f.store, &f.id).await.unwrap_err();
    assert_eq!(f.service().status, Status::Stopped);
    assert!(f.own_containers().is_empty());
}

#[tokio::test]
async fn an_operators_start_from_backoff_resets_the_count_and_delete_is_refused() {
    let mut f = supervised("on-failure");
    dies_after_running(&mut f).await;
    pass(&f, crate::clock::now_ms()).await;
    assert_eq!(f.service().status, Status::Backoff);
    let err = f.store.delete_service(&f.id).await.unwrap_err();
    assert_has(&err.message, "is backoff and cannot be deleted");

    let svc = f.start(true).await.unwrap();

    assert_eq!((svc.status, svc.restarts, svc.next_restart_at), (Status::Running, 0, None));
}

#[tokio::test]
async fn a_service_in_backoff_holds_its_port() {
    let mut f = supervised("always");
    dies_after_running(&mut f).await;
    pass(&f, crate::clock::now_ms()).await;
    let other = f.add_service(super::NewService::default());
    let port = f.store.sync().get_service(&other).unwrap().port;
    assert_ne!(port, f.service().port);
}

/// The supervisor's events in the change log, newest last, after the events before `after`.
fn steps(f: &Fixture, after: i64) -> Vec<crate::store::ServiceEvent> {
    f.store.sync().events_after(after, 100).unwrap()
}

fn kinds(events: &[crate::store::ServiceEvent]) -> Vec<(&'static str, String, Option<u32>)> {
    events
        .iter()
        .map(|e| (e.kind.as_str(), e.to.clone(), e.restart))
        .collect()
}

#[tokio::test]
async fn the_change_log_tells_backoff_restarting_and_gave_up_with_reason_and_number() {
    use crate::store::EventKind;
    let mut f = supervised("on-failure:1");
    dies_after_running(&mut f).await;
    let before = f.store.sync().last_event_seq().unwrap();
    let now = crate::clock::now_ms();
    pass(&f, now).await;
    f.rt.crash_on_start(100, &["RuntimeError: engine core died"]);
    restart(&f.deps, &f.store, &f.id).await.unwrap_err();
    pass(&f, crate::clock::now_ms() + LATER).await;

    let events = steps(&f, before);
    let supervisor: Vec<_> = events.iter().filter(|e| e.kind != EventKind::Status).collect();
    assert_eq!(
        kinds(&events),
        [
            ("status", "failed".into(), None),
            ("backoff", "backoff".into(), Some(1)),
            ("restarting", "starting".into(), Some(1)),
            ("status", "failed".into(), None),
            ("gave_up", "failed".into(), Some(1)),
        ],
        "{events:#?}"
    );
    let [backoff, restarting, gave_up] = supervisor[..] else {
        panic!("{supervisor:#?}")
    };
    assert_eq!(backoff.next_restart_at, Some(now + 1000));
    assert_has(backoff.reason.as_deref().unwrap(), "device lost");
    assert_eq!(restarting.from.as_deref(), Some("backoff"));
    assert_eq!(restarting.reason, backoff.reason, "the failure it answers");
    assert_eq!(restarting.next_restart_at, None);
    let reason = gave_up.reason.as_deref().unwrap();
    assert_has(reason, "crash loop: 1 restarts, last: ");
    assert_has(reason, "engine core died");
    assert_eq!(gave_up.from.as_deref(), Some("failed"));
    // As JSON, the supervisor's fields show only on its events.
    let json = serde_json::to_value(restarting).unwrap();
    assert_eq!((&json["kind"], &json["restart"]), (&"restarting".into(), &1.into()), "{json}");
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["kind"], "status", "{json}");
    assert!(json.get("restart").is_none() && json.get("reason").is_none(), "{json}");
    // Answered once: later passes add nothing.
    let last = f.store.sync().last_event_seq().unwrap();
    pass(&f, crate::clock::now_ms() + 2 * LATER).await;
    assert!(steps(&f, last).is_empty());
}

#[tokio::test]
async fn an_operators_start_from_backoff_is_a_plain_change_not_a_restart() {
    let mut f = supervised("always");
    dies_after_running(&mut f).await;
    pass(&f, crate::clock::now_ms()).await;
    let before = f.store.sync().last_event_seq().unwrap();

    f.start(true).await.unwrap();

    let events = steps(&f, before);
    assert_eq!(
        kinds(&events),
        [("status", "starting".into(), None), ("status", "running".into(), None)],
        "{events:#?}"
    );
}

#[tokio::test]
async fn an_operators_start_of_a_given_up_service_resets_its_count() {
    let mut f = supervised("on-failure:1");
    dies_after_running(&mut f).await;
    pass(&f, crate::clock::now_ms()).await;
    f.rt.crash_on_start(3, &["RuntimeError: engine core died"]);
    restart(&f.deps, &f.store, &f.id).await.unwrap_err();
    pass(&f, crate::clock::now_ms() + LATER).await;
    let given_up = f.service();
    assert_eq!((given_up.status, given_up.restarts), (Status::Failed, 1));
    assert_has(given_up.last_error.as_deref().unwrap(), "crash loop: 1 restarts");

    let svc = f.start(true).await.unwrap();

    assert_eq!(
        (svc.status, svc.desired, svc.restarts, svc.next_restart_at),
        (Status::Running, Desired::Running, 0, None)
    );
    // Its next death is restarted again: the limit counts from the operator's start.
    f.rt.exit_container(&svc.container_id.unwrap(), 1, &["CUDA error"]);
    pass(&f, crate::clock::now_ms()).await;
    assert_eq!((f.service().status, f.service().restarts), (Status::Backoff, 1));
}

#[tokio::test]
async fn a_stop_during_backoff_stays_stopped_through_later_passes() {
    let mut f = supervised("always");
    dies_after_running(&mut f).await;
    pass(&f, crate::clock::now_ms()).await;
    stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None)).await.unwrap();

    for later in [LATER, 2 * LATER, 10 * LATER] {
        assert!(pass(&f, crate::clock::now_ms() + later).await.is_empty());
        let svc = f.service();
        assert_eq!((svc.status, svc.desired), (Status::Stopped, Desired::Stopped));
    }
    assert!(f.own_containers().is_empty());
}

#[tokio::test]
async fn on_failure_leaves_a_clean_exit_failed_for_good() {
    let mut f = supervised("on-failure");
    let svc = f.start(true).await.unwrap();
    f.rt.exit_container(&svc.container_id.unwrap(), 0, &[]);
    assert!(pass(&f, crate::clock::now_ms()).await.is_empty());
    let svc = f.service();
    assert_eq!((svc.status, svc.restarts), (Status::Failed, 0));
    assert_eq!(
        svc.last_error.as_deref(),
        Some("the engine exited with code 0 (not restarted: policy on-failure restarts only an engine that failed)")
    );
    assert!(pass(&f, crate::clock::now_ms() + LATER).await.is_empty());
    assert_eq!(f.service().last_error, svc.last_error, "answered once");
}

#[test]
fn a_clean_exit_is_code_0_only() {
    use crate::lifecycle::refresh::exited_cleanly;
    assert!(exited_cleanly("the engine exited with code 0"));
    assert!(exited_cleanly("the engine exited with code 0: INFO bye"));
    assert!(!exited_cleanly("the engine exited with code 01"));
    assert!(!exited_cleanly("the engine exited with code 137"));
    assert!(!exited_cleanly("the engine exited with code unknown"));
    assert!(!exited_cleanly("its container 0123 is gone"));
}
