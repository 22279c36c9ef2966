//! A data dir on a small tmpfs that fills up: every command class answers with the disk-full
//! error (exit 11, code `disk_full`, the path and its free space), and once room is back the
//! store passes SQLite's integrity check and holds every record made before.

use serde_json::Value;

use crate::support::aima::Aima;
use crate::support::daemon::integrity_ok;
use crate::support::run::Outcome;
use crate::support::setup::{create_model_args, create_service_args};
use crate::support::tmpfs::Tmpfs;

/// What the data dir held before the disk filled: model ids, and service ids with their status.
fn records(aima: &Aima) -> (Vec<Value>, Vec<(Value, Value)>) {
    let models = aima.run(&["model", "list", "-o", "json"]).success().json();
    let services = aima
        .run(&["service", "list", "-o", "json"])
        .success()
        .json();
    let models = models["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    let services = services["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].clone(), s["status"].clone()))
        .collect();
    (models, services)
}

/// `args -o json` fails with exit 11 and the disk-full error naming the data dir, its free
/// space and `detail`.
#[track_caller]
fn refused(aima: &Aima, env: &[(&str, &str)], args: &[&str], detail: &str) -> Outcome {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let out = aima.run_env(env, &args).failure(11);
    let error = &out.json()["error"];
    let message = error["message"].as_str().unwrap_or_default();
    assert_eq!(error["code"], "disk_full", "{out}");
    assert!(
        message.contains(&aima.data_dir().display().to_string()),
        "the message names the data dir\n{out}"
    );
    assert!(
        message.contains(" free"),
        "the message gives the free space\n{out}"
    );
    assert!(
        message.contains(detail),
        "the message says {detail:?}\n{out}"
    );
    assert!(
        error["help"]
            .as_str()
            .is_some_and(|h| h.contains("free space on the disk holding")),
        "the hint says what to do\n{out}"
    );
    out
}

#[test]
fn a_full_data_dir_fails_every_command_clearly_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("8m") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let aima = Aima::at(tmp, fs.path().join("data")).env("AIMA_DATA_MIN_FREE", "1m");

    // Two models, each with a service: what must survive.
    let mut services = Vec::new();
    for (name, port) in [("first", "23901"), ("second", "23902")] {
        let model = aima
            .run(&create_model_args(
                name,
                "ollama",
                "tinyllama",
                &["-o", "json"],
            ))
            .success()
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let svc = aima
            .run(&create_service_args(
                &model,
                "ollama",
                &["--port", port, "-o", "json"],
            ))
            .success()
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        services.push((model, svc));
    }
    let before = records(&aima);
    let (model, svc) = services[0].clone();

    let writes: [&[&str]; 6] = [
        &create_model_args("third", "ollama", "tinyllama", &[]),
        &create_service_args(&model, "ollama", &["--port", "23903"]),
        &["service", "start", &svc],
        &["service", "delete", &svc],
        &["model", "delete", &model, "--force"],
        &["start", "--listen", "127.0.0.1:0"],
    ];
    let reads: [&[&str]; 4] = [
        &["model", "list"],
        &["model", "get", &model],
        &["service", "list"],
        &["service", "get", &svc],
    ];

    // Below the 1 MiB minimum: what begins something new (a record, a start, the daemon) is
    // refused before it begins; reads still work (as would stops and deletions).
    fs.fill_leaving(256 << 10);
    let new_work = [writes[0], writes[1], writes[2], writes[5]];
    for args in new_work {
        refused(&aima, &[], args, "below the 1 MiB aima keeps free there");
    }
    for args in reads {
        aima.run(args).success();
    }
    assert_eq!(records(&aima), before, "a refused write changed nothing");

    // No minimum, a little room, a write bigger than it: SQLite itself runs out of space and
    // rolls the transaction back.
    let no_minimum = [("AIMA_DATA_MIN_FREE", "0")];
    fs.fill_leaving(36 << 10);
    let repo = format!("owner/{}", "a".repeat(250));
    let out = refused(
        &aima,
        &no_minimum,
        &create_model_args("big", "huggingface", &repo, &[]),
        "is full",
    );
    assert_eq!(
        out.json()["error"]["causes"][0],
        "database or disk is full",
        "SQLite's own words are the cause\n{out}"
    );

    // Not a byte left: even opening the database fails (SQLite cannot create its index of the
    // write-ahead log), with or without a minimum.
    fs.fill();
    for env in [&no_minimum[..], &[]] {
        for args in writes.iter().chain(&reads) {
            refused(&aima, env, args, "0 B free");
        }
    }

    // Room back: nothing was lost or corrupted, and writes work again.
    fs.unfill();
    assert!(integrity_ok(&aima), "PRAGMA integrity_check is not ok");
    assert_eq!(
        records(&aima),
        before,
        "every record made before is still there"
    );
    assert!(
        !aima.data_dir().join("api-token").exists(),
        "no half-written token file is left"
    );
    aima.run(writes[0]).success();
}
