//! Running one parsed command and turning its result into the text to print.

use super::args::{
    CacheCommand, Cli, Command, InferenceCommand, ModelCommand, Output, ServiceCommand,
};
use super::{apply, backup, docs, events, info, man, render, service_verbs, terminal, tokens};
use crate::config::{Config, Env};
use crate::domain::Service;
use crate::error::{Error, Result};
use crate::lifecycle::{Deps, StopMode};
use crate::ops::{self, settings};
use crate::store::{Store, StoreHandle};

pub(crate) fn run(cli: Cli, env: Env) -> Result<String> {
    // Generated documentation needs no data dir.
    match &cli.command {
        Command::Completions { shell } => return Ok(docs::completions(*shell)),
        Command::Man { out_dir } => {
            return match out_dir {
                None => man::man_page(),
                Some(dir) => man::write_man_pages(dir),
            };
        }
        _ => {}
    }
    let config = Config::from_env(env)?;
    let data_dir = config.data_dir.clone();
    let db = config.db_path();
    in_process(cli, config).map_err(|e| daemon_hint(e, &data_dir, &db))
}

fn in_process(cli: Cli, config: Config) -> Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::internal("cannot start the async runtime").caused_by(e))?;
    match cli.command {
        Command::Start { listen } => runtime
            .block_on(crate::daemon::run(config, listen))
            .map(|()| String::new()),
        Command::Model(cmd) => model(&config, cmd, cli.output),
        Command::Service(cmd) => runtime.block_on(service(acting(config), cmd, cli.output)),
        Command::Inference(cmd) => runtime.block_on(inference(Deps::real(config), cmd, cli.output)),
        Command::Cache(cmd) => runtime.block_on(cache(Deps::real(config), cmd, cli.output)),
        Command::Token(cmd) => tokens::run(&mut open(&config)?, cmd, cli.output),
        Command::Backup { file, force } => backup::backup(&config, &file, force, cli.output),
        Command::Restore {
            file,
            with_instance_id,
        } => backup::restore(&config, &file, with_instance_id, cli.output),
        Command::Apply(args) => {
            let deps = acting(config);
            runtime.block_on(async {
                let store = handle(&deps.config)?;
                apply::apply(&deps, &store, args, cli.output).await
            })
        }
        Command::Export => {
            let deps = Deps::real(config);
            runtime.block_on(async {
                let store = handle(&deps.config)?;
                apply::export(&deps, &store, cli.output).await
            })
        }
        Command::Info => {
            let info = runtime.block_on(info::gather(&Deps::real(config)));
            Ok(if cli.output == Output::Json {
                render::to_json(&info)
            } else {
                info::render_table(&info)
            })
        }
        Command::Events { since, service } => {
            let req = ops::EventsRequest { since, service };
            let events = ops::list_events(&open(&config)?, &req)?;
            Ok(events::render(&events, cli.output))
        }
        Command::Quota { user } => {
            let deps = acting(config);
            runtime.block_on(quota(deps, user.as_deref(), cli.output))
        }
        Command::Completions { .. } | Command::Man { .. } => Ok(String::new()),
    }
}

/// A store this user may not write, on a data dir a daemon serves: the daemon can do it.
fn daemon_hint(err: Error, data_dir: &std::path::Path, db: &std::path::Path) -> Error {
    use rustix::fs::{Access, access};
    use rustix::io::Errno;
    if err.code == crate::error::Kind::Usage {
        return err;
    }
    let denied = match access(db, Access::READ_OK | Access::WRITE_OK) {
        Err(Errno::ACCESS) | Err(Errno::ROFS) => true,
        Err(Errno::NOENT) => access(data_dir, Access::WRITE_OK) == Err(Errno::ACCESS),
        _ => false,
    };
    if !denied || !crate::daemon::serves(data_dir) {
        return err;
    }
    let socket = data_dir.join(crate::daemon::SOCKET_NAME);
    err.with_help(format!(
        "you may not write {}, but the daemon serving it answers: use --host unix://{} (or set AIMA_HOST to it)",
        data_dir.display(),
        socket.display()
    ))
}

