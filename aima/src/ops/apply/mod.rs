//! `aima apply -f FILE`: models and services described in a TOML file by name, compared with
//! the store into a plan, then carried out through the same operations as the verbs; and
//! `aima export`, the data dir as such a file.

mod export;
mod file;
mod plan;
mod run;

pub use export::export;
pub use file::parse;
pub use plan::{Action, Current, Plan, Step, plan};
pub use run::{Outcome, RunOptions, failed, run};

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
    let parsed = parse(name, text)?;
    let models = store.call(|s| s.list_models()).await?;
    let services = crate::ops::refresh_and_list_services(deps, store, None).await?;
    let now = Current {
        models: &models,
        services: &services,
    };
    plan(&deps.config, &parsed, &now, prune)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
