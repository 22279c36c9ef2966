//! The daemon against a real Docker daemon and the engine simulator: the reconciler's verdicts,
//! the scoped reaper, adoption after a restart, and shutdown during a real start.
//! Without Docker these tests fail with a clear message; they never pass silently.

use std::time::{Duration, Instant};

use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, containers_with, instance_of};
use crate::support::daemon::{Daemon, integrity_ok};
use crate::support::docker::{docker, sim_image};
use crate::support::http::http;
use crate::support::ports::free_port;
use crate::support::wait::wait_until;

/// The reconcile period these tests run the daemon with.
const PERIOD: Duration = Duration::from_secs(1);
/// Bound for "noticed by the reconciler": one period plus generous slack for a loaded CI
/// machine. It proves the daemon (not a CLI read) acts without being asked; the measured time
/// is printed, not asserted more tightly.
const ONE_PERIOD: Duration = Duration::from_secs(5);

/// An `aima` on the simulator image, with quick reconcile passes, whose containers go on drop.
struct Setup {
    data: Aima,
    image: String,
    instance: String,
    _cleanup: Cleanup,
}

impl Setup {
    fn new(sim_env: &[&str]) -> Setup {
        let image = sim_image(sim_env);
        let data = Aima::new()
            .env("AIMA_VLLM_IMAGE", &image)
            .env("AIMA_RECONCILE_SECS", "1")
            .env("AIMA_REAP_GRACE_SECS", "1");
        let instance = instance_of(data.data_dir());
        let cleanup = Cleanup {
            instance: instance.clone(),
            extra: Vec::new(),
        };
        Setup {
            data,
            image,
            instance,
            _cleanup: cleanup,
        }
    }

    fn daemon(&self) -> Daemon {
        Daemon::start(&self.data, &[])
    }

    fn recorded(&self, service: &str) -> ::aima::domain::Service {
        self.data.recorded(service)
    }

    fn containers_of(&self, service: &str) -> Vec<String> {
        containers_with(&[
            &format!("aima.instance={}", self.instance),
            &format!("aima.service={service}"),
        ])
    }
}

