//! docs/configuration.md against the code: its `config.toml` example holds every key the file
//! may have (the fields of the config module's file structs, and every engine setting of
//! `config::engine_settings::ALL`) and aima accepts it, every setting
//! `aima info -o json` shows comes from that file when the file sets it, and its table of
//! environment variables lists exactly the variables aima reads.

use std::collections::BTreeSet;
use std::path::Path;

use aima::config::engine_settings::{self, Var};
use regex::Regex;
use serde_json::Value;

use super::markdown::{blocks, code_spans, read, root, section, table_rows};
use crate::support::aima::Aima;
use crate::support::run::Outcome;

const DOC: &str = "docs/configuration.md";

/// The `config.toml` example of the doc, parsed.
fn example() -> (String, toml::Table) {
    let text = read(DOC);
    let found = blocks(section(&text, "The configuration file"), "toml");
    let [block] = &found[..] else {
        panic!("{DOC}: expected one ```toml block under \"The configuration file\"");
    };
    let body = block.body.join("\n");
    let table = body
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{DOC}: the example is not TOML: {e}"));
    (body, table)
}

/// The field names of `struct NAME { … }` in `file` (under aima/src), as its source spells them.
fn fields_of(file: &str, name: &str) -> Vec<String> {
    let path = root().join("aima/src").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(&format!("struct {name} {{"))
        .unwrap_or_else(|| panic!("no struct {name} in {}", path.display()));
    let body = &text[start..];
    let body = &body[..body.find("\n}").unwrap()];
    let field = Regex::new(r"(?m)^\s+(?:pub(?:\([a-z]+\))? )?([a-z_]+): ").unwrap();
    field.captures_iter(body).map(|c| c[1].to_owned()).collect()
}

