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

/// Resolves the binaries. A missing default build is produced with
/// `cargo build -p aima -p aima-engine-sim --bins`.
pub fn locate_binaries(aima: Option<&Path>, sim: Option<&Path>) -> anyhow::Result<BinaryPaths> {
    if let (Some(aima), Some(sim)) = (aima, sim) {
        return Ok(BinaryPaths {
            aima: absolute(aima)?,
            sim: absolute(sim)?,
        });
    }
    let debug_dir = workspace_target_dir()?.join("debug");
    let default_aima = debug_dir.join("aima");
    let default_sim = debug_dir.join("aima-engine-sim");
    if !default_aima.exists() || !default_sim.exists() {
        build_aima()?;
    }
    Ok(BinaryPaths {
        aima: aima.map(absolute).transpose()?.unwrap_or(default_aima),
        sim: sim.map(absolute).transpose()?.unwrap_or(default_sim),
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

fn build_aima() -> anyhow::Result<()> {
    const ARGS: [&str; 6] = ["build", "-p", "aima", "-p", "aima-engine-sim", "--bins"];
    eprintln!(
        "harness: building aima and its simulator (cargo {})",
        ARGS.join(" ")
    );
    let status = duct::cmd("cargo", ARGS)
        .before_spawn(|command| {
            command.arg("--manifest-path").arg(manifest_path());
            Ok(())
        })
        .stdout_to_stderr()
        .unchecked()
        .run()
        .context("running cargo build")?
        .status;
    if !status.success() {
        bail!("cargo {} failed ({status})", ARGS.join(" "));
    }
    Ok(())
}
