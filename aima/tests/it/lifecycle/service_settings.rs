//! Real Docker: a service's own image, engine arguments, environment and `/dev/shm` size reach
//! its container (read back with `docker inspect`), two services of one engine run side by side
//! with different arguments, secrets reach the engine but never the output, and settings that
//! would break what aima owns are refused with nothing stored.

use crate::support::docker::{inspect, sim_image};
use crate::support::lab::Lab;
use crate::support::ports::free_port;

/// The container's arguments (after the image's entrypoint), one per line.
fn container_args(lab: &Lab, svc: &str) -> Vec<String> {
    let args = inspect(&lab.container_of(svc), "{{json .Args}}");
    serde_json::from_str(&args).expect("docker inspect .Args is a JSON list")
}

fn container_env(lab: &Lab, svc: &str) -> Vec<String> {
    let env = inspect(&lab.container_of(svc), "{{json .Config.Env}}");
    serde_json::from_str(&env).expect("docker inspect .Config.Env is a JSON list")
}

#[test]
fn a_services_image_args_env_and_shm_reach_its_container_and_secrets_stay_hidden() {
    // The engine's own image does not exist: only the service's --image can start it.
    let lab = Lab::with_image("aima-test/no-such-engine:never");
    let sim = sim_image(&[]);
    let model = lab.create_model();
    let port = free_port().to_string();
    let env_file = lab.data_dir().join("../engine.env");
    std::fs::write(&env_file, "FROM_FILE=file-s3cret\n").unwrap();
    let env_file = env_file.to_str().unwrap().to_owned();
    let svc = lab.create_service(
        &model,
        &[
            "--port",
            &port,
            "--image",
            &sim,
            "--env",
            "LEVEL=INFO",
            "--env",
            "HF_TOKEN=hf_s3cret",
            "--env-file",
            &env_file,
            "--shm-size",
            "128m",
            "--",
            "--load-secs",
            "0",
        ],
    );
    let up = lab.bring_up("start", &svc, &["--pull", "never"]);
    let got = lab.run(&["service", "get", &svc]).success();

    assert_eq!(inspect(&lab.container_of(&svc), "{{.Config.Image}}"), sim);
    let args = container_args(&lab, &svc);
    assert_eq!(args[args.len() - 2..], ["--load-secs", "0"], "{args:?}");
    let env = container_env(&lab, &svc);
    for want in ["LEVEL=INFO", "HF_TOKEN=hf_s3cret", "FROM_FILE=file-s3cret"] {
        assert!(env.iter().any(|e| e == want), "{want} not in {env:?}");
    }
    let shm = inspect(&lab.container_of(&svc), "{{.HostConfig.ShmSize}}");
    assert_eq!(shm, (128u64 << 20).to_string());
    for shown in [&up, &got] {
        let text = format!("{shown}");
        assert!(!text.contains("s3cret"), "a secret was printed:\n{text}");
    }
    assert!(
        got.stdout.contains("image:") && got.stdout.contains("(service)"),
        "{got}"
    );
    let listed = lab.run(&["service", "list", "-o", "json"]).success();
    assert!(!listed.stdout.contains("s3cret"), "{listed}");
}

#[test]
fn two_services_of_one_engine_run_side_by_side_with_different_arguments() {
    let lab = Lab::new(&[]);
    let model = lab.create_model();
    let (p1, p2) = (free_port().to_string(), free_port().to_string());
    let quick = lab.create_service(
        &model,
        &["--port", &p1, "--arg", "--load-secs", "--arg", "0"],
    );
    let slow = lab.create_service(&model, &["--port", &p2, "--", "--load-secs=1"]);
    lab.bring_up("start", &quick, &[]);
    lab.bring_up("start", &slow, &[]);

    assert!(container_args(&lab, &quick).ends_with(&["--load-secs".to_owned(), "0".to_owned()]));
    assert!(container_args(&lab, &slow).ends_with(&["--load-secs=1".to_owned()]));

    // update records a change for the next start; --apply-now carries it out at once.
    let note = lab
        .run(&[
            "service",
            "update",
            &quick,
            "--arg",
            "--load-secs",
            "--arg",
            "2",
        ])
        .success();
    assert!(
        note.stderr.contains("takes effect at its next start"),
        "{note}"
    );
    assert!(container_args(&lab, &quick).ends_with(&["0".to_owned()]));
    let applied = lab
        .run(&[
            "service",
            "update",
            &quick,
            "--unset",
            "args",
            "--apply-now",
            "-o",
            "json",
        ])
        .success();
    assert_eq!(applied.json()["effect"], "applied", "{applied}");
    let args = container_args(&lab, &quick);
    assert!(!args.iter().any(|a| a.contains("load-secs")), "{args:?}");
}

#[test]
fn settings_that_break_what_aima_owns_are_refused_and_nothing_is_stored() {
    let lab = Lab::new(&[]);
    let model = lab.create_model();
    for (args, says) in [
        (vec!["--", "--port", "9"], "--arg \"--port\""),
        (vec!["--arg=--host=::"], "listen host"),
        (vec!["--image", "NOT a ref"], "--image"),
        (vec!["--env", "1BAD=x"], "not a variable name"),
        (vec!["--arg", "--tokenizer=/model/t"], "model mount"),
    ] {
        let mut all = vec![
            "service",
            "create",
            "--model-id",
            &model,
            "--engine-type",
            "vllm",
        ];
        all.extend(args.iter().copied());
        lab.run(&all)
            .failure(2)
            .stderr_has(says)
            .stderr_has("help:");
    }
    let listed = lab.run(&["service", "list", "-q"]).success();
    assert!(listed.stdout.trim().is_empty(), "{listed}");
}
