//! Bad inputs: each gives a clear error on stderr, its documented exit code, a JSON error object
//! with a stable code under `--output json`, and leaves the store as it was.

use crate::support::aima::Aima;
use crate::support::run::Outcome;
use crate::support::setup::{create_model_args, create_service_args};

/// Runs `args` and checks that the store is the same afterwards.
#[track_caller]
fn run_unchanged(aima: &Aima, args: &[&str]) -> Outcome {
    let before = aima.store_contents();
    let out = aima.run(args);
    assert_eq!(aima.store_contents(), before, "the store changed\n{out}");
    out
}

#[test]
fn an_unknown_model_id_is_not_found() {
    let (aima, _, _) = Aima::seeded();
    let create = create_service_args("model-deadbeef", "vllm", &[]);
    run_unchanged(&aima, &create)
        .failure(3)
        .stderr_has("error: model model-deadbeef not found")
        .stderr_has("help: run `aima model list`")
        .stdout_is_empty();
    run_unchanged(&aima, &create_service_args("tinyllama", "vllm", &[]))
        .failure(3)
        .stderr_has("model ids look like model-");
}

#[test]
fn port_zero_and_ports_above_65535_are_usage_errors() {
    let (aima, model, _) = Aima::seeded();
    for port in ["0", "70000", "http"] {
        let args = create_service_args(&model, "vllm", &["--port", port]);
        run_unchanged(&aima, &args)
            .failure(2)
            .stderr_has("--port")
            .stderr_has(port);
    }
}

#[test]
fn an_unknown_engine_type_is_a_usage_error_listing_the_known_ones() {
    let (aima, model, _) = Aima::seeded();
    let args = create_service_args(&model, "tgi", &[]);
    run_unchanged(&aima, &args)
        .failure(2)
        .stderr_has("'tgi'")
        .stderr_has("vllm, ollama, llamacpp");
}

#[test]
fn an_explicit_port_of_another_service_is_a_conflict() {
    let (aima, model, _) = Aima::seeded();
    let args = create_service_args(&model, "ollama", &["--port", "8000"]);
    run_unchanged(&aima, &args)
        .failure(4)
        .stderr_has("port 8000 is already assigned to service svc-")
        .stderr_has("help: ");
}

#[test]
fn an_unknown_service_id_is_not_found_for_every_command() {
    let (aima, _, _) = Aima::seeded();
    for verb in ["get", "start", "stop", "delete"] {
        run_unchanged(&aima, &["service", verb, "svc-deadbeef"])
            .failure(3)
            .stderr_has("error: service svc-deadbeef not found");
    }
    run_unchanged(&aima, &["model", "get", "model-deadbeef"]).failure(3);
    run_unchanged(&aima, &["model", "delete", "model-deadbeef"]).failure(3);
}

#[test]
fn a_malformed_config_file_is_named_with_its_line() {
    let (aima, model, _) = Aima::seeded();
    let before = aima.store_contents();
    let config = aima.data_dir().join("config.toml");
    std::fs::write(&config, "[engines.vllm]\nimage = \"sim\"\ngpu = maybe\n").unwrap();

    let create = create_service_args(&model, "vllm", &[]);
    aima.run(&create)
        .failure(9)
        .stderr_has(&format!(
            "config file {} is malformed at line 3",
            config.display()
        ))
        .stderr_has("help: ");
    aima.run(&["service", "list"]).failure(9);

    std::fs::remove_file(&config).unwrap();
    assert_eq!(aima.store_contents(), before);
}

#[test]
fn an_unknown_key_in_the_config_file_is_refused() {
    let aima = Aima::new();
    std::fs::create_dir_all(aima.data_dir()).unwrap();
    std::fs::write(
        aima.data_dir().join("config.toml"),
        "[engines.vllm]\nimgae = \"typo\"\n",
    )
    .unwrap();

    aima.run(&["model", "list"])
        .failure(9)
        .stderr_has("config.toml is malformed at line 2");
}

#[test]
fn an_unusable_data_dir_is_a_storage_error_and_creates_nothing() {
    // Tests may run as root, for whom permissions do not stop writes: a path under a regular
    // file is unusable for everyone.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "not a directory").unwrap();
    let aima = Aima::at(tmp, file.join("sub"));

    let create = create_model_args("m", "ollama", "tinyllama", &[]);
    aima.run(&create)
        .failure(9)
        .stderr_has(&format!(
            "data dir {} is not usable",
            aima.data_dir().display()
        ))
        .stderr_has("help: ");
    aima.run(&["service", "list"]).failure(9);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
}

#[test]
fn bad_engine_overrides_in_the_environment_are_usage_errors() {
    let aima = Aima::new().env("AIMA_VLLM_GPU", "maybe");
    aima.run(&["model", "list"])
        .failure(2)
        .stderr_has("AIMA_VLLM_GPU must be true or false");
}

#[test]
fn empty_names_and_relative_paths_are_refused() {
    let aima = Aima::new();
    let base = ["model", "create", "--source", "local", "--repo", "tiny"];
    let empty = [&base[..], &["--name", " "]].concat();
    run_unchanged(&aima, &empty)
        .failure(2)
        .stderr_has("non-empty --name");
    let relative = [&base[..], &["--name", "m", "--path", "models/tiny"]].concat();
    run_unchanged(&aima, &relative)
        .failure(2)
        .stderr_has("must be an absolute path");
}

