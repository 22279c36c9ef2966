//! `--listen localhost:PORT` over real sockets: both loopbacks are the daemon's, so a client
//! that resolves `localhost` to ::1 cannot meet another account's listener there.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::aima::Aima;
use crate::support::daemon::Daemon;
use crate::support::http::Request;
use crate::support::ports::free_port;

/// Health over `[::1]:port`; returns the status line ("" when nothing answered).
fn health_v6(port: u16) -> String {
    Request::get("/api/v2/health")
        .send(("::1", port))
        .map(|answer| answer.head.lines().next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[test]
fn localhost_holds_both_loopbacks() {
    let data = Aima::new();
    let port = free_port();
    let daemon = Daemon::spawn(&data, &[], &format!("localhost:{port}"), port);
    daemon.wait_ready();
    let taken = TcpListener::bind(("::1", port));
    assert!(
        taken.is_err(),
        "another account could listen on [::1]:{port} beside the daemon"
    );
    let status = health_v6(port);
    assert!(
        status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.1 503"),
        "{status}"
    );
    assert!(
        daemon.log().contains(&format!("[::1]:{port}")),
        "{}",
        daemon.log()
    );
}

#[test]
fn localhost_with_one_loopback_taken_fails_clearly() {
    let data = Aima::new();
    let held = TcpListener::bind("[::1]:0").unwrap();
    let port = held.local_addr().unwrap().port();
    // Spawned, not run to completion: a daemon that ignored [::1] would serve on and on.
    let mut daemon = Daemon::spawn(&data, &[], &format!("localhost:{port}"), port);
    let status = daemon.wait_exit(Duration::from_secs(15));
    let stderr = daemon.log();
    assert_eq!(status.code(), Some(5), "{stderr}");
    assert!(stderr.contains(&format!("[::1]:{port}")), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
}
