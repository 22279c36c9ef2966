//! Host ports: is a port free the way Docker needs it, and if not, who holds it.
//!
//! Docker's proxy binds the published address (`127.0.0.1:P` by default here) with
//! SO_REUSEADDR, and IPv6 addresses v6-only, so the probe does the same: it then fails exactly
//! when Docker would — a listener on that address or on the wildcard of its family (a blocker on
//! `0.0.0.0` conflicts with a loopback publish), or a socket bound there without SO_REUSEADDR —
//! and is not fooled by connections lingering in TIME_WAIT.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;

use socket2::{Domain, Protocol, Socket, Type};

/// Who holds a port, as far as the OS tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortHolder {
    pub pid: Option<u32>,
    pub program: Option<String>,
    pub command: Option<String>,
}

impl fmt::Display for PortHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.program, self.pid) {
            (Some(program), Some(pid)) => write!(f, "{program} (pid {pid})"),
            (None, Some(pid)) => write!(f, "pid {pid}"),
            _ => f.write_str(
                "a program the OS does not name (another user's, bound without listening, or in another network namespace)",
            ),
        }
    }
}

/// Whether Docker would fail to publish on `addr` because something holds it.
pub fn is_blocked(addr: SocketAddr) -> bool {
    matches!(try_bind(addr), Err(e) if e.kind() == io::ErrorKind::AddrInUse)
}

fn try_bind(addr: SocketAddr) -> io::Result<()> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // A host without IPv6 fails here with "address not available": not a conflict.
    socket.bind(&addr.into())
}

/// Finds the process owning a TCP socket listening on `port`: the socket from the kernel's
/// `sock_diag` (or /proc/net/tcp where that is missing), its process from /proc (Linux).
pub fn holder_of(port: u16) -> PortHolder {
    let sockets: Vec<TcpEntry> = match super::sock_diag::listeners_on(port) {
        Ok(listeners) => listeners
            .into_iter()
            .map(|l| TcpEntry {
                inode: l.inode,
                uid: l.uid,
            })
            .collect(),
        Err(e) => {
            tracing::debug!("sock_diag unavailable ({e}): reading /proc/net/tcp");
            ["/proc/net/tcp", "/proc/net/tcp6"]
                .iter()
                .filter_map(|table| std::fs::read_to_string(table).ok())
                .flat_map(|text| socket_inodes(&text, port))
                .collect()
        }
    };
    let Some(pid) = pid_with_socket(&sockets) else {
        return PortHolder {
            pid: None,
            program: None,
            command: None,
        };
    };
    let read = |file: &str| std::fs::read(format!("/proc/{pid}/{file}")).ok();
    let program = read("comm").map(|b| String::from_utf8_lossy(&b).trim().to_owned());
    let command = read("cmdline").map(|b| one_line(&b));
    PortHolder {
        pid: Some(pid),
        program,
        command,
    }
}

/// A NUL-separated /proc cmdline as one line: an argument may hold newlines (`python3 -c` with
/// a script), which would otherwise break the error's layout.
fn one_line(cmdline: &[u8]) -> String {
    String::from_utf8_lossy(cmdline)
        .split(|c: char| c == '\0' || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A socket of /proc/net/tcp: its inode, and the uid that created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TcpEntry {
    inode: u64,
    uid: u32,
}

/// Sockets bound to `port` in one /proc/net/tcp table, skipping TIME_WAIT leftovers (state 06,
/// inode 0) that belong to no process.
fn socket_inodes(table: &str, port: u16) -> Vec<TcpEntry> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(fields.get(1)?.rsplit(':').next()?, 16).ok()?;
            let state = *fields.get(3)?;
            let uid: u32 = fields.get(7)?.parse().ok()?;
            let inode: u64 = fields.get(9)?.parse().ok()?;
            let bound_here = local_port == port && (state == "0A" || state == "07") && inode != 0;
            bound_here.then_some(TcpEntry { inode, uid })
        })
        .collect()
}

/// The process with an fd on one of `sockets`. Reading every fd link of every process is the
/// slow part of naming a holder, so this reads the list of processes once, looks at them in
/// [`scan_order`], and stops at the first fd that matches.
fn pid_with_socket(sockets: &[TcpEntry]) -> Option<u32> {
    if sockets.is_empty() {
        return None;
    }
    let processes: Vec<(u32, Option<u32>)> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((pid, entry.metadata().map(|m| m.uid()).ok()))
        })
        .collect();
    let uids: Vec<u32> = sockets.iter().map(|s| s.uid).collect();
    let wanted: Vec<String> = sockets
        .iter()
        .map(|s| format!("socket:[{}]", s.inode))
        .collect();
    scan_order(processes, &uids, std::process::id())
        .into_iter()
        .find(|&pid| has_socket(pid, &wanted))
}

