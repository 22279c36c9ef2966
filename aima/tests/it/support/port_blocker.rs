//! Another program holding a port, as in the reference scenario, and the check that a port is
//! free again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// True when nothing holds `port` on any IPv4 address: aima's own probe, the one preflight
/// uses, at the widest address Docker may publish on.
pub fn port_is_free(port: u16) -> bool {
    !aima::host::ports::is_blocked(std::net::SocketAddr::from(([0, 0, 0, 0], port)))
}

/// python3 listening on `0.0.0.0:PORT` until dropped.
pub struct PortBlocker {
    child: Child,
}

impl PortBlocker {
    pub fn python(port: u16) -> Self {
        Self::spawn(port, "AF_INET", "'0.0.0.0'", "")
    }

    /// python3 listening on `[::]:PORT` with IPV6_V6ONLY, until dropped: a holder that an IPv4
    /// probe does not see, but that stops Docker publishing the port on IPv6.
    pub fn python_v6_only(port: u16) -> Self {
        let v6only = "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)";
        Self::spawn(port, "AF_INET6", "'::'", v6only)
    }

    fn spawn(port: u16, family: &str, host: &str, option: &str) -> Self {
        let script = format!(
            "import socket, time\n\
             s = socket.socket(socket.{family}, socket.SOCK_STREAM)\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             {option}\n\
             s.bind(({host}, {port}))\n\
             s.listen(1)\n\
             print('ready', flush=True)\n\
             time.sleep(600)\n"
        );
        let mut child = Command::new("python3")
            .args(["-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run python3 to block a port");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the blocker's stdout");
        if line.trim() != "ready" {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait for the blocker");
            panic!(
                "the python3 blocker could not hold port {port}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        PortBlocker { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for PortBlocker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