async fn inference(deps: Deps, cmd: InferenceCommand, output: Output) -> Result<String> {
    let store = handle(&deps.config)?;
    let InferenceCommand::Chat {
        service,
        message,
        max_tokens,
        stream,
    } = cmd;
    let json = output == Output::Json;
    // Streamed pieces go straight to the terminal; JSON output waits for the whole answer.
    let print = |delta: &str| {
        use std::io::Write;
        if !json {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(super::terminal::block(delta).as_bytes());
            let _ = out.flush();
        }
    };
    let req = ops::ChatRequest {
        service,
        message,
        max_tokens,
        stream,
    };
    let answer = ops::chat(&deps, &store, req, &print).await?;
    Ok(if json {
        render::to_json(&answer)
    } else if stream {
        // Already printed piece by piece: end the line.
        String::new()
    } else {
        super::terminal::block(&answer.content).into_owned()
    })
}

async fn cache(deps: Deps, cmd: CacheCommand, output: Output) -> Result<String> {
    let json = output == Output::Json;
    Ok(match cmd {
        CacheCommand::List => {
            let caches = ops::list_caches(&deps).await?;
            if json {
                render::json_list(&caches)
            } else {
                render::caches_table(&caches)
            }
        }
        CacheCommand::Rm { engine } => {
            let store = handle(&deps.config)?;
            let volume = ops::remove_cache(&deps, &store, engine).await?;
            if json {
                render::to_json(&serde_json::json!({ "engine": engine, "volume": volume }))
            } else {
                format!("removed the {engine} cache (volume {volume})")
            }
        }
    })
}

async fn quota(deps: Deps, user: Option<&str>, output: Output) -> Result<String> {
    let store = handle(&deps.config)?;
    let caller = deps.acting.clone().expect("the CLI acts for its user");
    let report = ops::quota::report(&deps, &store, &ops::quota::named(&caller, user)).await?;
    Ok(quota_shown(&report, output))
}

/// `aima quota` as printed, in-process or through a daemon.
pub(super) fn quota_shown(report: &ops::quota::QuotaReport, output: Output) -> String {
    if output == Output::Json {
        render::to_json(report)
    } else {
        render::quota(report)
    }
}

/// The lifecycle on real Docker, acting for the OS user running this command (whose quota a
/// start of their own service is held to).
fn acting(config: Config) -> Deps {
    Deps::real(config).acting_for(crate::host::users::this_process())
}

/// The data dir's store, its writes recorded as made by the OS user running this command.
pub(super) fn open(config: &Config) -> Result<Store> {
    let mut store = Store::open_in(config)?;
    store.act_as(Some(&crate::host::users::this_user()));
    Ok(store)
}

/// The store for commands that run async operations.
fn handle(config: &Config) -> Result<StoreHandle> {
    Ok(StoreHandle::new(Box::new(open(config)?)))
}

fn model(config: &Config, cmd: ModelCommand, output: Output) -> Result<String> {
    let mut store = open(config)?;
    let json = output == Output::Json;
    Ok(match cmd {
        ModelCommand::Create {
            name,
            source,
            repo,
            path,
            model_type,
        } => {
            let req = ops::CreateModel {
                name,
                source,
                repo,
                path,
                model_type: Some(model_type),
            };
            let m = ops::create_model(config, &mut store, req)?;
            if json {
                render::to_json(&m)
            } else {
                render::model_detail(&m)
            }
        }
        ModelCommand::List => {
            let models = ops::list_models(&store)?;
            if json {
                render::json_list(&models)
            } else {
                render::models_table(&models)
            }
        }
        ModelCommand::Get { id } => {
            let m = ops::get_model(&store, &id)?;
            if json {
                render::to_json(&m)
            } else {
                render::model_detail(&m)
            }
        }
        ModelCommand::Delete { id, force } => {
            let m = ops::delete_model(&mut store, &id, force)?;
            if json {
                render::to_json(&m)
            } else {
                format!("deleted model {}", m.id)
            }
        }
    })
}

