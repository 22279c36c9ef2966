//! The machine aima runs on, as the lifecycle asks about it: who holds a port, does an engine
//! answer its health check, is the process that owns a start still alive, how much room a disk
//! has, what its GPUs hold. [`HostProbe`] is the seam; [`RealHost`] asks the OS.

pub mod engine_api;
mod engine_health;
pub mod gpus;
pub mod model_dir;
pub mod model_mount;
pub mod ports;
mod process;
mod sock_diag;
pub mod secret;
pub mod users;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

pub use gpus::GpuReport;
pub use ports::PortHolder;
pub use process::Liveness;

use crate::domain::Owner;

#[async_trait]
pub trait HostProbe: Send + Sync {
    /// `Some(holder)` when `addr` cannot be bound the way Docker binds it to publish a port.
    fn port_blocked(&self, addr: SocketAddr) -> Option<PortHolder>;
    /// The engine's answer to `GET path` at `addr`, if any.
    async fn health_status(&self, addr: SocketAddr, path: &str) -> Option<u16>;
    /// This process as an owner, its lease not yet set.
    fn current_owner(&self) -> Owner;
    /// Whether the owner's process still runs, as far as this host can tell.
    fn owner_liveness(&self, owner: Owner) -> Liveness;
    /// Bytes free on the filesystem holding `path`, as seen from this host.
    fn free_bytes(&self, path: &Path) -> std::io::Result<u64>;
    /// The host's GPUs, their free memory and the processes using them (blocking: it may run
    /// `nvidia-smi`).
    fn gpus(&self) -> GpuReport;
}

pub struct RealHost;

#[async_trait]
impl HostProbe for RealHost {
    fn port_blocked(&self, addr: SocketAddr) -> Option<PortHolder> {
        ports::is_blocked(addr).then(|| ports::holder_of(addr.port()))
    }

    async fn health_status(&self, addr: SocketAddr, path: &str) -> Option<u16> {
        engine_health::http_status(addr, path, Duration::from_secs(2)).await
    }

    fn current_owner(&self) -> Owner {
        process::current()
    }

    fn owner_liveness(&self, owner: Owner) -> Liveness {
        process::liveness(owner)
    }

    fn free_bytes(&self, path: &Path) -> std::io::Result<u64> {
        crate::disk::free_bytes(path)
    }

    fn gpus(&self) -> GpuReport {
        gpus::probe()
    }
}
