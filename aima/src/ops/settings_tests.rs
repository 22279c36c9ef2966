use super::*;

fn req() -> SettingsRequest {
    SettingsRequest::default()
}

#[test]
fn a_request_lays_over_the_base_and_env_keys_are_replaced() {
    let base = merged(
        EngineType::Llamacpp,
        &ServiceSettings::default(),
        &SettingsRequest {
            image: Some("x:1".into()),
            args: Some(vec!["--ctx-size".into(), "4096".into()]),
            env: vec![("A".into(), "1".into()), ("API_KEY".into(), "k".into())],
            ..req()
        },
    )
    .unwrap();
    let next = merged(
        EngineType::Llamacpp,
        &base,
        &SettingsRequest {
            env: vec![("A".into(), "2".into())],
            shm_size: Some("1g".into()),
            ..req()
        },
    )
    .unwrap();
    assert_eq!(next.image.as_deref(), Some("x:1"));
    assert_eq!(next.args, base.args);
    assert_eq!(next.shm_bytes, Some(1 << 30));
    let env: Vec<String> = next.env.iter().map(|v| format!("{v:?}")).collect();
    assert_eq!(env, ["API_KEY=***", "A=2"]);
}

#[test]
fn a_refused_setting_is_a_usage_error_with_help() {
    let err = merged(
        EngineType::Vllm,
        &ServiceSettings::default(),
        &SettingsRequest {
            args: Some(vec!["--port".into(), "1".into()]),
            ..req()
        },
    )
    .unwrap_err();
    assert_eq!(err.code.exit_code(), 2);
    assert!(err.message.contains("--arg \"--port\""), "{}", err.message);
    assert!(err.help.is_some());
    let bad_env = parse_env_pair("HF_TOKEN:hf_s3cret").unwrap_err();
    assert_eq!(bad_env.code.exit_code(), 2);
    assert!(bad_env.message.contains("HF_TOKEN"), "{}", bad_env.message);
    assert!(
        !bad_env.to_string().contains("s3cret"),
        "{}",
        bad_env.message
    );
    assert!(
        !format!(
            "{:?}",
            SettingsRequest {
                env: vec![("A".into(), "s3cret".into())],
                ..req()
            }
        )
        .contains("s3cret")
    );
}

#[test]
fn env_file_values_are_all_secret_and_errors_name_the_line_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("engine.env");
    std::fs::write(&path, "# comment\n\nLEVEL=INFO\nPLAIN=a=b\n").unwrap();
    let vars = read_env_file(&path).unwrap();
    assert_eq!(vars.len(), 2);
    assert!(vars.iter().all(|v| v.secret));
    assert_eq!(vars[1].value, "a=b");
    std::fs::write(&path, "A=1\nhunter2-value\n").unwrap();
    let err = read_env_file(&path).unwrap_err();
    assert!(err.message.contains("line 2"), "{}", err.message);
    assert!(!err.to_string().contains("hunter2"));
    let missing = read_env_file(&dir.path().join("nope")).unwrap_err();
    assert_eq!(missing.code.exit_code(), 2);
}

#[test]
fn effective_settings_name_their_sources() {
    let dir = tempfile::tempdir().unwrap();
    let file = "[engines.vllm]\nextra_args = [\"--enforce-eager\"]\n";
    std::fs::write(dir.path().join("config.toml"), file).unwrap();
    let config = Config::load(dir.path(), crate::config::Env::default()).unwrap();
    let settings = ServiceSettings {
        image: Some("x:1".into()),
        env: vec![EnvVar::new("HF_TOKEN".into(), "hf_s3cret".into())],
        ..Default::default()
    };
    let rows = effective(&config, EngineType::Vllm, &settings);
    let shown: Vec<(String, String)> = effective_lines(&rows);
    assert_eq!(
        shown,
        [
            ("image".to_owned(), "x:1 (service)".to_owned()),
            (
                "args".to_owned(),
                "--enforce-eager (config file)".to_owned()
            ),
            ("env.HF_TOKEN".to_owned(), "*** (service)".to_owned()),
            ("shm_size".to_owned(), "4g (default)".to_owned()),
        ]
    );
}
