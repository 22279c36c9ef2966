//! An `aima` CLI bound to a temporary data dir of its own and to the environment the test sets.

use std::path::{Path, PathBuf};
use std::process::Command;

const AIMA: &str = env!("CARGO_BIN_EXE_aima");

/// An `aima` with a fresh data dir and the simulator-friendly engine settings (no GPU).
pub struct Aima {
    _tmp: tempfile::TempDir,
    data_dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Aima {
    /// A service's row as stored, read without the refresh that CLI and API reads do: what
    /// the daemon (reconciler, event stream, supervisor) wrote.
    pub fn recorded(&self, service: &str) -> ::aima::domain::Service {
        ::aima::store::Store::open(&self.data_dir().join("aima.db"))
            .unwrap()
            .get_service(&::aima::domain::ServiceId::parse(service).unwrap())
            .unwrap()
    }

    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("create a temp dir");
        let data_dir = tmp.path().join("data");
        Self::at(tmp, data_dir)
    }

    /// An `aima` whose `AIMA_DATA_DIR` is `data_dir` (which may not be usable on purpose).
    pub fn at(tmp: tempfile::TempDir, data_dir: PathBuf) -> Self {
        let aima = Aima {
            _tmp: tmp,
            data_dir,
            env: Vec::new(),
        };
        aima.env("AIMA_VLLM_GPU", "false")
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The command, with the inherited `AIMA_*` settings dropped so the test alone decides.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(AIMA);
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("AIMA_")) {
            cmd.env_remove(key);
        }
        cmd.env("AIMA_DATA_DIR", self.data_dir())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args);
        cmd
    }
}
