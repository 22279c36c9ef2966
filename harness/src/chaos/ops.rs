//! Carrying out one scheduled operation through aima's CLI or its API, recording it (invoked,
//! completed with its result) and holding its outcome to the per-command rules: exit codes in
//! the table and no panic, API errors in the documented shape, the port free after a stop.

use std::time::Duration;

use serde_json::{Value, json};

use crate::exec::CommandRecord;
use crate::fixtures::port_check::check_port;

use super::fault::FaultKind;
use super::rules::{api_problem, command_problem};
use super::schedule::{Action, Step, Via};
use super::world::{Held, World};

/// A start's `--timeout` (and the API's `timeout`) in a chaos run.
pub(crate) const START_TIMEOUT_SECS: u64 = 20;
/// How long the port may take to read free after a stop returned (aima waits for it itself).
const PORT_AFTER_STOP: Duration = Duration::from_secs(2);

/// Bookkeeping of one operation on a slot: marks it in flight and records its invocation.
pub(crate) struct Acting<'w> {
    world: &'w World,
    step: &'w Step,
    slot: Option<usize>,
    /// The slot's sequence number at invocation.
    pub seq: u64,
    /// The port blocker holding the slot's port at invocation.
    pub held: Option<Held>,
    pub service: Option<String>,
}

impl<'w> Acting<'w> {
    pub(crate) fn begin(world: &'w World, step: &'w Step) -> Self {
        let slot = step.action.slot();
        let (seq, service, held) = match slot {
            Some(n) => {
                let mut slots = world.slots();
                let s = &mut slots[n];
                s.in_flight += 1;
                s.invoked += 1;
                if let Action::Start { engine, .. }
                | Action::Restart { engine, .. }
                | Action::KillStarter { engine, .. } = &step.action
                {
                    s.killed_start_ms = None;
                    s.engines.insert(*engine);
                }
                if step.action.may_start() {
                    s.stopped_ms = None;
                }
                (s.invoked, s.id.clone(), s.held.clone())
            }
            None => (0, None, None),
        };
        let mut event = serde_json::to_value(&step.action).unwrap_or_default();
        event["step"] = json!(step.id);
        event["lane"] = json!(step.lane);
        event["service"] = json!(service);
        world.history.record("invoke", event);
        Self {
            world,
            step,
            slot,
            seq,
            held,
            service,
        }
    }

    /// Records the completion with `result` (an object) and frees the slot.
    pub(crate) fn complete(self, result: Value) -> String {
        let outcome = result["outcome"].as_str().unwrap_or("done").to_owned();
        let mut event = json!({"step": self.step.id, "op": self.step.action.name(), "slot": self.slot, "service": self.service});
        if let (Some(target), Value::Object(fields)) = (event.as_object_mut(), result) {
            target.extend(fields);
        }
        self.world.history.record("complete", event);
        if let Some(n) = self.slot {
            self.world.slots()[n].in_flight -= 1;
        }
        outcome
    }
}

