//! Pulling the engine image from a real registry (Debian's docker-registry on a free loopback
//! port, holding the simulator image): a start pulls the missing image, shows the pull and then
//! the loading engine's log line live on a terminal, and runs; `--pull always` pulls again; an unknown image or an unreachable registry
//! fails the start once, in the `pull` phase, with a classified error.

use crate::support::docker::{docker, require_docker, sim_image};
use crate::support::lab::Lab;
use crate::support::ports::free_port;
use crate::support::registry::Registry;
use crate::support::snapshot;

fn image_present(reference: &str) -> bool {
    docker(&["image", "inspect", reference]).status.success()
}

#[test]
fn a_start_pulls_the_missing_image_shows_progress_on_a_terminal_and_runs() {
    let registry = Registry::start();
    // An engine that loads for 3 s, so the terminal shows its log line while it does.
    let reference = registry.push(&sim_image(&["AIMA_SIM_LOAD_SECS=3"]), "aima-sim");
    assert!(!image_present(&reference), "{reference} must start absent");
    let lab = Lab::with_image(&reference);
    let (svc, _port) = lab.service();

    let shown = lab
        .run_in_pty(&["service", "start", &svc, "--wait", "--timeout", "120"])
        .success();

    assert!(image_present(&reference), "{shown}");
    let terminal = &shown.stdout;
    assert!(
        terminal.contains(&format!("pull: {reference}")) && terminal.contains(" layers, "),
        "no live pull progress on the terminal:\n{shown}"
    );
    assert!(
        terminal.contains("/2m] "),
        "no elapsed time against the timeout:\n{shown}"
    );
    assert!(
        terminal.contains("health: waiting for vllm")
            && terminal.contains("engine: ")
            && terminal.contains("Loading model weights"),
        "no engine log line while it loads:\n{shown}"
    );
    assert!(
        terminal
            .lines()
            .any(|l| l.trim_start().starts_with("status:") && l.trim_end().ends_with(" running")),
        "{shown}"
    );

    // `--pull always` pulls even though the image is present now; JSON keeps stdout clean.
    let manifest_reads = || registry.log().matches("/v2/aima-sim/manifests/").count();
    let before = manifest_reads();
    assert!(
        before > 0,
        "the registry logged no manifest read:\n{}",
        registry.log()
    );
    let restarted = lab.bring_up("restart", &svc, &["--pull", "always"]);
    assert!(restarted.stderr.is_empty(), "{restarted}");
    assert!(
        manifest_reads() > before,
        "--pull always did not ask the registry again:\n{}",
        registry.log()
    );
}

#[test]
fn an_unknown_image_fails_once_in_the_pull_phase_with_a_classified_error() {
    let registry = Registry::start();
    let reference = format!("127.0.0.1:{}/no-such-engine:1", registry.port);
    registry.forget_later(&reference);
    let lab = Lab::with_image(&reference);
    let (svc, port) = lab.service();

    let out = lab
        .run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(7)
        .stderr_has("the registry has no such image")
        .stderr_has("[pull]")
        .stdout_is_empty();
    eprintln!("unknown image failed after {:?}", out.elapsed);
    let listed = lab.listed_failed(&svc, 1);
    assert_eq!(listed["attempts"][0]["phase"], "pull", "{listed:#}");
    assert!(lab.containers().is_empty());
    snapshot::settings(&lab, &[port, registry.port]).bind(|| {
        insta::assert_snapshot!("start_pull_unknown_image", out.stderr);
    });
}

#[test]
fn an_unreachable_registry_fails_the_start_once_and_says_so() {
    require_docker();
    let reference = format!("127.0.0.1:{}/aima-sim:1", free_port());
    let lab = Lab::with_image(&reference);
    let (svc, _port) = lab.service();

    let out = lab
        .run(&["service", "start", &svc, "-o", "json"])
        .failure(7);
    let error = &out.json()["error"];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("the registry cannot be reached"),
        "{out}"
    );
    assert_eq!(error["attempts"].as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(error["attempts"][0]["phase"], "pull", "{out}");
    assert!(
        error["help"].as_str().unwrap().contains("--pull never"),
        "{out}"
    );
}
