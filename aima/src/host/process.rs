//! The process that owns an attached start, identified by pid plus kernel start time so that a
//! pid reused by an unrelated process is not mistaken for the owner.

use crate::domain::Owner;

/// Start time (clock ticks since boot) of `pid`, from field 22 of /proc/<pid>/stat.
fn start_time_of(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: skip past its last ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

pub fn current() -> Owner {
    let pid = std::process::id();
    Owner {
        pid,
        start_time: start_time_of(pid).unwrap_or(0),
    }
}

pub fn is_alive(owner: Owner) -> bool {
    start_time_of(owner.pid) == Some(owner.start_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = current();
        assert!(is_alive(me));
        assert!(!is_alive(Owner {
            start_time: me.start_time + 1,
            ..me
        }));
    }

    #[test]
    fn an_exited_process_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let owner = Owner {
            pid,
            start_time: start_time_of(pid).unwrap_or(1),
        };
        child.wait().unwrap();
        assert!(!is_alive(owner));
    }
}
