//! Carrying a plan out, step by step, through the same operations the verbs use. A failed step
//! is recorded with the exit code its verb would give, and the rest goes on unless fail-fast.
//! Each step that changes an existing service or model is checked first, as its verb is: a
//! step on another user's is refused (`forbidden`) and changes nothing.

use serde::{Deserialize, Serialize};

use super::plan::{Action, Plan, Step, Work};
use crate::domain::Actor;
use crate::error::{Error, Kind, Result};
use crate::lifecycle::{Deps, StartOptions, StopMode};
use crate::ops::{self, DEFAULT_START_TIMEOUT, access};
use crate::store::StoreHandle;

/// How `apply` carries its plan out.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Starts wait until each engine answers its health check.
    pub wait: bool,
    /// Stop at the first failed step.
    pub fail_fast: bool,
}

/// What became of one step.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome {
    pub action: Action,
    pub kind: String,
    pub name: String,
    /// `done`, `failed`, or `skipped` (after a failure with fail-fast).
    pub result: String,
    /// The exit code the step's own verb would have given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Read back from an answer, the kind is the one of `exit_code`.
    #[serde(skip)]
    class: Option<Kind>,
}

/// Runs every step that changes something; the outcomes, in order.
pub async fn run(
    deps: &Deps,
    store: &StoreHandle,
    actor: &Actor,
    plan: &Plan,
    opts: RunOptions,
    progress: &(dyn Fn(&Step) + Send + Sync),
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut stopped = false;
    for step in plan.steps.iter().filter(|s| s.action != Action::Unchanged) {
        let mut outcome = Outcome {
            action: step.action,
            kind: step.kind.clone(),
            name: step.name.clone(),
            result: "skipped".to_owned(),
            exit_code: None,
            error: None,
            class: None,
        };
        if !stopped {
            progress(step);
            let checked = allowed(store, actor, &step.work).await;
            let done = match checked {
                Ok(()) => carry_out(deps, store, &step.work, opts).await,
                Err(e) => Err(e),
            };
            match done {
                Ok(()) => outcome.result = "done".to_owned(),
                Err(e) => {
                    outcome.result = "failed".to_owned();
                    outcome.exit_code = Some(e.code.exit_code());
                    outcome.error = Some(e.message.clone());
                    outcome.class = Some(e.code);
                    stopped = opts.fail_fast;
                }
            }
        }
        out.push(outcome);
    }
    out
}

/// Whether `actor` may carry out `work`: what its verb checks.
async fn allowed(store: &StoreHandle, actor: &Actor, work: &Work) -> Result<()> {
    let (id, what) = match work {
        Work::Nothing | Work::CreateModel(_) | Work::CreateService(_) => return Ok(()),
        Work::UpdateService(id, _) => (id, "update"),
        Work::Start(id) => (id, "start"),
        Work::Restart(id) => (id, "restart"),
        Work::Stop(id) => (id, "stop"),
        Work::DeleteService(id) => (id, "delete"),
        Work::DeleteModel(id) => {
            let (id, actor) = (id.clone(), actor.clone());
            return store
                .call(move |s| access::check_model(s, &actor, &id, "delete"))
                .await;
        }
    };
    access::check_service(store, actor, id, what).await
}

async fn carry_out(deps: &Deps, store: &StoreHandle, work: &Work, opts: RunOptions) -> Result<()> {
    let start_opts = || StartOptions {
        wait: opts.wait,
        timeout: DEFAULT_START_TIMEOUT,
        progress: None,
        pull: None,
        node: None,
    };
    let never = std::future::pending::<&'static str>;
    match work {
        Work::Nothing => {}
        Work::CreateModel(req) => {
            let (config, req) = (deps.config.clone(), req.clone());
            store
                .call(move |s| ops::create_model(&config, s, req))
                .await?;
        }
        Work::CreateService(req) => {
            let (d, req) = (deps.clone(), (**req).clone());
            store.call(move |s| ops::create_service(&d, s, req)).await?;
        }
        Work::UpdateService(id, req) => {
            ops::update_service(deps, store, id, (**req).clone(), never()).await?;
        }
        Work::Start(id) => {
            ops::start_service(deps, store, id, start_opts(), never()).await?;
        }
        Work::Restart(id) => {
            let mode = StopMode::Graceful(None);
            ops::restart_service(deps, store, id, mode, start_opts(), never()).await?;
        }
        Work::Stop(id) => {
            ops::stop_service(deps, store, id, StopMode::Graceful(None)).await?;
        }
        Work::DeleteService(id) => {
            ops::delete_service(deps, store, id).await?;
        }
        Work::DeleteModel(id) => {
            let id = id.clone();
            store
                .call(move |s| ops::delete_model(s, &id, false))
                .await?;
        }
    }
    Ok(())
}

/// The error of a run that failed a step, of the first failure's kind (so its exit code);
/// `None` when every step was done.
pub fn failed(outcomes: &[Outcome]) -> Option<Error> {
    let first = outcomes.iter().find(|o| o.result == "failed")?;
    let failed = outcomes.iter().filter(|o| o.result == "failed").count();
    let kind = first
        .class
        .or_else(|| first.exit_code.and_then(Kind::of_exit_code));
    let mut err = Error::new(
        kind.unwrap_or(Kind::Internal),
        format!(
            "apply: {failed} step(s) failed; the first: {} {} {}: {}",
            first.action.as_str(),
            first.kind,
            first.name,
            first.error.as_deref().unwrap_or("")
        ),
    );
    err = err.with_help("fix what the failed steps say, then apply the file again");
    Some(err)
}
