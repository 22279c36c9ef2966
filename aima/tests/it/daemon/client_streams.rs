//! What streams through a daemon (`--host`), on real Docker with the engine simulator: a start's
//! steps on stderr as in-process, a streamed chat printed as in-process, and a followed log
//! cut by the daemon stopping, which exits with its documented code (130) instead of 0.

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use super::client::Ways;
use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, instance_of};
use crate::support::docker::sim_image;
use crate::support::http::Request;
use crate::support::wait::wait_until;

/// A daemon on a data dir whose vllm engine is the simulator, the containers removed at the end.
fn simulated() -> (Ways, Cleanup) {
    let aima = Aima::new().env("AIMA_VLLM_IMAGE", &sim_image(&[]));
    let cleanup = Cleanup {
        instance: instance_of(aima.data_dir()),
        extra: Vec::new(),
    };
    (Ways::new(aima), cleanup)
}

/// The plain progress lines of a start (stderr is not a terminal here).
fn steps(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("… ")).collect()
}

/// A start's detail view without what differs from one start to the next: how long ago it was
/// updated and how long the attempt took.
fn steady(stdout: &str) -> String {
    stdout
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("updated") {
                return "updated [AGO]".to_owned();
            }
            line.split(' ')
                .map(|word| match word.strip_suffix("ms") {
                    Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => "[N]ms",
                    _ => word,
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_start_through_the_daemon_shows_the_in_process_steps_and_output() {
    let (ways, _cleanup) = simulated();
    let id = ways.new_service();
    let start = ["service", "start", &id, "--wait", "--timeout", "120"];
    let local = ways.local(&start).success();
    ways.local(&["service", "stop", &id]).success();
    let remote = ways.via_socket(&start).success();
    assert!(
        steps(&remote.stderr)
            .iter()
            .any(|l| l.contains("waiting for vllm")),
        "no step lines through the daemon:\n{remote}"
    );
    assert_eq!(
        steps(&remote.stderr),
        steps(&local.stderr),
        "through the daemon:\n{remote}\nin-process:\n{local}"
    );
    assert_eq!(
        steady(&remote.stdout),
        steady(&local.stdout),
        "through the daemon:\n{remote}\nin-process:\n{local}"
    );
    // A restart over TCP shows its steps too; with JSON, nothing but the JSON.
    let restart = ["service", "restart", &id, "--wait", "--timeout", "120"];
    let restarted = ways.via_tcp(&restart).success();
    assert!(
        steps(&restarted.stderr)
            .iter()
            .any(|l| l.contains("waiting for vllm")),
        "{restarted}"
    );
    let quiet = ways
        .via_socket(&[restart.as_slice(), &["-o", "json"]].concat())
        .success();
    assert_eq!(quiet.json()["status"], "running", "{quiet}");
    assert!(
        steps(&quiet.stderr).is_empty(),
        "progress with JSON:\n{quiet}"
    );
    ways.via_socket(&["service", "stop", &id]).success();
}

#[test]
fn a_streamed_chat_through_the_daemon_prints_the_answer_as_in_process() {
    let (ways, _cleanup) = simulated();
    let id = ways.new_service();
    ways.via_socket(&["service", "start", &id, "--wait", "--timeout", "120"])
        .success();
    let chat = [
        "inference",
        "chat",
        &id,
        "hello streamed engine",
        "--stream",
    ];
    let streamed = ways.same_everywhere(&chat).success();
    assert_eq!(
        streamed.stdout.trim(),
        "echo: hello streamed engine",
        "{streamed}"
    );
    // The route streams: a chunked text body of the pieces, not the JSON answer.
    let token = ways.daemon.token();
    let raw = Request::new("POST", &format!("/api/v2/services/{id}/chat"))
        .bearer(token.as_deref())
        .header("Content-Type", "application/json")
        .body(r#"{"message": "piece by piece", "stream": true}"#)
        .send(("127.0.0.1", ways.daemon.port))
        .expect("the chat route answers");
    assert_eq!(raw.status, 200, "{}\n{}", raw.head, raw.body);
    assert_eq!(
        raw.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "{}",
        raw.head
    );
    assert_eq!(
        raw.header("transfer-encoding"),
        Some("chunked"),
        "{}",
        raw.head
    );
    assert!(raw.body.contains(" piece"), "{}", raw.body);
    ways.via_socket(&["service", "stop", &id]).success();
    // Refused before the first piece: the same error and exit code as in-process.
    let refused = ways.same_everywhere(&chat);
    assert_eq!(refused.code, Some(4), "{refused}");
}

#[test]
fn a_followed_log_cut_by_the_daemon_stopping_exits_130() {
    let (mut ways, _cleanup) = simulated();
    let id = ways.new_service();
    ways.via_socket(&["service", "start", &id, "--wait", "--timeout", "120"])
        .success();
    let host = ways.socket();
    let mut follow = ways
        .aima
        .command(&["--host", &host, "service", "logs", &id, "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aima service logs -f");
    // Following for sure: the engine's first lines have come through.
    let mut stdout = follow.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("a first log byte");
    ways.daemon.signal("TERM");
    let status = wait_until(Duration::from_secs(60), "logs -f to end", || {
        follow.try_wait().unwrap()
    });
    let mut stderr = String::new();
    follow
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(130), "stderr:\n{stderr}");
    assert!(
        stderr.contains("error: the daemon stopped while following the logs of"),
        "{stderr}"
    );
    assert!(stderr.contains("help: follow them again"), "{stderr}");
    ways.daemon.wait_exit(Duration::from_secs(60));
}
