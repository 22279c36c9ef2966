//! The port blockers of a chaos run: a foreign holder of a service's port for a while — a
//! listener on `127.0.0.1`, a v6-only listener on `[::]`, a socket bound without listening, or
//! a container (not aima's) publishing the port. Each is gone again when its hold ends, and a
//! blocker container carries the run's label, so the harness's reaper removes it even when the
//! harness itself dies.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fixtures::census::{ContainerInfo, RUN_LABEL};
use crate::fixtures::port_blocker::{Holding, PortBlocker};
use crate::fixtures::port_check::check_port;

use super::fault::FaultKind;
use super::schedule::Step;
use super::world::{Held, World};

/// The label (key, value) marking a blocker container as the harness's own: the observer and
/// the final checks do not count it as a container of aima.
pub(crate) const BLOCKER_LABEL: (&str, &str) = ("aima-harness.role", "port-blocker");

/// Whether `c` is one of the harness's blocker containers.
pub(crate) fn is_blocker(c: &ContainerInfo) -> bool {
    c.label(BLOCKER_LABEL.0) == Some(BLOCKER_LABEL.1)
}

/// How long a blocker container may take to hold its port once `docker run` returned.
const CONTAINER_HOLDS: Duration = Duration::from_secs(5);

/// What holds a port: a blocker process, or a container (by id).
enum Holder {
    Process(Box<PortBlocker>),
    Container(String),
}

impl Holder {
    /// Holds the port for `hold`; a blocker container is watched meanwhile, since one that
    /// exits lets go of the port early. `Some(why)` when it did.
    fn hold(&self, hold: Duration) -> Option<String> {
        let Holder::Container(id) = self else {
            std::thread::sleep(hold);
            return None;
        };
        let until = Instant::now() + hold;
        while Instant::now() < until {
            std::thread::sleep(
                Duration::from_millis(250).min(until.saturating_duration_since(Instant::now())),
            );
            let running = docker(&["inspect", "-f", "{{.State.Running}}", id]);
            if !matches!(running.as_deref(), Ok("true")) {
                return Some(format!(
                    "the blocker container stopped running: {running:?}"
                ));
            }
        }
        None
    }

    /// Lets go of the port; whether it was verified free afterwards.
    fn release(self) -> bool {
        match self {
            Holder::Process(mut blocker) => blocker.stop().verified,
            Holder::Container(id) => docker(&["rm", "-f", &id]).is_ok(),
        }
    }
}

/// Holds the slot's port with a blocker of kind `fault` for `hold`, then lets it go.
pub(crate) fn hold_port(world: &World, step: &Step, slot: usize, fault: FaultKind, hold: Duration) {
    let port = world.ports[slot];
    let taken = match fault {
        FaultKind::PortBlockerV6 => {
            PortBlocker::start(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port, &world.run_id)
                .map(|b| (format!("pid {}", b.pid), Holder::Process(Box::new(b))))
        }
        FaultKind::PortBlockerBind => PortBlocker::start_holding(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port,
            &world.run_id,
            Holding::BoundOnly,
        )
        .map(|b| (format!("pid {}", b.pid), Holder::Process(Box::new(b)))),
        FaultKind::PortBlockerContainer => {
            run_container(world, slot).map(|(name, id)| (name, Holder::Container(id)))
        }
        _ => PortBlocker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), port, &world.run_id)
            .map(|b| (format!("pid {}", b.pid), Holder::Process(Box::new(b)))),
    };
    let name = fault.name();
    let (holder_name, holder) = match taken {
        Ok(taken) => taken,
        Err(err) => {
            world.history.record("fault", json!({"fault": name, "step": step.id, "slot": slot, "port": port, "outcome": "could not hold", "why": format!("{err:#}")}));
            return;
        }
    };
    {
        let mut slots = world.slots();
        slots[slot].blocked = true;
        slots[slot].held = Some(Held {
            fault,
            step: step.id,
            holder: holder_name.clone(),
        });
    }
    world.history.record("fault", json!({"fault": name, "step": step.id, "slot": slot, "port": port, "holder": holder_name, "hold_ms": hold.as_millis() as u64}));
    world.say(&format!(
        "FAULT port {port} held by {holder_name} ({name}) for {} ms",
        hold.as_millis()
    ));
    let early_end = holder.hold(hold);
    if let Some(why) = &early_end {
        world.history.record(
            "heal",
            json!({"fault": name, "step": step.id, "slot": slot, "port": port, "early": why}),
        );
    }
    let released = holder.release();
    {
        let mut slots = world.slots();
        slots[slot].blocked = false;
        slots[slot].held = None;
    }
    world.history.record(
        "heal",
        json!({"fault": name, "step": step.id, "slot": slot, "port": port, "released": released}),
    );
}

