//! Reading the process table from `/proc`: each process's group, state and program name, and
//! whether its environment holds a variable. Only Linux is supported, as by the harness.

/// One process as `/proc/<pid>/stat` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Process {
    pub pid: u32,
    /// Process group id.
    pub pgid: u32,
    /// Program name (`comm`).
    pub program: String,
    /// Ended but not yet collected by its parent: holds no resources but its table entry.
    pub zombie: bool,
    /// Start time in clock ticks since boot, which tells a reused pid apart.
    pub start: String,
}

/// The process `pid`, if it exists.
pub(crate) fn process(pid: u32) -> Option<Process> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The program name may hold spaces or parentheses; fields resume after the last ')'.
    let (head, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Process {
        pid,
        pgid: fields.get(2)?.parse().ok()?,
        program: head.split_once('(')?.1.to_owned(),
        zombie: *fields.first()? == "Z",
        start: (*fields.get(19)?).to_owned(),
    })
}

/// Every live (not zombie) process.
pub(crate) fn live_processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(process)
        .filter(|p| !p.zombie)
        .collect()
}

/// True when `pid`'s environment holds `key=value` (false when it cannot be read).
pub(crate) fn has_env(pid: u32, key: &str, value: &str) -> bool {
    let wanted = format!("{key}={value}");
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_and_a_child_environment() {
        let me = process(std::process::id()).unwrap();
        assert!(!me.zombie);
        assert!(live_processes().iter().any(|p| p.pid == me.pid));
        let child = std::process::Command::new("sleep")
            .arg("5")
            .env("HARNESS_PROCFS_TEST", "yes")
            .spawn()
            .unwrap();
        let mut child = Reaped(child);
        // While the child is still exec'ing `sleep`, /proc may show the environment it was
        // forked with, or none yet.
        let pid = child.0.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !has_env(pid, "HARNESS_PROCFS_TEST", "yes") && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(has_env(pid, "HARNESS_PROCFS_TEST", "yes"));
        assert_eq!(process(pid).unwrap().program, "sleep");
        assert!(!has_env(pid, "HARNESS_PROCFS_TEST", "no"));
        child.0.kill().unwrap();
    }

    /// Kills and reaps the child even when an assertion fails.
    struct Reaped(std::process::Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
