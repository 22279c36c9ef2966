//! The pull step of a start: make sure the engine image is present, pulling it as the policy
//! says (`--pull`, else the engine's setting), within the start's deadline. A registry that
//! refuses fails the start at once: pulling again would get the same answer.

use std::sync::Mutex;
use std::time::Instant;

use super::attempt_loop::Run;
use super::failure::Failure;
use super::progress::{PullTally, StartEvent};
use crate::domain::{Phase, PullPolicy};
use crate::error::{Classified, Error, Kind};
use crate::runtime::{PullProgress, Runtime, RuntimeError};

impl Run<'_> {
    pub(super) async fn ensure_image(
        &self,
        rt: &dyn Runtime,
        deadline: Instant,
    ) -> Result<(), Failure> {
        let image = &self.spec.image;
        let policy = self.opts.pull.unwrap_or(self.spec.pull);
        let present = rt
            .image_exists(image)
            .await
            .map_err(|e| Failure::from_runtime(e, Phase::Preflight))?;
        match (policy, present) {
            (PullPolicy::Missing, true) | (PullPolicy::Never, true) => return Ok(()),
            (PullPolicy::Never, false) => {
                let missing = RuntimeError::ImageMissing {
                    image: image.clone(),
                };
                return Err(Failure::of(
                    Error::from(missing).with_help(format!(
                        "the pull policy is `never`: pull it yourself (`docker pull {image}`), start with --pull missing, or point AIMA_{}_IMAGE at a local image",
                        self.spec.engine.env_prefix().trim_start_matches("AIMA_")
                    )),
                    Phase::Preflight,
                )
                .cause("image_missing"));
            }
            _ => {}
        }
        self.step(Phase::Pull, &format!("pulling image {image}"));
        let tally = Mutex::new(PullTally::new(image));
        let report = |p: &PullProgress| {
            let mut tally = tally.lock().unwrap_or_else(|e| e.into_inner());
            tally.update(p);
            if let Some(progress) = self.opts.progress {
                progress(StartEvent::Pulling(&tally));
            }
        };
        let began = Instant::now();
        match tokio::time::timeout_at(deadline.into(), rt.pull(image, &report)).await {
            Ok(Ok(())) => {
                let layers = tally.lock().unwrap_or_else(|e| e.into_inner()).layers();
                tracing::info!(
                    image = %image,
                    layers,
                    elapsed_ms = began.elapsed().as_millis() as u64,
                    "pulled the engine image"
                );
                // The image took its room: what is left must still hold the container.
                self.docker_room(
                    rt,
                    "Docker's disk is too full after the pull",
                    Phase::Create,
                )
                .await
            }
            Ok(Err(e)) if e.kind() == Kind::DiskFull => Err(Failure::from_runtime(e, Phase::Pull)),
            Ok(Err(e)) => Err(Failure::from_runtime(e, Phase::Pull).cause("image_pull")),
            Err(_) => {
                let secs = self.opts.timeout.as_secs();
                Err(Failure::fatal(
                    Kind::Timeout,
                    Phase::Pull,
                    format!(
                        "pulling image {image} did not finish within the {secs}s start timeout"
                    ),
                )
                .help(format!(
                    "pull it beforehand (`docker pull {image}`), or raise --timeout"
                )))
            }
        }
    }
}