#[test]
fn the_config_example_has_every_key_of_the_file() {
    let (_, example) = example();
    let sections = [
        ("api", "config/mod.rs", "FileApi"),
        ("models", "config/mod.rs", "FileModels"),
        ("runtime", "config/runtime.rs", "FileRuntime"),
        ("disk", "config/disk.rs", "FileDisk"),
        ("supervision", "config/supervision.rs", "FileSupervision"),
    ];
    let mut missing = Vec::new();
    // The engine settings are the code's own table.
    let engine = example
        .get("engines")
        .and_then(|e| e.get("vllm"))
        .and_then(|v| v.as_table());
    for setting in engine_settings::ALL {
        if !engine.is_some_and(|t| t.contains_key(setting.key)) {
            missing.push(format!("[engines.vllm] {}", setting.key));
        }
    }
    for (at, file, name) in sections {
        let table = at
            .split('.')
            .try_fold(&example, |t, key| t.get(key)?.as_table());
        for field in fields_of(file, name) {
            if !table.is_some_and(|t| t.contains_key(&field)) {
                missing.push(format!("[{at}] {field}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{DOC}'s config.toml example lacks keys the config module reads: {missing:?}"
    );
}

#[test]
fn aima_accepts_the_config_example_and_takes_every_shown_setting_from_it() {
    let (body, example) = example();
    let aima = Aima::new();
    std::fs::create_dir_all(aima.data_dir()).unwrap();
    std::fs::write(aima.data_dir().join("config.toml"), &body).unwrap();
    // Docker is not needed: `info` shows it unreachable and goes on. The file alone decides, so
    // the test's usual `AIMA_VLLM_GPU=false` is left out.
    let mut cmd = aima.command(&["info", "-o", "json"]);
    cmd.env_remove("AIMA_VLLM_GPU")
        .env("DOCKER_HOST", "tcp://127.0.0.1:1");
    let out = Outcome::of(
        assert_cmd::Command::from_std(cmd),
        "aima info -o json".into(),
    )
    .success();
    let info = out.json();
    let mut shown: Vec<(String, &Value)> = vec![
        ("api.listen".into(), &info["api"]["listen"]),
        ("api.token".into(), &info["api"]["token"]),
        ("runtime.kind".into(), &info["runtime"]),
    ];
    for (key, setting) in info["disk"].as_object().unwrap() {
        shown.push((format!("disk.{key}"), setting));
    }
    for (key, setting) in info["supervision"].as_object().unwrap() {
        shown.push((format!("supervision.{key}"), setting));
    }
    for (key, setting) in info["engines"]["vllm"].as_object().unwrap() {
        shown.push((format!("engines.vllm.{key}"), setting));
    }
    let mut problems = Vec::new();
    for (key, setting) in shown {
        let in_example = has(&example, &key);
        if !in_example {
            problems.push(format!(
                "`aima info` shows {key}, the example does not set it"
            ));
        } else if setting["source"] != "file" {
            problems.push(format!("{key} set in the example shows as {setting}"));
        }
    }
    assert!(problems.is_empty(), "{}\n{out}", problems.join("\n"));
}

/// Whether the dotted `key` (`engines.vllm.image`) is set in `table`.
fn has(table: &toml::Table, key: &str) -> bool {
    let (path, last) = key.rsplit_once('.').unwrap_or(("", key));
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(table, |t, part| t.get(part)?.as_table())
        .is_some_and(|t| t.contains_key(last))
}

/// Every variable aima reads: the `"AIMA_…"` literals of aima/src and build.rs (an engine's
/// name in them stands for any engine, `AIMA_<ENGINE>_…`), the `{prefix}_…` names the config
/// module builds per engine, and the outside variables `Env::capture` takes. `AIMA_COMMIT` is
/// the build script's message to the compiler, not a setting.
fn read_by_the_code() -> BTreeSet<String> {
    let literal = Regex::new(r#""(AIMA_[A-Z0-9_]+)"#).unwrap();
    let per_engine = Regex::new(r#"\{prefix\}_([A-Z0-9_]+)"#).unwrap();
    let engine = Regex::new(r"^AIMA_(VLLM|OLLAMA|LLAMACPP)_").unwrap();
    let mut found = BTreeSet::new();
    let mut files = vec![root().join("aima/build.rs")];
    rust_files(&root().join("aima/src"), &mut files);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for c in literal.captures_iter(&text) {
            found.insert(engine.replace(&c[1], "AIMA_<ENGINE>_").into_owned());
        }
        for c in per_engine.captures_iter(&text) {
            found.insert(format!("AIMA_<ENGINE>_{}", &c[1]));
        }
    }
    found.remove("AIMA_COMMIT");
    for setting in engine_settings::ALL {
        match setting.var {
            Var::Engine(suffix) => found.insert(format!("AIMA_<ENGINE>_{suffix}")),
            Var::Shared(name) => found.insert(name.to_owned()),
            Var::None => false,
        };
    }
    let env = std::fs::read_to_string(root().join("aima/src/config/env.rs")).unwrap();
    let outside = env
        .lines()
        .find(|l| l.contains(".contains(&k.as_str())"))
        .expect("Env::capture's list of outside variables");
    let quoted = Regex::new(r#""([A-Z_]+)""#).unwrap();
    found.extend(quoted.captures_iter(outside).map(|c| c[1].to_owned()));
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_variable_table_lists_exactly_what_aima_reads() {
    let text = read(DOC);
    let name = Regex::new(r"^[A-Z][A-Z0-9_<>]*$").unwrap();
    let documented: BTreeSet<String> = table_rows(section(&text, "Environment variables"))
        .iter()
        .flat_map(|row| code_spans(&row[0]))
        .filter(|span| name.is_match(span))
        .map(str::to_owned)
        .collect();
    let read = read_by_the_code();
    let undocumented: Vec<_> = read.difference(&documented).collect();
    let unread: Vec<_> = documented.difference(&read).collect();
    assert!(
        undocumented.is_empty() && unread.is_empty(),
        "{DOC}'s table of environment variables and the code disagree\n\
         read by aima, not in the table: {undocumented:?}\n\
         in the table, never read by aima: {unread:?}"
    );
}
