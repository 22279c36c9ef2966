//! A daemon started while Docker is unreachable keeps serving: it does not exit, its health
//! says Docker is away and why, and its log says so once (not every pass) while it keeps
//! trying. Needs no Docker: `DOCKER_HOST` names a port nothing listens on.

use std::time::Duration;

use crate::support::aima::Aima;
use crate::support::daemon::Daemon;
use crate::support::http::http;
use crate::support::ports::free_port;

#[test]
fn without_docker_the_daemon_stays_up_and_says_why() {
    let data = Aima::new();
    let closed = free_port();
    let docker_host = format!("tcp://127.0.0.1:{closed}");
    let mut daemon = Daemon::start(
        &data,
        &[("DOCKER_HOST", &docker_host), ("AIMA_RECONCILE_SECS", "1")],
    );
    // A few reconcile passes, each trying Docker again.
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "the daemon exited:\n{}",
        daemon.log()
    );

    let (code, body) = http(daemon.port, "GET", "/api/v2/health", None, None, 30).unwrap();
    assert_eq!(code, 503, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["store"]["ok"], true, "{body}");
    assert_eq!(health["docker"]["ok"], false, "{body}");
    let why = health["docker"]["error"].as_str().unwrap_or_default();
    assert!(why.contains(&format!("127.0.0.1:{closed}")), "{body}");
    // The API still serves what needs no Docker.
    let (code, list) = daemon.call("GET", "/api/v2/services", None);
    assert_eq!(code, 200, "{list}");

    let log = daemon.log();
    let said = log.matches("Docker is unreachable").count();
    assert_eq!(said, 1, "said once, not every pass:\n{log}");
    assert!(log.contains(&format!("127.0.0.1:{closed}")), "{log}");
}

/// A Docker that accepts and never answers: health still answers at once (it does not wait out
/// the 3 s bound starts have), saying Docker did not answer in time.
#[test]
fn health_answers_at_once_while_docker_is_silent() {
    let data = Aima::new();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let docker_host = format!("tcp://{}", silent.local_addr().unwrap());
    let daemon = Daemon::start(&data, &[("DOCKER_HOST", &docker_host)]);

    let (code, body) = http(daemon.port, "GET", "/api/v2/health", None, None, 30).unwrap();

    assert_eq!(code, 503, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["store"]["ok"], true, "{body}");
    assert_eq!(
        health["docker"]["error"], "Docker did not answer within 800 ms",
        "{body}"
    );
    drop(silent);
}
