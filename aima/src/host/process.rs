//! The process that owns an attached start, identified by pid plus kernel start time so that a
//! pid reused by an unrelated process is not mistaken for the owner — but only where this
//! process can see it: same kernel boot and same PID namespace. Elsewhere the owner's pid means
//! nothing here, and only its lease can tell.

use crate::domain::Owner;

/// What this process can tell about an owner's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    Dead,
    /// Another boot or PID namespace: its pid cannot be looked up from here.
    Unknowable,
}

/// Start time (clock ticks since boot) of `pid`, from field 22 of /proc/<pid>/stat.
fn start_time_of(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: skip past its last ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// This boot's id, as 128 bits (0 when the kernel does not say).
fn boot_id() -> u128 {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .and_then(|text| u128::from_str_radix(&text.trim().replace('-', ""), 16).ok())
        .unwrap_or(0)
}

/// The inode of this process's PID namespace, from the `pid:[4026531836]` link (0 if unknown).
fn pid_namespace() -> u64 {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|link| {
            let text = link.to_string_lossy().into_owned();
            text.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
        })
        .unwrap_or(0)
}

/// This process as an owner; the caller sets the lease.
pub fn current() -> Owner {
    let pid = std::process::id();
    Owner {
        pid,
        start_time: start_time_of(pid).unwrap_or(0),
        boot_id: boot_id(),
        pid_ns: pid_namespace(),
        lease_until: 0,
        claim: 0,
    }
}

pub fn liveness(owner: Owner) -> Liveness {
    judge(owner, current(), start_time_of(owner.pid))
}

/// `here` is this process; `start_time` what /proc here says of the owner's pid.
fn judge(owner: Owner, here: Owner, start_time: Option<u64>) -> Liveness {
    let comparable = owner.boot_id != 0
        && owner.pid_ns != 0
        && owner.boot_id == here.boot_id
        && owner.pid_ns == here.pid_ns;
    if !comparable {
        Liveness::Unknowable
    } else if start_time == Some(owner.start_time) {
        Liveness::Alive
    } else {
        Liveness::Dead
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = current();
        assert_ne!((me.boot_id, me.pid_ns), (0, 0));
        assert_eq!(liveness(me), Liveness::Alive);
        let reused = Owner {
            start_time: me.start_time + 1,
            ..me
        };
        assert_eq!(liveness(reused), Liveness::Dead);
    }

    #[test]
    fn an_exited_process_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let owner = Owner {
            pid,
            start_time: start_time_of(pid).unwrap_or(1),
            ..current()
        };
        child.wait().unwrap();
        assert_eq!(liveness(owner), Liveness::Dead);
    }

    #[test]
    fn an_owner_in_another_namespace_or_boot_is_never_judged_by_its_pid() {
        let here = current();
        // pid 1 of a container: here it is another process, or none at all.
        let in_container = Owner {
            pid: 1,
            start_time: 12345,
            pid_ns: here.pid_ns + 1,
            ..here
        };
        assert_eq!(judge(in_container, here, None), Liveness::Unknowable);
        let before_reboot = Owner {
            boot_id: here.boot_id ^ 1,
            ..here
        };
        assert_eq!(judge(before_reboot, here, None), Liveness::Unknowable);
        let unidentified = Owner {
            boot_id: 0,
            pid_ns: 0,
            ..here
        };
        assert_eq!(judge(unidentified, here, None), Liveness::Unknowable);
    }
}
