//! Reads under load: `service list` at 1,000 and 10,000 services (CLI and API) against Docker's
//! own lists, and API latency under 50 concurrent clients against Docker's API.
//!
//! The store is seeded through aima's HTTP API (`POST /api/v2/services`, four clients at once):
//! the documented interface, and far faster than one CLI process per service.

use std::time::{Duration, Instant};

use anyhow::bail;

use super::docker_api;
use super::lab::{Lab, RUN_LABEL, api_call, docker};
use super::model::{Figure, Series};

const SEEDERS: usize = 4;
/// The page size the API allows at most: a full listing walks every page.
const PAGE: usize = 1000;

/// Seeds `lab` up to each size and times full listings, `runs` times, alternating with Docker.
pub(crate) fn list_latency(
    lab: &Lab,
    sizes: &[usize],
    runs: usize,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Figure>> {
    let socket = docker_api::socket();
    let mut figures = Vec::new();
    let mut seeded = 0;
    for &size in sizes {
        let began = Instant::now();
        seed(lab, seeded, size)?;
        notes.push(format!(
            "seeded services {seeded}..{size} through the API in {:.1} s",
            began.elapsed().as_secs_f64()
        ));
        seeded = size;
        let (mut cli, mut api, mut raw_cli, mut raw_api) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut listed = 0;
        for _ in 0..runs {
            let out = lab.aima(&["-o", "json", "service", "list"], &[])?;
            listed = serde_json::from_str::<serde_json::Value>(&out.stdout)
                .map(|v| v["total"].as_u64().unwrap_or(0))
                .unwrap_or(0);
            cli.push(out.ms);
            api.push(list_all_pages(lab)?);
            raw_cli.push(docker(&["ps", "-a"], Duration::from_secs(60))?.ms);
            raw_api.push(docker_api::get(&socket, "/containers/json?all=1")?.1);
        }
        if listed != size as u64 {
            bail!("service list showed {listed} services, {size} were seeded");
        }
        let containers = docker(&["ps", "-aq"], Duration::from_secs(60))?
            .stdout
            .lines()
            .count();
        let on_docker = format!("Docker lists its {containers} containers");
        figures.push(
            Figure::new(
                &format!("list_cli_{size}"),
                &format!("`aima service list` of {size} services vs `docker ps -a`"),
                Series::new("aima CLI", "ms", cli),
                Series::new("docker ps -a", "ms", raw_cli),
            )
            .fact(on_docker.clone()),
        );
        figures.push(
            Figure::new(
                &format!("list_api_{size}"),
                &format!(
                    "`GET /api/v2/services` of {size} services (every page of {PAGE}) vs Docker's `GET /containers/json`"
                ),
                Series::new("aima API", "ms", api),
                Series::new("Docker API", "ms", raw_api),
            )
            .fact(on_docker),
        );
    }
    Ok(figures)
}

/// Creates services `from..to` (ports 20000 + n: records only, never started).
fn seed(lab: &Lab, from: usize, to: usize) -> anyhow::Result<()> {
    let failures: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..SEEDERS)
            .map(|worker| {
                s.spawn(move || {
                    (from + worker..to)
                        .step_by(SEEDERS)
                        .filter(|n| {
                            let body = serde_json::json!({
                                "model_id": lab.model,
                                "engine_type": "vllm",
                                "port": 20000 + n,
                            })
                            .to_string();
                            lab.api("POST", "/api/v2/services", Some(&body)).0.status != 201
                                && lab.api("POST", "/api/v2/services", Some(&body)).0.status != 201
                        })
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(usize::MAX))
            .sum()
    });
    if failures > 0 {
        bail!("{failures} services could not be created while seeding");
    }
    Ok(())
}

/// Walks `GET /api/v2/services` page by page; returns the total time (ms).
fn list_all_pages(lab: &Lab) -> anyhow::Result<f64> {
    let mut total = 0.0;
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(id) => format!("/api/v2/services?limit={PAGE}&after={id}"),
            None => format!("/api/v2/services?limit={PAGE}"),
        };
        let (reply, ms) = lab.api("GET", &path, None);
        total += ms;
        if reply.status != 200 {
            bail!("GET {path} answered {}", reply.status);
        }
        let next = reply
            .json()
            .and_then(|v| v["next"].as_str().map(str::to_owned));
        match next {
            Some(id) => after = Some(id),
            None => return Ok(total),
        }
    }
}

/// [`concurrent_clients`] of `svc` while it runs: started first, stopped after.
pub(crate) fn running_clients(
    lab: &Lab,
    svc: &str,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<Figure> {
    let out = lab.aima(&["service", "start", svc, "--wait", "--timeout", "60"], &[])?;
    if out.code != Some(0) {
        bail!("service start failed: {}", out.stderr.trim());
    }
    let figure = concurrent_clients(lab, svc, clients, per_client, true);
    lab.aima(&["service", "stop", svc], &[])?;
    figure
}

/// `clients` threads, each alternating `GET /api/v2/services/{id}` with Docker's
/// `GET /containers/{id}/json`, `per_client` times. `running`: the service runs (its engine is
/// up), so a read that asks Docker about it costs an inspect; otherwise it was only created.
pub(crate) fn concurrent_clients(
    lab: &Lab,
    svc: &str,
    clients: usize,
    per_client: usize,
    running: bool,
) -> anyhow::Result<Figure> {
    let label = format!("{RUN_LABEL}={}", lab.run_id);
    let created = docker(
        &["create", "--label", &label, &lab.image],
        Duration::from_secs(60),
    )?;
    let container = created.stdout.trim().to_owned();
    if created.code != Some(0) {
        bail!("docker create failed: {}", created.stderr.trim());
    }
    let socket = docker_api::socket();
    let path = format!("/api/v2/services/{svc}");
    let inspect = format!("/containers/{container}/json");
    let (addr, token) = (lab.daemon.listen, lab.token.as_str());
    let results: Vec<(Vec<f64>, Vec<f64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (path, inspect, socket) = (&path, &inspect, &socket);
                s.spawn(move || {
                    let (mut aima, mut raw, mut errors) = (Vec::new(), Vec::new(), 0);
                    for _ in 0..per_client {
                        let (reply, ms) = api_call(addr, token, "GET", path, None);
                        errors += usize::from(reply.status != 200);
                        aima.push(ms);
                        match docker_api::get(socket, inspect) {
                            Ok((200, ms)) => raw.push(ms),
                            _ => errors += 1,
                        }
                    }
                    (aima, raw, errors)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    docker(&["rm", "-f", &container], Duration::from_secs(60))?;
    let errors: usize = results.iter().map(|r| r.2).sum();
    let (aima, raw): (Vec<f64>, Vec<f64>) =
        results
            .into_iter()
            .fold((Vec::new(), Vec::new()), |(mut a, mut b), r| {
                a.extend(r.0);
                b.extend(r.1);
                (a, b)
            });
    let (id, of) = if running {
        ("api_50_clients_running", " of a running service")
    } else {
        ("api_50_clients", "")
    };
    Ok(Figure::new(
        id,
        &format!("API latency under {clients} concurrent clients: `GET /api/v2/services/{{id}}`{of} vs Docker's `GET /containers/{{id}}/json`"),
        Series::new("aima API", "ms", aima),
        Series::new("Docker API", "ms", raw),
    )
    .fact(format!("{clients} clients × {per_client} requests each; answers other than 200: {errors}"))
    .fact("aima over TCP with its bearer token, Docker over its unix socket; one connection per request"))
}
