//! The people of scenario 26: two accounts and a group with names no other run shares, created
//! with `groupadd`/`useradd --no-create-home`, and a scratch directory under `/tmp` that holds
//! their homes and the daemon's data dir. Everything is removed by [`Accounts::remove`], or, if
//! the steps panic before it, when the value is dropped.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The run's accounts, group and scratch directory.
#[derive(Debug)]
pub struct Accounts {
    pub alice: String,
    pub bob: String,
    pub group: String,
    /// `/tmp/aima-s26-<tag>`, mode 0755: homes, the data dir, a copy of aima when needed.
    pub scratch: PathBuf,
    /// What exists and must be removed: accounts, then the group.
    users: Vec<String>,
    group_made: bool,
}

/// The tools the setup needs, each looked up on `PATH`.
pub const TOOLS: [&str; 5] = ["useradd", "userdel", "groupadd", "groupdel", "runuser"];

/// The first of [`TOOLS`] not on `PATH`.
pub fn missing_tool() -> Option<&'static str> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    TOOLS.into_iter().find(|tool| {
        !std::env::split_paths(&path)
            .chain(["/usr/sbin".into(), "/sbin".into()])
            .any(|dir| dir.join(tool).is_file())
    })
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl Accounts {
    /// Creates the group, the two accounts in it and the scratch directory; `tag` makes the
    /// names unique to the run (lowercase hex). What was made before a failure is removed.
    pub fn create(tag: &str) -> anyhow::Result<Self> {
        let mut made = Accounts {
            alice: format!("s26alice{tag}"),
            bob: format!("s26bob{tag}"),
            group: format!("s26grp{tag}"),
            scratch: PathBuf::from(format!("/tmp/aima-s26-{tag}")),
            users: Vec::new(),
            group_made: false,
        };
        std::fs::create_dir(&made.scratch)
            .with_context(|| format!("creating {}", made.scratch.display()))?;
        std::fs::set_permissions(&made.scratch, std::fs::Permissions::from_mode(0o755))?;
        run("groupadd", &[&made.group])?;
        made.group_made = true;
        for user in [made.alice.clone(), made.bob.clone()] {
            let home = made.scratch.join(format!("home-{user}"));
            let home_text = home.display().to_string();
            run(
                "useradd",
                &[
                    "--no-create-home",
                    "--home-dir",
                    &home_text,
                    "--shell",
                    "/usr/sbin/nologin",
                    "--groups",
                    &made.group,
                    &user,
                ],
            )?;
            made.users.push(user.clone());
            std::fs::create_dir(&home)?;
            run("chown", &[&user, &home_text])?;
        }
        Ok(made)
    }

    /// Removes the accounts, the group and the scratch directory; returns one line per step.
    pub fn remove(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for user in std::mem::take(&mut self.users) {
            lines.push(outcome(
                &format!("userdel {user}"),
                run("userdel", &[&user]),
            ));
        }
        if std::mem::take(&mut self.group_made) {
            let group = self.group.clone();
            lines.push(outcome(
                &format!("groupdel {group}"),
                run("groupdel", &[&group]),
            ));
        }
        if self.scratch.exists() {
            let removed = std::fs::remove_dir_all(&self.scratch).map_err(anyhow::Error::from);
            lines.push(outcome(
                &format!("rm -r {}", self.scratch.display()),
                removed,
            ));
        }
        lines
    }

    /// The aima binary the accounts can execute: `aima` itself when every directory on its
    /// path lets others search it and the file lets them run it, else a copy in the scratch
    /// directory. Returns the path and a sentence for the evidence.
    pub fn reachable_binary(&self, aima: &Path) -> anyhow::Result<(PathBuf, String)> {
        let aima = std::path::absolute(aima)?;
        match blocked_by(&aima) {
            None => Ok((
                aima.clone(),
                format!("{} is executable by other accounts", aima.display()),
            )),
            Some(blocker) => {
                let copy = self.scratch.join("aima");
                std::fs::copy(&aima, &copy)
                    .with_context(|| format!("copying {} for the accounts", aima.display()))?;
                std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))?;
                Ok((
                    copy.clone(),
                    format!(
                        "{} is not executable by other accounts ({} lacks o+x), so they run the copy {}",
                        aima.display(),
                        blocker.display(),
                        copy.display()
                    ),
                ))
            }
        }
    }
}

/// The first of `file` and its directories that other accounts may not search or execute.
fn blocked_by(file: &Path) -> Option<PathBuf> {
    file.ancestors().find_map(|p| {
        let mode = std::fs::metadata(p).ok()?.permissions().mode();
        (mode & 0o001 == 0).then(|| p.to_owned())
    })
}

fn outcome(what: &str, result: anyhow::Result<()>) -> String {
    match result {
        Ok(()) => format!("{what}: done"),
        Err(err) => format!("{what}: FAILED: {err:#}"),
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        for line in self.remove() {
            eprintln!("scenario 26 clean-up: {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_directory_on_the_way_blocks_the_binary() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        let file = inner.join("aima");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(blocked_by(&file), Some(inner.clone()));
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o755)).unwrap();
        let open = blocked_by(&file);
        // The temp dir's own ancestors are the machine's; only ours are judged here.
        assert!(
            open.as_ref().is_none_or(|p| !p.starts_with(dir.path())),
            "{open:?}"
        );
    }
}
