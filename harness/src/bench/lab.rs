//! The bench's isolated aima: its own data dir, the simulator image, a daemon on a free port
//! with the generated token, and the Docker baseline's containers labelled with the run. On
//! drop (and on Ctrl-C) it stops the daemon and removes every container it or aima created.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use super::timed::{Timed, run};
use crate::exec::RUN_ENV;
use crate::fixtures::census::DockerView;
use crate::fixtures::daemon::AimaDaemon;
use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::fixtures::port_check::free_port;
use crate::interrupt::{InterruptGuard, guard};
use crate::reaper::{instance_of, private_dir};

/// The label every baseline container carries: `aima-bench.run=<run id>`.
pub(crate) const RUN_LABEL: &str = "aima-bench.run";
/// A single command's bound; the silent-endpoint figures use their own.
pub(crate) const COMMAND_DEADLINE: Duration = Duration::from_secs(120);

/// One aima data dir with its daemon.
pub(crate) struct Lab {
    pub aima: PathBuf,
    pub run_id: String,
    pub image: String,
    pub env: Vec<(String, String)>,
    pub data_dir: PathBuf,
    pub daemon: AimaDaemon,
    pub token: String,
    pub model: String,
    _cleanup: Cleanup,
}

impl Lab {
    /// A fresh data dir `<run dir>/<name>` with a model, and its daemon started.
    pub(crate) fn new(
        aima: &Path,
        run_id: &str,
        run_dir: &Path,
        image: &str,
        name: &str,
    ) -> anyhow::Result<Self> {
        let data_dir = run_dir.join(name);
        private_dir(&data_dir)?;
        let env = vec![
            ("AIMA_DATA_DIR".to_owned(), data_dir.display().to_string()),
            ("AIMA_VLLM_IMAGE".to_owned(), image.to_owned()),
            ("AIMA_VLLM_GPU".to_owned(), "false".to_owned()),
            (RUN_ENV.to_owned(), run_id.to_owned()),
        ];
        let cleanup = Cleanup::new(run_id, &data_dir);
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let daemon = AimaDaemon::start(aima, &env, listen, &run_dir.join("logs"), name)?;
        let token = std::fs::read_to_string(data_dir.join("api-token"))
            .context("reading the daemon's generated api-token")?
            .trim()
            .to_owned();
        let mut lab = Lab {
            aima: aima.to_owned(),
            run_id: run_id.to_owned(),
            image: image.to_owned(),
            env,
            data_dir,
            daemon,
            token,
            model: String::new(),
            _cleanup: cleanup,
        };
        let model = lab.aima_json(&[
            "model",
            "create",
            "--name",
            "bench",
            "--source",
            "ollama",
            "--repo",
            "tinyllama",
        ])?;
        lab.model = id_of(&model)?;
        Ok(lab)
    }

    /// `aima ARGS` with the lab's environment plus `extra`.
    pub(crate) fn aima(&self, args: &[&str], extra: &[(&str, &str)]) -> anyhow::Result<Timed> {
        let mut env = self.env.clone();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        run(&self.aima, args, &env, COMMAND_DEADLINE)
    }

    /// `aima -o json ARGS`, which must succeed.
    pub(crate) fn aima_json(&self, args: &[&str]) -> anyhow::Result<Value> {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        let out = self.aima(&all, &[])?;
        if out.code != Some(0) {
            bail!(
                "aima {} failed ({}): {}",
                args.join(" "),
                out.outcome(),
                out.stderr.trim()
            );
        }
        serde_json::from_str(&out.stdout).context("aima printed no JSON")
    }

    /// A vLLM service of the lab's model on `port`; returns its id.
    pub(crate) fn service(&self, port: u16) -> anyhow::Result<String> {
        let port = port.to_string();
        let created = self.aima_json(&[
            "service",
            "create",
            "--model-id",
            &self.model,
            "--engine-type",
            "vllm",
            "--port",
            &port,
        ])?;
        id_of(&created)
    }

    /// One request to the daemon's TCP API with the token, and its time in ms.
    pub(crate) fn api(&self, method: &str, path: &str, body: Option<&str>) -> (HttpReply, f64) {
        api_call(self.daemon.listen, &self.token, method, path, body)
    }

    /// This lab's containers (aima's, by instance label) in any state.
    pub(crate) fn aima_containers(&self) -> usize {
        containers_with(&format!("aima.instance={}", instance_of(&self.data_dir)))
    }
}

/// A request to the API at `addr` with `token` on a fresh connection, and the time from
/// connecting to the answer's end (ms); an unanswered request is status 0.
pub(crate) fn api_call(
    addr: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (HttpReply, f64) {
    let mut request = HttpRequest::new(method, path)
        .bearer(token)
        .timeout(Duration::from_secs(120));
    if let Some(body) = body {
        request = request.json(body);
    }
    let started = std::time::Instant::now();
    let reply = request.send(addr).unwrap_or_default();
    (reply, started.elapsed().as_secs_f64() * 1000.0)
}

fn id_of(value: &Value) -> anyhow::Result<String> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {value}"))
}

/// `docker ARGS` from the harness's own environment.
pub(crate) fn docker(args: &[&str], deadline: Duration) -> anyhow::Result<Timed> {
    run(Path::new("docker"), args, &[], deadline)
}

/// `docker ARGS` with `DOCKER_HOST` set.
pub(crate) fn docker_at(host: &str, args: &[&str], deadline: Duration) -> anyhow::Result<Timed> {
    let env = [("DOCKER_HOST".to_owned(), host.to_owned())];
    run(Path::new("docker"), args, &env, deadline)
}

/// Containers (any state) carrying `label`.
pub(crate) fn containers_with(label: &str) -> usize {
    ids_with(label).len()
}

fn ids_with(label: &str) -> Vec<String> {
    let filter = format!("label={label}");
    docker(&["ps", "-aq", "--filter", &filter], Duration::from_secs(30))
        .map(|t| t.stdout.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Removes every container carrying `label` (the run's baseline ones, or one data dir's).
pub(crate) fn remove_with(label: &str) -> usize {
    let ids = ids_with(label);
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        let _ = docker(&args, Duration::from_secs(120));
    }
    ids.len()
}

/// Removes the run's and the data dir's containers, then the data dir's engine cache volumes
/// (a bench data dir is thrown away, so its caches would only pile up), when dropped or on
/// Ctrl-C.
struct Cleanup {
    labels: Vec<String>,
    instance: String,
    _interrupt: InterruptGuard,
}

impl Cleanup {
    fn new(run_id: &str, data_dir: &Path) -> Self {
        let instance = instance_of(data_dir);
        let labels = vec![
            format!("{RUN_LABEL}={run_id}"),
            format!("aima.instance={instance}"),
        ];
        let (for_signal, instance_for_signal) = (labels.clone(), instance.clone());
        let interrupt = guard(format!("bench containers of {run_id}"), move || {
            remove_all(&for_signal, &instance_for_signal);
        });
        Cleanup {
            labels,
            instance,
            _interrupt: interrupt,
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_all(&self.labels, &self.instance);
    }
}

/// Containers first: Docker refuses to remove a volume a container still mounts.
fn remove_all(labels: &[String], instance: &str) {
    for label in labels {
        remove_with(label);
    }
    match DockerView::connect() {
        Ok(docker) => {
            for line in docker.remove_instance_volumes(instance) {
                if !line.starts_with("removed") {
                    eprintln!("bench clean-up: {line}");
                }
            }
        }
        Err(e) => eprintln!("bench clean-up: cannot remove the volumes of {instance}: {e:#}"),
    }
}
