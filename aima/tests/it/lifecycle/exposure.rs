//! Real Docker: how exposed an engine container is. Its port is published on loopback only by
//! default (reachable on 127.0.0.1, refused elsewhere, `docker port` shows the loopback
//! binding); `--bind 0.0.0.0` publishes it on every address; a vLLM API key reaches the engine
//! and is never printed; the container runs confined (memory, pids, logs, capabilities).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use crate::support::docker::{docker, inspect};
use crate::support::http::Request;
use crate::support::lab::Lab;
use crate::support::ports::free_port;
use crate::support::run::Outcome;

/// A second loopback address: on Linux all of 127/8 reaches this host.
const OTHER_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// The status of `GET path` at `addr` with an optional bearer token, or `None` when nothing
/// answers HTTP there (refused, or Docker's proxy closing without a response).
fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Option<u16> {
    Request::get(path)
        .host(addr.to_string())
        .bearer(token)
        .timeout(Duration::from_secs(5))
        .send(addr)
        .ok()
        .map(|answer| answer.status)
}

/// This host's address on its default route, if it has one other than loopback.
fn outside_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?; // TEST-NET-1: nothing is sent by a UDP connect
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback()).then_some(ip)
}

/// `docker port` of the service's container: one `ADDR:PORT` per published address.
fn docker_port(lab: &Lab, svc: &str) -> Vec<String> {
    let container = lab.container_of(svc);
    let out = docker(&["port", &container]);
    assert!(out.status.success(), "docker port {container}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split(" -> ").nth(1).map(str::to_owned))
        .collect()
}

fn start(lab: &Lab, svc: &str) -> Outcome {
    lab.run(&["service", "start", svc, "--wait", "--timeout", "60"])
        .success()
}

#[test]
fn a_default_service_is_published_on_loopback_only() {
    let lab = Lab::new(&[]);
    let (svc, port) = lab.service();
    let shown = lab.run(&["service", "get", &svc, "-o", "json"]).success();
    assert_eq!(shown.json()["bind"], "127.0.0.1", "{shown}");

    // A program on another local address does not hold the loopback address: preflight probes
    // the address Docker will bind, so the start goes ahead.
    let neighbour = TcpListener::bind((OTHER_LOOPBACK, port)).expect("listen on 127.0.0.2");
    start(&lab, &svc);
    drop(neighbour);

    assert_eq!(docker_port(&lab, &svc), [format!("127.0.0.1:{port}")]);
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(get(loopback, "/health", None), Some(200));
    assert_eq!(
        get(SocketAddr::new(OTHER_LOOPBACK, port), "/health", None),
        None
    );
    match outside_address() {
        Some(ip) => assert_eq!(
            get(SocketAddr::new(ip, port), "/health", None),
            None,
            "{ip}"
        ),
        None => eprintln!("this host has no address besides loopback: checked 127.0.0.2 only"),
    }

    let list = lab.run(&["service", "list"]).success();
    assert!(list.stdout.contains("BIND"), "{list}");
    assert!(list.stdout.contains("127.0.0.1"), "{list}");
    lab.run(&["service", "stop", &svc]).success();
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());
}

#[test]
fn bind_all_publishes_on_every_address() {
    let lab = Lab::new(&[]);
    let model = lab.create_model();
    let port = free_port();
    let svc = lab.create_service(&model, &["--port", &port.to_string(), "--bind", "0.0.0.0"]);
    start(&lab, &svc);

    assert_eq!(docker_port(&lab, &svc), [format!("0.0.0.0:{port}")]);
    assert_eq!(
        get(SocketAddr::new(OTHER_LOOPBACK, port), "/health", None),
        Some(200)
    );
    if let Some(ip) = outside_address() {
        assert_eq!(
            get(SocketAddr::new(ip, port), "/health", None),
            Some(200),
            "{ip}"
        );
    }
    lab.run(&["service", "stop", &svc]).success();
}

#[test]
fn a_bind_that_is_not_an_address_is_a_usage_error() {
    let lab = Lab::new(&[]);
    let model = lab.create_model();
    let before = lab.store_contents();
    lab.run(&crate::support::setup::create_service_args(
        &model,
        "vllm",
        &["--bind", "everywhere"],
    ))
    .failure(2);
    assert_eq!(lab.store_contents(), before);
}

#[test]
fn a_vllm_api_key_is_required_by_the_engine_and_never_printed() {
    const KEY: &str = "k3y-that-must-not-leak";
    let lab = Lab::with_env(&[], &[("AIMA_VLLM_API_KEY", KEY)]);
    let (svc, port) = lab.service();
    let mut printed = vec![start(&lab, &svc)];
    printed.push(lab.run(&["service", "get", &svc, "-o", "json"]).success());
    printed.push(lab.run(&["service", "get", &svc]).success());
    for out in &printed {
        assert!(
            !out.stdout.contains(KEY) && !out.stderr.contains(KEY),
            "{out}"
        );
    }

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(get(addr, "/v1/models", None), Some(401));
    assert_eq!(get(addr, "/v1/models", Some("wrong")), Some(401));
    assert_eq!(get(addr, "/v1/models", Some(KEY)), Some(200));

    // In the environment, not on the command line that `ps` shows every local user.
    let container = lab.container_of(&svc);
    assert!(!inspect(&container, "{{json .Config.Cmd}}").contains(KEY));
    let label = inspect(&container, "{{index .Config.Labels \"aima.instance\"}}");
    assert_eq!(label, lab.instance());
    lab.run(&["service", "stop", &svc]).success();
}

#[test]
fn an_engine_runs_confined_with_default_and_configured_limits() {
    let lab = Lab::with_env(
        &[],
        &[
            ("AIMA_VLLM_PIDS_LIMIT", "256"),
            ("AIMA_VLLM_LOG_MAX_SIZE", "1m"),
        ],
    );
    let (svc, _) = lab.service();
    start(&lab, &svc);
    let host_config = inspect(&lab.container_of(&svc), "{{json .HostConfig}}");
    let host: serde_json::Value = serde_json::from_str(&host_config).unwrap();
    let info = docker(&["info", "--format", "{{.MemTotal}}"]);
    let total: u64 = String::from_utf8_lossy(&info.stdout)
        .trim()
        .parse()
        .unwrap();

    // Memory: three quarters of the Docker host by default, and no swap on top.
    assert_eq!(host["Memory"], total / 4 * 3, "{host}");
    assert_eq!(host["MemorySwap"], host["Memory"], "{host}");
    assert_eq!(host["PidsLimit"], 256, "{host}");
    assert_eq!(host["LogConfig"]["Type"], "json-file", "{host}");
    assert_eq!(host["LogConfig"]["Config"]["max-size"], "1048576", "{host}");
    assert_eq!(host["LogConfig"]["Config"]["max-file"], "3", "{host}");
    assert_eq!(
        host["SecurityOpt"],
        serde_json::json!(["no-new-privileges:true"])
    );
    assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]), "{host}");
    let kept = serde_json::json!(["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]);
    assert_eq!(host["CapAdd"], kept, "{host}");
    assert_eq!(host["Privileged"], false, "{host}");
    lab.run(&["service", "stop", &svc]).success();
}
