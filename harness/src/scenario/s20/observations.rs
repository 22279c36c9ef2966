//! What the scenario 20 steps observed; the judge works only from this, so judging is plain
//! code that unit tests can feed with invented observations.

use crate::exec::CommandRecord;
use crate::fixtures::port_check::PortCheck;
use crate::scenario::context::Census;

use crate::scenario::aima_json::RecordedAttempt;
pub use crate::scenario::aima_ops::StatusRead;

/// The process that held the port.
#[derive(Debug, Clone, Default)]
pub struct Blocker {
    pub pid: u32,
    /// The program name as the OS reports it.
    pub program: String,
}

/// `service stop` of one failed service and the status read back after it.
#[derive(Debug, Clone)]
pub struct StopRead {
    pub stop: CommandRecord,
    pub after: StatusRead,
}

/// One start/fail cycle of test 7.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub start: CommandRecord,
    pub census: Census,
}

/// Whether the port came free after the last blocker exited.
#[derive(Debug, Clone)]
pub struct PortRelease {
    pub check: PortCheck,
    pub waited_ms: u64,
}

/// Everything scenario 20 observed. `None` means the step did not run; `missing` says why.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub port: u16,
    /// Why steps did not run (setup failures), in order.
    pub missing: Vec<String>,
    pub blocker: Option<Blocker>,
    pub blocked_start: Option<CommandRecord>,
    pub status_after_failure: Option<StatusRead>,
    pub census_after_failure: Option<Census>,
    pub docker_down_start: Option<CommandRecord>,
    pub docker_host: String,
    /// The same start against a refused and a silent endpoint: (what, DOCKER_HOST, command).
    /// Measured and reported, not judged.
    pub docker_variants: Vec<(String, String, CommandRecord)>,
    pub second_blocked_start: Option<CommandRecord>,
    pub second_record: Option<CommandRecord>,
    pub second_attempts: Option<Vec<RecordedAttempt>>,
    pub stops: Vec<StopRead>,
    pub cycles: Vec<Cycle>,
    pub final_stop: Option<CommandRecord>,
    pub final_census: Option<Census>,
    pub port_release: Option<PortRelease>,
}

crate::scenario::judging::observed!(Observations);
