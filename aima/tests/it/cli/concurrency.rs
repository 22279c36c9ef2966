//! Many CLI processes on one data dir at once: 20 concurrent `service create` all succeed, with
//! distinct ids and ports, and SQLite never reports "database is locked".

use std::collections::HashSet;
use std::process::Stdio;

use crate::support::aima::Aima;
use crate::support::setup::create_service_args;

const PROCESSES: usize = 20;

#[test]
fn twenty_concurrent_service_creates_all_succeed() {
    let aima = Aima::new();
    let model = aima.create_model();

    // Spawn all before waiting for any, so they really overlap.
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            aima.command(&create_service_args(&model, "vllm", &["-o", "json"]))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn aima")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait for aima"))
        .collect();

    let mut ids = HashSet::new();
    let mut ports = HashSet::new();
    for (n, out) in outputs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "process {n} failed ({}):\n{stderr}",
            out.status
        );
        assert!(
            !stderr.contains("database is locked"),
            "process {n}:\n{stderr}"
        );
        let svc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
        ids.insert(svc["id"].as_str().unwrap().to_owned());
        ports.insert(svc["port"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), PROCESSES, "distinct ids");
    assert_eq!(ports.len(), PROCESSES, "distinct ports: {ports:?}");
    let expected: HashSet<u64> = (8000..8000 + PROCESSES as u64).collect();
    assert_eq!(ports, expected, "the default port, then the next free ones");

    let list = aima
        .run(&["service", "list", "-o", "json"])
        .success()
        .json();
    assert_eq!(list["total"], PROCESSES);
}

#[test]
fn readers_and_writers_interleave_without_errors() {
    let aima = Aima::new();
    let model = aima.create_model();
    let children: Vec<_> = (0..PROCESSES)
        .map(|n| {
            let args: Vec<&str> = if n % 2 == 0 {
                create_service_args(&model, "ollama", &[])
            } else {
                vec!["service", "list", "-o", "json"]
            };
            aima.command(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn aima")
        })
        .collect();
    for (n, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("wait for aima");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "process {n} failed ({}):\n{stderr}",
            out.status
        );
    }
}

/// `model delete` racing `service create` on the same model: each either wins or is refused
/// with a clear code (create: not found 3 or conflict 4; delete: conflict 4), and neither
/// ever fails as storage (9) or internal (1), whichever order the processes land in.
#[test]
fn a_model_deleted_during_service_creates_is_never_a_storage_failure() {
    let aima = Aima::new();
    let mut codes: std::collections::BTreeMap<String, usize> = Default::default();
    for _ in 0..15 {
        let model = aima.create_model();
        let spawn = |args: &[&str]| {
            aima.command(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn aima")
        };
        let creates: Vec<_> = (0..3)
            .map(|_| spawn(&create_service_args(&model, "vllm", &[])))
            .collect();
        let delete = spawn(&["model", "delete", &model]);
        for (what, child, allowed) in creates
            .into_iter()
            .map(|c| ("create", c, &[0, 3, 4][..]))
            .chain([("delete", delete, &[0, 4][..])])
        {
            let out = child.wait_with_output().expect("wait for aima");
            let code = out.status.code().unwrap_or(-1);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(allowed.contains(&code), "{what} exited {code}:\n{stderr}");
            *codes.entry(format!("{what} exit {code}")).or_default() += 1;
        }
    }
    eprintln!("FIGURES delete/create race, 15 rounds: {codes:?}");
}
