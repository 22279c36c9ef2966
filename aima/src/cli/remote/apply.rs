//! `aima apply` and `aima export` through the daemon: the file's text sent as it is, the plan
//! and outcome printed by the in-process renderers, with the same exit code when a step fails.

use std::time::Duration;

use hyper::Method;

use super::client::{Client, Payload, QUICK};
use super::paths::segment;
use crate::cli::apply::{announce, export_text, finished, planned, read};
use crate::cli::args::{ApplyArgs, Output};
use crate::error::Result;
use crate::ops::apply::{ApplyFile, Document, Plan};

/// A plan of many starts with `--wait` may take long; a client that gives up does not cut the
/// run short on the daemon.
const APPLYING: Duration = Duration::from_secs(3600);

pub(super) async fn apply(client: &Client, args: ApplyArgs, output: Output) -> Result<String> {
    let (name, text) = read(&args.file)?;
    // The daemon names the file as this host does, in its errors and its answer.
    let path = format!(
        "/api/v2/apply?file={}&dry_run={}&prune={}&wait={}&fail_fast={}",
        segment(&name),
        args.dry_run,
        args.prune,
        args.wait,
        args.fail_fast
    );
    let payload = Payload::Text {
        media_type: "application/toml",
        text,
    };
    let answer: Document = client
        .call_with(Method::POST, &path, payload, APPLYING)
        .await?;
    let json = output == Output::Json;
    let plan = Plan { steps: answer.plan };
    if answer.dry_run || !answer.changes {
        return Ok(planned(&name, answer.dry_run, plan, json));
    }
    // The steps ran on the daemon: their progress lines cannot be shown as they ran.
    announce(&name, &plan, json);
    finished(&name, plan, answer.outcome, json)
}

/// TOML as the daemon writes it; JSON read into the file and printed as in-process.
pub(super) async fn export(client: &Client, output: Output) -> Result<String> {
    match output {
        Output::Json => {
            let file: ApplyFile = client
                .call(Method::GET, "/api/v2/export?format=json", None, QUICK)
                .await?;
            export_text(&file, output)
        }
        Output::Table | Output::Toml => client.text("/api/v2/export", QUICK).await,
    }
}
