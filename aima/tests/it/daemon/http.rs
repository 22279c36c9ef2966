//! The daemon as a process over real HTTP, without Docker: readiness, token, the unix socket,
//! exposure refusal, a taken listen address, and graceful shutdown with a request in flight.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::support::aima::Aima;
use crate::support::daemon::{Daemon, integrity_ok};
use crate::support::http::{Request, http};
use crate::support::ports::free_port;
use crate::support::unix_http::http_unix;

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
    let daemon = Daemon::start(&data, &[("AIMA_API_TOKEN", "t0ken-of-sixteen-bytes")]);
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
fn exposed_address_needs_a_token_and_the_opt_out_keeps_to_loopback() {
    let data = Aima::new();
    let port = free_port();
    let out = data
        .command(&["start", "--listen", &format!("0.0.0.0:{port}")])
        .env("AIMA_API_AUTH", "none")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("0.0.0.0:{port}")), "{stderr}");
    assert!(stderr.contains("AIMA_API_AUTH"), "{stderr}");

    // With the token (here the generated one), the same address is accepted.
    let daemon = Daemon::spawn(&data, &[], &format!("0.0.0.0:{port}"), port);
    daemon.wait_ready();
    let (code, body) = daemon.call("GET", "/api/v2/models", None);
    assert_eq!(code, 200, "{body}");
}

/// The default: a token generated into a 0600 file (its path logged, never the token), a 0660
/// unix socket that needs none, the token on TCP with the scheme in any case; and the opt-out.
#[test]
fn unix_socket_and_generated_token() {
    let data = Aima::new();
    let mut daemon = Daemon::start(&data, &[]);
    let token_file = data.data_dir().join("api-token");
    let socket = data.data_dir().join("aima.sock");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&token_file), 0o600);
    assert_eq!(mode(&socket), 0o660);
    let token = daemon.token().expect("a generated token");
    let log = daemon.log();
    assert!(log.contains(&token_file.display().to_string()), "{log}");
    assert!(!log.contains(&token), "the log shows the token:\n{log}");

    let (code, body) = http_unix(&socket, "GET", "/api/v2/models", None, 10).unwrap();
    assert_eq!((code, body.as_str()), (200, r#"{"items":[],"total":0}"#));
    let (code, body) = http(daemon.port, "GET", "/api/v2/models", None, None, 10).unwrap();
    assert_eq!(code, 401, "{body}");
    let lower = format!("bearer {token}");
    let (code, body) = raw_get(daemon.port, "/api/v2/models", &[("Authorization", &lower)]);
    assert_eq!(code, 200, "{body}");
    // Web pages stay out, token or not.
    let from_page = [
        ("Authorization", lower.as_str()),
        ("Origin", "http://evil.example"),
    ];
    let (code, body) = raw_get(daemon.port, "/api/v2/models", &from_page);
    assert_eq!(code, 403, "{body}");

    daemon.signal("TERM");
    assert!(daemon.wait_exit(Duration::from_secs(10)).success());
    assert!(!socket.exists(), "the socket outlived the daemon");

    // Opted out: no token on TCP, and none generated.
    std::fs::remove_file(&token_file).unwrap();
    let open = Daemon::start(&data, &[("AIMA_API_AUTH", "none")]);
    let (code, body) = http(open.port, "GET", "/api/v2/models", None, None, 10).unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(!token_file.exists());
}

/// Health is open to callers without the token: it must not show DOCKER_HOST's credentials.
#[test]
fn health_shows_no_docker_credentials() {
    let data = Aima::new();
    let closed = free_port();
    let docker_host = format!("tcp://admin:s3cret@127.0.0.1:{closed}");
    let daemon = Daemon::start(&data, &[("DOCKER_HOST", &docker_host)]);
    let (code, body) = http(daemon.port, "GET", "/api/v2/health", None, None, 30).unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(!body.contains("s3cret"), "{body}");
    assert!(body.contains("***@127.0.0.1"), "{body}");
}

/// A second daemon on the same data dir is refused while the first one's socket answers.
#[test]
fn one_daemon_per_data_dir() {
    let data = Aima::new();
    let _first = Daemon::start(&data, &[]);
    let out = data
        .command(&["start", "--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("another aima daemon"), "{stderr}");
}

/// A GET with exactly these extra headers; returns the status and body.
fn raw_get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let answer = Request::get(path)
        .headers(headers)
        .send(("127.0.0.1", port))
        .unwrap();
    (answer.status, answer.body)
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

    let (port, token) = (daemon.port, daemon.token());
    let began = Instant::now();
    let request = std::thread::spawn(move || {
        http(
            port,
            "POST",
            &format!("/api/v2/services/{service}/start"),
            Some(r#"{"wait": true, "timeout": 60}"#),
            token.as_deref(),
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
    let (port, token) = (daemon.port, daemon.token());
    let _request = std::thread::spawn(move || {
        http(
            port,
            "POST",
            &format!("/api/v2/services/{service}/start"),
            None,
            token.as_deref(),
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

#[test]
fn a_token_shorter_than_sixteen_bytes_stops_the_daemon_at_start() {
    let data = Aima::new();
    let listen = format!("127.0.0.1:{}", free_port());
    data.run_env(
        &[("AIMA_API_TOKEN", "short-token")],
        &["start", "--listen", &listen],
    )
    .failure(2)
    .stderr_has("error: the API token from AIMA_API_TOKEN is 11 bytes long; at least 16")
    .stderr_has("help: ");
}

/// SIGHUP is logged and ignored: the daemon goes on answering, then stops cleanly on SIGTERM
/// and removes its socket.
#[test]
fn sighup_is_logged_and_never_fatal() {
    let aima = Aima::new();
    let mut daemon = Daemon::start(&aima, &[]);
    daemon.signal("HUP");
    let logged = Instant::now() + Duration::from_secs(10);
    while !daemon.log().contains("SIGHUP: ignored") {
        assert!(Instant::now() < logged, "no SIGHUP line:\n{}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "{}",
        daemon.log()
    );
    let (code, _) = daemon.call("GET", "/api/v2/models", None);
    assert_eq!(code, 200);
    daemon.signal("TERM");
    assert!(daemon.wait_exit(Duration::from_secs(10)).success());
    assert!(!aima.data_dir().join("aima.sock").exists());
}
