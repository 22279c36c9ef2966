//! Start/fail cycles through the daemon on a held port: the daemon's memory and open fds
//! before every cycle, and what is left afterwards (containers, the port).

use std::net::{IpAddr, Ipv4Addr};

use super::lab::Lab;
use super::model::Cycles;
use crate::fixtures::port_blocker::PortBlocker;
use crate::fixtures::port_check::{check_port, free_port};

/// Cycles before the first measurement, so allocator warm-up is not counted as growth.
const WARMUP: usize = 5;

pub(crate) fn start_fail_cycles(lab: &Lab, cycles: usize) -> anyhow::Result<Cycles> {
    let port = free_port()?;
    let mut blocker = PortBlocker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), port, &lab.run_id)?;
    let svc = lab.service(port)?;
    let path = format!("/api/v2/services/{svc}/start");
    let pid = lab.daemon.pid;
    for _ in 0..WARMUP {
        lab.api("POST", &path, Some("{}"));
    }
    let mut trace = Cycles {
        cycles,
        warmup: WARMUP,
        ..Cycles::default()
    };
    for _ in 0..cycles {
        trace.rss_kib.push(rss_kib(pid));
        trace.fds.push(open_fds(pid));
        let (reply, _) = lab.api("POST", &path, Some("{}"));
        let code = reply
            .error_code()
            .unwrap_or_else(|| reply.status.to_string());
        if !trace.codes.contains(&code) {
            trace.codes.push(code);
        }
    }
    trace.rss_kib.push(rss_kib(pid));
    trace.fds.push(open_fds(pid));
    trace.containers_left = lab.aima_containers();
    blocker.stop();
    trace.port_free_after = check_port(port).is_free();
    Ok(trace)
}

/// `VmRSS` of `/proc/PID/status`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// The daemon's open fds once the answer has settled: the fewest of a few looks 5 ms apart.
/// The connection that carried the last answer, or a store or Docker connection the change-log
/// feed or the reconciler has open for a moment, is not a leak; an fd that leaked is in every
/// look, so the fewest still counts it.
fn open_fds(pid: u32) -> u64 {
    (0..5)
        .map(|i| {
            if i > 0 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
        })
        .min()
        .unwrap_or(0)
}
