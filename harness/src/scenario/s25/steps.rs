//! Scenario 25's steps, in the order the document gives them: the kill (A), no policy (E), the
//! stop during backoff (D), then the faults of [`super::faults`] (C's port, the daemon's death,
//! the hung engine), and the waits that close the windows. A watcher lists the containers all
//! along; the change log is read at the end.

use std::time::Duration;

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::scenario::aima_ops::stop;
use crate::scenario::context::RunContext;
use crate::scenario::judging::Observed;

use super::changelog::{self, Change};
use super::faults::{self, HangObs, PortObs, ReviveObs};
use super::probe::{self, kill_engine, poll, record};
use super::setup::{Fleet, Svc, set_up};
use super::watch::{Samples, Watcher};

/// How soon a killed engine must answer again.
pub const KILL_BOUND: Duration = Duration::from_secs(5);
/// How long the steps wait for a restart that should come, before they record that it did not.
pub const WAIT_BOUND: Duration = Duration::from_secs(15);
/// How long a record may take to read `running` once its engine answers.
pub const SETTLE: Duration = Duration::from_secs(3);
/// How long a stopped service must stay stopped.
pub const STOP_WINDOW_MS: u64 = 30_000;
/// How long B's crash loop may take from its start to giving up.
pub const LOOP_BOUND_MS: u64 = 90_000;

/// A `docker kill` of a service's engine.
#[derive(Debug, Clone, Default)]
pub struct Killed {
    pub container: String,
    pub at_ms: u64,
}

/// An operator's `service stop` and when it returned.
#[derive(Debug, Clone)]
pub struct Stop {
    pub command: CommandRecord,
    pub done_ms: u64,
}

