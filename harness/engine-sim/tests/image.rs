//! End-to-end check of `aima-engine-sim`: package it as an image, run it as a
//! real container and talk to it over HTTP. Needs a reachable Docker daemon
//! and the `docker` CLI; without them the tests fail rather than skip.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const LABEL: &str = "aima.test=engine-sim-test";
const ENGINE_PORT: u16 = 8000;
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

#[test]
fn serves_openai_api_in_a_container() {
    let image = sim_image(&[]);
    let (container, port) = Container::run_published(&image);

    let started = Instant::now();
    wait_until(STARTUP_LIMIT, "container to become healthy", || {
        matches!(http(port, "GET", "/health", ""), Ok((200, _)))
    });
    eprintln!("{image} healthy after {:?}", started.elapsed());

    let (status, body) = http(port, "GET", "/v1/models", "").unwrap();
    assert_eq!(status, 200, "{body}");
    let models: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(models["data"][0]["id"], "tinyllama", "{body}");

    let request = r#"{"model":"tinyllama","messages":[{"role":"user","content":"hello sim"}]}"#;
    let (status, body) = http(port, "POST", "/v1/chat/completions", request).unwrap();
    assert_eq!(status, 200, "{body}");
    let completion: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(completion["model"], "tinyllama");
    assert_eq!(
        completion["choices"][0]["message"]["content"],
        "echo: hello sim"
    );

    let (status, _) = http(port, "POST", "/v1/chat/completions", "{oops").unwrap();
    assert_eq!(status, 400);

    // As PID 1 the simulator must handle SIGTERM itself, or `docker stop`
    // would wait for its timeout and then SIGKILL (exit code 137).
    let stopped = Instant::now();
    let out = docker(&["stop", "--time", "10", &container.name]);
    assert!(out.status.success(), "docker stop: {}", stderr(&out));
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "slow stop: {:?}",
        stopped.elapsed()
    );
    assert_eq!(container.state(), ("exited".to_owned(), 0));
}

#[test]
fn oom_variant_fails_with_out_of_memory() {
    let image = sim_image(&["AIMA_SIM_CRASH=oom"]);
    let container = Container::new();
    let out = container.start(&image, &[]);
    assert!(out.status.success(), "docker run: {}", stderr(&out));

    wait_until(STARTUP_LIMIT, "crashing container to exit", || {
        container.state().0 == "exited"
    });
    let (_, exit_code) = container.state();
    assert_ne!(exit_code, 0);
    let logs = docker(&["logs", &container.name]);
    let text = format!("{}{}", String::from_utf8_lossy(&logs.stdout), stderr(&logs));
    assert!(text.contains("out of memory"), "logs: {text}");
}

/// Runs `aima-engine-sim image` and checks the image reference it prints.
fn sim_image(env: &[&str]) -> String {
    require_docker();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aima-engine-sim"));
    cmd.arg("image");
    for pair in env {
        cmd.args(["--env", pair]);
    }
    let out = cmd.output().expect("cannot run aima-engine-sim");
    assert!(
        out.status.success(),
        "aima-engine-sim image {env:?} failed: {}",
        stderr(&out)
    );
    let image = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let tag = image.strip_prefix("aima-engine-sim:").unwrap_or_default();
    assert!(
        tag.len() == 16 && tag.bytes().all(|b| b.is_ascii_hexdigit()),
        "unexpected image reference {image:?}"
    );
    image
}

/// A uniquely named container that is force-removed on drop, so it goes away
/// even when an assertion fails. Other processes may share the daemon, hence
/// the unique names and removal by name only.
struct Container {
    name: String,
}

impl Container {
    fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self {
            name: format!("aima-sim-test-{}-{nanos}-{n}", std::process::id()),
        }
    }

    /// `docker run -d`, with the engine arguments appended after the image's `serve`.
    fn start(&self, image: &str, publish: &[&str]) -> Output {
        let port = ENGINE_PORT.to_string();
        let mut args = vec!["run", "-d", "--name", &self.name, "--label", LABEL];
        args.extend_from_slice(publish);
        args.extend([
            image,
            "--model",
            "tinyllama",
            "--port",
            &port,
            "--host",
            "0.0.0.0",
        ]);
        docker(&args)
    }

    /// Starts the engine with its port published on a free localhost port.
    fn run_published(image: &str) -> (Self, u16) {
        // The free port may be taken by someone else before Docker binds it; retry then.
        for _ in 0..3 {
            let host_port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("bind an ephemeral port")
                .port();
            let container = Self::new();
            let mapping = format!("127.0.0.1:{host_port}:{ENGINE_PORT}");
            let out = container.start(image, &["-p", &mapping]);
            if out.status.success() {
                return (container, host_port);
            }
            let err = stderr(&out);
            if !(err.contains("already allocated") || err.contains("address already in use")) {
                panic!("docker run failed: {err}");
            }
        }
        panic!("could not publish the engine port after 3 attempts");
    }

    /// (status, exit code) as reported by `docker inspect`.
    fn state(&self) -> (String, i64) {
        let out = docker(&[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            &self.name,
        ]);
        assert!(out.status.success(), "docker inspect: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let (status, code) = text.trim().split_once(' ').expect("status and exit code");
        (status.to_owned(), code.parse().expect("numeric exit code"))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "--force", "--volumes", &self.name]);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails (never skips) when no Docker daemon answers: these tests exist to run against one.
fn require_docker() {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    let why = match out {
        Ok(out) if out.status.success() => return,
        Ok(out) => stderr(&out),
        Err(e) => format!("cannot run the docker CLI: {e}"),
    };
    panic!("this test needs a Docker daemon and none answers: {why}\nstart one and run it again");
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `docker {}`: {e}", args.join(" ")))
}

/// Polls `ready` every 50 ms until it holds or `limit` passes; panics naming `what`.
fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One exchange with the engine (`Connection: close`, read to EOF), waiting at most 5 s for its
/// answer; returns the status and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    // Docker's port proxy accepts before the engine listens, then closes: no status line.
    let malformed = || std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP response");
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    Ok((status, body.to_owned()))
}
