//! The ```` ```console ```` examples of README.md and docs/*.md, run as shown against the binary
//! and the engine simulator (standing in for vLLM), each block on a fresh data dir.
//!
//! A block is a session: `$ aima …` lines (`$ VAR=value aima …` sets a variable for one
//! command), each followed by the output it shows (stdout and stderr as a terminal interleaves
//! them). A command ending in `# exit N` (a shell comment, so
//! it can still be pasted) must exit N, any other 0. In the output, `[..]` matches any text
//! within a line and a line `...` any number of lines. Ids (`svc-1a2b3c4d`, `model-…`) stand
//! for whatever id takes their place the first time they appear, and then for that id only, in
//! output and in later commands. What differs between a reader's machine and the test's is
//! written as the reader sees it: the default port 8000 (the test gives vLLM a free port in its
//! place), the default vLLM image (the test's is the simulator's), the data dir `~/.aima` and
//! the user who created and started things, `alice` (the test's is whoever runs it).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use regex::Regex;

use super::markdown::{Block, blocks, files, root};
use crate::support::lab::Lab;
use crate::support::ports::free_port;
use crate::support::run::Outcome;

/// The directory holding the `aima` binary of this build, put first on the commands' `PATH`.
const AIMA: &str = env!("CARGO_BIN_EXE_aima");
const DOC_PORT: &str = "8000";
const DOC_IMAGE: &str = "vllm/vllm-openai:latest";
const DOC_DATA_DIR: &str = "~/.aima";
const DOC_USER: &str = "alice";

/// One `$ aima …` line and what it shows.
struct Step {
    line: usize,
    command: String,
    exit: i32,
    expected: Vec<String>,
}

fn steps(file: &str, block: &Block) -> Vec<Step> {
    let exit_comment = Regex::new(r"\s+# exit (\d+)$").unwrap();
    let runs_aima = Regex::new(r"^(?:[A-Z_][A-Z0-9_]*=\S* )*aima ").unwrap();
    let mut steps: Vec<Step> = Vec::new();
    for (at, line) in block.body.iter().enumerate() {
        let line_no = block.line + 1 + at;
        if let Some(command) = line.strip_prefix("$ ") {
            assert!(
                runs_aima.is_match(command),
                "{file}:{line_no}: console examples run aima only: {command:?}"
            );
            let exit = exit_comment
                .captures(command)
                .map_or(0, |c| c[1].parse().unwrap());
            steps.push(Step {
                line: line_no,
                command: exit_comment.replace(command, "").into_owned(),
                exit,
                expected: Vec::new(),
            });
        } else {
            let Some(step) = steps.last_mut() else {
                panic!("{file}:{line_no}: a console block begins with `$ aima …`");
            };
            step.expected.push(line.trim_end().to_owned());
        }
    }
    steps
}

/// Ids of the doc bound to the ids the run produced.
#[derive(Clone, Default)]
struct Ids(BTreeMap<String, String>);

fn id_pattern() -> Regex {
    Regex::new(r"\b(?:svc|model)-[0-9a-f]{8}\b").unwrap()
}

impl Ids {
    /// `text` with every bound doc id replaced by the run's.
    fn substitute(&self, text: &str) -> String {
        id_pattern()
            .replace_all(text, |c: &regex::Captures<'_>| {
                self.0
                    .get(&c[0])
                    .cloned()
                    .unwrap_or_else(|| c[0].to_owned())
            })
            .into_owned()
    }

    /// Whether `actual` is what the doc's `expected` line shows, binding the ids it meets first.
    fn line_matches(&mut self, expected: &str, actual: &str) -> bool {
        let token = Regex::new(r"\[\.\.\]|\b(?:svc|model)-[0-9a-f]{8}\b").unwrap();
        let mut pattern = String::from("^");
        let mut unbound = Vec::new();
        let mut last = 0;
        for m in token.find_iter(expected) {
            pattern.push_str(&regex::escape(&expected[last..m.start()]));
            match (m.as_str(), self.0.get(m.as_str())) {
                ("[..]", _) => pattern.push_str(".*?"),
                (_, Some(bound)) => pattern.push_str(&regex::escape(bound)),
                (doc_id, None) => {
                    let prefix = doc_id.split('-').next().unwrap();
                    pattern.push_str(&format!("({prefix}-[0-9a-f]{{8}})"));
                    unbound.push(doc_id.to_owned());
                }
            }
            last = m.end();
        }
        pattern.push_str(&regex::escape(&expected[last..]));
        pattern.push('$');
        let Some(found) = Regex::new(&pattern).unwrap().captures(actual) else {
            return false;
        };
        for (doc_id, got) in unbound.iter().zip(found.iter().skip(1)) {
            let got = got.unwrap().as_str();
            let taken = self.0.iter().any(|(d, a)| a == got && d != doc_id);
            match self.0.get(doc_id) {
                Some(bound) if bound != got => return false,
                _ if taken => return false,
                _ => {
                    self.0.insert(doc_id.clone(), got.to_owned());
                }
            }
        }
        true
    }

    /// Whether the lines match, `...` standing for any number of lines; binds ids only on a
    /// match.
    fn lines_match(&mut self, expected: &[String], actual: &[&str]) -> bool {
        let Some((first, rest)) = expected.split_first() else {
            return actual.is_empty();
        };
        if first == "..." {
            return (0..=actual.len())
                .any(|skip| self.try_with(|ids| ids.lines_match(rest, &actual[skip..])));
        }
        let Some((line, more)) = actual.split_first() else {
            return false;
        };
        self.try_with(|ids| ids.line_matches(first, line) && ids.lines_match(rest, more))
    }

    fn try_with(&mut self, attempt: impl FnOnce(&mut Ids) -> bool) -> bool {
        let mut trial = self.clone();
        let ok = attempt(&mut trial);
        if ok {
            *self = trial;
        }
        ok
    }
}

