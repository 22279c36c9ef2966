//! The CLI as a client of a daemon (`--host`): the same output, JSON and exit codes through
//! the unix socket and over TCP with a token as in-process, on one data dir; a wrong token, a
//! daemon that does not answer, and verbs that only work locally. The engine part runs the
//! simulator on real Docker.

use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, instance_of};
use crate::support::daemon::Daemon;
use crate::support::docker::sim_image;
use crate::support::ports::free_port;
use crate::support::run::Outcome;
use crate::support::setup::string_at;

/// One data dir, its daemon, and the three ways to reach it.
pub(super) struct Ways {
    pub(super) aima: Aima,
    pub(super) daemon: Daemon,
}

impl Ways {
    pub(super) fn new(aima: Aima) -> Ways {
        let daemon = Daemon::start(&aima, &[]);
        Ways { aima, daemon }
    }

    /// A new vllm service of the simulator, created through the socket: its id.
    pub(super) fn new_service(&self) -> String {
        let model = self.aima.create_model();
        let port = free_port().to_string();
        let args = [
            "service",
            "create",
            "--model-id",
            &model,
            "--engine-type",
            "vllm",
            "--port",
            &port,
            "-o",
            "json",
        ];
        string_at(&self.via_socket(&args).success().json(), "/id")
    }

    pub(super) fn socket(&self) -> String {
        format!("unix://{}/aima.sock", self.aima.data_dir().display())
    }

    pub(super) fn tcp(&self) -> String {
        format!("http://127.0.0.1:{}", self.daemon.port)
    }

    pub(super) fn local(&self, args: &[&str]) -> Outcome {
        self.aima.run(args)
    }

    pub(super) fn via_socket(&self, args: &[&str]) -> Outcome {
        let host = self.socket();
        self.aima.run(&[&["--host", host.as_str()], args].concat())
    }

    pub(super) fn via_tcp(&self, args: &[&str]) -> Outcome {
        let token = self.daemon.token().expect("the daemon's token");
        let host = self.tcp();
        self.aima.run_env(
            &[("AIMA_API_TOKEN", token.as_str())],
            &[&["--host", host.as_str()], args].concat(),
        )
    }

    /// The command's stdout and exit code, which must be the same all three ways.
    #[track_caller]
    pub(super) fn same_everywhere(&self, args: &[&str]) -> Outcome {
        let local = self.local(args);
        for remote in [self.via_socket(args), self.via_tcp(args)] {
            assert_eq!(
                (remote.code, &remote.stdout),
                (local.code, &local.stdout),
                "through the daemon:\n{remote}\nin-process:\n{local}"
            );
        }
        local
    }
}

#[test]
fn reads_and_errors_through_the_daemon_match_the_in_process_cli() {
    let ways = Ways::new(Aima::new());
    // Created through the socket, read every way.
    let model = ways
        .via_socket(&[
            "model",
            "create",
            "--name",
            "m1",
            "--source",
            "ollama",
            "--repo",
            "tinyllama",
            "-o",
            "json",
        ])
        .success()
        .json();
    let svc = ways
        .via_tcp(&[
            "service",
            "create",
            "--model-id",
            "m1",
            "--engine-type",
            "ollama",
            "--name",
            "s1",
            "--env",
            "API_TOKEN=t0k",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        svc["effective"].as_array().map(|e| e.is_empty()),
        Some(false),
        "{svc:#}"
    );
    assert!(
        !svc.to_string().contains("t0k"),
        "a secret came back: {svc:#}"
    );
    let model_id = string_at(&model, "/id");
    let svc_id = string_at(&svc, "/id");
    for args in [
        vec!["model", "list", "-o", "json"],
        vec!["model", "get", &model_id, "-o", "json"],
        vec!["service", "list", "-o", "json"],
        vec!["service", "list", "-q"],
        vec!["service", "get", "s1", "-o", "json"],
        vec!["events", "-o", "json"],
        vec!["events", "--service", "s1"],
    ] {
        ways.same_everywhere(&args).success();
    }
    // Errors: the same message, the same exit code.
    let missing = ways.same_everywhere(&["service", "get", "svc-00000000", "-o", "json"]);
    assert_eq!(missing.code, Some(3), "{missing}");
    let busy = ways.same_everywhere(&["model", "delete", "m1"]);
    assert_eq!(busy.code, Some(4), "{busy}");
    // A stop and a delete through the daemon, seen in the change log in-process.
    ways.via_tcp(&["service", "stop", &svc_id]).success();
    ways.via_socket(&["service", "delete", &svc_id]).success();
    let events = ways
        .local(&["events", "--service", &svc_id, "-o", "json"])
        .success()
        .json();
    let last = &events["items"].as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["to"], "deleted", "{events:#}");
}

#[test]
fn a_wrong_token_a_silent_daemon_and_local_verbs_are_refused_clearly() {
    let ways = Ways::new(Aima::new());
    let tcp = ways.tcp();
    ways.aima
        .run_env(
            &[("AIMA_API_TOKEN", "wrong")],
            &["--host", &tcp, "model", "list"],
        )
        .failure(13)
        .stderr_has("the API token is wrong")
        .stderr_has("AIMA_API_TOKEN");
    let nobody = format!("http://127.0.0.1:{}", free_port());
    ways.aima
        .run(&["--host", &nobody, "service", "list"])
        .failure(6)
        .stderr_has("cannot reach the aima daemon");
    let socket = ways.socket();
    for verb in [
        vec!["backup", "/tmp/never"],
        vec!["restore", "/tmp/never"],
        vec!["start"],
    ] {
        ways.aima
            .run(&[&["--host", socket.as_str()], verb.as_slice()].concat())
            .failure(2)
            .stderr_has("does not work through a daemon");
    }
    ways.aima
        .run(&["--host", "https://example.invalid:1", "service", "list"])
        .failure(2);
}

#[test]
fn an_engine_starts_logs_and_stops_through_the_daemon() {
    let image = sim_image(&[]);
    let aima = Aima::new().env("AIMA_VLLM_IMAGE", &image);
    let _cleanup = Cleanup {
        instance: instance_of(aima.data_dir()),
        extra: Vec::new(),
    };
    let ways = Ways::new(aima);
    let id = ways.new_service();
    let started = ways
        .via_tcp(&[
            "service",
            "start",
            &id,
            "--wait",
            "--timeout",
            "120",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(started["status"], "running", "{started:#}");
    let remote = ways
        .via_socket(&["service", "logs", &id, "--tail", "5", "-o", "json"])
        .success()
        .json();
    assert_eq!(remote["source"], "container", "{remote:#}");
    assert!(
        !remote["lines"].as_array().unwrap().is_empty(),
        "{remote:#}"
    );
    let stopped = ways
        .via_socket(&["service", "stop", &id, "-o", "json"])
        .success()
        .json();
    assert_eq!(stopped["status"], "stopped", "{stopped:#}");
    ways.same_everywhere(&["service", "get", &id, "-o", "json"])
        .success();
}
