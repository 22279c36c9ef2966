//! Records the git commit the binary is built from, for `aima --version` and `aima info`.
//!
//! A build outside a git checkout (a source tarball, no `git` installed) still works: the commit
//! is then `unknown`, unless the packager passes it in `AIMA_BUILD_COMMIT`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=AIMA_BUILD_COMMIT");
    let commit = std::env::var("AIMA_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=AIMA_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself (checkout) and the branch it points at (commit).
    for file in ["HEAD", "packed-refs"] {
        watch(file);
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(&branch);
    }
}

/// Only files that exist: Cargo reruns a build script on every build for a missing one.
fn watch(git_path: &str) {
    if let Some(path) = git(&["rev-parse", "--git-path", git_path])
        && std::path::Path::new(&path).exists()
    {
        println!("cargo:rerun-if-changed={path}");
    }
}

/// The trimmed output of a successful git command, or `None` (no git, not a checkout).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
