//! `aima service …` and `aima model …` through the daemon's API, printed as in-process (a
//! start's progress too).

use std::time::Duration;

use hyper::Method;
use serde_json::{Map, Value, json};

use super::client::{Client, QUICK};
use super::paths::{all_pages, segment};
use super::start_progress;
use crate::cli::args::{ModelCommand, Output, ServiceCommand, StartArgs};
use crate::cli::commands::{service_view, updated};
use crate::cli::{render, service_verbs};
use crate::domain::{Model, Service};
use crate::error::{Error, Result};
use crate::ops::settings::{Effective, SettingsRequest};
use crate::ops::{self, Effect, FieldChange, Pruned};

/// Stops and deletes wait for an engine's graceful stop, which may be long.
const STOPPING: Duration = Duration::from_secs(600);

/// A service as the API answers it: with the effective settings of the daemon's config.
#[derive(serde::Deserialize)]
struct Detail {
    #[serde(flatten)]
    service: Service,
    #[serde(default)]
    effective: Vec<Effective>,
}

impl Detail {
    fn shown(self, all: bool, json: bool) -> String {
        service_view(&self.service, self.effective, all, json)
    }
}

#[derive(serde::Deserialize)]
struct UpdatedAnswer {
    #[serde(flatten)]
    detail: Detail,
    changes: Vec<FieldChange>,
    effect: Effect,
}

#[derive(serde::Deserialize)]
struct PrunedList {
    items: Vec<Pruned>,
    /// Orphans that are not the caller's to prune (absent from older daemons).
    #[serde(default)]
    left: usize,
}

pub(super) async fn model(client: &Client, cmd: ModelCommand, output: Output) -> Result<String> {
    let json = output == Output::Json;
    let shown = |m: &Model| {
        if json {
            render::to_json(m)
        } else {
            render::model_detail(m)
        }
    };
    Ok(match cmd {
        ModelCommand::Create {
            name,
            source,
            repo,
            path,
            model_type,
        } => {
            let body = json!({"name": name, "source": source, "repo": repo, "path": path, "type": model_type});
            shown(
                &client
                    .call(Method::POST, "/api/v2/models", Some(body), QUICK)
                    .await?,
            )
        }
        ModelCommand::List => {
            let models: Vec<Model> = all_pages(client, "/api/v2/models?").await?;
            if json {
                render::json_list(&models)
            } else {
                render::models_table(&models)
            }
        }
        ModelCommand::Get { id } => {
            let path = format!("/api/v2/models/{}", segment(&id));
            shown(&client.call(Method::GET, &path, None, QUICK).await?)
        }
        ModelCommand::Delete { id, force } => {
            let path = format!("/api/v2/models/{}?force={force}", segment(&id));
            let m: Model = client.call(Method::DELETE, &path, None, QUICK).await?;
            if json {
                render::to_json(&m)
            } else {
                format!("deleted model {}", m.id)
            }
        }
    })
}

/// The create and update bodies' settings: an env file names a file on this host, which the
/// daemon cannot read, so it is refused rather than read here and sent in clear.
fn settings_body(req: SettingsRequest, body: &mut Map<String, Value>) -> Result<()> {
    if let Some(file) = req.env_file {
        return Err(Error::usage(format!(
            "--env-file {} names a file on this host: the daemon cannot read it",
            file.display()
        ))
        .with_help("give the variables with --env KEY=VALUE (keys with TOKEN, KEY, SECRET or PASSWORD are kept secret), or run the command on the daemon's host without --host"));
    }
    if let Some(image) = req.image {
        body.insert("image".into(), json!(image));
    }
    if let Some(args) = req.args {
        body.insert("args".into(), json!(args));
    }
    if !req.env.is_empty() {
        let env: Map<String, Value> = req.env.into_iter().map(|(k, v)| (k, json!(v))).collect();
        body.insert("env".into(), Value::Object(env));
    }
    if let Some(size) = req.shm_size {
        body.insert("shm_size".into(), json!(size));
    }
    Ok(())
}

fn start_body(args: &StartArgs) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("wait".into(), json!(args.wait));
    body.insert("timeout".into(), json!(args.timeout));
    if let Some(pull) = args.pull {
        body.insert("pull".into(), json!(pull));
    }
    if let Some(node) = &args.node {
        body.insert("node".into(), json!(node));
    }
    body
}

/// A start or restart may take its whole `--timeout`; the answer gets a minute more.
fn starting(args: &StartArgs) -> Duration {
    Duration::from_secs(args.timeout) + Duration::from_secs(60)
}

fn service_path(id: &str, tail: &str) -> String {
    format!("/api/v2/services/{}{tail}", segment(id))
}

