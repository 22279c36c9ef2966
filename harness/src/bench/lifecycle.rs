//! The success path: start-to-healthy and stop, one service at a time and 20 at once, against
//! `docker run -d` plus polling the engine's `/health` (every 50 ms) and `docker stop`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::bail;

use super::fail_fast::distinct;
use super::lab::{Lab, RUN_LABEL, containers_with, docker, remove_with};
use super::model::{Figure, Series};
use crate::fixtures::port_check::{check_port, free_port};

const HEALTH_POLL: Duration = Duration::from_millis(50);
const HEALTHY_WITHIN: Duration = Duration::from_secs(60);

/// Start-to-healthy and stop, `runs` times each, aima and Docker alternating.
pub(crate) fn start_stop(lab: &Lab, runs: usize) -> anyhow::Result<Vec<Figure>> {
    let svc = lab.service(free_port()?)?;
    let label = format!("{RUN_LABEL}={}", lab.run_id);
    let (mut aima_start, mut aima_stop, mut raw_start, mut raw_stop) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut left_after_stop = 0;
    for _ in 0..runs {
        let out = lab.aima(
            &["service", "start", &svc, "--wait", "--timeout", "60"],
            &[],
        )?;
        if out.code != Some(0) {
            bail!(
                "aima service start --wait failed ({}): {}",
                out.outcome(),
                out.stderr
            );
        }
        aima_start.push(out.ms);
        let out = lab.aima(&["service", "stop", &svc], &[])?;
        aima_stop.push(out.ms);
        left_after_stop += lab.aima_containers();

        let port = free_port()?;
        let started = Instant::now();
        let id = docker_run(lab, &label, port)?;
        wait_healthy(port)?;
        raw_start.push(started.elapsed().as_secs_f64() * 1000.0);
        let out = docker(&["stop", &id], Duration::from_secs(60))?;
        raw_stop.push(out.ms);
        docker(&["rm", "-f", &id], Duration::from_secs(60))?;
    }
    Ok(vec![
        Figure::new(
            "start_healthy",
            "start to healthy: `aima service start --wait` vs `docker run -d` + polling /health",
            Series::new("aima CLI", "ms", aima_start),
            Series::new("docker run -d + poll", "ms", raw_start),
        )
        .fact("aima polls health every 50 ms for its first 2 s, then every 250 ms; the baseline every 50 ms"),
        Figure::new(
            "stop",
            "stop: `aima service stop` vs `docker stop`",
            Series::new("aima CLI", "ms", aima_stop),
            Series::new("docker stop", "ms", raw_stop),
        )
        .fact("aima's stop also removes the container and waits for the port; `docker stop` only stops (the bench removes it untimed)")
        .fact(format!("aima containers left after its stops: {left_after_stop}")),
    ])
}

