//! Finding the aima binaries: explicit paths win; otherwise the workspace's debug build,
//! built on demand with cargo.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The two programs a scenario drives.
#[derive(Debug, Clone)]
pub struct BinaryPaths {
    /// `aima` itself, or a wrapper script standing in for it.
    pub aima: PathBuf,
    /// `aima-engine-sim`, which builds the simulator engine image.
    pub sim: PathBuf,
}

/// Resolves the binaries. The workspace's own build is always brought up to date first
/// (`cargo build -p aima -p aima-engine-sim --bins`, quick when nothing changed), so a stale
/// binary is never tested; a failed build refuses the run.
pub fn locate_binaries(aima: Option<&Path>, sim: Option<&Path>) -> anyhow::Result<BinaryPaths> {
    locate_binaries_with(aima, sim, false)
}

/// As [`locate_binaries`], building the release profile (`target/release`) when `release`.
pub(crate) fn locate_binaries_with(
    aima: Option<&Path>,
    sim: Option<&Path>,
    release: bool,
) -> anyhow::Result<BinaryPaths> {
    if let (Some(aima), Some(sim)) = (aima, sim) {
        return Ok(BinaryPaths {
            aima: absolute(aima)?,
            sim: absolute(sim)?,
        });
    }
    build_aima(release)?;
    let built = profile_binaries(if release { "release" } else { "debug" })?;
    Ok(BinaryPaths {
        aima: aima.map(absolute).transpose()?.unwrap_or(built.aima),
        sim: sim.map(absolute).transpose()?.unwrap_or(built.sim),
    })
}

/// The workspace's debug binaries as they are, without building (the test suite builds them
/// first); an error when one is missing.
pub fn workspace_binaries() -> anyhow::Result<BinaryPaths> {
    profile_binaries("debug")
}

fn profile_binaries(profile_dir: &str) -> anyhow::Result<BinaryPaths> {
    let debug_dir = workspace_target_dir()?.join(profile_dir);
    Ok(BinaryPaths {
        aima: absolute(&debug_dir.join("aima"))?,
        sim: absolute(&debug_dir.join("aima-engine-sim"))?,
    })
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

/// The workspace that contains this crate, so the harness works from any current directory.
fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml")
}

/// The workspace's target directory as cargo reports it (honours `CARGO_TARGET_DIR`).
fn workspace_target_dir() -> anyhow::Result<PathBuf> {
    let args = [
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--manifest-path",
    ];
    let output = duct::cmd("cargo", args)
        .before_spawn(|command| {
            command.arg(manifest_path());
            Ok(())
        })
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("parsing cargo metadata")?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

fn build_aima(release: bool) -> anyhow::Result<()> {
    const ARGS: [&str; 7] = [
        "build",
        "-q",
        "-p",
        "aima",
        "-p",
        "aima-engine-sim",
        "--bins",
    ];
    let status = duct::cmd("cargo", ARGS)
        .before_spawn(move |command| {
            command.arg("--manifest-path").arg(manifest_path());
            if release {
                command.arg("--release");
            }
            Ok(())
        })
        .stdout_to_stderr()
        .unchecked()
        .run()
        .context("running cargo build")?
        .status;
    if !status.success() {
        bail!(
            "cargo {} failed ({status}); the harness does not test a stale build",
            ARGS.join(" ")
        );
    }
    Ok(())
}
