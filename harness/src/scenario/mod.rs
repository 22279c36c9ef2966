//! The scenario registry: which scenarios exist, their criteria, their documents, and running one.

pub mod aima_json;
pub mod aima_ops;
mod assemble;
pub mod context;
pub mod judging;
pub mod manifest;
mod runner;
pub mod s02;
pub mod s06;
pub mod s07;
pub mod s13;
pub mod s15;
pub mod s16;
pub mod s19;
pub mod s20;
pub mod s21;
pub mod s22;
pub mod s23;
pub mod s24;
pub mod s25;
pub mod s26;
#[cfg(test)]
mod spec;

pub use runner::{AimaRuntime, RunOptions, RunRefused, SELF_TEST_PANIC_VAR, run_scenario};

use context::RunContext;

use crate::verdict::CriterionResult;

/// One success criterion: a stable id (`S20.C1`) and a one-line statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criterion {
    pub id: &'static str,
    pub title: &'static str,
}

/// A scenario the harness can run.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioInfo {
    pub number: u32,
    pub title: &'static str,
    /// The scenario's document, relative to the repository root.
    pub document: &'static str,
    pub criteria: &'static [Criterion],
    /// The service port when `--port` is not given; `None` picks a free one.
    pub default_port: Option<u16>,
    /// `Some(extra environment)`: the runner starts `aima start` before the steps;
    /// `None`: the scenario starts (and restarts) its daemons itself.
    pub daemon_env: Option<&'static [(&'static str, &'static str)]>,
    /// Why the scenario has no variant for the Swarm runtime (`--runtime swarm` refuses it);
    /// `None`: it runs on either runtime.
    pub not_on_swarm: Option<&'static str>,
    /// Runs the steps and judges every criterion, in order.
    pub run: fn(&mut RunContext) -> Vec<CriterionResult>,
}

/// Every scenario the harness implements, in catalog order.
pub const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        number: 2,
        title: "Zero to inference (real llama.cpp)",
        document: "scenarios/02-zero-to-inference.md",
        criteria: &s02::CRITERIA,
        default_port: None,
        daemon_env: Some(&[]),
        not_on_swarm: None,
        run: s02::run,
    },
    ScenarioInfo {
        number: 6,
        title: "Lifecycle stress",
        document: "scenarios/06-lifecycle-stress.md",
        criteria: &s06::CRITERIA,
        default_port: None,
        daemon_env: Some(&[]),
        not_on_swarm: None,
        run: s06::run,
    },
    ScenarioInfo {
        number: 7,
        title: "Orphans and chaos",
        document: "scenarios/07-orphans-and-chaos.md",
        criteria: &s07::CRITERIA,
        default_port: None,
        daemon_env: Some(&s07::DAEMON_ENV),
        not_on_swarm: Some(
            "it plants plain containers as orphans and removes one behind aima's back, while on a Swarm aima's engines are services",
        ),
        run: s07::run,
    },
    ScenarioInfo {
        number: 13,
        title: "HTTP API surface",
        document: "scenarios/13-http-api.md",
        criteria: &s13::CRITERIA,
        default_port: None,
        daemon_env: Some(&[]),
        not_on_swarm: None,
        run: s13::run,
    },
    ScenarioInfo {
        number: 15,
        title: "API authentication",
        document: "scenarios/15-api-auth.md",
        criteria: &s15::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: None,
        run: s15::run,
    },
    ScenarioInfo {
        number: 16,
        title: "Two services side by side",
        document: "scenarios/16-two-services.md",
        criteria: &s16::CRITERIA,
        default_port: None,
        daemon_env: Some(&[]),
        not_on_swarm: None,
        run: s16::run,
    },
    ScenarioInfo {
        number: 19,
        title: "Restart survival",
        document: "scenarios/19-restart-survival.md",
        criteria: &s19::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: None,
        run: s19::run,
    },
    ScenarioInfo {
        number: 20,
        title: "Port contention and resource exhaustion",
        document: "scenarios/20-port-contention.md",
        criteria: &s20::CRITERIA,
        default_port: Some(8000),
        daemon_env: Some(&[]),
        not_on_swarm: None,
        run: s20::run,
    },
    ScenarioInfo {
        number: 21,
        title: "Timeout cascade",
        document: "scenarios/21-timeout-cascade.md",
        criteria: &s21::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: None,
        run: s21::run,
    },
    ScenarioInfo {
        number: 22,
        title: "Graceful shutdown",
        document: "scenarios/22-graceful-shutdown.md",
        criteria: &s22::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: None,
        run: s22::run,
    },
    ScenarioInfo {
        number: 23,
        title: "Memory and GPU exhaustion",
        document: "scenarios/23-memory-and-gpu-exhaustion.md",
        criteria: &s23::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: Some(
            "S23.C3 inspects the engine's container by the id aima records (a service id on a Swarm) and expects no swap beyond the memory limit, which the Swarm API of Docker 20.10 cannot set; GPU engines are refused on a Swarm",
        ),
        run: s23::run,
    },
    ScenarioInfo {
        number: 24,
        title: "GPU contention (needs a GPU)",
        document: "scenarios/24-gpu-contention.md",
        criteria: &s24::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: Some("aima refuses GPU engines on a Swarm"),
        run: s24::run,
    },
    ScenarioInfo {
        number: 25,
        title: "Supervision",
        document: "scenarios/25-supervision.md",
        criteria: &s25::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: Some(
            "it kills engines with docker kill and counts their containers, while on a Swarm aima's engines are services whose tasks Swarm itself replaces",
        ),
        run: s25::run,
    },
    ScenarioInfo {
        number: 26,
        title: "Shared server",
        document: "scenarios/26-shared-server.md",
        criteria: &s26::CRITERIA,
        default_port: None,
        daemon_env: None,
        not_on_swarm: Some(
            "it creates accounts on this machine and counts the containers of a refused start, while on a Swarm aima's engines are services",
        ),
        run: s26::run,
    },
];

/// Looks a scenario up by number.
pub fn find(number: u32) -> Option<&'static ScenarioInfo> {
    SCENARIOS.iter().find(|s| s.number == number)
}
