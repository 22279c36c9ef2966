//! Judging scenario 6 from its observations.

use std::collections::BTreeSet;

use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::race::{ROUNDS, WATCH};
use super::steps::{CYCLES, Observations};

/// The starter ends within a second of the stop's return.
const STARTER_END_BOUND_MS: u64 = 1000;

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    let judged = if obs.cycles.is_empty() {
        CRITERIA
            .iter()
            .map(|_| skip(obs.skip_reason("the start/stop cycles")))
            .collect()
    } else {
        vec![c1(obs), c2(obs), c3(obs), c4(obs), c5(obs), c6(obs)]
    };
    results(&CRITERIA, judged)
}

fn c1(obs: &Observations) -> Judged {
    let mut checks = Checks::new();
    checks.expect(obs.cycles.len() == CYCLES, || {
        format!("{} of {CYCLES} cycles ran", obs.cycles.len())
    });
    for (n, cycle) in obs.cycles.iter().enumerate() {
        checks.succeeded(&format!("start of cycle {}", n + 1), &cycle.start);
        checks.succeeded(&format!("stop of cycle {}", n + 1), &cycle.stop);
    }
    let starts: Vec<u64> = obs.cycles.iter().map(|c| c.start.duration_ms).collect();
    let stops: Vec<u64> = obs.cycles.iter().map(|c| c.stop.duration_ms).collect();
    checks.figure("start_max_ms", starts.iter().copied().max().unwrap_or(0));
    checks.figure("stop_max_ms", stops.iter().copied().max().unwrap_or(0));
    let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    checks.note(format!(
        "start times (ms): {}; stop times (ms): {}",
        list(&starts),
        list(&stops)
    ));
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    let mut checks = Checks::new();
    let mut seen = BTreeSet::new();
    for (n, cycle) in obs.cycles.iter().enumerate() {
        checks.command(&cycle.get);
        match &cycle.container_id {
            None => {
                checks.problem(format!("cycle {}: the record names no container", n + 1));
            }
            Some(id) => {
                checks.read_back(format!("cycle {}: container_id = {id}", n + 1));
                checks.expect(seen.insert(id.clone()), || {
                    format!("cycle {}: container {id} was already used", n + 1)
                });
            }
        }
    }
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    let mut checks = Checks::new();
    for (n, cycle) in obs.cycles.iter().enumerate() {
        for (read, want) in [
            (&cycle.after_start, "running"),
            (&cycle.after_stop, "stopped"),
        ] {
            checks
                .command(&read.list)
                .read_back(format!("cycle {}: {}", n + 1, read.line()));
            checks.expect(read.status.as_deref() == Some(want), || {
                format!(
                    "cycle {}: status {} where {want} was expected",
                    n + 1,
                    read.status.as_deref().unwrap_or("<not found>")
                )
            });
        }
    }
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let mut checks = Checks::new();
    checks.note(format!("port given at creation: {}", obs.assigned_port));
    for (n, cycle) in obs.cycles.iter().enumerate() {
        checks.command(&cycle.get);
        checks.expect(cycle.port == Some(u64::from(obs.assigned_port)), || {
            let port = cycle
                .port
                .map_or_else(|| "missing".to_owned(), |p| p.to_string());
            format!("cycle {}: the record's port is {port}", n + 1)
        });
        match &cycle.health {
            Ok(status) => {
                checks.read_back(format!(
                    "cycle {}: GET 127.0.0.1:{}/health -> {status}",
                    n + 1,
                    obs.assigned_port
                ));
                checks.expect(*status == 200, || {
                    format!("cycle {}: the engine answered {status} on /health", n + 1)
                });
            }
            Err(err) => {
                checks.problem(format!(
                    "cycle {}: nothing answered on port {}: {err}",
                    n + 1,
                    obs.assigned_port
                ));
            }
        }
    }
    checks.done()
}

