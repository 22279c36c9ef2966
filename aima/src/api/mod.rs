//! HTTP API of the daemon (see `daemon`).
