//! The simulator's failure modes while serving, run as a plain process (no Docker): an engine
//! that dies after loading (`--crash-after`, with the exit code it asks for) and one that stops
//! answering while alive (`--hang-after`), as supervision tests need them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(port: u16, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_aima-engine-sim"))
        .args(["serve", "--model", "tiny", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the simulator")
}

/// `GET /health`'s status, or `None` when nothing answers within `limit`.
fn health(port: u16, limit: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(limit)).ok()?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}

fn until<T>(limit: Duration, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn crash_after_serves_then_exits_with_the_code_asked_for() {
    let port = free_port();
    let mut sim = serve(port, &["--crash-after", "1", "--crash-exit-code", "3"]);
    let answered = until(Duration::from_secs(10), "a health answer", || {
        health(port, Duration::from_secs(1))
    });
    assert_eq!(answered, 200);
    let status = until(Duration::from_secs(10), "the engine to exit", || {
        sim.try_wait().unwrap()
    });
    assert_eq!(status.code(), Some(3));
}

#[test]
fn hang_after_stops_answering_while_the_process_lives() {
    let port = free_port();
    let mut sim = serve(port, &["--hang-after", "1"]);
    let answered = until(Duration::from_secs(10), "a health answer", || {
        health(port, Duration::from_secs(1))
    });
    assert_eq!(answered, 200);
    until(
        Duration::from_secs(10),
        "the engine to stop answering",
        || {
            health(port, Duration::from_millis(500))
                .is_none()
                .then_some(())
        },
    );
    let alive = sim.try_wait().unwrap().is_none();
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(alive, "the hung engine's process must stay alive");
}