/// `docker run` of the plain simulator image publishing the slot's port, labelled for the run;
/// returns the container's name and id once the port reads busy.
fn run_container(world: &World, slot: usize) -> anyhow::Result<(String, String)> {
    let port = world.ports[slot];
    let name = format!("aima-chaos-blocker-{}-{port}", std::process::id());
    let run_label = format!("{RUN_LABEL}={}", world.run_id);
    let role_label = format!("{}={}", BLOCKER_LABEL.0, BLOCKER_LABEL.1);
    let publish = format!("{port}:8000");
    let image = world.image(None);
    let id = docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        &run_label,
        "--label",
        &role_label,
        "-p",
        &publish,
        &image,
        // The simulator's own arguments: it serves (and so keeps the port) until removed.
        "--model",
        "port-blocker",
        "--port",
        "8000",
    ])
    .inspect_err(|_| {
        // A run that could not publish leaves its created container behind.
        let _ = docker(&["rm", "-f", &name]);
    })?;
    let since = Instant::now();
    while check_port(port).is_free() {
        if since.elapsed() >= CONTAINER_HOLDS {
            let _ = docker(&["rm", "-f", &id]);
            anyhow::bail!(
                "container {name} publishing {port} did not hold the port within {} s",
                CONTAINER_HOLDS.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((name, id))
}

/// Runs the docker CLI (against the real Docker, never the run's proxy); its trimmed stdout.
fn docker(args: &[&str]) -> anyhow::Result<String> {
    let out = duct::cmd("docker", args)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()?;
    if !out.status.success() {
        anyhow::bail!(
            "`docker {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Holds a start's outcome to the fail-fast contract when one blocker held the slot's port
/// from before the start was invoked until after it completed (`held`: the blocker at
/// invocation); see [`start_problem`].
pub(crate) fn judge_start(world: &World, step: &Step, held: Option<&Held>, result: &Value) {
    let (Some(held), Some(slot)) = (held, step.action.slot()) else {
        return;
    };
    if world.slots()[slot].held.as_ref() != Some(held) {
        return;
    }
    let shown = result["command"]
        .as_str()
        .or(result["request"].as_str())
        .unwrap_or_default();
    if let Some(detail) = start_problem(held, world.ports[slot], result) {
        world.violation(
            "port-blocker-contract",
            Some(slot),
            shown,
            format!("`{shown}`: {detail}"),
        );
    }
}

/// What is wrong with a start's `result` while `held` held `port` all along, if anything. A
/// listener, a bound socket or a container on the port: the start cannot end `running`, and
/// its port_in_use names the holder (a socket that only binds has no process the OS names by
/// port, so the port number is enough). A v6-only listener on `[::]` does not stand in the way
/// of aima's publish on `127.0.0.1`: port_in_use there is wrong.
fn start_problem(held: &Held, port: u16, result: &Value) -> Option<String> {
    let message = result["message"].as_str().unwrap_or_default();
    if result["error"] == "port_in_use" {
        return match held.fault {
            FaultKind::PortBlockerV6 => Some(format!(
                "port_in_use although only a v6-only listener on [::]:{port} ({}) held the port, which does not conflict with aima's publish on 127.0.0.1: {message}",
                held.holder
            )),
            FaultKind::PortBlockerBind => (!message.contains(&port.to_string()))
                .then(|| format!("port_in_use does not name port {port}: {message}")),
            _ => (!message.contains(&held.holder)).then(|| {
                format!(
                    "port_in_use does not name the holder ({}) of port {port}: {message}",
                    held.holder
                )
            }),
        };
    }
    let running = result["ok"] == true && result["status"] == "running";
    (running && held.fault != FaultKind::PortBlockerV6).then(|| {
        format!(
            "the start ended `running` while {} ({}) held port {port} all along",
            held.holder,
            held.fault.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(fault: FaultKind, holder: &str) -> Held {
        Held {
            fault,
            step: 7,
            holder: holder.to_owned(),
        }
    }

    fn refused(message: &str) -> Value {
        json!({"ok": false, "error": "port_in_use", "message": message})
    }

    #[test]
    fn port_in_use_must_name_the_holder_of_the_port() {
        let listener = held(FaultKind::PortBlocker, "pid 42");
        assert!(
            start_problem(
                &listener,
                8000,
                &refused("port 8000 is in use by harness (pid 42)")
            )
            .is_none()
        );
        let unnamed = start_problem(&listener, 8000, &refused("port 8000 is in use")).unwrap();
        assert!(unnamed.contains("pid 42"), "{unnamed}");
        let container = held(FaultKind::PortBlockerContainer, "aima-chaos-blocker-1-8000");
        assert!(
            start_problem(
                &container,
                8000,
                &refused("port 8000 is in use by container aima-chaos-blocker-1-8000")
            )
            .is_none()
        );
        assert!(
            start_problem(
                &container,
                8000,
                &refused("port 8000 is in use by docker-proxy (pid 9)")
            )
            .is_some()
        );
        let bound = held(FaultKind::PortBlockerBind, "pid 5");
        assert!(
            start_problem(
                &bound,
                8000,
                &refused("port 8000 is in use by a program the OS does not name")
            )
            .is_none()
        );
    }

    #[test]
    fn a_start_on_a_held_port_cannot_end_running_unless_only_ipv6_was_held() {
        let running = json!({"ok": true, "status": "running"});
        for fault in [
            FaultKind::PortBlocker,
            FaultKind::PortBlockerBind,
            FaultKind::PortBlockerContainer,
        ] {
            assert!(
                start_problem(&held(fault, "x"), 8000, &running).is_some(),
                "{fault}"
            );
        }
        let v6 = held(FaultKind::PortBlockerV6, "pid 3");
        assert!(start_problem(&v6, 8000, &running).is_none());
        assert!(
            start_problem(
                &v6,
                8000,
                &refused("port 8000 is in use by harness (pid 3)")
            )
            .is_some()
        );
        // Other failures (Docker away, a timeout) are for the other rules.
        let timeout = json!({"ok": false, "error": "timeout", "message": "gave up"});
        assert!(start_problem(&held(FaultKind::PortBlocker, "pid 1"), 8000, &timeout).is_none());
    }
}
