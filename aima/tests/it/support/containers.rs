//! Containers by label: the `aima.instance` label of a data dir, finding containers, and a
//! [`Cleanup`] guard that removes a test's containers (and only those) when the test ends.

use std::path::Path;

use aima::config::{Config, Env};

use super::docker::{docker, rows_with_labels};

/// The `aima.instance` label of a data dir, as aima's own configuration reads it: the id in its
/// `instance-id` file, created at first use. The dir is created if missing.
pub fn instance_of(data_dir: &Path) -> String {
    Config::load(data_dir, Env::default())
        .expect("a usable data dir")
        .instance
}

/// `docker ps -a` rows (`name status`) of the containers carrying every label (`key=value`).
pub fn containers_with(labels: &[&str]) -> Vec<String> {
    rows_with_labels(&["ps", "-a"], "{{.Names}} {{.Status}}", labels)
}

/// On drop, even after a failed assert, force-removes every container of `instance` plus the
/// `extra` containers named (by name or id).
pub struct Cleanup {
    pub instance: String,
    pub extra: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let rows = containers_with(&[&format!("aima.instance={}", self.instance)]);
        let names = rows.iter().filter_map(|row| row.split(' ').next());
        for name in names.chain(self.extra.iter().map(String::as_str)) {
            let _ = docker(&["rm", "--force", "--volumes", name]);
        }
        // The data dir's engine cache volumes (named, so `rm --volumes` leaves them).
        let filter = format!("label=aima.instance={}", self.instance);
        let listed = docker(&["volume", "ls", "-q", "--filter", &filter]);
        for volume in String::from_utf8_lossy(&listed.stdout).split_whitespace() {
            let _ = docker(&["volume", "rm", volume]);
        }
    }
}
