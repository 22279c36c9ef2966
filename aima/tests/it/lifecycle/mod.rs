//! `service start` and `stop` against real Docker and the engine simulator: start and stop,
//! a blocked port, a crashing engine, an interrupted start, Docker away.

mod crash;
mod docker_host;
mod interrupt;
mod logs_restart;
mod port_blocked;
mod pull;
mod start_stop;
