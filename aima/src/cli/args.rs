//! The command line, as clap parses it. Domain types stay free of clap: their accepted values
//! are given here, from the types' own names.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{ArgMatches, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use super::examples;
pub(crate) use super::verbs::{ListArgs, LogsArgs, RestartArgs, StartArgs};
use crate::domain::{EngineType, ModelSource};
use crate::error::{Error, Result};

fn engine_type() -> impl TypedValueParser<Value = EngineType> {
    PossibleValuesParser::new(EngineType::ALL.map(EngineType::as_str))
        .map(|s| EngineType::parse(&s).expect("clap accepts only the listed engine types"))
}

fn model_source() -> impl TypedValueParser<Value = ModelSource> {
    PossibleValuesParser::new(ModelSource::ALL.map(ModelSource::as_str))
        .map(|s| ModelSource::parse(&s).expect("clap accepts only the listed model sources"))
}

/// `0.1.0 (commit 1a2b3c4d5e6f)`: the build script records the commit (`unknown` outside git).
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AIMA_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "aima",
    version = VERSION,
    about = "Run AI inference engines as Docker containers on a shared server"
)]
pub(crate) struct Cli {
    /// Output format: `table` for people, `json` for scripts (one JSON document on stdout);
    /// `toml` for `aima export` only.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
    /// Directory holding aima's state database and config.toml (default: ~/.aima).
    #[arg(long, global = true, env = "AIMA_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Send the command to the daemon at URL instead of running it here:
    /// `unix:///path/aima.sock` (the daemon's socket: you are known by your user) or
    /// `http://HOST:PORT` (with a token: AIMA_API_TOKEN or --token-file).
    #[arg(long, global = true, env = "AIMA_HOST", value_name = "URL")]
    pub(crate) host: Option<String>,
    /// A file holding the API token for `--host http://…` (default: AIMA_API_TOKEN).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned tables and detail views.
    Table,
    /// One JSON document on stdout.
    Json,
    /// An apply file (`aima export` only; its default).
    Toml,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the daemon: HTTP API and reconciler.
    #[command(after_help = examples::START)]
    Start {
        /// Address to listen on, IP:PORT such as 127.0.0.1:9090 (default: [api] listen in
        /// config.toml, else 127.0.0.1:9090). localhost:PORT listens on 127.0.0.1 and [::1].
        #[arg(long, env = "AIMA_LISTEN", value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Register and manage models.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Create, start, stop and inspect services (a model served by an engine on a port).
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Talk to a running service's engine.
    #[command(subcommand)]
    Inference(InferenceCommand),
    /// The engines' download caches (one named Docker volume per engine type).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Named API tokens: each acts as the user it names over the daemon's TCP API (admins only).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write a consistent copy of the state database to FILE (mode 0600), even while aima runs.
    Backup {
        /// The backup file to create.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the state database with a backup (refused while a daemon serves the data dir).
    Restore {
        /// A file written by `aima backup`.
        file: PathBuf,
        /// Also take the backup's instance id (the `aima.instance` label of its containers);
        /// by default the data dir keeps its own.
        #[arg(long)]
        with_instance_id: bool,
    },
    /// Make the data dir's models and services what a TOML file describes: show the plan,
    /// then carry it out (see docs/apply.md).
    #[command(after_help = examples::APPLY)]
    Apply(ApplyArgs),
    /// Print the data dir's models and services as an apply file (TOML; JSON with -o json);
    /// secret values are written as references, never as values.
    Export,
    /// Show the version, data dir, Docker endpoint and the effective engine settings with
    /// where each comes from.
    Info,
    /// List the services' changes from the change log, oldest first: created, each status
    /// change, deleted, and the supervisor's restarts (the newest 10,000 are kept).
    Events {
        /// Only events after this event id (the SEQ column; `/api/v2/events`' `id`).
        #[arg(long, value_name = "ID")]
        since: Option<i64>,
        /// Only events of this service (id, name or id prefix; the exact id or name of a
        /// deleted one).
        #[arg(long, value_name = "ID")]
        service: Option<String>,
    },
    /// Show a person's quota: each limit, its use now and the services using it
    /// (see docs/configuration.md, "Quotas").
    Quota {
        /// Whose quota; yours when left out.
        user: Option<String>,
    },
    /// Print a shell completion script (e.g. `aima completions bash > /etc/bash_completion.d/aima`).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff) on stdout, or write one page per command into a directory.
    Man {
        /// Write aima.1, aima-service.1, aima-service-start.1, … into this directory instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// `-o` is global, so clap takes it after any verb; where it means nothing (`completions` prints
/// a shell script, `man` roff) it is refused rather than silently ignored.
pub(crate) fn output_applies(command: &Command, matches: &ArgMatches) -> Result<()> {
    let (verb, prints) = match command {
        Command::Completions { .. } => ("completions", "a shell script"),
        Command::Man { .. } => ("man", "roff"),
        Command::Export => return Ok(()),
        _ if matches!(
            matches.get_one::<Output>("output").or_else(|| matches
                .subcommand()
                .and_then(|(_, sub)| sub.get_one::<Output>("output"))),
            Some(Output::Toml)
        ) =>
        {
            return Err(Error::usage(
                "--output toml is for `aima export` only: other commands print table or json",
            )
            .with_help("use -o table or -o json"));
        }
        _ => return Ok(()),
    };
    let given = [Some(matches), matches.subcommand().map(|(_, sub)| sub)]
        .into_iter()
        .flatten()
        .any(|m| m.value_source("output") == Some(ValueSource::CommandLine));
    if given {
        return Err(Error::usage(format!(
            "--output means nothing for `aima {verb}`: it always prints {prints}"
        ))
        .with_help(format!("drop -o/--output from `aima {verb}`")));
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub(crate) enum InferenceCommand {
    /// Send one chat message (OpenAI-compatible) to a running service and print the answer.
    Chat {
        /// Service id, name or unique id prefix.
        service: String,
        /// The user message.
        message: String,
        /// Most tokens the answer may have (the engine's default when absent).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_tokens: Option<u32>,
        /// Print the answer as the engine generates it.
        #[arg(long)]
        stream: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CacheCommand {
    /// List the engine caches of this data dir.
    List,
    /// Remove one engine's cache (its downloaded models); refused while its services run.
    Rm {
        /// The engine type whose cache to remove.
        #[arg(value_parser = engine_type())]
        engine: EngineType,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a token that acts as user NAME; it is printed once, only its hash is kept.
    Create {
        /// The user the token acts as (a system user of that name lends it their groups).
        name: String,
        /// The token acts as an admin: it may change what anyone owns, and manage tokens.
        #[arg(long)]
        admin: bool,
    },
    /// List the named tokens (never the tokens themselves).
    List,
    /// Revoke the token named NAME: its next request is refused.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Register a model.
    #[command(after_help = examples::MODEL_CREATE)]
    Create {
        /// A name for people; need not be unique.
        #[arg(long)]
        name: String,
        /// Where the engine gets the model from.
        #[arg(long, value_parser = model_source())]
        source: ModelSource,
        /// Repository id (e.g. `tinyllama`, `Qwen/Qwen2-0.5B`).
        #[arg(long)]
        repo: String,
        /// Absolute path of a local model directory or `.gguf` file (under a model root),
        /// mounted read-only into the engine.
        #[arg(long)]
        path: Option<String>,
        /// Model type.
        #[arg(long = "type", default_value = "llm")]
        model_type: String,
    },
    /// List models, oldest first.
    List,
    /// Show one model.
    Get {
        /// Model id (model-…).
        id: String,
    },
    /// Delete a model (refused while services use it, unless --force).
    Delete {
        /// Model id (model-…).
        id: String,
        /// Also delete the services that use it (none may be starting or running).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Create a service; its host port is chosen now and kept.
    #[command(after_help = examples::SERVICE_CREATE)]
    Create {
        /// The model to serve (model-…).
        #[arg(long)]
        model_id: String,
        /// The inference engine to run it with.
        #[arg(long, value_parser = engine_type())]
        engine_type: EngineType,
        /// Host port (default: the engine's default port, skipping ports of other services).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        port: Option<u16>,
        /// A name for people (default: MODEL-ENGINE-XXXX).
        #[arg(long)]
        name: Option<String>,
        /// Host address to publish the engine on (default: the engine's `bind`, 127.0.0.1).
        /// `0.0.0.0` exposes it on every IPv4 address: engines have no authentication.
        #[arg(long, value_name = "ADDR")]
        bind: Option<std::net::IpAddr>,
        /// GPUs for the engine: `all`, `none`, `count=N` (any N), or device indexes or UUIDs
        /// separated by commas (`0`, `0,1`). Default: the engine's `gpus` setting (vLLM: all).
        #[arg(long, value_name = "GPUS")]
        gpus: Option<String>,
        /// Memory limit of the engine container, swap included (`64m`, `2g`). Default: the
        /// engine's `memory` setting (3/4 of the Docker host's memory).
        #[arg(long, value_name = "SIZE")]
        memory: Option<String>,
        /// Restart policy, Docker's words: `no`, `on-failure[:N]`, `always`, `unless-stopped`
        /// (stored as `always`). Restarts need the daemon (`aima start`). Default: the
        /// engine's `restart` setting (`no`).
        #[arg(long, value_name = "POLICY")]
        restart: Option<String>,
        #[command(flatten)]
        settings: Box<SettingsArgs>,
    },
    /// Change a service's configuration in place (its id, history and port are kept). A
    /// running service takes the change at its next start, unless --apply-now.
    #[command(after_help = examples::SERVICE_UPDATE)]
    Update(Box<UpdateArgs>),
    /// List services, oldest first.
    List(ListArgs),
    /// Show one service, with its last error and start attempts.
    Get {
        /// Service id (svc-…).
        id: String,
    },
    /// Start a service's engine container.
    #[command(after_help = examples::SERVICE_START)]
    Start(StartArgs),
    /// Stop a service (from any state), then start it again.
    Restart(RestartArgs),
    /// Show a service's engine logs, or the lines kept from a failed attempt.
    Logs(LogsArgs),
    /// Stop a service from any state and remove its containers.
    Stop {
        /// Service id (svc-…).
        id: String,
        /// Kill the engine instead of stopping it gracefully.
        #[arg(long, conflicts_with = "time")]
        force: bool,
        /// Seconds the engine gets after SIGTERM before it is killed, as `docker stop -t`
        /// (default: the engine's `stop_secs`, 10).
        #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(0..=86_400))]
        time: Option<u32>,
    },
    /// Delete a service (refused while it is starting or running).
    Delete {
        /// Service id (svc-…).
        id: String,
    },
    /// Remove this data dir's containers that belong to no live service (never another
    /// instance's or an unlabelled container).
    Prune,
}

/// A service's own engine settings, as `service create` and `service update` take them.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct SettingsArgs {
    /// The engine image for this service only (default: the engine's `image`).
    #[arg(long, value_name = "REF")]
    pub(crate) image: Option<String>,
    /// An engine argument after the ones aima gives (model, port); repeat for more. The
    /// service's arguments replace the engine's `extra_args`. Arguments after `--` count too.
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    pub(crate) args: Vec<String>,
    /// An environment variable for the engine, KEY=VALUE; repeat for more. Values of keys with
    /// TOKEN, KEY, SECRET or PASSWORD in them are secret: shown as ***.
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) env: Vec<String>,
    /// A file of KEY=VALUE lines for the engine's environment, every value secret (read now,
    /// kept in the data dir's store).
    #[arg(long, value_name = "PATH")]
    pub(crate) env_file: Option<PathBuf>,
    /// Size of the engine's /dev/shm (`1g`; default: the engine's `shm_size`).
    #[arg(long, value_name = "SIZE")]
    pub(crate) shm_size: Option<String>,
    /// Engine arguments, as --arg each.
    #[arg(last = true, value_name = "ENGINE_ARGS")]
    pub(crate) trailing: Vec<String>,
}

impl SettingsArgs {
    /// The request the operations take; `KEY=VALUE` checked for its `=`.
    pub(crate) fn request(self) -> Result<crate::ops::settings::SettingsRequest> {
        let mut args = self.args;
        args.extend(self.trailing);
        Ok(crate::ops::settings::SettingsRequest {
            image: self.image,
            args: (!args.is_empty()).then_some(args),
            env: self
                .env
                .iter()
                .map(|e| crate::ops::settings::parse_env_pair(e))
                .collect::<Result<_>>()?,
            secret_env: Vec::new(),
            env_file: self.env_file,
            shm_size: self.shm_size,
        })
    }
}

/// `service update`: the create flags that can change, `--unset` and `--apply-now`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct UpdateArgs {
    /// Service id, name or unique id prefix.
    pub(crate) id: String,
    /// A new name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// A new host port, checked as at create (no other service may hold it).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) port: Option<u16>,
    /// A new host address to publish on.
    #[arg(long, value_name = "ADDR")]
    pub(crate) bind: Option<std::net::IpAddr>,
    /// GPUs, as `service create --gpus`.
    #[arg(long, value_name = "GPUS")]
    pub(crate) gpus: Option<String>,
    /// Memory limit, as `service create --memory`.
    #[arg(long, value_name = "SIZE")]
    pub(crate) memory: Option<String>,
    /// Restart policy, as `service create --restart`.
    #[arg(long, value_name = "POLICY")]
    pub(crate) restart: Option<String>,
    #[command(flatten)]
    pub(crate) settings: Box<SettingsArgs>,
    /// Back to the engine's setting: image, args, env, env.KEY, shm-size, memory, gpus or
    /// restart; repeat for more.
    #[arg(long, value_name = "FIELD")]
    pub(crate) unset: Vec<String>,
    /// On a running service: stop it and start it again now (the engine is down in between).
    #[arg(long)]
    pub(crate) apply_now: bool,
}

impl UpdateArgs {
    pub(crate) fn request(self) -> Result<crate::ops::UpdateService> {
        Ok(crate::ops::UpdateService {
            name: self.name,
            port: self.port,
            bind: self.bind,
            gpus: self.gpus,
            memory: self.memory,
            restart: self.restart,
            settings: self.settings.request()?,
            unset: self.unset,
            apply_now: self.apply_now,
        })
    }
}

/// `aima apply`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ApplyArgs {
    /// The apply file; `-` reads it from stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Show the plan and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Also delete the services and models of this data dir that the file does not name.
    #[arg(long)]
    pub(crate) prune: bool,
    /// Starts wait until each engine answers its health check.
    #[arg(long)]
    pub(crate) wait: bool,
    /// Stop at the first step that fails (default: report it and go on).
    #[arg(long)]
    pub(crate) fail_fast: bool,
}
