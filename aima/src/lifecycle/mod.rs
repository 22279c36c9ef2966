//! The service lifecycle: start with preflight and retries, stop, and refreshing recorded states
//! against Docker (which may mark services failed and remove their containers). Docker and the
//! host come in through [`Deps`], so the logic runs against fakes in tests.

mod attempt_loop;
pub(crate) mod cache;
mod failure;
pub(crate) mod gpus;
mod image;
pub(crate) mod labels;
mod lease;
pub(crate) mod liveness;
pub(crate) mod model_ref;
pub(crate) mod orphans;
mod preflight;
mod progress;
mod pull;
pub(crate) mod quota;
mod refresh;
mod resolving;
mod room;
mod start;
mod stop;
pub(crate) mod supervise;
mod sweep;
pub(crate) mod watch;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

pub(crate) use attempt_loop::StartOptions;
#[cfg(test)]
pub(crate) use progress::PullTally;
pub(crate) use progress::{StartEvent, StartNote};
pub(crate) use refresh::{
    Trust, needs_a_look, refresh, refresh_all, refresh_each_trusting, refresh_trusting,
};
pub(crate) use start::start;
pub(crate) use stop::stop;
pub(crate) use stop::{StopMode, Stopped};

use crate::config::{Config, RuntimeKind};
use crate::domain::{Actor, Service};
use crate::error::Result;
use crate::host::{HostProbe, RealHost};
use crate::runtime::{DockerEndpoint, DockerRuntime, SharedRuntime, SwarmRuntime};

/// Opens a runtime on demand: most commands never need Docker.
pub type Connector = Arc<dyn Fn() -> Result<SharedRuntime> + Send + Sync>;

/// What the lifecycle runs on: the configuration, a way to reach Docker, and the host.
#[derive(Clone)]
pub struct Deps {
    pub config: Config,
    pub connect: Connector,
    pub host: Arc<dyn HostProbe>,
    /// On whose behalf the operations run: a start of their own service holds them to their
    /// quota. `None`: nobody in particular (the daemon's own work, tools, tests).
    pub acting: Option<Actor>,
}

impl Deps {
    /// Real Docker (at the configuration's `DOCKER_HOST`), as plain Docker or as a Swarm
    /// manager (`[runtime] kind`), and the real host.
    pub fn real(config: Config) -> Self {
        let endpoint = config.env.get("DOCKER_HOST").map(str::to_owned);
        let kind = config.runtime.kind;
        Deps {
            config,
            connect: Arc::new(move || connect(endpoint.as_deref(), kind)),
            host: Arc::new(RealHost),
            acting: None,
        }
    }

    /// The same, acting for `actor`.
    pub fn acting_for(self, actor: Actor) -> Self {
        Deps {
            acting: Some(actor),
            ..self
        }
    }

    /// Connects and pings, so "Docker is away" is one clear error in a few seconds.
    pub async fn docker(&self) -> Result<SharedRuntime> {
        let runtime = (self.connect)()?;
        runtime.ping().await?;
        Ok(runtime)
    }
}

/// The address the engine's port is published on, which this machine's probes check: the
/// service's bind address on plain Docker; every address on a Swarm, whose host-mode ports
/// take no address.
pub(crate) fn published_address(config: &Config, svc: &Service) -> SocketAddr {
    match config.runtime.kind {
        RuntimeKind::Docker => svc.published_address(),
        RuntimeKind::Swarm => {
            let any = match svc.bind {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            SocketAddr::new(any, svc.port.get())
        }
    }
}

/// `DOCKER_HOST`'s value, parsed only now: a bad one fails the commands that need Docker.
fn connect(docker_host: Option<&str>, kind: RuntimeKind) -> Result<SharedRuntime> {
    let endpoint = DockerEndpoint::parse(docker_host)?;
    Ok(match kind {
        RuntimeKind::Docker => Arc::new(DockerRuntime::connect(endpoint)?),
        RuntimeKind::Swarm => Arc::new(SwarmRuntime::connect(endpoint)?),
    })
}