/// Runs one block on a fresh data dir; returns what went wrong, if anything.
fn run_block(file: &str, block: &Block) -> Vec<String> {
    let port = free_port().to_string();
    let lab = Lab::with_env(&[], &[("AIMA_VLLM_PORT", &port)]);
    let sim_image = Regex::new(r"aima-engine-sim:[0-9a-f]+").unwrap();
    let data_dir = lab.data_dir().display().to_string();
    let bin_dir = Path::new(AIMA).parent().unwrap().display().to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let own_port = Regex::new(&format!(r"\b{port}\b")).unwrap();
    let doc_port = Regex::new(&format!(r"\b{DOC_PORT}\b")).unwrap();
    let me = Command::new("id").arg("-un").output().unwrap();
    let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
    let own_user = Regex::new(&format!(
        r#"((?:created|started)(?: by:\s+|_by": ")){}\b"#,
        regex::escape(&me)
    ))
    .unwrap();
    let mut ids = Ids::default();
    for step in steps(file, block) {
        let command = doc_port
            .replace_all(&ids.substitute(&step.command), port.as_str())
            .into_owned();
        let template = lab.command(&[]);
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!("exec 2>&1; {command}"));
        for (key, value) in template.get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd.env("PATH", &path).current_dir(root());
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(std::time::Duration::from_secs(180));
        let out = Outcome::of(cmd, command.clone());
        let shown = sim_image.replace_all(&out.stdout, DOC_IMAGE);
        let shown = own_port
            .replace_all(&shown, DOC_PORT)
            .replace(&data_dir, DOC_DATA_DIR);
        let shown = own_user.replace_all(&shown, format!("${{1}}{DOC_USER}"));
        let actual: Vec<&str> = shown.lines().map(str::trim_end).collect();
        let code_ok = out.code == Some(step.exit);
        if !(code_ok && ids.lines_match(&step.expected, &actual)) {
            return vec![format!(
                "{file}:{}: `{}` (exit {}) shows otherwise\n--- the doc shows:\n{}\n--- \
                 aima shows (as the doc would write it):\n{}\n{out}",
                step.line,
                step.command,
                step.exit,
                step.expected.join("\n"),
                actual.join("\n"),
            )];
        }
    }
    Vec::new()
}

fn console_blocks() -> Vec<(String, Block)> {
    files()
        .into_iter()
        .flat_map(|path| {
            let rel = path.strip_prefix(root()).unwrap().display().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            blocks(&text, "console")
                .into_iter()
                .map(move |b| (rel.clone(), b))
        })
        .collect()
}

#[test]
fn console_examples_in_the_docs_run_as_shown() {
    let blocks = console_blocks();
    assert!(
        !blocks.is_empty(),
        "no ```console block in README.md or docs/"
    );
    for (file, block) in &blocks {
        println!("{file}:{}: a console example", block.line);
    }
    let failures: Vec<String> = blocks
        .iter()
        .flat_map(|(file, block)| run_block(file, block))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} console examples disagree with aima:\n\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_readme_quickstart_is_a_whole_first_session() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands: Vec<String> = blocks(&readme, "console")
        .iter()
        .flat_map(|b| steps("README.md", b))
        .map(|s| s.command)
        .collect();
    for wanted in [
        "aima model create",
        "aima service create",
        "aima service start",
        "aima inference chat",
        "aima service logs",
        "aima service stop",
    ] {
        assert!(
            commands.iter().any(|c| c.starts_with(wanted)),
            "README.md's tested quickstart lacks `{wanted} …`; it has {commands:?}"
        );
    }
}
