use super::*;
use crate::domain::{EnvVar, ServiceSettings};

fn config() -> ServiceConfig {
    ServiceConfig {
        name: "a".into(),
        port: HostPort::new(8000).unwrap(),
        bind: "127.0.0.1".parse().unwrap(),
        gpus: None,
        memory_bytes: None,
        restart: RestartPolicy::No,
        settings: ServiceSettings {
            env: vec![EnvVar::new("HF_TOKEN".into(), "one".into())],
            ..Default::default()
        },
    }
}

#[test]
fn the_same_configuration_has_no_changes() {
    assert_eq!(diff(&config(), &config()), []);
}

#[test]
fn each_changed_field_shows_old_and_new_and_secrets_stay_masked() {
    let old = config();
    let mut new = config();
    new.port = HostPort::new(8001).unwrap();
    new.memory_bytes = Some(2 << 30);
    new.settings.args = Some(vec!["--ctx-size".into(), "8192".into()]);
    new.settings.env = vec![
        EnvVar::new("HF_TOKEN".into(), "two".into()),
        EnvVar::new("LEVEL".into(), "INFO".into()),
    ];
    let shown: Vec<String> = diff(&old, &new)
        .iter()
        .map(|c| format!("{}: {} -> {}", c.field, c.old, c.new))
        .collect();
    assert_eq!(
        shown,
        [
            "port: 8000 -> 8001",
            "memory: default -> 2g",
            "args: default -> [\"--ctx-size\", \"8192\"]",
            "env.HF_TOKEN: *** (another value) -> ***",
            "env.LEVEL: unset -> INFO",
        ]
    );
}