fn c5(obs: &Observations) -> Judged {
    let Some(census) = &obs.final_census else {
        return skip(obs.skip_reason("the final census"));
    };
    let mut checks = Checks::new();
    for (n, cycle) in obs.cycles.iter().enumerate() {
        checks.docker(
            cycle
                .left
                .iter()
                .map(|c| format!("after stop {}: {}", n + 1, c.line())),
        );
    }
    if let Some(last) = obs.cycles.last() {
        checks.expect(last.left.is_empty(), || {
            format!(
                "{} container(s) of the service remain after the last stop",
                last.left.len()
            )
        });
    }
    checks.docker(census.lines());
    checks.expect(census.counted.is_empty(), || {
        format!(
            "{} new aima.engine container(s) at the end",
            census.counted.len()
        )
    });
    checks.done()
}

fn c6(obs: &Observations) -> Judged {
    if obs.races.is_empty() {
        return skip(obs.skip_reason("the stop-during-start rounds"));
    }
    let mut checks = Checks::new();
    checks.expect(obs.races.len() == ROUNDS, || {
        format!("{} of {ROUNDS} rounds ran", obs.races.len())
    });
    let mut ends = Vec::new();
    for (n, round) in obs.races.iter().enumerate() {
        let n = n + 1;
        checks.succeeded(&format!("round {n}: the stop"), &round.stop);
        checks.succeeded(&format!("round {n}: the delete"), &round.delete);
        let shown = |cs: &[crate::fixtures::census::ContainerInfo]| {
            cs.iter()
                .map(|c| format!("{} {} ({})", &c.id[..12.min(c.id.len())], c.name, c.state))
                .collect::<Vec<_>>()
        };
        checks.docker(
            shown(&round.at_stop)
                .into_iter()
                .map(|c| format!("round {n}, at stop: {c}")),
        );
        checks.expect(round.at_stop.is_empty(), || {
            format!(
                "round {n}: {} container(s) of {} when the stop returned",
                round.at_stop.len(),
                round.service
            )
        });
        checks.docker(
            shown(&round.seen_after)
                .into_iter()
                .map(|c| format!("round {n}, after delete: {c}")),
        );
        checks.expect(round.seen_after.is_empty(), || {
            format!(
                "round {n}: {} container(s) of the deleted service {} within {} s",
                round.seen_after.len(),
                round.service,
                WATCH.as_secs()
            )
        });
        checks.read_back(format!(
            "round {n}: starter exit {:?}, ended {:?} ms after the stop returned: {}",
            round.starter_exit,
            round.starter_end_ms,
            round.starter_stderr.lines().next().unwrap_or("")
        ));
        checks.expect(round.starter_exit == Some(4), || {
            format!(
                "round {n}: the starter ended with {:?}, not 4 (conflict)",
                round.starter_exit
            )
        });
        checks.expect(
            round
                .starter_stderr
                .contains("stopped while it was starting"),
            || format!("round {n}: the starter did not say it was stopped while starting"),
        );
        match round.starter_end_ms {
            Some(ms) => {
                ends.push(ms);
                checks.expect(ms <= STARTER_END_BOUND_MS, || {
                    format!("round {n}: the starter ended {ms} ms after the stop (bound {STARTER_END_BOUND_MS} ms)")
                });
            }
            None => {
                checks.problem(format!(
                    "round {n}: the starter had not ended 30 s after the stop"
                ));
            }
        }
        for record in &round.again {
            checks.succeeded(
                &format!("round {n}: a new service on the same port"),
                record,
            );
        }
    }
    checks.figure(
        "starter_end_max_ms",
        ends.iter().copied().max().unwrap_or(0),
    );
    checks.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::CommandRecord;
    use crate::scenario::aima_ops::StatusRead;
    use crate::scenario::context::Census;

    use super::super::race::Round;
    use super::super::steps::Cycle;

    fn read(status: &str) -> StatusRead {
        StatusRead {
            service: "svc-1".into(),
            list: CommandRecord::invented(Some(0), "", 5),
            status: Some(status.into()),
        }
    }

    fn cycle(container: &str) -> Cycle {
        Cycle {
            start: CommandRecord::invented(Some(0), "", 800),
            after_start: read("running"),
            get: CommandRecord::invented(Some(0), "", 5),
            container_id: Some(container.into()),
            port: Some(8000),
            health: Ok(200),
            stop: CommandRecord::invented(Some(0), "", 300),
            after_stop: read("stopped"),
            left: vec![],
        }
    }

    /// A round the stop won: nothing left, the starter ended with exit 4 at once.
    fn won() -> Round {
        Round {
            service: "svc-2".into(),
            stop: CommandRecord::invented(Some(0), "", 150),
            delete: CommandRecord::invented(Some(0), "", 8),
            at_stop: vec![],
            seen_after: vec![],
            starter_exit: Some(4),
            starter_stderr: "error: service svc-2 was stopped while it was starting".into(),
            starter_end_ms: Some(20),
            again: vec![CommandRecord::invented(Some(0), "", 300)],
        }
    }

    fn healthy() -> Observations {
        Observations {
            service: "svc-1".into(),
            assigned_port: 8000,
            cycles: (1..=CYCLES).map(|n| cycle(&format!("c{n}"))).collect(),
            final_census: Some(Census::default()),
            races: vec![won(); ROUNDS],
            ..Observations::default()
        }
    }

    #[test]
    fn five_clean_cycles_pass_and_a_reused_container_or_stale_status_fails() {
        assert!(judge(&healthy()).iter().all(|r| r.verdict.is_pass()));
        let mut reused = healthy();
        reused.cycles[3].container_id = Some("c1".into());
        let verdicts: Vec<bool> = judge(&reused).iter().map(|r| r.verdict.is_pass()).collect();
        assert_eq!(verdicts, [true, false, true, true, true, true]);
        let mut stale = healthy();
        stale.cycles[2].after_stop = read("stopping");
        stale.cycles[4].port = Some(8001);
        let verdicts: Vec<bool> = judge(&stale).iter().map(|r| r.verdict.is_pass()).collect();
        assert_eq!(verdicts, [true, true, false, false, true, true]);
    }

    /// A starter that goes on after the stop: a ghost container, no exit, the port still taken.
    #[test]
    fn a_start_that_outlives_its_stop_fails_c6() {
        let ghost = crate::fixtures::census::ContainerInfo {
            id: "0123456789abcdef".into(),
            name: "aima-svc-2-x-a2".into(),
            image: "sim".into(),
            state: "created".into(),
            status: String::new(),
            labels: Default::default(),
        };
        type Fault = fn(&mut Round, &crate::fixtures::census::ContainerInfo);
        let faults: [(&str, Fault); 6] = [
            ("a container at the stop", |r, g| r.at_stop.push(g.clone())),
            ("a container after the delete", |r, g| {
                r.seen_after.push(g.clone())
            }),
            ("a starter that never ends", |r, _| r.starter_end_ms = None),
            ("a starter that ends late", |r, _| {
                r.starter_end_ms = Some(5_000)
            }),
            ("a starter that exits 0", |r, _| r.starter_exit = Some(0)),
            ("the port still taken", |r, _| {
                r.again[0] = CommandRecord::invented(Some(5), "port in use", 20)
            }),
        ];
        for (what, fault) in faults {
            let mut obs = healthy();
            fault(&mut obs.races[1], &ghost);
            assert!(!judge(&obs)[5].verdict.is_pass(), "{what} passed");
        }
    }

    #[test]
    fn no_cycle_means_every_criterion_is_skipped() {
        let none = Observations {
            missing: vec!["model create failed".into()],
            ..Observations::default()
        };
        for result in judge(&none) {
            assert!(matches!(result.verdict, crate::verdict::Verdict::Skip(_)));
        }
    }
}