async fn service(deps: Deps, cmd: ServiceCommand, output: Output) -> Result<String> {
    let store = handle(&deps.config)?;
    let json = output == Output::Json;
    // The effective settings are shown by `get`, and by every verb for a service with settings
    // of its own; JSON always carries them.
    let config = &deps.config;
    let view = |s: &Service, all: bool| {
        service_view(
            s,
            settings::effective(config, s.engine_type, &s.settings),
            all,
            json,
        )
    };
    let one = |s: &Service| view(s, false);
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
            let req = ops::CreateService {
                model_id,
                engine_type,
                port,
                name,
                bind,
                gpus,
                memory,
                restart,
                settings: settings.request()?,
            };
            one(&ops::create_service(&deps, &mut store.sync(), req)?)
        }
        ServiceCommand::Update(args) => {
            let id = args.id.clone();
            let up = ops::update_service(
                &deps,
                &store,
                &id,
                args.request()?,
                service_verbs::interrupted(),
            )
            .await?;
            let effective =
                settings::effective(config, up.service.engine_type, &up.service.settings);
            updated(&up, effective, json)
        }
        ServiceCommand::List(args) => service_verbs::list(&deps, &store, args, output).await?,
        ServiceCommand::Get { id } => view(
            &ops::refresh_and_get_service(&deps, &store, &id).await?,
            true,
        ),
        ServiceCommand::Start(args) => {
            // Said before the start, which may fail: with `always` it is retried only by a daemon.
            let warnings = service_verbs::unsupervised(&deps.config, &store, &args.id).await;
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            let svc = service_verbs::start(&deps, &store, args, output).await?;
            if json && !warnings.is_empty() {
                render::with_warnings(&svc, &warnings)
            } else {
                one(&svc)
            }
        }
        ServiceCommand::Restart(args) => {
            one(&service_verbs::restart(&deps, &store, args, output).await?)
        }
        ServiceCommand::Logs(args) => service_verbs::logs(&deps, &store, args, output).await?,
        ServiceCommand::Stop { id, force, time } => {
            let mode = StopMode::from_request(force, time)?;
            let stopped = ops::stop_service(&deps, &store, &id, mode).await?;
            if !stopped.port_released {
                eprintln!(
                    "warning: port {} is still held by something else after the stop",
                    stopped.service.port
                );
            }
            one(&stopped.service)
        }
        ServiceCommand::Prune => {
            let me = crate::host::users::this_process();
            let pruned = ops::prune_services(&deps, &store, &me).await?.pruned;
            if json {
                render::json_list(&pruned)
            } else {
                render::pruned_table(&pruned)
            }
        }
        ServiceCommand::Delete { id } => {
            let s = ops::delete_service(&deps, &store, &id).await?;
            if json {
                render::to_json(&s)
            } else {
                format!("deleted service {}", s.id)
            }
        }
    })
}

/// A service as the verbs print it: with its effective settings and their sources in JSON;
/// in a table with them when `all` or when it has settings of its own.
pub(super) fn service_view(
    s: &Service,
    effective: Vec<settings::Effective>,
    all: bool,
    json: bool,
) -> String {
    if json {
        render::to_json(&ServiceView {
            service: s,
            effective,
        })
    } else if all || !s.settings.is_empty() {
        render::service_detail_with(s, &settings::effective_lines(&effective))
    } else {
        render::service_detail(s)
    }
}

/// A service with its effective settings and their sources, as `-o json` shows one.
#[derive(serde::Serialize)]
struct ServiceView<'a> {
    #[serde(flatten)]
    service: &'a Service,
    effective: Vec<settings::Effective>,
}

/// What `service update` prints: the changes and when they take effect (stderr, or in JSON),
/// then the service.
pub(super) fn updated(
    up: &ops::Updated,
    effective: Vec<settings::Effective>,
    json: bool,
) -> String {
    if json {
        return render::to_json(&UpdatedView {
            service: ServiceView {
                service: &up.service,
                effective,
            },
            changes: &up.changes,
            effect: up.effect,
        });
    }
    let shown = service_view(&up.service, effective, false, false);
    for c in &up.changes {
        eprintln!(
            "changed {}: {} -> {}",
            c.field,
            terminal::cell(&c.old),
            terminal::cell(&c.new)
        );
    }
    let id = &up.service.id;
    match up.effect {
        ops::Effect::Unchanged => {
            eprintln!("nothing to change: service {id} is configured so already")
        }
        ops::Effect::Recorded => {}
        ops::Effect::NextStart => eprintln!(
            "note: service {id} is {}: the change takes effect at its next start (aima service restart {id}, or update --apply-now)",
            up.service.status.as_str()
        ),
        ops::Effect::Applied => {
            eprintln!("note: service {id} was stopped and started again with the change")
        }
    }
    shown
}

#[derive(serde::Serialize)]
struct UpdatedView<'a> {
    #[serde(flatten)]
    service: ServiceView<'a>,
    changes: &'a [ops::FieldChange],
    effect: ops::Effect,
}
