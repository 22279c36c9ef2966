//! Another program holding a port, as in the reference scenario, and the check that a port is
//! free again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// True when a program could bind `port` on every IPv4 address, as Docker's proxy must.
pub fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

/// python3 listening on `0.0.0.0:PORT` until dropped.
pub struct PortBlocker {
    child: Child,
}

impl PortBlocker {
    pub fn python(port: u16) -> Self {
        let script = format!(
            "import socket, time\n\
             s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('0.0.0.0', {port}))\n\
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

    #[allow(
        dead_code,
        reason = "only the tests that check the error text name the blocker's pid"
    )]
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