#[test]
fn json_errors_are_one_object_with_a_stable_code_on_stdout() {
    let (aima, model, _) = Aima::seeded();
    let cases: [(&[&str], i32, &str); 4] = [
        (&["service", "get", "svc-deadbeef"], 3, "not_found"),
        (
            &create_service_args(&model, "vllm", &["--port", "0"]),
            2,
            "usage",
        ),
        (&create_service_args(&model, "tgi", &[]), 2, "usage"),
        (
            &create_service_args(&model, "ollama", &["--port", "8000"]),
            4,
            "conflict",
        ),
    ];
    for (args, code, stable) in cases {
        let args = [args, &["--output", "json"]].concat();
        let out = run_unchanged(&aima, &args).failure(code);
        let json = out.json();
        assert_eq!(json["error"]["code"], stable, "{out}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{out}"
        );
        assert!(
            out.stderr.starts_with("error: "),
            "people still get the text\n{out}"
        );
    }
}

#[test]
fn json_storage_errors_have_their_own_code() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "").unwrap();
    let aima = Aima::at(tmp, file.join("sub"));

    let out = aima.run(&["service", "list", "-o", "json"]).failure(9);
    assert_eq!(out.json()["error"]["code"], "storage", "{out}");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let aima = Aima::new();
    aima.run(&["service"]).failure(2);
    aima.run(&["service", "frobnicate"]).failure(2);
    aima.run(&["--help"]).success();
}

#[test]
fn bad_gpus_and_memory_are_usage_errors_saying_what_is_accepted() {
    let (aima, model, _) = Aima::seeded();
    for (flag, value, says) in [
        ("--gpus", "0;1", "count=N"),
        ("--gpus", "count=0", "whole number above 0"),
        ("--gpus", "foo", "device indexes or UUIDs"),
        ("--gpus", "2x", "device indexes or UUIDs"),
        ("--gpus", "all,0", "all stands alone"),
        ("--gpus", "none,0", "none stands alone"),
        ("--memory", "lots", "64m, 2g"),
        ("--memory", "1m", "smallest container limit, 6m"),
    ] {
        let args = create_service_args(&model, "vllm", &[flag, value]);
        run_unchanged(&aima, &args)
            .failure(2)
            .stderr_has(flag)
            .stderr_has(says);
    }
}

#[test]
fn a_service_that_needs_gpus_docker_cannot_give_is_refused_before_any_container() {
    crate::support::docker::require_docker();
    let (aima, model, _) = Aima::seeded();
    let args = create_service_args(&model, "vllm", &["--gpus", "0", "--port", "18093"]);
    let created = aima
        .run(&[&args[..], &["-o", "json"]].concat())
        .success()
        .json();
    assert_eq!(created["gpus"], "0", "{created:#}");
    let id = created["id"].as_str().unwrap();
    if std::process::Command::new("nvidia-smi").output().is_ok() {
        eprintln!("skipped: this host has nvidia-smi, so a GPU start may succeed");
        return;
    }
    aima.run(&["service", "start", id])
        .failure(7)
        .stderr_has("asks for GPUs (0)")
        .stderr_has("no usable GPU path")
        .stderr_has("--gpus none");
    let instance = crate::support::containers::instance_of(aima.data_dir());
    let left = crate::support::containers::containers_with(&[&format!("aima.instance={instance}")]);
    assert!(left.is_empty(), "left: {left:?}");
}

#[test]
fn control_characters_long_names_and_huge_memory_are_usage_errors() {
    let (aima, model, _) = Aima::seeded();
    let long = "n".repeat(257);
    for (name, repo) in [
        ("new\nline", "tinyllama"),
        (long.as_str(), "tinyllama"),
        ("ok", "tiny\u{1b}llama"),
    ] {
        let args = [
            "model", "create", "--name", name, "--source", "ollama", "--repo", repo,
        ];
        run_unchanged(&aima, &args)
            .failure(2)
            .stderr_has("error: bad --");
    }
    for extra in [
        ["--memory", "18446744073709551615"],
        ["--memory", "5m"],
        ["--name", "tab\there"],
    ] {
        let args = create_service_args(&model, "vllm", &extra);
        run_unchanged(&aima, &args).failure(2).stderr_has(extra[0]);
    }
}

/// With `-o json` before the verb, a slip's JSON error still carries its `help`, as when the
/// option comes last.
#[test]
fn json_usage_errors_keep_their_help_wherever_the_global_options_are() {
    let aima = Aima::new();
    for (args, globals) in [
        (&["stop", "svc-12345678", "-o", "json"][..], "-o json"),
        (&["-o", "json", "stop", "svc-12345678"], "-o json"),
        (&["--output=json", "stop", "svc-12345678"], "--output=json"),
    ] {
        let out = aima.run(args).failure(2);
        let help = &out.json()["error"]["help"];
        let expected = format!("did you mean `aima service stop svc-12345678 {globals}`?");
        assert_eq!(help, expected.as_str(), "{args:?}: {out}");
    }
}