/// Runs a plain operation (not a fault); returns its outcome for the tally.
pub(crate) fn perform(world: &World, step: &Step) -> String {
    let acting = Acting::begin(world, step);
    let result = match (&step.action, acting.service.clone()) {
        (Action::Create { slot, restart, via }, None) => create(world, step, *slot, restart, *via),
        (Action::Create { .. }, Some(_)) => skipped("the slot already has its service"),
        // An operation on a slot whose service was deleted creates it again instead, so the
        // run keeps its services busy.
        (action, None) => {
            let restart = ["no", "on-failure:2", "always"][step.id % 3];
            let slot = action.slot().unwrap_or_default();
            let mut result = create(world, step, slot, restart, Via::Cli);
            result["instead"] = json!(format!(
                "create (restart {restart}): the slot had no service"
            ));
            let outcome = format!(
                "created instead, {}",
                result["outcome"].as_str().unwrap_or("")
            );
            result["outcome"] = json!(outcome);
            result
        }
        (
            Action::Start {
                wait, via, engine, ..
            },
            Some(id),
        ) => match via {
            Via::Cli => cli_start(world, step, &id, "start", *wait, *engine),
            Via::Api => api(
                world,
                step,
                "POST",
                &format!("/api/v2/services/{id}/start"),
                Some(json!({"wait": wait, "timeout": START_TIMEOUT_SECS})),
            ),
        },
        (Action::Restart { engine, .. }, Some(id)) => {
            cli_start(world, step, &id, "restart", true, *engine)
        }
        (Action::Stop { via, .. }, Some(id)) => match via {
            Via::Cli => cli(world, step, &["service", "stop", &id, "-o", "json"], &[]),
            Via::Api => api(
                world,
                step,
                "POST",
                &format!("/api/v2/services/{id}/stop"),
                Some(json!({})),
            ),
        },
        (Action::Delete { slot, via }, Some(id)) => {
            let result = match via {
                Via::Cli => cli(world, step, &["service", "delete", &id], &[]),
                Via::Api => api(
                    world,
                    step,
                    "DELETE",
                    &format!("/api/v2/services/{id}"),
                    None,
                ),
            };
            if result["ok"] == true {
                let mut slots = world.slots();
                if slots[*slot].id.as_deref() == Some(id.as_str()) {
                    slots[*slot].id = None;
                }
            }
            result
        }
        _ => skipped("not an operation"),
    };
    if matches!(step.action, Action::Start { .. } | Action::Restart { .. }) {
        super::blockers::judge_start(world, step, acting.held.as_ref(), &result);
    }
    if matches!(step.action, Action::Stop { .. }) && result["ok"] == true {
        port_after_stop(world, step, &acting);
        mark_stopped(world, &acting);
    }
    acting.complete(result)
}

fn skipped(why: &str) -> Value {
    json!({"outcome": "skipped", "why": why})
}

fn create(world: &World, step: &Step, slot: usize, restart: &str, via: Via) -> Value {
    let model = world.model.lock().map(|m| m.clone()).unwrap_or_default();
    let port = world.ports[slot];
    let result = match via {
        Via::Cli => cli(
            world,
            step,
            &[
                "service",
                "create",
                "--model-id",
                &model,
                "--engine-type",
                "vllm",
                "--port",
                &port.to_string(),
                "--restart",
                restart,
                "-o",
                "json",
            ],
            &[],
        ),
        Via::Api => api(
            world,
            step,
            "POST",
            "/api/v2/services",
            Some(
                json!({"model_id": model, "engine_type": "vllm", "port": port, "restart": restart}),
            ),
        ),
    };
    if result["ok"] == true {
        if let Some(id) = result["id"].as_str() {
            let mut slots = world.slots();
            if slots[slot].id.is_none() {
                slots[slot].id = Some(id.to_owned());
                slots[slot].policy = Some(restart.to_owned());
                slots[slot].engines.clear();
            }
        }
    }
    result
}

/// `service start|restart ID [--wait --timeout T]` on the image of `engine`.
fn cli_start(
    world: &World,
    step: &Step,
    id: &str,
    verb: &str,
    wait: bool,
    engine: Option<FaultKind>,
) -> Value {
    let timeout = START_TIMEOUT_SECS.to_string();
    let mut args = vec!["service", verb, id, "-o", "json"];
    if wait {
        args.extend(["--wait", "--timeout", &timeout]);
    }
    let image = world.image(engine);
    cli(world, step, &args, &[("AIMA_VLLM_IMAGE".to_owned(), image)])
}

/// One CLI command, recorded and held to the command rules.
pub(crate) fn cli(
    world: &World,
    step: &Step,
    args: &[&str],
    overrides: &[(String, String)],
) -> Value {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let record = world.aima(step.action.name(), &args, overrides);
    check_command(world, step.action.slot(), &record, false);
    cli_result(&record)
}

