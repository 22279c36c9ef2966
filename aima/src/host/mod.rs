//! The machine aima runs on, as the lifecycle asks about it: who holds a port, does an engine
//! answer its health check, is the process that owns a start still alive. [`HostProbe`] is the
//! seam; [`RealHost`] asks the OS.

mod engine_health;
pub mod ports;
mod process;

use std::time::Duration;

use async_trait::async_trait;

pub use ports::PortHolder;

use crate::domain::Owner;

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
        engine_health::http_status(port, path, Duration::from_secs(2)).await
    }

    fn current_owner(&self) -> Owner {
        process::current()
    }

    fn owner_alive(&self, owner: Owner) -> bool {
        process::is_alive(owner)
    }
}
