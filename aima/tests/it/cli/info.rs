//! `aima info`: version, data dir, instance, the Docker endpoint (credentials masked) and what
//! answers there, and each engine setting with the layer it came from — against real Docker.

use crate::support::aima::Aima;
use crate::support::docker::require_docker;
use crate::support::snapshot::settings;

fn info_settings(aima: &Aima) -> insta::Settings {
    let mut s = settings(aima, &[]);
    s.add_filter(r"commit [0-9a-f]{12}|commit unknown", "commit [COMMIT]");
    s.add_filter(r#""commit": "[^"]+""#, r#""commit": "[COMMIT]""#);
    s.add_filter(r"\b[0-9a-f]{12}(?:[0-9a-f]{4})?\b", "[INSTANCE]");
    s.add_filter(env!("CARGO_PKG_VERSION"), "[VERSION]");
    s.add_filter(
        r"Docker [^,]+, API [0-9.]+",
        "Docker [DOCKER_VERSION], API [API]",
    );
    s.add_filter(r#""(version|api_version)": "[^"]+""#, r#""$1": "[V]""#);
    s
}

#[test]
fn info_shows_settings_and_their_sources() {
    require_docker();
    let aima = Aima::new()
        .env("AIMA_OLLAMA_IMAGE", "ollama-from-env:1")
        .env("AIMA_API_TOKEN", "s3cret-token")
        .env("AIMA_VLLM_API_KEY", "s3cret-key");
    std::fs::create_dir_all(aima.data_dir()).unwrap();
    std::fs::write(
        aima.data_dir().join("config.toml"),
        "[api]\nlisten = \"127.0.0.1:9191\"\n[engines.vllm]\nimage = \"vllm-from-file:1\"\nstart_attempts = 2\n",
    )
    .unwrap();
    let table = aima.run(&["info"]).success();
    let json = aima.run(&["info", "-o", "json"]).success();
    assert!(!table.stdout.contains("s3cret"), "{table}");
    assert!(!json.stdout.contains("s3cret"), "{json}");
    let v = json.json();
    assert_eq!(v["docker"]["reachable"], true, "{json}");
    assert_eq!(v["engines"]["vllm"]["image"]["source"], "file");
    assert_eq!(v["engines"]["ollama"]["image"]["env"], "AIMA_OLLAMA_IMAGE");
    assert_eq!(v["engines"]["vllm"]["gpu"]["env"], "AIMA_VLLM_GPU");
    assert_eq!(v["api"]["token"]["value"], "set");
    assert_eq!(v["engines"]["vllm"]["api_key"]["value"], "set");
    assert_eq!(v["engines"]["vllm"]["api_key"]["env"], "AIMA_VLLM_API_KEY");
    info_settings(&aima).bind(|| {
        insta::assert_snapshot!("info_table", table.stdout);
        insta::assert_snapshot!("info_json", json.stdout);
    });
}

#[test]
fn info_masks_docker_credentials_and_survives_docker_away() {
    let aima = Aima::new();
    let out = aima
        .run_env(
            &[("DOCKER_HOST", "tcp://admin:hunter2@127.0.0.1:1")],
            &["info", "-o", "json"],
        )
        .success();
    assert!(!out.stdout.contains("hunter2"), "{out}");
    assert!(!out.stderr.contains("hunter2"), "{out}");
    let v = out.json();
    assert_eq!(v["docker"]["endpoint"], "tcp://***@127.0.0.1:1", "{out}");
    assert_eq!(v["docker"]["reachable"], false, "{out}");
    assert!(
        v["docker"]["error"]
            .as_str()
            .unwrap()
            .contains("not reachable"),
        "{out}"
    );
}

/// Every engine setting is shown with its source, `pull`, `stop_secs`, `shm_size` and
/// `hf_token` too (the token only as set); the API token's line says where the daemon's token
/// comes from: the generated file in the data dir when none is configured.
#[test]
fn info_shows_every_setting_and_where_the_api_token_comes_from() {
    let aima = Aima::new()
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .env("HF_TOKEN", "hf_s3cret")
        .env("AIMA_VLLM_SHM_SIZE", "2g");
    std::fs::create_dir_all(aima.data_dir()).unwrap();
    std::fs::write(
        aima.data_dir().join("config.toml"),
        "[engines.vllm]\npull = \"always\"\nstop_secs = 30\n",
    )
    .unwrap();
    let json = aima.run(&["info", "-o", "json"]).success();
    let table = aima.run(&["info"]).success();
    for out in [&json, &table] {
        assert!(!out.stdout.contains("hf_s3cret"), "{out}");
    }
    let v = json.json();
    let vllm = &v["engines"]["vllm"];
    assert_eq!(
        (&vllm["pull"]["value"], &vllm["pull"]["source"]),
        (&"always".into(), &"file".into()),
        "{vllm:#}"
    );
    assert_eq!(
        (&vllm["stop_secs"]["value"], &vllm["stop_secs"]["source"]),
        (&30.into(), &"file".into()),
        "{vllm:#}"
    );
    assert_eq!(vllm["shm_size"]["value"], 2u64 << 30, "{vllm:#}");
    assert_eq!(vllm["shm_size"]["env"], "AIMA_VLLM_SHM_SIZE", "{vllm:#}");
    assert_eq!(vllm["hf_token"]["value"], "set", "{vllm:#}");
    assert_eq!(vllm["hf_token"]["env"], "HF_TOKEN", "{vllm:#}");
    assert_eq!(v["engines"]["ollama"]["pull"]["source"], "default");

    let file = aima.data_dir().join("api-token");
    assert_eq!(v["api"]["token"]["source"], "token_file", "{v:#}");
    assert_eq!(v["api"]["token_file"], file.display().to_string());
    assert!(
        table
            .stdout
            .contains(&format!("token file {}", file.display())),
        "{table}"
    );
    assert!(!table.stdout.contains("not set (default)"), "{table}");
    std::fs::write(&file, "generated\n").unwrap();
    let v = aima.run(&["info", "-o", "json"]).success().json();
    assert_eq!(v["api"]["token"]["value"], "set", "{v:#}");
    let off = aima
        .run_env(&[("AIMA_API_AUTH", "none")], &["info", "-o", "json"])
        .success()
        .json();
    assert_eq!(off["api"]["token"]["value"], "none: auth is off", "{off:#}");
    assert!(off["api"].get("token_file").is_none(), "{off:#}");
}

/// `info` says whether a daemon serves the data dir, by the test `service start` makes before
/// its warning: the data dir's `aima.sock` answers.
#[test]
fn info_says_whether_a_daemon_serves_the_data_dir() {
    let aima = Aima::new();
    let socket = aima.data_dir().join("aima.sock").display().to_string();
    let before = aima.run(&["info", "-o", "json"]).success().json();
    assert_eq!(
        before["daemon"],
        serde_json::json!({"serving": false, "socket": socket}),
        "{before:#}"
    );

    let mut daemon = crate::support::daemon::Daemon::start(&aima, &[]);
    let json = aima.run(&["info", "-o", "json"]).success().json();
    let table = aima.run(&["info"]).success();
    assert_eq!(json["daemon"]["serving"], true, "{json:#}");
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.starts_with("daemon:") && l.ends_with(&format!("serving (socket {socket})"))),
        "{table}"
    );

    daemon.signal("TERM");
    assert!(
        daemon
            .wait_exit(std::time::Duration::from_secs(20))
            .success()
    );
    let after = aima.run(&["info"]).success();
    assert!(
        after.stdout.contains("not running (no answer on "),
        "a stopped daemon's socket is gone or dead:\n{after}"
    );
}
