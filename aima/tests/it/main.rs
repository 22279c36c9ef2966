//! aima's integration tests, one binary: the CLI as a process, the daemon over HTTP and through
//! its router, and the service lifecycle against real Docker. `support` holds the helpers every
//! module shares.

mod cli;
mod daemon;
mod lifecycle;
mod page;
mod support;
