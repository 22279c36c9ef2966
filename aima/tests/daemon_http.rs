//! The daemon as a process over real HTTP, without Docker: readiness, token, exposure refusal,
//! a taken listen address, and graceful shutdown with a request in flight.

mod common {
    pub mod aima;
    pub mod daemon;
    pub mod http;
    pub mod ports;
    pub mod wait;
}

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::aima::Aima;
use common::daemon::{Daemon, integrity_ok};
use common::http::http;
use common::ports::free_port;

#[test]
fn serves_the_api_and_stops_cleanly_on_sigterm() {
    let data = Aima::new();
    let mut daemon = Daemon::start(&data, &[]);
    let (code, list) = daemon.call("GET", "/api/v2/models", None);
    assert_eq!(
        (code, list),
        (200, serde_json::json!({"items": [], "total": 0}))
    );
    let (code, err) = daemon.call("GET", "/api/v2/nowhere", None);
    assert_eq!(code, 404, "{err}");
    assert_eq!(err["error"]["code"], "not_found");

    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "daemon exited with {status}");
    assert!(integrity_ok(&data));
}

#[test]
fn token_is_required_except_for_health() {
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[("AIMA_API_TOKEN", "t0ken")]);
    let (code, body) = http(daemon.port, "GET", "/api/v2/services", None, None, 10).unwrap();
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("\"unauthorized\""), "{body}");
    let (code, _) = http(
        daemon.port,
        "GET",
        "/api/v2/services",
        None,
        Some("nope"),
        10,
    )
    .unwrap();
    assert_eq!(code, 401);
    let (code, body) = daemon.call("GET", "/api/v2/services", None);
    assert_eq!(code, 200, "{body}");
    let (code, _) = http(daemon.port, "GET", "/api/v2/health", None, None, 10).unwrap();
    assert!(code == 200 || code == 503, "health answered {code}");
}

#[test]
fn exposed_address_without_token_is_refused() {
    let data = Aima::new();
    let port = free_port();
    let out = data
        .command(&["start", "--listen", &format!("0.0.0.0:{port}")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("0.0.0.0:{port}")), "{stderr}");
    assert!(stderr.contains("AIMA_API_TOKEN"), "{stderr}");

    // With a token, the same address is accepted.
    let daemon = Daemon::spawn(
        &data,
        &[("AIMA_API_TOKEN", "t0ken")],
        &format!("0.0.0.0:{port}"),
        port,
    );
    daemon.wait_ready();
}

#[test]
fn taken_listen_address_is_reported_at_once_with_its_holder() {
    let data = Aima::new();
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let began = Instant::now();
    let out = data
        .command(&["start", "--listen", &addr.to_string()])
        .output()
        .unwrap();
    let elapsed = began.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains(&addr.to_string()), "{stderr}");
    // This test process holds it, and /proc tells.
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

/// The request in flight is a start against a Docker endpoint that accepts connections and never
/// answers: it ends after the ping bound (3 s) with `docker_unavailable`. SIGTERM arrives while
/// it runs; the answer must still come, and the daemon must then exit 0.
#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let (_silent_docker, data, mut daemon, service) = daemon_with_silent_docker();

    let port = daemon.port;
    let began = Instant::now();
    let request = std::thread::spawn(move || {
        http(
            port,
            "POST",
            &format!("/api/v2/services/{service}/start"),
            Some(r#"{"wait": true, "timeout": 60}"#),
            None,
            30,
        )
    });
    std::thread::sleep(Duration::from_millis(800));
    daemon.signal("TERM");
    let (code, body) = request.join().unwrap().expect("the request got its answer");
    eprintln!("in-flight request answered after {:?}", began.elapsed());
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("docker_unavailable"), "{body}");

    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "daemon exited with {status}");
    assert!(integrity_ok(&data));
    // No new connections after shutdown.
    assert!(http(port, "GET", "/api/v2/health", None, None, 2).is_err());
}

#[test]
fn second_signal_exits_at_once() {
    let (_silent_docker, _data, mut daemon, service) = daemon_with_silent_docker();
    let port = daemon.port;
    let _request = std::thread::spawn(move || {
        http(
            port,
            "POST",
            &format!("/api/v2/services/{service}/start"),
            None,
            None,
            30,
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    daemon.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    let began = Instant::now();
    daemon.signal("INT");
    let status = daemon.wait_exit(Duration::from_secs(2));
    assert_eq!(status.code(), Some(130), "{status}");
    // "At once" against the 30 s drain the first signal started; slack for a loaded machine.
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "took {:?}",
        began.elapsed()
    );
}

/// A daemon whose Docker endpoint accepts connections and never answers (so a start stays in
/// flight for the ping bound), with one service created. The listener must outlive the test.
fn daemon_with_silent_docker() -> (TcpListener, Aima, Daemon, String) {
    let silent_docker = TcpListener::bind("127.0.0.1:0").unwrap();
    let docker_host = format!("tcp://{}", silent_docker.local_addr().unwrap());
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[("DOCKER_HOST", &docker_host)]);
    let service = daemon.create_service(free_port());
    (silent_docker, data, daemon, service)
}

/// A model's host path is checked by the API as by the CLI (`model_paths`): each path a hostile
/// neighbour would send is a usage error with nothing stored, including one with a NUL byte.
#[test]
fn hostile_paths_are_refused_by_the_api_and_nothing_is_stored() {
    let aima = Aima::new();
    let root = aima.data_dir().join("models");
    let model = root.join("tiny");
    std::fs::create_dir_all(&model).unwrap();
    std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
    let daemon = Daemon::start(&aima, &[]);
    let escape = root.join("escape");
    let hostile = ["/", "/srv/models/../../var/run", "/a:/b:rw"];
    let mut paths: Vec<String> = hostile.iter().map(|p| p.to_string()).collect();
    paths.push(format!("{}/x\0y", root.display()));
    paths.push(escape.display().to_string());
    for path in &paths {
        let body = serde_json::json!({"name": "m", "source": "local", "repo": "m", "path": path});
        let (code, err) = daemon.call("POST", "/api/v2/models", Some(&body.to_string()));
        assert_eq!(
            (code, &err["error"]["code"]),
            (400, &"usage".into()),
            "{path:?}: {err}"
        );
    }
    let body = serde_json::json!({"name": "m", "source": "huggingface", "repo": "m",
                                  "path": model.display().to_string()});
    let (code, err) = daemon.call("POST", "/api/v2/models", Some(&body.to_string()));
    assert_eq!(code, 400, "{err}");
    let (_, list) = daemon.call("GET", "/api/v2/models", None);
    assert_eq!(list["total"], 0, "{list}");

    let body = serde_json::json!({"name": "m", "source": "local", "repo": "m",
                                  "path": format!("{}/./tiny", root.display())});
    let (code, created) = daemon.call("POST", "/api/v2/models", Some(&body.to_string()));
    assert_eq!(code, 201, "{created}");
    let canonical = model.canonicalize().unwrap();
    assert_eq!(created["path"], canonical.to_str().unwrap());
    drop(daemon);
    assert!(integrity_ok(&aima));
}
