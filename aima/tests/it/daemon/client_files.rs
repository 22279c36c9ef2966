//! `apply`, `export`, `quota` and `info` through a daemon (`--host`): the same stdout, JSON
//! and exit code as in-process, a failed apply step included. A real apply runs on twin data
//! dirs (one in-process, one through the socket) so both start from the same store.

use std::path::{Path, PathBuf};

use super::client::Ways;
use crate::support::aima::Aima;
use crate::support::port_blocker::PortBlocker;
use crate::support::ports::free_port;
use crate::support::run::Outcome;

/// A model and a service on `port`, in the state `state`.
fn apply_file(dir: &Path, port: u16, state: &str) -> PathBuf {
    let path = dir.join(format!("apply-{state}.toml"));
    let text = format!(
        "[models.m1]\nsource = \"ollama\"\nrepo = \"tinyllama\"\n\n\
         [services.s1]\nmodel = \"m1\"\nengine = \"ollama\"\nport = {port}\nstate = \"{state}\"\n"
    );
    std::fs::write(&path, text).expect("write the apply file");
    path
}

/// The same command in-process on `local` and through the socket of `twin`'s daemon: the
/// same exit code and stdout, but for the ids each data dir gave its records.
#[track_caller]
fn same_on_twins(local: &Ways, twin: &Ways, args: &[&str]) -> Outcome {
    let here = local.local(args);
    let there = twin.via_socket(args);
    let ids = regex::Regex::new("(svc|model)-[0-9a-f]{8}").unwrap();
    let shown = |out: &Outcome| (out.code, ids.replace_all(&out.stdout, "$1-ID").into_owned());
    assert_eq!(
        shown(&there),
        shown(&here),
        "through the daemon:\n{there}\nin-process:\n{here}"
    );
    here
}

/// The labels of `info`'s detail rows (`label: value`), before its tables.
fn info_labels(info: &Outcome) -> Vec<String> {
    info.stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn apply_export_quota_and_info_through_the_daemon_match_the_in_process_cli() {
    let config = "[quota.user.bob]\nmax_running = 2\nports = \"8100-8199\"\n";
    let with_quota = || {
        let aima = Aima::new();
        std::fs::create_dir_all(aima.data_dir()).unwrap();
        std::fs::write(aima.data_dir().join("config.toml"), config).unwrap();
        Ways::new(aima)
    };
    let (ways, twin) = (with_quota(), with_quota());
    let dir = ways.aima.data_dir().parent().unwrap();
    let file = apply_file(dir, free_port(), "stopped");
    let file = file.to_str().unwrap();
    for dry_run in [vec!["--dry-run"], vec!["--dry-run", "-o", "json"]] {
        let args = [&["apply", "-f", file], dry_run.as_slice()].concat();
        let planned = ways.same_everywhere(&args).success();
        assert!(planned.stdout.contains("s1"), "{planned}");
    }
    let applied = same_on_twins(&ways, &twin, &["apply", "-f", file, "-o", "json"]).success();
    assert_eq!(applied.json()["outcome"][1]["result"], "done", "{applied}");
    let again = ways.same_everywhere(&["apply", "-f", file]).success();
    assert!(again.stdout.starts_with("no change"), "{again}");
    let text = std::fs::read_to_string(file).unwrap();
    let piped = assert_cmd::Command::from_std(ways.aima.command(&[
        "--host",
        &ways.socket(),
        "apply",
        "-f",
        "-",
    ]))
    .write_stdin(text)
    .output()
    .unwrap();
    assert_eq!(
        (piped.status.code(), String::from_utf8_lossy(&piped.stdout)),
        (
            Some(0),
            "no change: the data dir is as <stdin> describes it\n".into()
        ),
        "stderr: {}",
        String::from_utf8_lossy(&piped.stderr)
    );
    for args in [
        vec!["export"],
        vec!["export", "-o", "json"],
        vec!["quota", "bob"],
        vec!["quota", "bob", "-o", "json"],
        vec!["quota", "nobody-here"],
    ] {
        ways.same_everywhere(&args).success();
    }
    // The caller's own quota: the socket knows the caller as the in-process CLI does.
    same_on_twins(&ways, &ways, &["quota", "-o", "json"]).success();
    let exported = same_on_twins(&ways, &twin, &["export"]).success();
    assert!(exported.stdout.contains("[services.s1]"), "{exported}");
    let here = ways.local(&["info"]).success();
    for there in [ways.via_socket(&["info"]), ways.via_tcp(&["info"])] {
        let there = there.success();
        assert_eq!(info_labels(&there), info_labels(&here), "{there}\n{here}");
        assert!(there.stdout.contains("ENGINE"), "{there}");
    }
    assert!(
        info_labels(&here).contains(&"data dir".to_owned()),
        "{here}"
    );
}

#[test]
fn a_failed_apply_step_exits_as_in_process_through_the_daemon() {
    let (ways, twin) = (Ways::new(Aima::new()), Ways::new(Aima::new()));
    let port = free_port();
    let _holder = PortBlocker::python(port);
    let dir = ways.aima.data_dir().parent().unwrap();
    let file = apply_file(dir, port, "running");
    let file = file.to_str().unwrap();
    let failed = same_on_twins(&ways, &twin, &["apply", "-f", file]).failure(5);
    assert!(
        failed.stdout.contains("failed (exit 5): start service s1"),
        "{failed}"
    );
    let args = ["apply", "-f", file, "--fail-fast", "-o", "json"];
    let json = same_on_twins(&ways, &twin, &args).failure(5).json();
    assert_eq!(json["outcome"][0]["exit_code"], 5, "{json:#}");
}
