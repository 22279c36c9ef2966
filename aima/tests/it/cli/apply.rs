//! `aima apply` and `aima export` as a process: plans as people read them (snapshots), a second
//! apply that changes nothing, an export that applies back with no change, secrets that never
//! reach the output, and an invalid file that changes nothing.

use crate::support::aima::Aima;
use crate::support::run::Outcome;
use crate::support::snapshot::settings;

/// Two models, two services of one engine with different arguments; nothing is started, so no
/// Docker is needed and the ports are only reserved in the store.
const FLEET: &str = r#"
[models.qwen]
source = "huggingface"
repo = "Qwen/Qwen2-0.5B"

[models.tiny]
source = "ollama"
repo = "tinyllama"

[services.qwen-short]
model = "qwen"
engine = "vllm"
port = 18631
args = ["--max-model-len", "2048"]
state = "stopped"

[services.qwen-long]
model = "qwen"
engine = "vllm"
port = 18632
args = ["--max-model-len", "8192"]
env = { VLLM_LOGGING_LEVEL = "INFO", HF_TOKEN = { from_env = "APPLY_TEST_HF" } }
memory = "16g"
restart = "on-failure:5"
state = "stopped"
"#;

const SECRET: &str = "hf_apply_s3cret";

fn write(aima: &Aima, text: &str) -> String {
    let path = aima.data_dir().with_file_name("fleet.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn apply(aima: &Aima, args: &[&str]) -> Outcome {
    aima.run_env(&[("APPLY_TEST_HF", SECRET)], args)
}

/// `aima export | aima apply -f - --dry-run ARGS`.
fn export_then_apply(aima: &Aima, args: &[&str]) -> Outcome {
    let exported = aima.run(&["export"]).success();
    let mut all = vec!["apply", "-f", "-", "--dry-run"];
    all.extend_from_slice(args);
    let mut cmd = assert_cmd::Command::from_std(aima.command(&all));
    cmd.write_stdin(exported.stdout.clone());
    Outcome::of(cmd, format!("aima export | aima {}", all.join(" ")))
}

#[test]
fn a_plan_is_shown_carried_out_and_a_second_apply_changes_nothing() {
    let aima = Aima::new();
    let file = write(&aima, FLEET);
    let dry = apply(&aima, &["apply", "-f", &file, "--dry-run"]).success();
    assert!(
        aima.run(&["service", "list", "-q"])
            .success()
            .stdout
            .is_empty()
    );
    let done = apply(&aima, &["apply", "-f", &file]).success();
    let again = apply(&aima, &["apply", "-f", &file]).success();
    let changed = write(
        &aima,
        &FLEET
            .replace("16g", "8g")
            .replace("\"8192\"", "\"16384\"")
            .replace("VLLM_LOGGING_LEVEL = \"INFO\", ", ""),
    );
    let update = apply(&aima, &["apply", "-f", &changed, "--dry-run"]).success();
    let only_tiny = write(
        &aima,
        "[models.tiny]\nsource = \"ollama\"\nrepo = \"tinyllama\"\n",
    );
    let prune = apply(&aima, &["apply", "-f", &only_tiny, "--dry-run", "--prune"]).success();
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("apply_plan_create", dry.stdout.replace(&file, "fleet.toml"));
        insta::assert_snapshot!(
            "apply_done",
            format!("{}{}", done.stderr, done.stdout).replace(&file, "fleet.toml")
        );
        insta::assert_snapshot!("apply_again", again.stdout.replace(&file, "fleet.toml"));
        insta::assert_snapshot!(
            "apply_plan_update",
            update.stdout.replace(&changed, "fleet.toml")
        );
        insta::assert_snapshot!(
            "apply_plan_prune",
            prune.stdout.replace(&only_tiny, "fleet.toml")
        );
    });
    for shown in [&dry, &done, &again, &update] {
        let printed = format!("{}{}", shown.stdout, shown.stderr);
        assert!(!printed.contains(SECRET), "{shown}");
    }
    let got = aima
        .run(&["service", "get", "qwen-long", "-o", "json"])
        .success();
    assert!(!got.stdout.contains(SECRET), "{got}");
    let env = got.json()["settings"]["env"].clone();
    let token = env
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "HF_TOKEN");
    assert_eq!(token.unwrap()["value"], "***", "{got}");
}

#[test]
fn an_export_applied_again_shows_no_change_and_holds_no_secret() {
    let aima = Aima::new();
    let file = write(&aima, FLEET);
    apply(&aima, &["apply", "-f", &file]).success();
    let exported = aima.run(&["export"]).success();
    assert!(!exported.stdout.contains(SECRET), "{exported}");
    assert!(exported.stdout.contains("stored = true"), "{exported}");
    let back = export_then_apply(&aima, &["--prune"]).success();
    assert!(back.stdout.starts_with("no change"), "{back}");
    let json = export_then_apply(&aima, &["-o", "json"]).success();
    assert_eq!(json.json()["changes"], false, "{json}");
    let as_toml = aima.run(&["export", "-o", "toml"]).success();
    assert_eq!(as_toml.stdout, exported.stdout);
    aima.run(&["service", "list", "-o", "toml"])
        .failure(2)
        .stderr_has("--output toml is for `aima export` only");
    let as_json = aima.run(&["export", "-o", "json"]).success();
    assert_eq!(
        as_json.json()["services"]["qwen-long"]["memory"],
        "16g",
        "{as_json}"
    );
}

#[test]
fn an_invalid_file_names_its_line_and_key_and_changes_nothing() {
    let aima = Aima::new();
    let bad = FLEET.replace("memory = \"16g\"", "memory = \"lots\"");
    let file = write(&aima, &bad);
    let out = apply(&aima, &["apply", "-f", &file]).failure(2);
    assert!(out.stderr.contains(&format!("{file}, line ")), "{out}");
    assert!(
        out.stderr
            .contains("services.qwen-long: bad --memory \"lots\""),
        "{out}"
    );
    let typo = write(
        &aima,
        &FLEET.replace("state = \"stopped\"\n\n", "stat = \"stopped\"\n\n"),
    );
    let out = apply(&aima, &["apply", "-f", &typo]).failure(2);
    assert!(out.stderr.contains("line 15"), "{out}");
    let models = aima.run(&["model", "list", "-o", "json"]).success();
    assert_eq!(models.json()["items"], serde_json::json!([]), "{models}");
}
