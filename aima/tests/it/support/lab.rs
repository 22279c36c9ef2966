//! A [`Lab`]: an `aima` whose vLLM engine is the simulator image, and which leaves nothing
//! behind, even after a failed assert.

use std::ops::Deref;

use super::aima::Aima;
use super::containers::{Cleanup, containers_with, instance_of};
use super::docker::sim_image;
use super::ports::free_port;
use super::run::Outcome;

/// On drop it stops every service of its data dir, then removes whatever container still
/// carries its instance label.
pub struct Lab {
    aima: Aima,
    _cleanup: Cleanup,
}

impl Lab {
    /// Requires Docker; `sim_env` is baked into the simulator image (e.g. `AIMA_SIM_CRASH=oom`).
    pub fn new(sim_env: &[&str]) -> Self {
        Self::with_env(sim_env, &[])
    }

    /// As [`Lab::new`], with `env` (`AIMA_*` settings) given to every command.
    pub fn with_env(sim_env: &[&str], env: &[(&str, &str)]) -> Self {
        Self::of(&sim_image(sim_env), env)
    }

    /// A lab whose vLLM engine image is `image` (e.g. one that is only in a registry).
    pub fn with_image(image: &str) -> Self {
        Self::of(image, &[])
    }

    fn of(image: &str, env: &[(&str, &str)]) -> Self {
        let aima = env
            .iter()
            .fold(Aima::new(), |aima, (k, v)| aima.env(k, v))
            .env("AIMA_VLLM_IMAGE", image);
        let cleanup = Cleanup {
            instance: instance_of(aima.data_dir()),
            extra: Vec::new(),
        };
        Lab {
            aima,
            _cleanup: cleanup,
        }
    }

    /// The scenario's model plus a vLLM service on a free port; returns (service id, port).
    pub fn service(&self) -> (String, u16) {
        let model = self.create_model();
        let port = free_port();
        let id = self.create_service(&model, &["--port", &port.to_string()]);
        (id, port)
    }

    /// `service VERB ID --wait --timeout SECS -o json EXTRA…`, as it comes out.
    pub fn run_waiting(&self, verb: &str, svc: &str, secs: &str, extra: &[&str]) -> Outcome {
        let mut args = vec![
            "service",
            verb,
            svc,
            "--wait",
            "--timeout",
            secs,
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `service VERB ID --wait --timeout 120 -o json EXTRA…` (`start` or `restart`), which
    /// must succeed with the service running.
    pub fn bring_up(&self, verb: &str, svc: &str, extra: &[&str]) -> Outcome {
        let out = self.run_waiting(verb, svc, "120", extra).success();
        assert_eq!(out.json()["status"], "running", "{out}");
        out
    }

    pub fn instance(&self) -> String {
        instance_of(self.data_dir())
    }

    /// The container recorded for `svc` (`service get`), which must have one.
    pub fn container_of(&self, svc: &str) -> String {
        let shown = self.run(&["service", "get", svc, "-o", "json"]).success();
        shown.json()["container_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no container recorded: {shown}"))
            .to_owned()
    }

    /// Containers of this lab's data dir, in any state.
    pub fn containers(&self) -> Vec<String> {
        containers_with(&[&format!("aima.instance={}", self.instance())])
    }
}

impl Deref for Lab {
    type Target = Aima;
    fn deref(&self) -> &Aima {
        &self.aima
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let listed = self.aima.run(&["service", "list", "-o", "json"]);
        if let Ok(list) = serde_json::from_str::<serde_json::Value>(&listed.stdout) {
            for svc in list["items"].as_array().into_iter().flatten() {
                if let Some(id) = svc["id"].as_str() {
                    let _ = self.aima.run(&["service", "stop", "--force", id]);
                }
            }
        }
        // `_cleanup` is dropped next and removes the containers left.
    }
}
