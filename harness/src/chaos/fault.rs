//! The faults a chaos run can inject, by name (`--faults kill-cli,docker-rm`), and which of them
//! this host can inject at all.

use std::fmt;

/// One kind of fault.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FaultKind {
    /// SIGKILL of a CLI `service start --wait` mid-operation.
    KillStarter,
    /// SIGKILL of a CLI `service stop` mid-operation.
    KillStopper,
    /// SIGKILL of the daemon, down for a moment, then started again.
    KillDaemon,
    /// `docker kill` of a service's engine container.
    DockerKill,
    /// `docker rm -f` of a service's engine container.
    DockerRm,
    /// A foreign program listening on a service's port (`127.0.0.1`) for a while.
    PortBlocker,
    /// A foreign program listening on `[::]:PORT` with `IPV6_V6ONLY`: it does not stand in the
    /// way of aima's publish on `127.0.0.1`, so starts must go on working.
    PortBlockerV6,
    /// A foreign socket bound to `0.0.0.0:PORT` without listening (and without
    /// `SO_REUSEADDR`): nothing answers on the port, yet nobody else can bind it.
    PortBlockerBind,
    /// A foreign container (not aima's) publishing the port.
    PortBlockerContainer,
    /// The data dir's small tmpfs filled up with a file for a while (needs root to mount).
    DiskFull,
    /// Starts on an engine that loads slowly (health 503 for a few seconds).
    EngineSlow,
    /// Starts on an engine that crashes at start-up (retried by aima).
    EngineCrash,
    /// Starts on an engine that runs, then exits a few seconds later.
    EngineCrashAfter,
    /// Starts on an engine that runs, then stops answering while alive.
    EngineHang,
    /// Starts on an engine that fails with CUDA out-of-memory text (fatal, never retried).
    EngineOom,
    /// The Docker proxy holds every byte (accepts, forwards nothing) for a few seconds.
    DockerPause,
    /// The Docker proxy delays every chunk it forwards for a few seconds.
    DockerSlow,
    /// The Docker proxy closes every connection and refuses new ones for a few seconds.
    DockerCut,
}

impl FaultKind {
    pub(crate) const ALL: [FaultKind; 18] = [
        FaultKind::KillStarter,
        FaultKind::KillStopper,
        FaultKind::KillDaemon,
        FaultKind::DockerKill,
        FaultKind::DockerRm,
        FaultKind::PortBlocker,
        FaultKind::PortBlockerV6,
        FaultKind::PortBlockerBind,
        FaultKind::PortBlockerContainer,
        FaultKind::DiskFull,
        FaultKind::EngineSlow,
        FaultKind::EngineCrash,
        FaultKind::EngineCrashAfter,
        FaultKind::EngineHang,
        FaultKind::EngineOom,
        FaultKind::DockerPause,
        FaultKind::DockerSlow,
        FaultKind::DockerCut,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            FaultKind::KillStarter => "kill-starter",
            FaultKind::KillStopper => "kill-stopper",
            FaultKind::KillDaemon => "kill-daemon",
            FaultKind::DockerKill => "docker-kill",
            FaultKind::DockerRm => "docker-rm",
            FaultKind::PortBlocker => "port-blocker",
            FaultKind::PortBlockerV6 => "port-blocker-v6",
            FaultKind::PortBlockerBind => "port-blocker-bind",
            FaultKind::PortBlockerContainer => "port-blocker-container",
            FaultKind::DiskFull => "disk-full",
            FaultKind::EngineSlow => "engine-slow",
            FaultKind::EngineCrash => "engine-crash",
            FaultKind::EngineCrashAfter => "engine-crash-after",
            FaultKind::EngineHang => "engine-hang",
            FaultKind::EngineOom => "engine-oom",
            FaultKind::DockerPause => "docker-pause",
            FaultKind::DockerSlow => "docker-slow",
            FaultKind::DockerCut => "docker-cut",
        }
    }

    /// Engine faults are not events of their own: they choose the image a CLI start runs.
    pub(crate) fn is_engine(self) -> bool {
        self.engine_env().is_some()
    }

    /// Faults of the Docker proxy (need Docker behind a unix socket).
    pub(crate) fn is_docker_proxy(self) -> bool {
        matches!(
            self,
            FaultKind::DockerPause | FaultKind::DockerSlow | FaultKind::DockerCut
        )
    }

    /// The port blockers: something foreign on a service's port for a while.
    pub(crate) fn is_port_blocker(self) -> bool {
        matches!(
            self,
            FaultKind::PortBlocker
                | FaultKind::PortBlockerV6
                | FaultKind::PortBlockerBind
                | FaultKind::PortBlockerContainer
        )
    }

    /// Why this fault is left out of a run on aima's Swarm runtime, if it is.
    pub(crate) fn not_on_swarm(self) -> Option<&'static str> {
        match self {
            FaultKind::DockerKill | FaultKind::DockerRm => Some(
                "an engine is a Swarm service whose task containers Swarm itself replaces; killing one tests Swarm, not aima",
            ),
            FaultKind::PortBlockerContainer => Some(
                "a plain container publishing the port competes with Swarm's routing mesh, not with aima's fail-fast check",
            ),
            _ => None,
        }
    }

    /// The simulator environment baked into the image of an engine fault.
    pub(crate) fn engine_env(self) -> Option<&'static [(&'static str, &'static str)]> {
        match self {
            FaultKind::EngineSlow => Some(&[("AIMA_SIM_LOAD_SECS", "4")]),
            FaultKind::EngineCrash => Some(&[("AIMA_SIM_CRASH", "error")]),
            FaultKind::EngineCrashAfter => Some(&[("AIMA_SIM_CRASH_AFTER_SECS", "3")]),
            FaultKind::EngineHang => Some(&[("AIMA_SIM_HANG_AFTER_SECS", "3")]),
            FaultKind::EngineOom => Some(&[("AIMA_SIM_CRASH", "oom")]),
            _ => None,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `--faults`: comma-separated names, `all`, or `none`.
pub(crate) fn parse_faults(text: &str) -> Result<Vec<FaultKind>, String> {
    let text = text.trim();
    if text == "all" {
        return Ok(FaultKind::ALL.to_vec());
    }
    if text == "none" || text.is_empty() {
        return Ok(Vec::new());
    }
    let mut faults = Vec::new();
    for name in text.split(',').map(str::trim) {
        let fault = FaultKind::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = FaultKind::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown fault {name:?}; the faults are: {} (or `all`, `none`)",
                    known.join(", ")
                )
            })?;
        if !faults.contains(&fault) {
            faults.push(fault);
        }
    }
    faults.sort();
    Ok(faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_lists_parse_and_bad_names_are_named() {
        assert_eq!(parse_faults("all").unwrap().len(), FaultKind::ALL.len());
        assert!(parse_faults("none").unwrap().is_empty());
        assert_eq!(
            parse_faults("docker-rm, kill-daemon,docker-rm").unwrap(),
            vec![FaultKind::KillDaemon, FaultKind::DockerRm]
        );
        let err = parse_faults("kill-everything").unwrap_err();
        assert!(
            err.contains("kill-everything") && err.contains("kill-daemon"),
            "{err}"
        );
    }
}
