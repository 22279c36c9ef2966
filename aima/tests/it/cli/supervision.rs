//! Restart policies at the CLI: `--restart` in Docker's words, refused when bad, shown in
//! JSON, and the warning that without a daemon nothing restarts a service.

use crate::support::aima::Aima;

/// Needs no Docker: the broken `DOCKER_HOST` fails the start after the warning.
#[test]
fn restart_policies_are_kept_and_a_start_without_a_daemon_warns() {
    let (aima, model, plain) = Aima::seeded();
    let create = |name: &str, port: &str, policy: &str| {
        aima.run(&[
            "service",
            "create",
            "--model-id",
            &model,
            "--engine-type",
            "vllm",
            "--name",
            name,
            "--port",
            port,
            "--restart",
            policy,
            "-o",
            "json",
        ])
    };
    let bad = create("bad", "8101", "sometimes").failure(2);
    assert!(
        bad.stderr.contains("bad --restart \"sometimes\""),
        "{}",
        bad.stderr
    );
    let kept = create("kept", "8102", "unless-stopped").success();
    assert!(
        kept.stdout.contains("\"restart\": \"always\""),
        "{}",
        kept.stdout
    );
    assert!(
        kept.stdout.contains("\"desired\": \"stopped\""),
        "{}",
        kept.stdout
    );
    let list = aima.run(&["service", "list", "-o", "json"]).success();
    assert!(
        !list.stdout.contains("\"bad\""),
        "a refused create stores nothing: {}",
        list.stdout
    );

    let env = [("DOCKER_HOST", "tcp://127.0.0.1:99999")];
    let start = aima.run_env(&env, &["service", "start", "kept"]).failure(6);
    assert_eq!(
        start.stderr.matches("warning:").count(),
        1,
        "{}",
        start.stderr
    );
    assert!(
        start.stderr.contains("restart policy always"),
        "{}",
        start.stderr
    );
    assert!(start.stderr.contains("`aima start`"), "{}", start.stderr);
    let start = aima.run_env(&env, &["service", "start", &plain]).failure(6);
    assert!(
        !start.stderr.contains("warning:"),
        "policy no: {}",
        start.stderr
    );
}