/// The order to search `processes` (pid, owner uid) for a socket created by one of `uids`:
/// the processes of a socket's own uid first (almost always its holder), the others only
/// after them, and `me` last. Within each group the highest pids come first: a program that
/// has just taken a port is usually young, while the oldest processes (init, the container
/// daemons) hold the most fds and take longest to read.
fn scan_order(processes: Vec<(u32, Option<u32>)>, uids: &[u32], me: u32) -> Vec<u32> {
    let mut order: Vec<(bool, u32)> = processes
        .into_iter()
        .filter(|&(pid, _)| pid != me)
        .map(|(pid, uid)| (!uid.is_some_and(|u| uids.contains(&u)), pid))
        .collect();
    order.sort_unstable_by_key(|&(other_uid, pid)| (other_uid, std::cmp::Reverse(pid)));
    order.into_iter().map(|(_, pid)| pid).chain([me]).collect()
}

/// Whether one of `pid`'s fds is a socket in `wanted` (`socket:[INODE]`).
fn has_socket(pid: u32, wanted: &[String]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|target| {
            let target = target.as_os_str();
            wanted.iter().any(|w| target == w.as_str())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener};

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const ANY_V4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

    fn at(ip: IpAddr, port: u16) -> SocketAddr {
        SocketAddr::new(ip, port)
    }

    #[test]
    fn a_listener_is_found_with_its_holder() {
        let listener = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(is_blocked(at(ANY_V4, port)));
        let holder = holder_of(port);
        assert_eq!(holder.pid, Some(std::process::id()));
        drop(listener);
        assert!(!is_blocked(at(ANY_V4, port)));
    }

    // The cases below were checked against Docker 20.10's proxy (`docker run -p ADDR:P:…`):
    // each conflict here is one Docker reported as "address already in use", and each free
    // address one it published.

    #[test]
    fn a_wildcard_listener_blocks_a_loopback_publish() {
        let listener = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(is_blocked(at(LOOPBACK, port)));
    }

    #[test]
    fn a_loopback_only_listener_blocks_loopback_and_wildcard_publishes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(is_blocked(at(LOOPBACK, port)));
        assert!(is_blocked(at(ANY_V4, port)));
    }

    #[test]
    fn a_listener_on_another_address_leaves_loopback_free() {
        let listener = TcpListener::bind("127.0.0.2:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!is_blocked(at(LOOPBACK, port)));
        assert!(is_blocked(at(ANY_V4, port)));
    }

    /// A socket bound the way a program that never listens would leave it.
    fn bound_socket(addr: SocketAddr, v6only: bool) -> Socket {
        let socket =
            Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).unwrap();
        if v6only {
            socket.set_only_v6(true).unwrap();
        }
        socket.bind(&addr.into()).unwrap();
        socket
    }

    #[test]
    fn a_bound_socket_that_never_listens_still_blocks() {
        let socket = bound_socket(at(ANY_V4, 0), false);
        let port = socket.local_addr().unwrap().as_socket().unwrap().port();
        assert!(is_blocked(at(ANY_V4, port)));
        assert!(is_blocked(at(LOOPBACK, port)));
        // /proc/net/tcp lists listening and connected sockets only: this holder stays unnamed.
        let holder = holder_of(port);
        assert_eq!(holder.pid, None);
        assert!(
            holder.to_string().contains("bound without listening"),
            "{holder}"
        );
    }

    #[test]
    fn an_ipv6_only_listener_blocks_ipv6_only() {
        let Ok(probe) = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP)) else {
            return; // no IPv6 on this host: Docker would not bind [::] either
        };
        drop(probe);
        let socket = bound_socket(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)), true);
        socket.listen(1).unwrap();
        let port = socket.local_addr().unwrap().as_socket().unwrap().port();
        assert!(is_blocked(SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))));
        assert!(!is_blocked(at(LOOPBACK, port)));
        assert!(!is_blocked(at(ANY_V4, port)));
    }

    #[test]
    fn proc_table_rows_are_parsed() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n\
   1: 0100007F:1F40 0100007F:9C40 06 00000000:00000000 03:00000000 00000000     0        0 0 3 0000000000000000\n";
        assert_eq!(
            socket_inodes(table, 8000),
            vec![TcpEntry {
                inode: 12345,
                uid: 0
            }]
        );
        assert!(socket_inodes(table, 8001).is_empty());
    }

    #[test]
    fn the_socket_owners_processes_are_searched_first_newest_first() {
        let processes = vec![
            (1, Some(0)),
            (7, Some(1000)),
            (42, Some(1000)),
            (99, Some(0)),
            (100, None),
            (500, Some(1000)),
        ];
        assert_eq!(
            scan_order(processes.clone(), &[1000], 42),
            vec![500, 7, 100, 99, 1, 42]
        );
        assert_eq!(scan_order(processes, &[0], 7), vec![99, 1, 500, 100, 42, 7]);
    }

    #[test]
    fn command_lines_are_shown_on_one_line() {
        let cmdline = b"python3\0-c\0import socket\n  s = socket.socket()\n\0";
        assert_eq!(
            one_line(cmdline),
            "python3 -c import socket s = socket.socket()"
        );
    }

    #[test]
    fn holders_read_naturally() {
        let h = PortHolder {
            pid: Some(42),
            program: Some("python3".into()),
            command: None,
        };
        assert_eq!(h.to_string(), "python3 (pid 42)");
    }
}
