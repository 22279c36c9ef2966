//! A host port: where a service's engine is published on its host. Never 0, which would ask
//! the kernel (or Docker) for any free port rather than name one.

use std::fmt;
use std::num::NonZeroU16;

use serde::{Deserialize, Serialize};

/// A TCP port on the host (or Swarm node) that a service publishes its engine on; the engine's
/// own port inside its container is a plain number. Serialized as a plain integer, and stored
/// as one (SQLite checks `BETWEEN 1 AND 65535`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostPort(NonZeroU16);

impl HostPort {
    /// `None` for 0, which names no port.
    pub const fn new(port: u16) -> Option<Self> {
        match NonZeroU16::new(port) {
            Some(p) => Some(HostPort(p)),
            None => None,
        }
    }

    pub const fn get(self) -> u16 {
        self.0.get()
    }

    /// The next port up, unless this is the last one.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(HostPort)
    }
}

impl From<NonZeroU16> for HostPort {
    fn from(port: NonZeroU16) -> Self {
        HostPort(port)
    }
}

impl From<HostPort> for u16 {
    fn from(port: HostPort) -> Self {
        port.get()
    }
}

/// Port literals in tests (`HostPort::from(8000)`).
///
/// # Panics
/// On 0, which is no host port.
#[cfg(any(test, feature = "test-support"))]
impl From<u16> for HostPort {
    fn from(port: u16) -> Self {
        HostPort::new(port).expect("a host port is never 0")
    }
}

impl PartialEq<u16> for HostPort {
    fn eq(&self, other: &u16) -> bool {
        self.get() == *other
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_port_is_never_0_and_serializes_as_a_plain_integer() {
        assert_eq!(HostPort::new(0), None);
        let port = HostPort::from(8000);
        assert_eq!(serde_json::to_string(&port).unwrap(), "8000");
        assert_eq!(serde_json::from_str::<HostPort>("8000").unwrap(), port);
        assert!(serde_json::from_str::<HostPort>("0").is_err());
        assert_eq!(HostPort::from(u16::MAX).next(), None);
        assert_eq!(port.to_string(), "8000");
    }
}
