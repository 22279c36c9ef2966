//! `aima apply -f FILE`: models and services described in a TOML file by name, compared with
//! the store into a plan, then carried out through the same operations as the verbs; and
//! `aima export`, the data dir as such a file.

mod export;
mod file;
mod plan;
mod run;

pub use export::export;
pub use file::{ApplyFile, Parsed, parse, parse_json};
pub use plan::{Action, Current, Plan, Step, plan};
pub use run::{Outcome, RunOptions, failed, run};

use crate::domain::{Model, Service};
use crate::error::Result;
use crate::lifecycle::Deps;
use crate::store::StoreHandle;

/// Reads the file `name` holding `text` and plans it against the store; nothing changes.
pub async fn plan_file(
    deps: &Deps,
    store: &StoreHandle,
    name: &str,
    text: &str,
    prune: bool,
) -> Result<Plan> {
    plan_parsed(deps, store, &parse(name, text)?, prune).await
}

/// Plans a read file against the store (its services refreshed first); nothing changes.
pub async fn plan_parsed(
    deps: &Deps,
    store: &StoreHandle,
    parsed: &Parsed,
    prune: bool,
) -> Result<Plan> {
    let (models, services) = records(deps, store).await?;
    let now = Current {
        models: &models,
        services: &services,
    };
    plan(&deps.config, parsed, &now, prune)
}

/// `aima export` and `GET /api/v2/export`: the data dir as an apply file.
pub async fn export_store(deps: &Deps, store: &StoreHandle) -> Result<ApplyFile> {
    let (models, services) = records(deps, store).await?;
    export(&models, &services)
}

/// The models, and the services with their status made true first.
async fn records(deps: &Deps, store: &StoreHandle) -> Result<(Vec<Model>, Vec<Service>)> {
    let models = store.call(|s| s.list_models()).await?;
    let services = crate::ops::refresh_and_list_services(deps, store, None).await?;
    Ok((models, services))
}

/// What an apply shows: the plan, and what became of each step (none for a dry run, or when
/// nothing changes).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Document {
    pub file: String,
    pub dry_run: bool,
    /// Whether the plan changes anything (false: the data dir is as the file says).
    pub changes: bool,
    pub plan: Vec<Step>,
    pub outcome: Vec<Outcome>,
}

impl Document {
    pub fn new(file: &str, dry_run: bool, plan: Plan, outcome: Vec<Outcome>) -> Self {
        Document {
            file: file.to_owned(),
            dry_run,
            changes: plan.changes_anything(),
            plan: plan.steps,
            outcome,
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
