//! aima's integration tests, one binary: the CLI as a process, the daemon over HTTP and through
//! its router, the service lifecycle against real Docker, and the docs against the binary.
//! `support` holds the helpers every module shares.

mod cli;
mod daemon;
mod docs;
mod lifecycle;
mod page;
mod support;
