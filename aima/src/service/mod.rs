//! The service lifecycle: start with preflight and retries, stop, and resolving stale states.
//! Docker and host checks come in through [`Deps`], so the logic runs against fakes in tests.

mod attempt;
mod attempts;
mod failure;
pub mod host;
mod labels;
mod owner;
mod preflight;
mod refresh;
mod start;
mod stop;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use attempt::{Attempt, Phase};
pub use host::{HostProbe, RealHost};
pub use labels::{INSTANCE, MANAGED, SERVICE, labels_for, selector};
pub use refresh::{refresh, refresh_all};
pub use start::{StartOptions, start};
pub use stop::{Stopped, stop};

use crate::config::Config;
use crate::error::{Error, Kind, Result};
use crate::runtime::{DockerHost, DockerRuntime, Runtime, SharedRuntime};

/// Opens a runtime on demand: most commands never need Docker.
pub type Connector = Arc<dyn Fn() -> Result<SharedRuntime> + Send + Sync>;

#[derive(Clone)]
pub struct Deps {
    pub config: Config,
    pub connect: Connector,
    pub host: Arc<dyn HostProbe>,
}

impl Deps {
    /// Real Docker (from this process's `DOCKER_HOST`) and the real host.
    pub fn real(config: Config) -> Self {
        Deps {
            config,
            connect: Arc::new(connect_from_env),
            host: Arc::new(RealHost),
        }
    }

    /// Connects and pings, so "Docker is away" is one clear error in a few seconds.
    pub async fn docker(&self) -> Result<SharedRuntime> {
        let runtime = (self.connect)()?;
        runtime
            .ping()
            .await
            .map_err(|e| docker_unavailable(e.to_string(), &runtime.address()))?;
        Ok(runtime)
    }
}

fn connect_from_env() -> Result<SharedRuntime> {
    let value = std::env::var("DOCKER_HOST").ok();
    let host = DockerHost::parse(value.as_deref()).map_err(|msg| {
        Error::new(Kind::DockerUnavailable, msg)
            .with_help("fix or unset DOCKER_HOST (unset means unix:///var/run/docker.sock)")
    })?;
    let address = host.to_string();
    let runtime =
        DockerRuntime::connect(host).map_err(|e| docker_unavailable(e.to_string(), &address))?;
    Ok(Arc::new(runtime) as Arc<dyn Runtime>)
}

pub(crate) fn docker_unavailable(message: String, address: &str) -> Error {
    Error::new(Kind::DockerUnavailable, message).with_help(format!(
        "check that the Docker daemon is running and reachable at {address} (`docker info`), or set DOCKER_HOST"
    ))
}