/// `running`, `exited`, … or None when the container does not exist.
pub(super) fn state_of(container: &str) -> Option<String> {
    let out = docker(&["inspect", "--format", "{{.State.Status}}", container]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A simulator container carrying aima's labels for `instance` and `service`, as an aima would
/// have left it.
pub(super) fn labelled_container(image: &str, instance: &str, service: &str) -> String {
    let labels = [
        "aima.managed=true".to_owned(),
        "aima.engine=vllm".to_owned(),
        format!("aima.service={service}"),
        format!("aima.instance={instance}"),
    ];
    let mut args = vec!["run", "-d"];
    for l in &labels {
        args.extend(["--label", l.as_str()]);
    }
    args.extend([image, "--model", "x", "--port", "8000"]);
    let out = docker(&args);
    assert!(
        out.status.success(),
        "docker run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn status_of(daemon: &Daemon, service: &str) -> String {
    let (code, svc) = daemon.call("GET", &format!("/api/v2/services/{service}"), None);
    assert_eq!(code, 200, "{svc}");
    svc["status"].as_str().unwrap().to_owned()
}

pub(super) fn start_and_wait(daemon: &Daemon, service: &str) -> String {
    let (code, svc) = daemon.call_timeout(
        "POST",
        &format!("/api/v2/services/{service}/start"),
        Some(r#"{"wait": true, "timeout": 60}"#),
        90,
    );
    assert_eq!(code, 200, "{svc}");
    assert_eq!(svc["status"], "running", "{svc}");
    svc["container_id"].as_str().unwrap().to_owned()
}

#[test]
fn container_killed_behind_aimas_back_is_failed_within_one_period() {
    let setup = Setup::new(&[]);
    let daemon = setup.daemon();
    let service = daemon.create_service(free_port());
    let container = start_and_wait(&daemon, &service);

    let out = docker(&["kill", &container]);
    assert!(out.status.success(), "docker kill failed");
    let killed = Instant::now();
    let svc = wait_until(ONE_PERIOD, "the reconciler to record the failure", || {
        let svc = setup.recorded(&service);
        (svc.status.as_str() == "failed").then_some(svc)
    });
    eprintln!("failure recorded {:?} after docker kill", killed.elapsed());
    let reason = svc.last_error.unwrap_or_default();
    assert!(reason.contains("exited with code 137"), "{reason}");
    assert!(setup.containers_of(&service).is_empty());
    assert_eq!(status_of(&daemon, &service), "failed");
}

#[test]
fn start_killed_with_sigkill_is_failed_without_containers_within_one_period() {
    // The engine stays unhealthy for a minute, so the start is still waiting when it is killed.
    let setup = Setup::new(&["AIMA_SIM_LOAD_SECS=60"]);
    let daemon = setup.daemon();
    let service = daemon.create_service(free_port());
    let mut cli = setup
        .data
        .command(&["service", "start", &service, "--wait", "--timeout", "120"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the start to create its container",
        || {
            let starting = setup.recorded(&service).status.as_str() == "starting";
            (starting && !setup.containers_of(&service).is_empty()).then_some(())
        },
    );
    cli.kill().unwrap();
    cli.wait().unwrap();
    let killed = Instant::now();
    wait_until(ONE_PERIOD, "failed, with no container left", || {
        let failed = setup.recorded(&service).status.as_str() == "failed";
        (failed && setup.containers_of(&service).is_empty()).then_some(())
    });
    eprintln!("killed start resolved {:?} after SIGKILL", killed.elapsed());
    let reason = setup.recorded(&service).last_error.unwrap_or_default();
    assert!(reason.contains("start interrupted"), "{reason}");
}

#[test]
fn reaper_removes_own_orphans_and_spares_other_instances() {
    let setup = Setup::new(&[]);
    let _daemon = setup.daemon();
    let foreign_instance = format!("foreign-{}", std::process::id());
    let run = |instance: &str| labelled_container(&setup.image, instance, "svc-deadbeef");
    let foreign = run(&foreign_instance);
    let _foreign_cleanup = Cleanup {
        instance: foreign_instance.clone(),
        extra: vec![foreign.clone()],
    };
    let unlabelled = {
        let out = docker(&["run", "-d", &setup.image, "--model", "x", "--port", "8000"]);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let _unlabelled_cleanup = Cleanup {
        instance: foreign_instance,
        extra: vec![unlabelled.clone()],
    };
    let own = run(&setup.instance);

    let created = Instant::now();
    // Grace (1 s) counts from the first pass that sees it.
    wait_until(
        PERIOD * 2 + ONE_PERIOD,
        "the own orphan to be reaped",
        || state_of(&own).is_none().then_some(()),
    );
    eprintln!("own orphan reaped {:?} after creation", created.elapsed());
    std::thread::sleep(PERIOD * 2);
    assert_eq!(state_of(&foreign).as_deref(), Some("running"));
    assert_eq!(state_of(&unlabelled).as_deref(), Some("running"));
}

#[test]
fn restarted_daemon_keeps_a_running_service_running() {
    let setup = Setup::new(&[]);
    let mut first = setup.daemon();
    let service = first.create_service(free_port());
    let container = start_and_wait(&first, &service);

    first.signal("TERM");
    assert!(first.wait_exit(Duration::from_secs(10)).success());
    assert_eq!(state_of(&container).as_deref(), Some("running"));

    let second = setup.daemon();
    std::thread::sleep(PERIOD * 3);
    let svc = setup.recorded(&service);
    assert_eq!(svc.status.as_str(), "running");
    assert_eq!(
        svc.container_id.as_ref().map(|c| c.as_str()),
        Some(container.as_str())
    );
    assert_eq!(status_of(&second, &service), "running");
    assert_eq!(state_of(&container).as_deref(), Some("running"));

    let (code, stopped) = second.call("POST", &format!("/api/v2/services/{service}/stop"), None);
    assert_eq!(code, 200, "{stopped}");
    assert_eq!(stopped["status"], "stopped");
    assert!(setup.containers_of(&service).is_empty());
}

#[test]
fn sigterm_during_a_real_start_lets_it_finish() {
    // Healthy after 4 s: the start request is in flight when SIGTERM comes.
    let setup = Setup::new(&["AIMA_SIM_LOAD_SECS=4"]);
    let mut daemon = setup.daemon();
    let service = daemon.create_service(free_port());
    let (port, token) = (daemon.port, daemon.token());
    let path = format!("/api/v2/services/{service}/start");
    let began = Instant::now();
    let request = std::thread::spawn(move || {
        http(
            port,
            "POST",
            &path,
            Some(r#"{"wait": true, "timeout": 60}"#),
            token.as_deref(),
            90,
        )
    });
    std::thread::sleep(Duration::from_millis(1500));
    daemon.signal("TERM");
    let (code, body) = request.join().unwrap().expect("the start got its answer");
    eprintln!("start answered {:?} after it was sent", began.elapsed());
    assert_eq!(code, 200, "{body}");
    let svc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(svc["status"], "running", "{body}");

    assert!(daemon.wait_exit(Duration::from_secs(10)).success());
    assert!(integrity_ok(&setup.data));
    // Engine containers belong to services: shutdown leaves them running.
    let container = svc["container_id"].as_str().unwrap();
    assert_eq!(state_of(container).as_deref(), Some("running"));
    assert_eq!(setup.recorded(&service).status.as_str(), "running");
}

#[test]
fn detached_start_becomes_running_through_the_reconciler() {
    let setup = Setup::new(&["AIMA_SIM_LOAD_SECS=2"]);
    let daemon = setup.daemon();
    let service = daemon.create_service(free_port());
    let (code, svc) = daemon.call("POST", &format!("/api/v2/services/{service}/start"), None);
    assert_eq!(code, 202, "a detached start is accepted, not done: {svc}");
    assert_eq!(svc["status"], "starting", "{svc}");
    let began = Instant::now();
    wait_until(
        Duration::from_secs(30),
        "the reconciler to see it healthy",
        || (setup.recorded(&service).status.as_str() == "running").then_some(()),
    );
    eprintln!(
        "detached start recorded running {:?} after the request",
        began.elapsed()
    );
}
