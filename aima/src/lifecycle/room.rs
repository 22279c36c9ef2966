//! Room on Docker's disk: before an engine image is pulled and before a container is created,
//! the disk holding Docker's data root (`DockerRootDir`) must keep the configured minimum free
//! (`[disk] docker_min_free`); a pull or a container's first writes would otherwise fail half-way.
//! A Docker daemon on another machine, or a data root this machine cannot see, is not measured,
//! and the start says so.

use std::path::Path;

use super::attempt_loop::Run;
use super::failure::Failure;
use crate::disk::{DiskFull, Place};
use crate::domain::Phase;
use crate::error::Error;
use crate::runtime::Runtime;

impl Run<'_> {
    /// Refuses with `what` ("Docker's disk is too full") when Docker's disk is below the
    /// minimum; the start's own error puts "cannot start service …" before it.
    pub(super) async fn docker_room(
        &self,
        rt: &dyn Runtime,
        what: &str,
        phase: Phase,
    ) -> Result<(), Failure> {
        let min = self.deps.config.disk.docker_min_free;
        if min == 0 {
            return Ok(());
        }
        let root = rt
            .data_root()
            .await
            .map_err(|e| Failure::from_runtime(e, phase))?;
        if !root.local || root.path.is_empty() {
            self.unchecked(format!(
                "Docker at {} runs on another machine: the free space of its data root {} is not checked",
                rt.address(),
                root.path
            ));
            return Ok(());
        }
        let path = Path::new(&root.path);
        let free = match self.deps.host.free_bytes(path) {
            Ok(free) => free,
            Err(e) => {
                self.unchecked(format!(
                    "Docker's data root {} is not visible from here ({e}): its free space is not checked",
                    root.path
                ));
                return Ok(());
            }
        };
        DiskFull::against(what, Place::DockerRoot, path, free, min)
            .map_err(|e| Failure::of(Error::from(e), phase))
    }

    fn unchecked(&self, text: String) {
        tracing::info!("{text}");
        self.step(Phase::Preflight, &text);
    }
}
