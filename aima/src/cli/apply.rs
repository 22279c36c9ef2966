//! `aima apply -f FILE` and `aima export`: the plan and its outcome as people and scripts read
//! them.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::args::{ApplyArgs, Output};
use super::{render, terminal};
use crate::error::{Error, Result};
use crate::lifecycle::Deps;
use crate::ops::apply::{self, Action, ApplyFile, Document, Outcome, Plan, RunOptions, Step};
use crate::store::StoreHandle;

/// Set once `apply -o json` has printed its document: a failed run's error then goes to stderr
/// only, so stdout stays one JSON document.
pub(crate) static PRINTED: AtomicBool = AtomicBool::new(false);

/// The file's text and the name errors give it (`-` reads stdin).
pub(crate) fn read(file: &Path) -> Result<(String, String)> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::usage("cannot read the apply file from stdin").caused_by(e))?;
        return Ok(("<stdin>".to_owned(), text));
    }
    let text = std::fs::read_to_string(file).map_err(|e| {
        Error::usage(format!("cannot read apply file {}", file.display()))
            .caused_by(e)
            .with_help("give the path of a TOML file, or - to read stdin")
    })?;
    Ok((file.display().to_string(), text))
}

pub(crate) async fn apply(
    deps: &Deps,
    store: &StoreHandle,
    args: ApplyArgs,
    output: Output,
) -> Result<String> {
    let (name, text) = read(&args.file)?;
    let plan = apply::plan_file(deps, store, &name, &text, args.prune).await?;
    let json = output == Output::Json;
    if args.dry_run || !plan.changes_anything() {
        return Ok(planned(&name, args.dry_run, plan, json));
    }
    announce(&name, &plan, json);
    let opts = RunOptions {
        wait: args.wait,
        fail_fast: args.fail_fast,
    };
    let show = |step: &Step| {
        if !json {
            eprintln!(
                "… {} {} {}",
                step.action.as_str(),
                step.kind,
                terminal::cell(&step.name)
            );
        }
    };
    let me = crate::host::users::this_process();
    let outcomes = apply::run(deps, store, &me, &plan, opts, &show).await;
    finished(&name, plan, outcomes, json)
}

/// A plan that is not carried out (a dry run, or nothing to change), as printed.
pub(crate) fn planned(name: &str, dry_run: bool, plan: Plan, json: bool) -> String {
    if json {
        render::to_json(&Document::new(name, dry_run, plan, Vec::new()))
    } else {
        plan_text(name, &plan)
    }
}

/// Before a run, people see its plan on stderr (stdout gets the outcome).
pub(crate) fn announce(name: &str, plan: &Plan, json: bool) {
    if !json {
        eprint!("{}", terminal::block(&plan_text(name, plan)));
    }
}

/// A run's outcome as printed; when a step failed, the text is printed here and the error of
/// the first failure (its exit code) returned.
pub(crate) fn finished(
    name: &str,
    plan: Plan,
    outcomes: Vec<Outcome>,
    json: bool,
) -> Result<String> {
    let failed = apply::failed(&outcomes);
    let text = if json {
        render::to_json(&Document::new(name, false, plan, outcomes))
    } else {
        outcome_text(&outcomes)
    };
    match failed {
        None => Ok(text),
        Some(err) => {
            let mut out = std::io::stdout().lock();
            let _ = std::io::Write::write_all(&mut out, text.as_bytes());
            if !text.ends_with('\n') {
                let _ = std::io::Write::write_all(&mut out, b"\n");
            }
            PRINTED.store(json, Ordering::SeqCst);
            Err(err)
        }
    }
}

fn sign(action: Action) -> char {
    match action {
        Action::Create => '+',
        Action::Update => '~',
        Action::Start | Action::Restart => '>',
        Action::Stop => '.',
        Action::Delete => '-',
        Action::Unchanged => '=',
    }
}

/// The plan as people read it: one line per step, each changed field under its update.
pub(crate) fn plan_text(name: &str, plan: &Plan) -> String {
    if !plan.changes_anything() {
        return format!("no change: the data dir is as {name} describes it\n");
    }
    let mut out = format!("plan for {name}:\n");
    for step in &plan.steps {
        out.push_str(&format!(
            "  {} {} {} {}\n",
            sign(step.action),
            step.action.as_str(),
            step.kind,
            step.name
        ));
        for c in &step.changes {
            out.push_str(&format!("      {}: {} -> {}\n", c.field, c.old, c.new));
        }
    }
    out
}

fn outcome_text(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let what = format!("{} {} {}", o.action.as_str(), o.kind, o.name);
        match (o.result.as_str(), o.exit_code, &o.error) {
            ("failed", Some(code), Some(error)) => {
                out.push_str(&format!("failed (exit {code}): {what}: {error}\n"));
            }
            (result, _, _) => out.push_str(&format!("{result}: {what}\n")),
        }
    }
    out
}

/// `aima export`: TOML by default (and with `-o toml`), JSON with `-o json`.
pub(crate) async fn export(deps: &Deps, store: &StoreHandle, output: Output) -> Result<String> {
    export_text(&apply::export_store(deps, store).await?, output)
}

/// The exported file as `output` prints it.
pub(crate) fn export_text(file: &ApplyFile, output: Output) -> Result<String> {
    Ok(match output {
        Output::Json => render::to_json(file),
        Output::Table | Output::Toml => file.to_toml()?,
    })
}
