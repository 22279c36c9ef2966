//! The daemon under hostile or careless clients, as a process over real sockets: slow and idle
//! connections, too many connections, oversized heads, slow bodies, and a write lock held by
//! another process. Figures are printed (run with `--no-capture` to see them); the bounds
//! asserted are generous, the measured values go to the report.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::aima::Aima;
use crate::support::daemon::{Daemon, integrity_ok};
use crate::support::http::{http, raw, read_answer};
use crate::support::unix_http::http_unix;

/// Opens a connection that sends part of a request head (with `padding` bytes of a header
/// value, under the head limit) and then nothing more.
fn slow_client(port: u16, padding: usize) -> TcpStream {
    let head = format!(
        "GET /api/v2/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: {}",
        "a".repeat(padding)
    );
    raw(port, &head)
}

/// Resident memory of a process, from /proc, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Times one health request (no token needed); returns its status and duration.
fn timed_health(port: u16) -> (u16, Duration) {
    let began = Instant::now();
    let (code, body) = http(port, "GET", "/api/v2/health", None, None, 30).expect("health");
    assert!(code == 200 || code == 503, "{code} {body}");
    (code, began.elapsed())
}

/// Waits until the server closes `stream` (EOF or reset); returns the time from `since`.
fn until_closed(stream: &mut TcpStream, since: Instant, limit: Duration) -> Duration {
    let began = since;
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return began.elapsed(),
            Ok(_) => {} // an error answer before the close is fine
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return began.elapsed(),
            Err(e) => panic!("the connection stayed open for {:?}: {e}", began.elapsed()),
        }
    }
}

const SLOW_CLIENTS: usize = 300;
/// Each slow client's half-sent head: most of the 16 KiB limit, for the memory figure.
const SLOW_PADDING: usize = 12 * 1024;

/// With the default 10 s header timeout: 300 slow clients are held, health answers beside
/// them, they are closed by the timer, and with 300 more SIGTERM still exits at once.
#[test]
fn slow_clients_neither_block_health_nor_delay_shutdown() {
    let data = Aima::new();
    let mut daemon = Daemon::start(&data, &[]);
    let rss_before = rss_kib(daemon.child.id());
    let (_, idle_health) = timed_health(daemon.port);

    let began = Instant::now();
    let mut slow: Vec<TcpStream> = (0..SLOW_CLIENTS)
        .map(|_| slow_client(daemon.port, SLOW_PADDING))
        .collect();
    let opened = began.elapsed();
    let timings: Vec<Duration> = (0..5).map(|_| timed_health(daemon.port).1).collect();
    let worst = *timings.iter().max().unwrap();
    let rss_during = rss_kib(daemon.child.id());
    let limit = Duration::from_secs(30);
    let closed: Vec<Duration> = slow
        .iter_mut()
        .map(|s| until_closed(s, began, limit))
        .collect();
    let first_closed = *closed.iter().min().unwrap();
    let last_closed = *closed.iter().max().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let rss_after = rss_kib(daemon.child.id());
    eprintln!(
        "FIGURES slow-clients: {} connections held with {SLOW_PADDING} B half-sent heads (opened in \
         {opened:?}); health idle {idle_health:?}, with them {timings:?} (worst {worst:?}); closed by \
         the 10 s header timer between {first_closed:?} and {last_closed:?} after opening began; \
         daemon RSS {rss_before} KiB before, {rss_during} KiB with them, {rss_after} KiB after",
        slow.len()
    );
    assert!(worst < Duration::from_secs(5), "health took {worst:?}");
    assert!(first_closed >= Duration::from_secs(8), "{first_closed:?}");

    let slow: Vec<TcpStream> = (0..SLOW_CLIENTS)
        .map(|_| slow_client(daemon.port, SLOW_PADDING))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let term = Instant::now();
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(20));
    let exit_after = term.elapsed();
    eprintln!(
        "FIGURES slow-clients: SIGTERM with {} slow connections open: exited after {exit_after:?}",
        slow.len()
    );
    assert!(status.success(), "{status}");
    assert!(integrity_ok(&data));
    assert!(
        exit_after < Duration::from_secs(5),
        "SIGTERM exit took {exit_after:?}"
    );
}

#[test]
fn slow_and_idle_connections_are_closed_after_the_header_timeout() {
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[("AIMA_API_HEADER_TIMEOUT_SECS", "2")]);
    let opened = Instant::now();
    let mut slow: Vec<TcpStream> = (0..50).map(|_| slow_client(daemon.port, 10)).collect();
    let mut silent = raw(daemon.port, "");
    // A keep-alive connection, idle after one answered request.
    let mut idle = raw(
        daemon.port,
        "GET /api/v2/health HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).unwrap();
    assert_eq!(&head[..9], b"HTTP/1.1 ");

    let limit = Duration::from_secs(15);
    let closed: Vec<Duration> = slow
        .iter_mut()
        .map(|s| until_closed(s, opened, limit))
        .collect();
    let silent_closed = until_closed(&mut silent, opened, limit);
    let idle_closed = until_closed(&mut idle, opened, limit);
    let last = closed.iter().max().unwrap();
    eprintln!(
        "FIGURES header-timeout 2s, from opening: 50 slow heads closed by {last:?}, a silent \
         connection after {silent_closed:?}, an idle keep-alive one after {idle_closed:?}"
    );
    // Closed by the timer, not at once.
    for t in closed.iter().chain([&silent_closed, &idle_closed]) {
        assert!(*t >= Duration::from_millis(1500), "closed after {t:?}");
    }
    let (code, _) = timed_health(daemon.port);
    assert_eq!(code, 200, "the daemon still serves");
}

