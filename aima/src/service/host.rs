//! What the lifecycle asks of the host itself: port holders, engine health, owner liveness.

use std::time::Duration;

use async_trait::async_trait;

use crate::ports::{self, PortHolder};
use crate::records::Owner;

#[async_trait]
pub trait HostProbe: Send + Sync {
    /// `Some(holder)` when `port` cannot be bound the way Docker binds it.
    fn port_blocked(&self, port: u16) -> Option<PortHolder>;
    /// The engine's answer to `GET path` on `port`, if any.
    async fn health_status(&self, port: u16, path: &str) -> Option<u16>;
    fn current_owner(&self) -> Owner;
    fn owner_alive(&self, owner: Owner) -> bool;
}

pub struct RealHost;

#[async_trait]
impl HostProbe for RealHost {
    fn port_blocked(&self, port: u16) -> Option<PortHolder> {
        ports::blocked_address(port).map(|_| ports::holder_of(port))
    }

    async fn health_status(&self, port: u16, path: &str) -> Option<u16> {
        crate::health::http_status(port, path, Duration::from_secs(2)).await
    }

    fn current_owner(&self) -> Owner {
        super::owner::current()
    }

    fn owner_alive(&self, owner: Owner) -> bool {
        super::owner::is_alive(owner)
    }
}
