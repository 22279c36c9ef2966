//! Free ports for the tests' services, daemons and containers. Whether a port is free is
//! aima's own probe (`aima::host::ports`); this only asks the OS for an unused one.

/// A port nobody listens on right now (the OS picks it; it may be taken again later).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().unwrap().port()
}