/// The result fields of a finished command.
pub(crate) fn cli_result(record: &CommandRecord) -> Value {
    let out: Value = serde_json::from_str(record.stdout.trim()).unwrap_or(Value::Null);
    let outcome = match record.exit_code {
        Some(code) => format!("exit {code}"),
        None => "signal".to_owned(),
    };
    json!({
        "via": "cli",
        "ok": record.succeeded(),
        "outcome": outcome,
        "command": record.display,
        "exit": record.exit_code,
        "ms": record.duration_ms,
        "id": out["id"],
        "status": out["status"],
        "error": out["error"]["code"],
        "message": out["error"]["message"],
        "stderr": tail(&record.stderr, 300),
        "log": record.stderr_log,
    })
}

/// Holds a command's outcome to the table (and no panic), recording a violation otherwise.
pub(crate) fn check_command(
    world: &World,
    slot: Option<usize>,
    record: &CommandRecord,
    killed: bool,
) {
    if record.timed_out {
        world.violation(
            "command-hung",
            slot,
            &record.display,
            format!(
                "`{}` did not end within {} ms",
                record.display, record.deadline_ms
            ),
        );
    } else if let Some(why) = command_problem(record.exit_code, &record.stderr, killed) {
        world.violation(
            "cli-contract",
            slot,
            &record.display,
            format!(
                "`{}`: {why}; stderr: {}",
                record.display,
                tail(&record.stderr, 300)
            ),
        );
    }
}

fn api(world: &World, step: &Step, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut request = world.api(method, path);
    if let Some(body) = body {
        request = request.json(body.to_string());
    }
    let shown = request.describe();
    match request.send(world.listen) {
        Ok(reply) => {
            if let Some(why) = api_problem(reply.status, &reply.body) {
                world.violation(
                    "api-error-shape",
                    step.action.slot(),
                    &shown,
                    format!("{shown}: {why}"),
                );
            }
            let json = reply.json().unwrap_or(Value::Null);
            json!({
                "via": "api",
                "ok": reply.status < 300,
                "outcome": format!("http {}", reply.status),
                "request": shown,
                "http": reply.status,
                "ms": reply.elapsed_ms,
                "id": json["id"],
                "status": json["status"],
                "error": json["error"]["code"],
                "message": json["error"]["message"],
                "body": tail(&reply.body, 300),
            })
        }
        Err(err) => json!({
            "via": "api",
            "ok": false,
            "outcome": "no answer",
            "request": shown,
            "transport": err.to_string(),
            "daemon_up": world.daemon().is_some(),
        }),
    }
}

/// After a successful stop, the service's port reads free — unless another operation on the
/// slot began since the stop did, or a port blocker of the harness holds it.
fn port_after_stop(world: &World, step: &Step, acting: &Acting<'_>) {
    let Some(slot) = step.action.slot() else {
        return;
    };
    let port = world.ports[slot];
    let deadline = std::time::Instant::now() + PORT_AFTER_STOP;
    loop {
        {
            let slots = world.slots();
            let s = &slots[slot];
            if s.invoked != acting.seq || s.in_flight > 1 || s.blocked {
                return;
            }
        }
        let check = check_port(port);
        if check.is_free() {
            return;
        }
        if std::time::Instant::now() >= deadline {
            world.violation(
                "port-held-after-stop",
                Some(slot),
                acting.service.as_deref().unwrap_or_default(),
                format!(
                    "the stop succeeded but {} ({} ms later, nothing else acting on the slot)",
                    check.describe(),
                    PORT_AFTER_STOP.as_millis()
                ),
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Records a successful stop for `started-while-stopped`, when nothing else acts on the slot
/// and no other operation was invoked on it since the stop began.
fn mark_stopped(world: &World, acting: &Acting<'_>) {
    let Some(n) = acting.slot else {
        return;
    };
    let now = world.history.now_ms();
    let mut slots = world.slots();
    let s = &mut slots[n];
    if s.invoked == acting.seq && s.in_flight == 1 && s.id == acting.service {
        s.stopped_ms = Some(now);
        s.engines.clear();
    }
}

/// The last `n` characters of `text`, trimmed.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let text = text.trim();
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(n)).collect()
}
