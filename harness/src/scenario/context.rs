//! The per-run context every scenario step goes through: the isolated aima environment, the
//! command log, the timeline, Docker's view and the console's one-line-per-step output.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::exec::{BinaryPaths, CommandRecord, Invocation};
use crate::fixtures::census::{ContainerInfo, DockerView, INSTANCE_LABEL, RUN_LABEL, new_since};
use crate::fixtures::run_marker;
use crate::timeline::{EventKind, Timeline};

/// A census result split into containers that count and those of other live harness runs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Census {
    /// New `aima.engine` containers attributed to this run (or to nobody): these are orphans.
    pub counted: Vec<ContainerInfo>,
    /// New containers of another aima data dir, or of another live harness run.
    pub foreign: Vec<ContainerInfo>,
}

impl Census {
    /// Listing lines for evidence.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.counted.iter().map(ContainerInfo::line).collect();
        if lines.is_empty() {
            lines.push("(no new aima.engine container)".into());
        }
        lines.extend(
            self.foreign
                .iter()
                .map(|c| format!("not counted, another aima instance's: {}", c.line())),
        );
        lines
    }
}

/// Everything a running scenario needs.
pub struct RunContext {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub port: u16,
    pub bins: BinaryPaths,
    /// The isolated environment given to every aima command.
    pub base_env: Vec<(String, String)>,
    pub timeline: Timeline,
    pub commands: Vec<CommandRecord>,
    pub docker: DockerView,
    pub baseline: BTreeSet<String>,
    /// The `aima.instance` label of our data dir.
    pub instance: String,
    /// What earlier runs left behind (found at the start of this run), one line per run.
    pub leftovers: Vec<String>,
    quiet: bool,
}

impl RunContext {
    #[expect(
        clippy::too_many_arguments,
        reason = "plain constructor of the run's parts"
    )]
    pub fn new(
        run_id: String,
        run_dir: PathBuf,
        data_dir: PathBuf,
        port: u16,
        bins: BinaryPaths,
        base_env: Vec<(String, String)>,
        docker: DockerView,
        quiet: bool,
    ) -> Self {
        let instance = run_marker::instance_of(&data_dir);
        Self {
            run_id,
            run_dir,
            port,
            bins,
            base_env,
            timeline: Timeline::new(Instant::now()),
            commands: Vec::new(),
            docker,
            baseline: BTreeSet::new(),
            instance,
            leftovers: Vec::new(),
            quiet,
        }
    }

    /// Prints a console line stamped with the run's elapsed time.
    pub fn say(&self, text: &str) {
        if !self.quiet {
            let secs = self.timeline.elapsed_ms() as f64 / 1000.0;
            eprintln!("[{secs:7.2}s] {text}");
        }
    }

    pub fn event(&mut self, kind: EventKind, text: impl Into<String>) {
        let text = text.into();
        let marker = match kind {
            EventKind::Fault => "FAULT ",
            EventKind::Heal => "HEAL  ",
            EventKind::Operation => "",
            EventKind::Observation => "SEEN  ",
        };
        self.say(&format!("{marker}{text}"));
        self.timeline.record(kind, text);
    }

    /// Runs aima with the run's environment plus `overrides`, logs it and returns the record.
    pub fn aima(
        &mut self,
        step: &str,
        args: &[&str],
        overrides: &[(&str, &str)],
        deadline: Duration,
    ) -> CommandRecord {
        let invocation = Invocation {
            label: "aima".into(),
            program: self.bins.aima.clone(),
            args: args.iter().map(|a| a.to_string()).collect(),
            base_env: self.base_env.clone(),
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            deadline,
        };
        let record = invocation.run(
            self.commands.len() + 1,
            step,
            self.timeline.start(),
            &self.run_dir,
        );
        let text = format!(
            "#{} {} -> {}",
            record.index,
            record.display,
            record.outcome()
        );
        self.say(&format!("{step}: {text}"));
        self.timeline.record(EventKind::Operation, text);
        self.commands.push(record.clone());
        record
    }

    /// Takes the census and splits off containers that provably belong to someone else: those
    /// labelled with another aima data dir's instance (other runs or tests sharing this Docker
    /// daemon) or with another live harness run. The aima under test only knows our data dir, so
    /// whatever it leaves carries our instance label or none, and is counted.
    pub fn census(&mut self, why: &str) -> anyhow::Result<Census> {
        let now = self.docker.census()?;
        let others = run_marker::live_instances_except(&self.run_id);
        let (foreign, counted): (Vec<_>, Vec<_>) =
            new_since(&self.baseline, &now).into_iter().partition(|c| {
                let other_instance = c.label(INSTANCE_LABEL).is_some_and(|i| i != self.instance);
                let other_run = c
                    .label(RUN_LABEL)
                    .is_some_and(|r| r != self.run_id && others.iter().any(|(id, _)| id == r));
                other_instance || other_run
            });
        let census = Census { counted, foreign };
        self.event(
            EventKind::Observation,
            format!(
                "census {why}: {} new aima.engine container(s){}",
                census.counted.len(),
                if census.foreign.is_empty() {
                    String::new()
                } else {
                    format!(", {} of other aima instances ignored", census.foreign.len())
                }
            ),
        );
        Ok(census)
    }

    /// Takes the baseline census before anything runs.
    pub fn take_baseline(&mut self) -> anyhow::Result<()> {
        self.baseline = self.docker.census()?.into_iter().map(|c| c.id).collect();
        let count = self.baseline.len();
        self.event(
            EventKind::Observation,
            format!("baseline: {count} aima.engine container(s) existed before the run"),
        );
        Ok(())
    }
}