/// 20 services started at once, `runs` times, against 20 concurrent `docker run -d` + polling.
pub(crate) fn concurrent(lab: &Lab, runs: usize, count: usize) -> anyhow::Result<Figure> {
    let mut services = Vec::new();
    for _ in 0..count {
        services.push(lab.service(free_port()?)?);
    }
    let label = format!("{RUN_LABEL}={}", lab.run_id);
    let batch_label = format!("{label}-batch");
    let (mut aima_wall, mut raw_wall) = (Vec::new(), Vec::new());
    let mut facts = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let codes: Vec<i32> = std::thread::scope(|s| {
            let handles: Vec<_> = services
                .iter()
                .map(|svc| {
                    s.spawn(move || {
                        lab.aima(
                            &["service", "start", svc, "--wait", "--timeout", "120"],
                            &[],
                        )
                        .map(|o| o.code.unwrap_or(-1))
                        .unwrap_or(-1)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(-1))
                .collect()
        });
        aima_wall.push(started.elapsed().as_secs_f64() * 1000.0);
        let listed = lab.aima_json(&["service", "list"])?;
        let ours: Vec<&serde_json::Value> = listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| {
                s["id"]
                    .as_str()
                    .is_some_and(|id| services.iter().any(|x| x == id))
            })
            .collect();
        let statuses: Vec<String> = ours.iter().map(|s| s["status"].to_string()).collect();
        let mut ports: Vec<u64> = ours
            .iter()
            .filter(|s| s["status"] == "running")
            .filter_map(|s| s["port"].as_u64())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        std::thread::scope(|s| {
            for svc in &services {
                s.spawn(move || lab.aima(&["service", "stop", svc], &[]));
            }
        });
        let ports_held = ports
            .iter()
            .filter(|p| !check_port(**p as u16).is_free())
            .count();
        facts.push(format!(
            "aima: exit codes {}, statuses {}, {} distinct ports running, after stopping: {} containers, {ports_held} ports held",
            distinct(&codes),
            distinct(&statuses),
            ports.len(),
            lab.aima_containers()
        ));

        let started = Instant::now();
        let results: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..count)
                .map(|_| {
                    let (label, batch_label) = (&label, &batch_label);
                    s.spawn(move || {
                        let Ok(port) = free_port() else { return false };
                        docker_run_labelled(lab, &[label, batch_label], port, &[]).is_ok()
                            && wait_healthy(port).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(false))
                .collect()
        });
        raw_wall.push(started.elapsed().as_secs_f64() * 1000.0);
        let healthy = results.iter().filter(|ok| **ok).count();
        remove_with(&batch_label);
        facts.push(format!(
            "docker: {healthy}/{count} healthy, after `docker rm -f`: {} containers",
            containers_with(&batch_label)
        ));
    }
    let mut figure = Figure::new(
        "concurrent_20",
        &format!("{count} services started at once (wall time): aima vs `docker run -d` + polling"),
        Series::new("aima CLI ×20", "ms", aima_wall),
        Series::new("docker run -d ×20 + poll", "ms", raw_wall),
    );
    for fact in distinct_facts(facts) {
        figure = figure.fact(fact);
    }
    Ok(figure)
}

fn distinct_facts(facts: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in facts {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

fn docker_run(lab: &Lab, label: &str, port: u16) -> anyhow::Result<String> {
    docker_run_labelled(lab, &[label], port, &[])
}

/// `docker run -d` of the simulator publishing `127.0.0.1:port`, as aima would run it, with
/// `extra` options (`--restart always`).
pub(crate) fn docker_run_labelled(
    lab: &Lab,
    labels: &[&str],
    port: u16,
    extra: &[&str],
) -> anyhow::Result<String> {
    let publish = format!("127.0.0.1:{port}:8000");
    let mut args = vec!["run", "-d"];
    for label in labels {
        args.extend(["--label", label]);
    }
    args.extend_from_slice(extra);
    args.extend([
        "-p", &publish, &lab.image, "--model", "bench", "--port", "8000",
    ]);
    let out = docker(&args, Duration::from_secs(60))?;
    if out.code != Some(0) {
        bail!(
            "docker run failed ({}): {}",
            out.outcome(),
            out.stderr.trim()
        );
    }
    Ok(out.stdout.trim().to_owned())
}

/// Polls `GET /health` on the published port until it answers 200.
pub(crate) fn wait_healthy(port: u16) -> anyhow::Result<()> {
    let until = Instant::now() + HEALTHY_WITHIN;
    while Instant::now() < until {
        if health_ok(SocketAddr::from(([127, 0, 0, 1], port))) {
            return Ok(());
        }
        std::thread::sleep(HEALTH_POLL);
    }
    bail!("the engine on port {port} was not healthy within {HEALTHY_WITHIN:?}")
}

pub(crate) fn health_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 16];
    let n = stream.read(&mut head).unwrap_or(0);
    head[..n].starts_with(b"HTTP/1.1 200") || head[..n].starts_with(b"HTTP/1.0 200")
}
