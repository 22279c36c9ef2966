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
