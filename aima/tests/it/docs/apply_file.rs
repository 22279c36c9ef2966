//! The complete example of docs/apply.md is a file aima applies as the page says: a plan of
//! creates, then the same file again changes nothing.

use super::markdown::{blocks, read};
use crate::support::aima::Aima;

#[test]
fn the_complete_apply_example_applies_and_applies_again_without_change() {
    let text = read("docs/apply.md");
    let section = text
        .split("### A complete example")
        .nth(1)
        .expect("docs/apply.md has a complete example");
    let example = blocks(section, "toml")
        .into_iter()
        .next()
        .expect("a toml block under the complete example");
    let aima = Aima::new();
    let file = aima.data_dir().with_file_name("fleet.toml");
    std::fs::write(&file, example.body.join("\n")).unwrap();
    let file = file.to_str().unwrap();
    let env = [("HF_TOKEN", "hf_docs_example")];
    let plan = aima
        .run_env(&env, &["apply", "-f", file, "--dry-run"])
        .success();
    for step in [
        "+ create model qwen",
        "+ create service qwen-long",
        "+ create service tiny-chat",
    ] {
        assert!(plan.stdout.contains(step), "{plan}");
    }
    aima.run_env(&env, &["apply", "-f", file]).success();
    let again = aima.run_env(&env, &["apply", "-f", file]).success();
    assert!(again.stdout.starts_with("no change"), "{again}");
    let shown = aima.run(&["service", "get", "qwen-long"]).success();
    let token = shown
        .stdout
        .lines()
        .find(|l| l.starts_with("env.HF_TOKEN:"));
    assert!(
        token.is_some_and(|l| l.ends_with(" *** (service)")),
        "{shown}"
    );
    assert!(!shown.stdout.contains("hf_docs_example"), "{shown}");
}
