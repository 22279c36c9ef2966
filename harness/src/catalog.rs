//! `harness scenario all`: every scenario of the required manifest, each `--repeat` times, then
//! one combined report. A scenario the manifest requires but that is missing, refused or crashed
//! fails the whole run; so does an implemented scenario the manifest leaves out.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use crate::report::{ScenarioRuns, catalog, plain_catalog, plain_summary, write_catalog};
use crate::scenario::manifest::{default_path, load, plan};
use crate::scenario::{RunOptions, RunRefused, find, run_scenario};
use crate::verdict::{EXIT_NOT_ALL_PASS, EXIT_REFUSED};

/// Runs the manifest's scenarios and writes `reports/all-<stamp>/catalog.md` (and `.json`,
/// `junit.xml`), each run's own report folder beside them.
pub fn run_all(options: &RunOptions, repeat: u32, manifest: Option<&Path>, tier: &str) -> ExitCode {
    let path = manifest.map(Path::to_owned).unwrap_or_else(default_path);
    let entries = match load(&path) {
        Ok(entries) => entries,
        Err(err) => {
            eprintln!("error: cannot run all scenarios: {err}");
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    // The listed-versus-implemented check spans every tier; only this tier's scenarios run.
    let mut plan = plan(&entries);
    let entries: Vec<_> = entries.into_iter().filter(|e| e.tier == tier).collect();
    if entries.is_empty() {
        // Nothing to run must not read as a pass.
        plan.problems
            .push(format!("the manifest lists no scenario of tier {tier:?}"));
    }
    // Build (or locate) the aima under test once; every run then uses exactly these binaries.
    let bins =
        match crate::exec::locate_binaries(options.aima_bin.as_deref(), options.sim_bin.as_deref())
        {
            Ok(bins) => bins,
            Err(err) => {
                eprintln!("error: cannot run all scenarios: {err:#}");
                return ExitCode::from(EXIT_REFUSED);
            }
        };
    let options = RunOptions {
        aima_bin: Some(bins.aima),
        sim_bin: Some(bins.sim),
        ..options.clone()
    };
    let started = SystemTime::now();
    let wall = Instant::now();
    let stamp = humantime::format_rfc3339_seconds(started).to_string();
    let stamp: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
    let run_id = format!("all-{stamp}-{:x}", std::process::id());
    let dir = options.reports.join(&run_id);
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {err}", dir.display());
        return ExitCode::from(EXIT_REFUSED);
    }
    for problem in &plan.problems {
        eprintln!("manifest problem: {problem}");
    }
    let mut all = Vec::new();
    for entry in &entries {
        let Some(info) = find(entry.number).filter(|i| i.document == entry.document) else {
            all.push(ScenarioRuns {
                number: entry.number,
                title: "(not run: see the manifest problems)".to_owned(),
                document: entry.document.clone(),
                criteria: Vec::new(),
                runs: Vec::new(),
                problems: Vec::new(),
            });
            continue;
        };
        let mut runs = ScenarioRuns {
            number: info.number,
            title: info.title.to_owned(),
            document: info.document.to_owned(),
            criteria: info
                .criteria
                .iter()
                .map(|c| (c.id.to_owned(), c.title.to_owned()))
                .collect(),
            runs: Vec::new(),
            problems: Vec::new(),
        };
        for k in 1..=repeat {
            println!(
                "== scenario {} ({}), run {k} of {repeat}",
                info.number, info.title
            );
            let one = RunOptions {
                scenario: info.number,
                reports: dir.clone(),
                ..options.clone()
            };
            match catch_unwind(AssertUnwindSafe(|| run_scenario(&one))) {
                Ok(Ok(outcome)) => {
                    println!("{}", plain_summary(&outcome.report));
                    let folder = outcome
                        .run_dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    runs.runs.push((outcome.report, folder));
                }
                Ok(Err(err)) => {
                    let what = if err.downcast_ref::<RunRefused>().is_some() {
                        "refused"
                    } else {
                        "harness error"
                    };
                    eprintln!("scenario {} run {k} {what}: {err:#}", info.number);
                    runs.problems.push(format!("run {k} {what}: {err:#}"));
                }
                Err(_) => {
                    eprintln!("scenario {} run {k} crashed", info.number);
                    runs.problems.push(format!("run {k} crashed (see stderr)"));
                }
            }
        }
        all.push(runs);
    }
    let started_at = humantime::format_rfc3339_seconds(started).to_string();
    let elapsed = crate::exec::millis(wall.elapsed());
    let catalog = catalog(&run_id, &started_at, elapsed, repeat, plan.problems, &all);
    println!("{}", plain_catalog(&catalog));
    match write_catalog(&catalog, &all, &dir) {
        Ok(()) => println!(
            "catalog: {}/catalog.md (also catalog.json, junit.xml)",
            dir.display()
        ),
        Err(err) => {
            eprintln!(
                "error: catalog report not written to {}: {err:#}",
                dir.display()
            );
            return ExitCode::from(EXIT_REFUSED);
        }
    }
    if catalog.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NOT_ALL_PASS)
    }
}
