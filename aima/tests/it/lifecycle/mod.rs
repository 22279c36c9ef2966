//! `service start` and `stop` against real Docker and the engine simulator: start and stop,
//! a blocked port, a crashing engine, an interrupted start, Docker away, memory and GPUs.

mod backup_live;
mod chat_cache;
mod crash;
mod docker_host;
mod docker_room;
mod exposure;
mod interrupt;
mod lease;
mod logs_restart;
mod model_paths;
mod model_swap;
mod ollama_store;
mod port_blocked;
pub(crate) mod prune;
mod pull;
mod quota;
mod resources;
mod service_settings;
mod start_stop;
mod stop_wins;
mod swarm;
