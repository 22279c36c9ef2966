//! `aima info`: what this aima is and what it would run with — version and commit, data dir,
//! instance, the Docker endpoint (credentials masked) and what answers there, and every engine
//! setting with the layer it came from (default, config file, environment), secrets shown only
//! as set or not; and where the API token the daemon uses comes from.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::render;
use crate::config::{ApiAuth, Config, Source, engine_settings};
use crate::lifecycle::Deps;
use crate::runtime::DockerEndpoint;

/// Docker gets this long in total to answer: `info` must stay quick when it is away.
const DOCKER_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Info {
    version: String,
    commit: String,
    data_dir: String,
    data_dir_source: String,
    instance: String,
    config_file: ConfigFile,
    api: Api,
    /// Whether a daemon serves this data dir: supervision needs one.
    daemon: Daemon,
    /// Where engines run: `docker`, or `swarm` (`[runtime] kind`, `AIMA_RUNTIME`).
    runtime: Setting,
    docker: Docker,
    /// The free-space minimums (`[disk]`), in bytes.
    disk: BTreeMap<String, Setting>,
    /// How the daemon's supervisor paces restarts (`[supervision]`).
    supervision: BTreeMap<String, Setting>,
    engines: BTreeMap<String, BTreeMap<String, Setting>>,
    /// The engines' download caches (named volumes) that exist; empty when Docker is away.
    caches: Vec<crate::lifecycle::cache::CacheInfo>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ConfigFile {
    path: String,
    exists: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Api {
    listen: Setting,
    /// Whether TCP requests need a token and where it comes from; never the token.
    token: Setting,
    /// The file the daemon reads its generated token from (or writes it to at its first
    /// start), when no token is configured and auth is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    token_file: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Daemon {
    /// A daemon answers on `socket` (as `service start` checks before warning that nothing
    /// restarts engines without one).
    serving: bool,
    socket: String,
}

impl Daemon {
    fn of(data_dir: &std::path::Path) -> Self {
        Daemon {
            serving: crate::daemon::serves(data_dir),
            socket: data_dir
                .join(crate::daemon::SOCKET_NAME)
                .display()
                .to_string(),
        }
    }

    fn line(&self) -> String {
        if self.serving {
            format!("serving (socket {})", self.socket)
        } else {
            format!(
                "not running (no answer on {}): nothing restarts engines until `aima start` runs",
                self.socket
            )
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Docker {
    /// As `DOCKER_HOST` names it, with any credentials masked.
    endpoint: String,
    source: String,
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    /// Whether Docker has an NVIDIA runtime for engines that ask for a GPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_runtime: Option<bool>,
    /// How Docker can hand GPUs over (NVIDIA runtime, CDI), or why it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_support: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Setting {
    value: Value,
    /// `default`, `file` or `env`.
    source: String,
    /// The variable that set it, when `source` is `env`.
    #[serde(skip_serializing_if = "Option::is_none")]
    env: Option<String>,
}

impl Setting {
    fn new(value: Value, source: Source) -> Self {
        Setting {
            value,
            source: source.kind().to_owned(),
            env: match source {
                Source::Env(var) => Some(var),
                _ => None,
            },
        }
    }

    fn shown(&self) -> (String, String) {
        let value = match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let source = match &self.env {
            Some(var) => format!("env {var}"),
            None if self.source == "file" => "config file".to_owned(),
            None => self.source.to_owned(),
        };
        (value, source)
    }
}

pub(crate) async fn gather(deps: &Deps) -> Info {
    let config = &deps.config;
    let env = &config.env;
    let config_path = config.data_dir.join("config.toml");
    Info {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: env!("AIMA_COMMIT").to_owned(),
        data_dir: config.data_dir.display().to_string(),
        data_dir_source: if env.get("AIMA_DATA_DIR").is_some() {
            "env"
        } else {
            "default"
        }
        .to_owned(),
        instance: config.instance.clone(),
        config_file: ConfigFile {
            exists: config_path.is_file(),
            path: config_path.display().to_string(),
        },
        api: Api {
            listen: Setting::new(json!(config.api_listen), config.sources.of("api.listen")),
            token: token_setting(config),
            token_file: token_file(config),
        },
        daemon: Daemon::of(&config.data_dir),
        runtime: Setting::new(
            json!(config.runtime.kind.as_str()),
            config.sources.of("runtime.kind"),
        ),
        docker: docker(deps).await,
        disk: BTreeMap::from([
            (
                "data_min_free".to_owned(),
                Setting::new(
                    json!(config.disk.data_min_free),
                    config.sources.of("disk.data_min_free"),
                ),
            ),
            (
                "docker_min_free".to_owned(),
                Setting::new(
                    json!(config.disk.docker_min_free),
                    config.sources.of("disk.docker_min_free"),
                ),
            ),
        ]),
        supervision: BTreeMap::from([
            (
                "backoff_max_secs".to_owned(),
                Setting::new(
                    json!(config.supervision.backoff_max.as_secs()),
                    config.sources.of("supervision.backoff_max_secs"),
                ),
            ),
            (
                "parallel_starts".to_owned(),
                Setting::new(
                    json!(config.supervision.parallel_starts),
                    config.sources.of("supervision.parallel_starts"),
                ),
            ),
        ]),
        engines: engines(config),
        caches: Vec::new(),
    }
    .with_caches(deps)
    .await
}

impl Info {
    async fn with_caches(mut self, deps: &Deps) -> Self {
        if self.docker.reachable {
            let listed = tokio::time::timeout(DOCKER_WAIT, crate::lifecycle::cache::list(deps));
            if let Ok(Ok(caches)) = listed.await {
                self.caches = caches;
            }
        }
        self
    }
}

/// The token the daemon requires: the operator's (env or config file), none when auth is off,
/// else the one generated into the data dir (`token_file`).
fn token_setting(config: &Config) -> Setting {
    if config.api_token.is_some() {
        return Setting::new(json!("set"), config.sources.of("api.token"));
    }
    if config.api_auth == ApiAuth::None {
        return Setting::new(json!("none: auth is off"), config.sources.of("api.auth"));
    }
    let generated = config.data_dir.join(crate::daemon::TOKEN_FILE).is_file();
    Setting {
        value: json!(if generated {
            "set"
        } else {
            "generated at the daemon's first start"
        }),
        source: "token_file".to_owned(),
        env: None,
    }
}

fn token_file(config: &Config) -> Option<String> {
    (config.api_token.is_none() && config.api_auth == ApiAuth::Token).then(|| {
        let path = config.data_dir.join(crate::daemon::TOKEN_FILE);
        path.display().to_string()
    })
}

async fn docker(deps: &Deps) -> Docker {
    let docker_host = deps.config.env.get("DOCKER_HOST");
    let mut out = Docker {
        endpoint: String::new(),
        source: if docker_host.is_some() {
            "env"
        } else {
            "default"
        }
        .to_owned(),
        reachable: false,
        version: None,
        api_version: None,
        gpu_runtime: None,
        gpu_support: None,
        error: None,
    };
    match DockerEndpoint::parse(docker_host) {
        Ok(endpoint) => out.endpoint = endpoint.to_string(),
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    }
    let asked = async {
        let rt = deps.docker().await?;
        let version = rt.version().await?;
        let gpu = rt.gpu_support().await?;
        Ok::<_, crate::error::Error>((version, gpu))
    };
    match tokio::time::timeout(DOCKER_WAIT, asked).await {
        Ok(Ok((version, gpu))) => {
            out.reachable = true;
            out.version = Some(version.version);
            out.api_version = Some(version.api_version);
            out.gpu_runtime = Some(gpu.path().is_some());
            out.gpu_support = Some(gpu.describe());
        }
        Ok(Err(e)) => out.error = Some(e.one_line()),
        Err(_) => {
            out.error = Some(format!(
                "Docker did not answer within {}s",
                DOCKER_WAIT.as_secs()
            ));
        }
    }
    out
}

/// Every engine setting of [`engine_settings::ALL`] with its effective value and source.
fn engines(config: &Config) -> BTreeMap<String, BTreeMap<String, Setting>> {
    config
        .engines
        .iter()
        .map(|(engine, spec)| {
            let settings = engine_settings::ALL
                .iter()
                .map(|setting| {
                    // `gpus` follows `gpu` unless set itself: its source is whichever decided.
                    let key = match setting.key {
                        "gpus" if spec.gpus.is_none() => "gpu",
                        key => key,
                    };
                    let source = config.sources.of(&format!("engines.{engine}.{key}"));
                    let value = Setting::new((setting.show)(spec), source);
                    (setting.key.to_owned(), value)
                })
                .collect();
            (engine.to_string(), settings)
        })
        .collect()
}

/// `32 MiB (default)`; `no check (env AIMA_DATA_MIN_FREE)` for 0. (An info read from a
/// daemon of another version may lack a setting.)
fn min_free(setting: Option<&Setting>) -> String {
    let Some(setting) = setting else {
        return UNKNOWN.to_owned();
    };
    let (_, source) = setting.shown();
    match setting.value.as_u64() {
        Some(0) | None => format!("no check ({source})"),
        Some(bytes) => format!("{} ({source})", crate::disk::Bytes(bytes)),
    }
}

/// What a setting the info lacks reads as.
const UNKNOWN: &str = "unknown (not in this info)";

/// A setting's value with its unit, and where it came from.
fn with_unit(setting: Option<&Setting>, unit: &str) -> String {
    let Some(setting) = setting else {
        return UNKNOWN.to_owned();
    };
    let (value, source) = setting.shown();
    format!("{value}{unit} ({source})")
}

/// The detail view, then the engine settings as a table.
pub(crate) fn render_table(info: &Info) -> String {
    let docker = &info.docker;
    let docker_line = match (&docker.version, &docker.error) {
        (Some(v), _) => format!(
            "{} ({}), Docker {v}, API {}",
            docker.endpoint,
            docker.source,
            docker.api_version.as_deref().unwrap_or("?")
        ),
        (None, Some(e)) if docker.endpoint.is_empty() => format!("unusable: {e}"),
        (None, Some(e)) => format!("{} ({}), unreachable: {e}", docker.endpoint, docker.source),
        (None, None) => docker.endpoint.clone(),
    };
    let gpu = docker
        .gpu_support
        .as_deref()
        .unwrap_or("unknown (Docker unreachable)");
    let (listen, listen_source) = info.api.listen.shown();
    let (runtime, runtime_source) = info.runtime.shown();
    let (token, mut token_source) = info.api.token.shown();
    if let Some(path) = &info.api.token_file {
        token_source = format!("token file {path}");
    }
    let config_file = if info.config_file.exists {
        info.config_file.path.clone()
    } else {
        format!("{} (absent)", info.config_file.path)
    };
    let pairs = [
        (
            "version",
            format!("{} (commit {})", info.version, info.commit),
        ),
        (
            "data dir",
            format!("{} ({})", info.data_dir, info.data_dir_source),
        ),
        ("instance", info.instance.clone()),
        ("config file", config_file),
        ("api listen", format!("{listen} ({listen_source})")),
        ("api token", format!("{token} ({token_source})")),
        ("daemon", info.daemon.line()),
        ("runtime", format!("{runtime} ({runtime_source})")),
        ("docker", docker_line),
        ("gpu runtime", gpu.to_owned()),
        ("data min free", min_free(info.disk.get("data_min_free"))),
        (
            "docker min free",
            min_free(info.disk.get("docker_min_free")),
        ),
        (
            "backoff max",
            with_unit(info.supervision.get("backoff_max_secs"), "s"),
        ),
        (
            "parallel starts",
            with_unit(info.supervision.get("parallel_starts"), ""),
        ),
    ];
    let mut out = render::detail(&pairs);
    out.push('\n');
    let rows: Vec<Vec<String>> = info
        .engines
        .iter()
        .flat_map(|(engine, settings)| {
            settings.iter().map(move |(name, setting)| {
                let (value, source) = setting.shown();
                vec![engine.clone(), name.clone(), value, source]
            })
        })
        .collect();
    out.push_str(&render::table(
        &["ENGINE", "SETTING", "VALUE", "SOURCE"],
        &rows,
    ));
    out.push('\n');
    out.push_str(&render::caches_table(&info.caches));
    out
}
