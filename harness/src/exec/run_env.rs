//! The run id in the environment: every process the harness starts carries it, so the run's
//! reaper (`crate::reaper`) can tell the run's processes from everyone else's, even those that
//! left their process group.

/// Environment variable naming the harness run in every process the harness starts.
pub(crate) const RUN_ENV: &str = "AIMA_HARNESS_RUN_ID";
