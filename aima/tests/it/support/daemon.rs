//! `aima start` as a child process with its own data dir and port, its API over HTTP, and its
//! store checked after it exits.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::aima::Aima;
use super::http::http;
use super::ports::free_port;
use super::wait::wait_until;

/// `aima start` as a child process; killed on drop if still running.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
    /// `AIMA_API_TOKEN` when the test set one; else the daemon's generated token file is read.
    token: Option<String>,
    data_dir: PathBuf,
    log: PathBuf,
}

impl Daemon {
    /// Starts on a free loopback port and waits until it answers health (any status).
    pub fn start(aima: &Aima, env: &[(&str, &str)]) -> Daemon {
        let port = free_port();
        let daemon = Self::spawn(aima, env, &format!("127.0.0.1:{port}"), port);
        daemon.wait_ready();
        daemon
    }

    /// `aima start --listen LISTEN` with the extra `env`; its log goes to the data dir.
    pub fn spawn(aima: &Aima, env: &[(&str, &str)], listen: &str, port: u16) -> Daemon {
        std::fs::create_dir_all(aima.data_dir()).expect("create the data dir");
        let log = aima
            .data_dir()
            .join(format!("daemon-{port}-{}.log", std::process::id()));
        let mut cmd = aima.command(&["start", "--listen", listen]);
        cmd.envs(env.iter().copied())
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
            data_dir: aima.data_dir().to_owned(),
            log,
        }
    }

    /// The token TCP requests need: the one the test set, else the generated `api-token`
    /// (none when the daemon runs with `AIMA_API_AUTH=none`).
    pub fn token(&self) -> Option<String> {
        self.token.clone().or_else(|| {
            std::fs::read_to_string(self.data_dir.join("api-token"))
                .ok()
                .map(|t| t.trim().to_owned())
        })
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
        let token = self.token();
        let (status, text) = http(self.port, method, path, body, token.as_deref(), secs)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\ndaemon log:\n{}", self.log()));
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text:?}"));
        (status, json)
    }

    /// Registers a model and creates a vllm service on `port` through the API; returns its id.
    pub fn create_service(&self, port: u16) -> String {
        let (code, model) = self.call(
            "POST",
            "/api/v2/models",
            Some(r#"{"name": "tiny", "source": "ollama", "repo": "tinyllama"}"#),
        );
        assert_eq!(code, 201, "{model}");
        let body = serde_json::json!({
            "model_id": model["id"], "engine_type": "vllm", "port": port,
        })
        .to_string();
        let (code, svc) = self.call("POST", "/api/v2/services", Some(&body));
        assert_eq!(code, 201, "{svc}");
        svc["id"].as_str().unwrap().to_owned()
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

/// The store of a data dir whose daemon has exited passes SQLite's integrity check.
pub fn integrity_ok(aima: &Aima) -> bool {
    ::aima::store::Store::open(&aima.data_dir().join("aima.db"))
        .unwrap()
        .check_integrity()
        .is_ok()
}
