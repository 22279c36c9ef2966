//! Shared by the daemon's process-level tests: a daemon child process with its own data dir and
//! port, a minimal HTTP client, Docker helpers and guards that clean up on drop.

#![allow(dead_code, reason = "each test file uses a different part")]

pub mod docker;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const AIMA: &str = env!("CARGO_BIN_EXE_aima");

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().unwrap().port()
}

pub fn wait_until<T>(limit: Duration, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        sleep(Duration::from_millis(50));
    }
}

/// A data dir that outlives daemon restarts within one test.
pub struct DataDir {
    pub dir: tempfile::TempDir,
}

impl DataDir {
    pub fn new() -> Self {
        DataDir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The `aima.instance` label of this data dir's containers.
    pub fn instance(&self) -> String {
        aima::config::Config::load(self.path(), &|_| None)
            .unwrap()
            .instance
    }

    /// `aima` with this data dir and `env`, for CLI commands beside the daemon.
    pub fn aima(&self, env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(AIMA);
        cmd.env("AIMA_DATA_DIR", self.path())
            .env_remove("AIMA_API_TOKEN");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }
}

/// `aima start` as a child process; killed on drop if still running.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub token: Option<String>,
    log: PathBuf,
}

impl Daemon {
    /// Starts on a free loopback port and waits until it answers health (any status).
    pub fn start(data: &DataDir, env: &[(&str, &str)]) -> Daemon {
        let port = free_port();
        let daemon = Self::spawn(data, env, &format!("127.0.0.1:{port}"), port);
        daemon.wait_ready();
        daemon
    }

    pub fn spawn(data: &DataDir, env: &[(&str, &str)], listen: &str, port: u16) -> Daemon {
        let log = data
            .path()
            .join(format!("daemon-{port}-{}.log", std::process::id()));
        let mut cmd = data.aima(env);
        cmd.args(["start", "--listen", listen])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap());
        let token = env
            .iter()
            .find(|(k, _)| *k == "AIMA_API_TOKEN")
            .map(|(_, v)| (*v).to_owned());
        Daemon {
            child: cmd.spawn().expect("spawn aima start"),
            port,
            token,
            log,
        }
    }

    pub fn wait_ready(&self) {
        wait_until(
            Duration::from_secs(20),
            "the daemon to answer health",
            || http(self.port, "GET", "/api/v2/health", None, None, 10).ok(),
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A request with the daemon's token; panics (with the daemon's log) if there is no answer.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        self.call_timeout(method, path, body, 30)
    }

    pub fn call_timeout(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        secs: u64,
    ) -> (u16, Value) {
        let (status, text) = http(self.port, method, path, body, self.token.as_deref(), secs)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\ndaemon log:\n{}", self.log()));
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text:?}"));
        (status, json)
    }

    pub fn status_of(&self, service: &str) -> String {
        let (code, svc) = self.call("GET", &format!("/api/v2/services/{service}"), None);
        assert_eq!(code, 200, "{svc}");
        svc["status"].as_str().unwrap().to_owned()
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Waits for the daemon to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = &mut self.child;
        let status = wait_until(limit, "the daemon to exit", || child.try_wait().unwrap());
        eprintln!("daemon log:\n{}", self.log());
        status
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("daemon log:\n{}", self.log());
        }
    }
}

/// Minimal HTTP/1.1 exchange with `Connection: close`; returns the status and the body.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
    secs: u64,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(secs)))?;
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let malformed = || std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP response");
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    Ok((status, body.to_owned()))
}

/// Registers a model and creates a vllm service on `port`; returns the service id.
pub fn create_service(daemon: &Daemon, port: u16) -> String {
    let (code, model) = daemon.call(
        "POST",
        "/api/v2/models",
        Some(r#"{"name": "tiny", "source": "ollama", "repo": "tinyllama"}"#),
    );
    assert_eq!(code, 201, "{model}");
    let body = serde_json::json!({
        "model_id": model["id"], "engine_type": "vllm", "port": port,
    })
    .to_string();
    let (code, svc) = daemon.call("POST", "/api/v2/services", Some(&body));
    assert_eq!(code, 201, "{svc}");
    svc["id"].as_str().unwrap().to_owned()
}

pub fn integrity_ok(data: &DataDir) -> bool {
    aima::store::Store::open(&data.path().join("aima.db"))
        .unwrap()
        .integrity_ok()
        .unwrap()
}
