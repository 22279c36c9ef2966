//! The failure path: a start on a held port (aima's CLI and API against `docker run -p` on the
//! same port) and Docker unreachable in each form (aima's CLI against the docker CLI).

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::time::Duration;

use super::lab::{Lab, RUN_LABEL, containers_with, docker, docker_at, remove_with};
use super::model::{Figure, Series};
use crate::fixtures::docker_host::INVALID_DOCKER_HOST;
use crate::fixtures::port_blocker::PortBlocker;
use crate::fixtures::port_check::free_port;

/// The most a baseline may hang on a silent endpoint before it is killed (and counted so).
const SILENT_DEADLINE: Duration = Duration::from_secs(10);

/// A blocked port, `runs` times each: aima CLI, aima API, `docker run -p`, alternating.
pub(crate) fn port_conflict(lab: &Lab, runs: usize) -> anyhow::Result<Vec<Figure>> {
    let port = free_port()?;
    let mut blocker = PortBlocker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), port, &lab.run_id)?;
    let svc = lab.service(port)?;
    let start_path = format!("/api/v2/services/{svc}/start");
    let publish = format!("127.0.0.1:{port}:8000");
    let label = format!("{RUN_LABEL}={}", lab.run_id);
    let conflict_label = format!("{label}-conflict");
    let (mut cli, mut api, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cli_codes, mut api_codes, mut raw_left) = (Vec::new(), Vec::new(), 0);
    let mut holder_named = true;
    for _ in 0..runs {
        let out = lab.aima(&["service", "start", &svc], &[])?;
        holder_named &= out.stderr.contains(&format!("pid {}", blocker.pid));
        cli_codes.push(out.code.unwrap_or(-1));
        cli.push(out.ms);

        let (reply, ms) = lab.api("POST", &start_path, Some("{}"));
        api_codes.push(reply.status);
        api.push(ms);

        let out = docker(
            &[
                "run",
                "-d",
                "--label",
                &label,
                "--label",
                &conflict_label,
                "-p",
                &publish,
                &lab.image,
                "--model",
                "bench",
                "--port",
                "8000",
            ],
            Duration::from_secs(60),
        )?;
        raw.push(out.ms);
        raw_left += containers_with(&conflict_label);
        remove_with(&conflict_label);
    }
    let recorded = lab.aima_json(&["service", "get", &svc])?;
    let attempts = recorded["attempts"].as_array().map_or(0, Vec::len);
    let aima_left = lab.aima_containers();
    blocker.stop();
    let baseline = Series::new("docker run -p", "ms", raw);
    let left = format!(
        "containers left: aima {aima_left}, docker run -p {raw_left} (one per try, removed by the bench)"
    );
    let cli_figure = Figure::new(
        "port_conflict_cli",
        "port conflict: `aima service start` vs `docker run -p`",
        Series::new("aima CLI", "ms", cli),
        baseline.clone(),
    )
    .fact(format!("aima exit codes: {}", distinct(&cli_codes)))
    .fact(format!(
        "holder named with its pid in every CLI error: {holder_named}"
    ))
    .fact(format!(
        "last start recorded: status {}, {attempts} attempt(s)",
        recorded["status"]
    ))
    .fact(left.clone());
    let api_figure = Figure::new(
        "port_conflict_api",
        "port conflict: `POST /services/{id}/start` vs `docker run -p`",
        Series::new("aima API", "ms", api),
        baseline,
    )
    .fact(format!("HTTP statuses: {}", distinct(&api_codes)))
    .fact(left);
    Ok(vec![cli_figure, api_figure])
}

/// Docker unreachable: an invalid address, a refused port, an endpoint that never answers.
pub(crate) fn docker_unreachable(lab: &Lab, runs: usize) -> anyhow::Result<Vec<Figure>> {
    let svc = lab.service(free_port()?)?;
    let refused = format!("tcp://127.0.0.1:{}", free_port()?);
    // Accepts connections (the kernel completes them) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0")?;
    let silent_host = format!("tcp://{}", silent.local_addr()?);
    let forms = [
        (
            "docker_invalid",
            "invalid address",
            INVALID_DOCKER_HOST,
            runs,
        ),
        (
            "docker_refused",
            "connection refused",
            refused.as_str(),
            runs,
        ),
        (
            "docker_silent",
            "silent endpoint",
            silent_host.as_str(),
            runs.min(3),
        ),
    ];
    let mut figures = Vec::new();
    for (id, form, host, n) in forms {
        let (mut aima, mut raw) = (Vec::new(), Vec::new());
        let (mut codes, mut raw_outcomes) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let out = lab.aima(&["service", "start", &svc], &[("DOCKER_HOST", host)])?;
            codes.push(out.code.unwrap_or(-1));
            aima.push(out.ms);
            let out = docker_at(host, &["run", "-d", &lab.image], SILENT_DEADLINE)?;
            raw_outcomes.push(out.outcome());
            raw.push(out.ms);
        }
        figures.push(
            Figure::new(
                id,
                &format!("Docker unreachable ({form}): `aima service start` vs `docker run -d`"),
                Series::new("aima CLI", "ms", aima),
                Series::new("docker run -d", "ms", raw),
            )
            .fact(format!("DOCKER_HOST={host}"))
            .fact(format!("aima exit codes: {}", distinct(&codes)))
            .fact(format!(
                "docker: {} (killed after {} s at most)",
                distinct(&raw_outcomes),
                SILENT_DEADLINE.as_secs()
            )),
        );
    }
    drop(silent);
    Ok(figures)
}

/// The distinct values of a list, in order of first appearance.
pub(crate) fn distinct<T: PartialEq + std::fmt::Display>(values: &[T]) -> String {
    let mut seen: Vec<&T> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
