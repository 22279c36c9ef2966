//! Arguments of the day-to-day service verbs: `list` filters, `start`, `restart` and `logs`.

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::domain::{PullPolicy, Status};

fn status() -> impl TypedValueParser<Value = Status> {
    PossibleValuesParser::new(Status::ALL.map(Status::as_str))
        .map(|s| Status::parse(&s).expect("clap accepts only the listed statuses"))
}

fn pull_policy() -> impl TypedValueParser<Value = PullPolicy> {
    PossibleValuesParser::new(PullPolicy::ALL.map(PullPolicy::as_str))
        .map(|s| PullPolicy::parse(&s).expect("clap accepts only the listed pull policies"))
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only services in this status.
    #[arg(long, value_parser = status())]
    pub(crate) status: Option<Status>,
    /// Print only the ids, one per line (whatever --output says), as `docker ps -q`.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    /// Service id (svc-…).
    pub(crate) id: String,
    /// Wait until the engine answers its health check.
    #[arg(long)]
    pub(crate) wait: bool,
    /// Seconds the whole start may take, attempts and health wait included.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: u64,
    /// When to pull the engine image (default: the engine's setting, else `missing`).
    #[arg(long, value_parser = pull_policy())]
    pub(crate) pull: Option<PullPolicy>,
    /// Run the engine on this Swarm node (`docker node ls`); Swarm runtime only.
    #[arg(long, value_name = "NAME")]
    pub(crate) node: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RestartArgs {
    #[command(flatten)]
    pub(crate) start: StartArgs,
    /// Kill the engine instead of stopping it gracefully.
    #[arg(long, conflicts_with = "time")]
    pub(crate) force: bool,
    /// Seconds the engine gets after SIGTERM before it is killed (as `service stop --time`).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(0..=86_400))]
    pub(crate) time: Option<u32>,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Service id, name or unique id prefix.
    pub(crate) id: String,
    /// Keep printing new lines until the engine exits (or Ctrl-C).
    #[arg(short, long)]
    pub(crate) follow: bool,
    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    pub(crate) tail: Option<usize>,
    /// The logs of start attempt K: its container while it exists, else the lines kept when it
    /// failed.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) attempt: Option<u32>,
}
