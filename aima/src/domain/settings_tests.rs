use super::*;

fn with_args(args: &[&str]) -> ServiceSettings {
    ServiceSettings {
        args: Some(args.iter().map(|a| (*a).to_owned()).collect()),
        ..Default::default()
    }
}

fn with_env(key: &str, value: &str) -> ServiceSettings {
    ServiceSettings {
        env: vec![EnvVar::new(key.to_owned(), value.to_owned())],
        ..Default::default()
    }
}

fn with_image(image: &str) -> ServiceSettings {
    ServiceSettings {
        image: Some(image.to_owned()),
        ..Default::default()
    }
}

#[test]
fn settings_that_break_what_aima_owns_are_refused() {
    use EngineType::*;
    let refused: Vec<(EngineType, ServiceSettings, &str)> = vec![
        (Llamacpp, with_args(&["--port", "9000"]), "listen port"),
        (Llamacpp, with_args(&["--port=9000"]), "listen port"),
        (Llamacpp, with_args(&["--host", "0.0.0.0"]), "listen host"),
        (Vllm, with_args(&["--port", "1"]), "listen port"),
        (Vllm, with_args(&["--host=::"]), "listen host"),
        (Ollama, with_env("OLLAMA_HOST", "0.0.0.0:1"), "listen address"),
        (Llamacpp, with_env("LLAMA_ARG_PORT", "1"), "listen address"),
        (Vllm, with_args(&["--model", "x"]), "sets the model"),
        (Llamacpp, with_args(&["-hf", "org/repo"]), "sets the model"),
        (Llamacpp, with_args(&["--lora", "/model/a.gguf"]), "mounts the model"),
        (Vllm, with_args(&["--tokenizer=/model"]), "mounts the model"),
        (Vllm, with_image("Vllm/Upper:latest"), "not an image reference"),
        (Vllm, with_image("a b"), "not an image reference"),
        (Vllm, with_image("x:-bad"), "not an image reference"),
        (Vllm, with_image("x@sha256:zz"), "not an image reference"),
        (Vllm, with_image(""), "not an image reference"),
        (Vllm, with_env("1ABC", "x"), "not a variable name"),
        (Vllm, with_env("A-B", "x"), "not a variable name"),
        (Vllm, with_env("", "x"), "not a variable name"),
        (Vllm, with_env("A", "x\0y"), "NUL"),
        (Vllm, with_args(&["a\0b"]), "NUL"),
        (Vllm, with_image("a\0b"), "NUL"),
        (Vllm, with_args(&["-v"; 257]), "more than the 256"),
        (
            Vllm,
            with_env("BIG", &"x".repeat(MAX_SETTINGS_BYTES)),
            "more than the 65536",
        ),
    ];
    for (engine, settings, why) in refused {
        let err = check(engine, &settings, "/model").expect_err(&format!("{settings:?}"));
        assert!(err.to_string().contains(why), "{engine} {settings:?}: {err}");
        assert!(!err.help().is_empty());
    }
}

#[test]
fn ordinary_settings_pass() {
    use EngineType::*;
    let accepted: Vec<(EngineType, ServiceSettings)> = vec![
        (Llamacpp, with_args(&["--ctx-size", "8192", "-ngl", "99"])),
        (Vllm, with_args(&["--max-model-len=8192", "--tensor-parallel-size", "2"])),
        (Ollama, with_env("OLLAMA_KEEP_ALIVE", "5m")),
        (Vllm, with_env("HF_TOKEN", "hf_x")),
        (Vllm, with_env("_lower_ok1", "")),
        (Vllm, with_image("vllm/vllm-openai:v0.6.3")),
        (Vllm, with_image("localhost:5000/engine-sim:latest")),
        (Vllm, with_image("registry.example.com/org/sub/name__x.y-z")),
        (Vllm, with_image(&format!("x@sha256:{}", "a".repeat(64)))),
        (Vllm, with_image("ghcr.io/ggml-org/llama.cpp:server")),
        (Vllm, with_args(&["--served-model-name", "models"])),
        (Vllm, with_args(&["-v"; 256])),
    ];
    for (engine, settings) in accepted {
        assert_eq!(check(engine, &settings, "/model"), Ok(()), "{settings:?}");
    }
}

#[test]
fn secret_keys_are_recognised_in_any_case() {
    for key in ["HF_TOKEN", "api_key", "MY_SECRET", "DbPassword", "KEYRING"] {
        assert!(is_secret_key(key), "{key}");
    }
    for key in ["VLLM_LOGGING_LEVEL", "OLLAMA_KEEP_ALIVE", "PATH"] {
        assert!(!is_secret_key(key), "{key}");
    }
}

#[test]
fn secrets_never_reach_debug_or_json_but_reach_the_container() {
    let settings = ServiceSettings {
        env: vec![
            EnvVar::new("HF_TOKEN".into(), "hf_s3cret".into()),
            EnvVar::new("LEVEL".into(), "INFO".into()),
        ],
        ..Default::default()
    };
    let json = serde_json::to_string(&settings).unwrap();
    assert!(!json.contains("s3cret"), "{json}");
    assert!(json.contains("\"***\"") && json.contains("INFO"), "{json}");
    assert!(!format!("{settings:?}").contains("s3cret"));
    let lines: Vec<String> = settings.env_lines().collect();
    assert_eq!(lines, ["HF_TOKEN=hf_s3cret", "LEVEL=INFO"]);
}

#[test]
fn stored_settings_round_trip_with_their_values() {
    let settings = ServiceSettings {
        image: Some("x:1".into()),
        args: Some(vec!["--a".into()]),
        env: vec![EnvVar {
            key: "K".into(),
            value: "v".into(),
            secret: true,
        }],
        shm_bytes: Some(1 << 30),
    };
    let text = serde_json::to_string(&StoredSettings::from(&settings)).unwrap();
    let back: StoredSettings = serde_json::from_str(&text).unwrap();
    assert_eq!(ServiceSettings::from(back), settings);
    let empty: StoredSettings = serde_json::from_str("{}").unwrap();
    assert!(ServiceSettings::from(empty).is_empty());
}
