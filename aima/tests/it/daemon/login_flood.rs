//! The login form under a hostile neighbour, over real sockets: sign-in bodies that never
//! finish must neither hold the daemon's connection slots (health, the API and the page stay
//! served) nor hold up shutdown.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::aima::Aima;
use crate::support::daemon::Daemon;
use crate::support::http::{http, raw, read_answer};
use crate::support::wait::wait_until;

/// A `POST /login` whose head is complete and whose body never is.
fn unfinished_login(port: u16) -> TcpStream {
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken="
    );
    raw(port, &head)
}

/// What the daemon has sent on `stream` so far ("" if nothing yet).
fn answered(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let mut buf = [0u8; 2048];
    match stream.read(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(_) => String::new(),
    }
}

const CAP: usize = 16;

/// As many unfinished sign-ins as the daemon has connection slots: health, an authenticated
/// API call and the signed-in page are still answered, each within a few seconds.
#[test]
fn unfinished_login_bodies_leave_room_for_health_and_signed_in_clients() {
    let data = Aima::new();
    let cap = CAP.to_string();
    let daemon = Daemon::start(
        &data,
        &[
            ("AIMA_API_MAX_CONNECTIONS", &cap),
            ("AIMA_API_BODY_TIMEOUT_SECS", "60"),
            ("AIMA_API_TOKEN", "flood-test-token"),
        ],
    );
    let mut held: Vec<TcpStream> = (0..CAP).map(|_| unfinished_login(daemon.port)).collect();
    // The sign-in budget is an eighth of the cap: all but two are refused at once.
    let mut refused = vec![String::new(); CAP];
    wait_until(
        Duration::from_secs(10),
        "the sign-ins over budget refused",
        || {
            for (stream, answer) in held.iter_mut().zip(&mut refused) {
                if answer.is_empty() {
                    *answer = answered(stream);
                }
            }
            refused.iter().filter(|a| !a.is_empty()).count() >= CAP - 2
        },
    );
    for answer in refused.iter().filter(|a| !a.is_empty()) {
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("\"unavailable\""), "{answer}");
    }
    let token = Some("flood-test-token");
    for (path, token) in [
        ("/api/v2/health", None),
        ("/api/v2/models", token),
        ("/", token),
    ] {
        let began = Instant::now();
        let answer = http(daemon.port, "GET", path, None, token, 10);
        let took = began.elapsed();
        let (code, body) = answer.unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
        eprintln!("FIGURES login flood: {path} answered {code} after {took:?}");
        assert!(
            code == 200 || (path == "/api/v2/health" && code == 503 && body.contains("docker")),
            "{path} answered {code} beside {CAP} unfinished sign-ins: {body}"
        );
        assert!(took < Duration::from_secs(5), "{path} took {took:?}");
    }
    drop(held);
}

/// An unfinished sign-in body is refused when shutdown begins, so SIGTERM ends the daemon
/// within its usual second or two rather than after the body timeout.
#[test]
fn an_unfinished_login_body_does_not_delay_shutdown() {
    let data = Aima::new();
    let mut daemon = Daemon::start(
        &data,
        &[
            ("AIMA_API_BODY_TIMEOUT_SECS", "60"),
            ("AIMA_API_TOKEN", "flood-test-token"),
        ],
    );
    let mut slow = unfinished_login(daemon.port);
    std::thread::sleep(Duration::from_millis(300));
    let term = Instant::now();
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30));
    let exited = term.elapsed();
    let answer = read_answer(&mut slow, Duration::from_secs(5));
    eprintln!("FIGURES login body at SIGTERM: exited after {exited:?}");
    assert!(status.success(), "{status}");
    assert!(exited < Duration::from_secs(5), "SIGTERM took {exited:?}");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
}

/// The login form is read under the body timeout, as every other body is.
#[test]
fn a_slow_login_body_is_answered_408() {
    let data = Aima::new();
    let daemon = Daemon::start(
        &data,
        &[
            ("AIMA_API_BODY_TIMEOUT_SECS", "1"),
            ("AIMA_API_TOKEN", "flood-test-token"),
        ],
    );
    let mut slow = unfinished_login(daemon.port);
    let began = Instant::now();
    let answer = read_answer(&mut slow, Duration::from_secs(15));
    eprintln!(
        "FIGURES login body-timeout 1s: answered after {:?}",
        began.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