pub(super) async fn service(
    client: &Client,
    cmd: ServiceCommand,
    output: Output,
) -> Result<String> {
    let json = output == Output::Json;
    Ok(match cmd {
        ServiceCommand::Create {
            model_id,
            engine_type,
            port,
            name,
            bind,
            gpus,
            memory,
            restart,
            settings,
        } => {
            let mut body = Map::new();
            body.insert("model_id".into(), json!(model_id));
            body.insert("engine_type".into(), json!(engine_type));
            let optional = [
                ("port", json!(port)),
                ("name", json!(name)),
                ("bind", json!(bind)),
                ("gpus", json!(gpus)),
                ("memory", json!(memory)),
                ("restart", json!(restart)),
            ];
            body.extend(
                optional
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.to_owned(), v)),
            );
            settings_body(settings.request()?, &mut body)?;
            let made: Detail = client
                .call(
                    Method::POST,
                    "/api/v2/services",
                    Some(Value::Object(body)),
                    QUICK,
                )
                .await?;
            made.shown(false, json)
        }
        ServiceCommand::Update(args) => {
            let id = args.id.clone();
            let req = args.request()?;
            let mut body = Map::new();
            let optional = [
                ("name", json!(req.name)),
                ("port", json!(req.port)),
                ("bind", json!(req.bind)),
                ("gpus", json!(req.gpus)),
                ("memory", json!(req.memory)),
                ("restart", json!(req.restart)),
            ];
            body.extend(
                optional
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.to_owned(), v)),
            );
            if !req.unset.is_empty() {
                body.insert("unset".into(), json!(req.unset));
            }
            body.insert("apply_now".into(), json!(req.apply_now));
            settings_body(req.settings, &mut body)?;
            let path = service_path(&id, "");
            let answer: UpdatedAnswer = client
                .call(Method::PATCH, &path, Some(Value::Object(body)), STOPPING)
                .await?;
            let up = ops::Updated {
                service: answer.detail.service,
                changes: answer.changes,
                effect: answer.effect,
            };
            updated(&up, answer.detail.effective, json)
        }
        ServiceCommand::List(args) => {
            let query = match args.status {
                Some(status) => format!("/api/v2/services?status={}&", status.as_str()),
                None => "/api/v2/services?".to_owned(),
            };
            let services: Vec<Service> = all_pages(client, &query).await?;
            service_verbs::list_shown(&services, args.quiet, output)
        }
        ServiceCommand::Get { id } => {
            let got: Detail = client
                .call(Method::GET, &service_path(&id, ""), None, QUICK)
                .await?;
            got.shown(true, json)
        }
        ServiceCommand::Start(args) => {
            let body = Value::Object(start_body(&args));
            let path = service_path(&args.id, "/start");
            let call = client.call(Method::POST, &path, Some(body), starting(&args));
            let started: Detail = start_progress::shown(client, &args, output, call).await?;
            started.shown(false, json)
        }
        ServiceCommand::Restart(args) => {
            let mut body = start_body(&args.start);
            body.insert("force".into(), json!(args.force));
            if let Some(time) = args.time {
                body.insert("time".into(), json!(time));
            }
            let path = service_path(&args.start.id, "/restart");
            let wait = starting(&args.start) + STOPPING;
            let call = client.call(Method::POST, &path, Some(Value::Object(body)), wait);
            let restarted: Detail =
                start_progress::shown(client, &args.start, output, call).await?;
            restarted.shown(false, json)
        }
        ServiceCommand::Logs(args) => super::service_io::logs(client, args, output).await?,
        ServiceCommand::Stop { id, force, time } => {
            let body = json!({"force": force, "time": time});
            let path = service_path(&id, "/stop");
            let stopped: Detail = client
                .call(Method::POST, &path, Some(body), STOPPING)
                .await?;
            stopped.shown(false, json)
        }
        ServiceCommand::Prune => {
            let pruned: PrunedList = client
                .call(Method::POST, "/api/v2/services/prune", None, STOPPING)
                .await?;
            if pruned.left > 0 && !json {
                eprintln!(
                    "note: {} orphaned container(s) of other people's or deleted services left: \
                     an admin may prune them, and the daemon's reaper removes them after its grace",
                    pruned.left
                );
            }
            if json {
                render::json_list(&pruned.items)
            } else {
                render::pruned_table(&pruned.items)
            }
        }
        ServiceCommand::Delete { id } => {
            let path = service_path(&id, "");
            let s: Service = client.call(Method::DELETE, &path, None, STOPPING).await?;
            if json {
                render::to_json(&s)
            } else {
                format!("deleted service {}", s.id)
            }
        }
    })
}