#[test]
fn connections_over_the_cap_are_refused_with_503() {
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[("AIMA_API_MAX_CONNECTIONS", "10")]);
    let held: Vec<TcpStream> = (0..10).map(|_| slow_client(daemon.port, 10)).collect();
    // The daemon accepts the ten in its own time; a request answered before that frees its slot
    // again, so ask until one is turned away (a daemon without the cap never does).
    let body = crate::support::wait::wait_until(
        Duration::from_secs(10),
        "a request over the cap refused with 503",
        || match http(daemon.port, "GET", "/api/v2/health", None, None, 10) {
            Ok((503, body)) => Some(body),
            _ => None,
        },
    );
    assert!(body.contains("AIMA_API_MAX_CONNECTIONS"), "{body}");
    // The socket has slots of its own: a TCP flood leaves it usable.
    let socket = data.data_dir().join("aima.sock");
    let (code, body) = http_unix(&socket, "GET", "/api/v2/models", None, 10).unwrap();
    assert_eq!(code, 200, "{body}");
    drop(held);
    crate::support::wait::wait_until(Duration::from_secs(10), "a free connection slot", || {
        timed_health(daemon.port).0 == 200
    });
}

#[test]
fn oversized_heads_and_slow_bodies_are_refused() {
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[("AIMA_API_BODY_TIMEOUT_SECS", "1")]);
    let token = daemon.token().unwrap();

    let filler = "a".repeat(64 * 1024);
    let head = format!("GET /api/v2/health HTTP/1.1\r\nHost: localhost\r\nX-Big: {filler}\r\n\r\n");
    // The daemon may answer 431 and hang up before the head is all sent: `raw` allows that.
    let mut big = raw(daemon.port, &head);
    let answer = read_answer(&mut big, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.80}");

    let mut slow = raw(
        daemon.port,
        &format!(
            "POST /api/v2/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"name\": "
        ),
    );
    let began = Instant::now();
    let answer = read_answer(&mut slow, Duration::from_secs(10));
    eprintln!(
        "FIGURES body-timeout 1s: answered after {:?}",
        began.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    let (code, models) = daemon.call("GET", "/api/v2/models", None);
    assert_eq!((code, models["total"].as_u64()), (200, Some(0)));
}

/// Another process (this test) holds the database's write lock for 10 s: reads answer at
/// once, and a write waits for the lock and then succeeds.
#[test]
fn a_held_write_lock_delays_only_writes() {
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[]);
    let service = daemon.create_service(crate::support::ports::free_port());

    let db = data.data_dir().join("aima.db");
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE; UPDATE models SET name = name;")
            .unwrap();
        locked_tx.send(Instant::now()).unwrap();
        std::thread::sleep(Duration::from_secs(10));
        conn.execute_batch("ROLLBACK").unwrap();
        Instant::now()
    });
    let locked_at = locked.recv().unwrap();

    let (port, token) = (daemon.port, daemon.token());
    let writer = std::thread::spawn(move || {
        let began = Instant::now();
        let body = r#"{"name": "late", "source": "ollama", "repo": "tinyllama"}"#;
        let answer = http(
            port,
            "POST",
            "/api/v2/models",
            Some(body),
            token.as_deref(),
            60,
        );
        (answer, began.elapsed())
    });
    let mut reads = Vec::new();
    for path in [
        "/api/v2/health",
        "/api/v2/services",
        "/api/v2/models",
        &format!("/api/v2/services/{service}"),
        "/api/v2/nowhere",
    ] {
        let began = Instant::now();
        let (code, body) = daemon.call("GET", path, None);
        reads.push((path.to_owned(), code, began.elapsed()));
        if path != "/api/v2/nowhere" {
            assert_eq!(code, 200, "{path}: {body}");
        }
    }
    let reads_done = locked_at.elapsed();
    let released_at = holder.join().unwrap();
    let ((code, body), write_took) = {
        let (answer, took) = writer.join().unwrap();
        (answer.expect("the write got an answer"), took)
    };
    eprintln!(
        "FIGURES write-lock held 10s: reads {reads:?} (all done {reads_done:?} into the lock); \
         a write answered after {write_took:?} ({code}), {:?} after the lock was released",
        Instant::now().saturating_duration_since(released_at)
    );
    assert!(
        reads_done < Duration::from_secs(5),
        "reads took {reads_done:?}"
    );
    assert_eq!(code, 201, "{body}");
    assert!(
        write_took >= Duration::from_secs(5),
        "the write did not wait for the lock: {write_took:?}"
    );
}

/// A body still arriving when SIGTERM comes is answered 503 at once, rather than holding the
/// shutdown for the body timeout.
#[test]
fn shutdown_refuses_a_body_still_arriving() {
    let data = Aima::new();
    let mut daemon = Daemon::start(&data, &[("AIMA_API_BODY_TIMEOUT_SECS", "60")]);
    let token = daemon.token().unwrap();
    let mut slow = raw(
        daemon.port,
        &format!(
            "POST /api/v2/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{"
        ),
    );
    std::thread::sleep(Duration::from_millis(300));
    let term = Instant::now();
    daemon.signal("TERM");
    let answer = read_answer(&mut slow, Duration::from_secs(20));
    let answered = term.elapsed();
    let status = daemon.wait_exit(Duration::from_secs(20));
    eprintln!(
        "FIGURES shutdown with a body arriving: answered after {answered:?}, exited after {:?}",
        term.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("shutting down"), "{answer}");
    assert!(status.success(), "{status}");
    assert!(
        term.elapsed() < Duration::from_secs(10),
        "{:?}",
        term.elapsed()
    );
}
