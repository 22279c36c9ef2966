//! Helpers every integration test module shares: an `aima` on its own data dir, commands with
//! evidence, the daemon as a child process, real Docker and its containers, ports and waiting.

pub mod aima;
pub mod browser;
pub mod containers;
pub mod daemon;
pub mod docker;
pub mod http;
pub mod lab;
pub mod port_blocker;
pub mod ports;
pub mod pty;
pub mod registry;
pub mod run;
pub mod schema;
pub mod setup;
pub mod snapshot;
pub mod sse;
pub mod swarm;
pub mod tmpfs;
pub mod unix_http;
pub mod wait;