#[derive(Debug, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    pub fleet: Fleet,
    pub a_kill: Option<Killed>,
    /// From A's kill to its engine's first 200.
    pub a_healthy_ms: Option<u64>,
    pub a_after: Option<Value>,
    pub a_stop: Option<Stop>,
    pub e_kill: Option<Killed>,
    /// D's last read before the stop (the one that showed `backoff`, when one did).
    pub d_before: Option<Value>,
    pub d_stop: Option<Stop>,
    pub port: Option<PortObs>,
    pub revive: Option<ReviveObs>,
    pub hang: Option<HangObs>,
    /// The final reads of A, B, D and E, and when they were taken.
    pub finals: Vec<(&'static str, Option<Value>)>,
    pub finals_ms: u64,
    pub changes: Option<Result<Vec<Change>, String>>,
    pub samples: Samples,
    /// Faults that could not be staged: (what, why).
    pub unstaged: Vec<(&'static str, String)>,
}

impl Observations {
    /// Why a criterion whose fault `what` did not run is skipped.
    pub fn unstaged_reason(&self, what: &str) -> String {
        match self.unstaged.iter().find(|(w, _)| *w == what) {
            Some((_, why)) => format!("{what} could not be staged: {why}"),
            None => self.skip_reason(what),
        }
    }
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    let watcher = match Watcher::start(ctx.instance.clone(), ctx.timeline.start()) {
        Ok(watcher) => watcher,
        Err(err) => {
            let mut obs = Observations::default();
            obs.missing
                .push(format!("the container watcher did not start: {err:#}"));
            return obs;
        }
    };
    let mut obs = ctx.observe(Observations::default(), steps);
    obs.samples = watcher.finish();
    obs
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    obs.fleet = set_up(ctx)?;
    let fleet = obs.fleet.clone();

    // 1. The kill.
    if let Some((killed, healthy)) = staged(ctx, obs, "the kill of A", |ctx| {
        kill_and_wait(ctx, &fleet.a)
    }) {
        obs.a_kill = Some(killed);
        obs.a_healthy_ms = healthy;
        obs.a_after = probe::read_when(ctx, "A after the kill", &fleet.a.id, "running", SETTLE);
    }
    obs.a_stop = Some(operator_stop(ctx, "stop A", &fleet.a.id));

    // 2. No policy.
    obs.e_kill = staged(ctx, obs, "the kill of E", |ctx| {
        let container = kill_engine(ctx, "E", &fleet.e.id)?;
        Ok(Killed {
            container,
            at_ms: ctx.timeline.elapsed_ms(),
        })
    });

    // 3. The stop during backoff.
    let d = fleet.d.id.clone();
    let mut last = None;
    let backoff = poll(WAIT_BOUND, Duration::from_millis(100), || {
        last = record(ctx, &d);
        (probe::status(&last) == "backoff").then_some(())
    });
    if backoff.is_none() {
        ctx.say("D did not read backoff in time; stopping it anyway");
    }
    ctx.event(
        crate::timeline::EventKind::Observation,
        format!("before the stop: {}", probe::summary("D", &last)),
    );
    obs.d_before = last;
    obs.d_stop = Some(operator_stop(ctx, "stop D during backoff", &d));

    // 4.–6. The faults; one that cannot be staged leaves the others to run.
    obs.port = staged(ctx, obs, "the taken port", |ctx| {
        faults::port_taken(ctx, &fleet.c)
    });
    wait_for_loop_end(ctx, &fleet);
    obs.revive = staged(ctx, obs, "the daemon's SIGKILL and restart", |ctx| {
        faults::daemon_dies(ctx, &fleet)
    });
    obs.hang = staged(ctx, obs, "the hung engine", |ctx| {
        faults::hung_engine(ctx, &fleet)
    });

    // 7. The windows close; the final reads.
    let until = obs
        .d_stop
        .as_ref()
        .map_or(0, |s| s.done_ms + STOP_WINDOW_MS);
    let now = ctx.timeline.elapsed_ms();
    if until > now {
        ctx.say(&format!(
            "waiting {:.1}s for D's 30 s window to close",
            (until - now) as f64 / 1000.0
        ));
        std::thread::sleep(Duration::from_millis(until - now));
    }
    for svc in [&fleet.a, &fleet.b, &fleet.d, &fleet.e] {
        let read = probe::read(ctx, &format!("{} at the end", svc.name), &svc.id);
        obs.finals.push((svc.name, read));
    }
    obs.finals_ms = ctx.timeline.elapsed_ms();
    obs.changes = Some(changelog::read(
        ctx.listen,
        &ctx.api_token,
        Duration::from_secs(5),
    ));
    Ok(())
}

/// Runs one fault's steps; when they cannot be staged, says why, records it and goes on.
fn staged<T>(
    ctx: &mut RunContext,
    obs: &mut Observations,
    what: &'static str,
    steps: impl FnOnce(&mut RunContext) -> anyhow::Result<T>,
) -> Option<T> {
    match steps(ctx) {
        Ok(seen) => Some(seen),
        Err(err) => {
            ctx.say(&format!("{what} could not be staged: {err:#}"));
            obs.unstaged.push((what, format!("{err:#}")));
            None
        }
    }
}

/// Kills `svc`'s engine and reads its `/health` every 100 ms until it answers 200 (at most
/// [`WAIT_BOUND`]); returns the kill and the time from it to healthy.
fn kill_and_wait(ctx: &mut RunContext, svc: &Svc) -> anyhow::Result<(Killed, Option<u64>)> {
    let container = kill_engine(ctx, svc.name, &svc.id)?;
    let at_ms = ctx.timeline.elapsed_ms();
    let port = svc.port;
    let healthy = poll(WAIT_BOUND, Duration::from_millis(100), || {
        (probe::health(port, Duration::from_millis(500)) == Some(200)).then_some(())
    })
    .map(|()| ctx.timeline.elapsed_ms() - at_ms);
    ctx.event(
        crate::timeline::EventKind::Observation,
        match healthy {
            Some(ms) => format!(
                "{}'s engine answers 200 again, {ms}ms after the kill",
                svc.name
            ),
            None => format!(
                "{}'s engine did not answer 200 within {}s of the kill",
                svc.name,
                WAIT_BOUND.as_secs()
            ),
        },
    );
    Ok((Killed { container, at_ms }, healthy))
}

/// `service stop ID` and when it returned.
pub fn operator_stop(ctx: &mut RunContext, step: &str, service: &str) -> Stop {
    let command = stop(ctx, step, service);
    Stop {
        command,
        done_ms: ctx.timeline.elapsed_ms(),
    }
}

/// Waits until B's crash loop is over — B reads `failed` with no restart due, or its record
/// says it has no policy — so the restarted daemon's other llama.cpp image never plays B; at
/// most until [`LOOP_BOUND_MS`] after B's start.
fn wait_for_loop_end(ctx: &mut RunContext, fleet: &Fleet) {
    let left = (fleet.b_started_ms + LOOP_BOUND_MS).saturating_sub(ctx.timeline.elapsed_ms());
    let b = fleet.b.id.clone();
    let over = poll(
        Duration::from_millis(left),
        Duration::from_millis(250),
        || {
            let read = record(ctx, &b)?;
            let gave_up = read["status"] == "failed"
                && (read["last_error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("crash loop"))
                    || read["restart"] == "no");
            gave_up.then_some(())
        },
    );
    if over.is_none() {
        ctx.say("B's crash loop did not end in time; going on");
    }
}
