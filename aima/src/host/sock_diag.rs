//! The host's listening TCP sockets, asked of the kernel over netlink (`sock_diag`, as `ss -lt`
//! does). Reading `/proc/net/tcp{,6}` instead makes the kernel walk its whole table of
//! established connections for each file, whatever is listening: ~10 ms each on a host with a
//! large table, most of a port-conflict verdict. Asking for listeners only walks the listeners.

use std::io::{Read, Write};

use socket2::{Domain, Protocol, Socket, Type};

const AF_NETLINK: i32 = 16;
const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const IPPROTO_TCP: u8 = 6;
const TCP_LISTEN: u32 = 10;
/// `struct nlmsghdr`, and `struct inet_diag_req_v2` after it.
const HEADER: usize = 16;
const REQUEST: usize = 56;

/// A listening socket on the port asked for: its inode, and the uid that created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Listener {
    pub inode: u64,
    pub uid: u32,
}

/// The IPv4 and IPv6 sockets listening on `port`; an error when the kernel cannot be asked
/// (no netlink, or `sock_diag` not built in), so the caller reads /proc instead.
pub(super) fn listeners_on(port: u16) -> std::io::Result<Vec<Listener>> {
    let socket = Socket::new(
        Domain::from(AF_NETLINK),
        Type::DGRAM,
        Some(Protocol::from(NETLINK_SOCK_DIAG)),
    )?;
    let mut found = Vec::new();
    for family in [2u8, 10] {
        (&socket).write_all(&request(family))?;
        read_answers(&socket, port, &mut found)?;
    }
    Ok(found)
}

/// A dump request for the TCP listeners of `family` (AF_INET or AF_INET6).
fn request(family: u8) -> [u8; HEADER + REQUEST] {
    let mut msg = [0u8; HEADER + REQUEST];
    msg[0..4].copy_from_slice(&((HEADER + REQUEST) as u32).to_ne_bytes());
    msg[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg[8..12].copy_from_slice(&1u32.to_ne_bytes());
    msg[HEADER] = family;
    msg[HEADER + 1] = IPPROTO_TCP;
    msg[HEADER + 4..HEADER + 8].copy_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    msg
}

/// Reads datagrams until the dump's end, keeping the listeners on `port`.
fn read_answers(mut socket: &Socket, port: u16, found: &mut Vec<Listener>) -> std::io::Result<()> {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = socket.read(&mut buf)?;
        let mut at = 0;
        while at + HEADER <= n {
            let len = u32_at(&buf, at) as usize;
            let kind = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
            if len < HEADER || at + len > n {
                return Err(std::io::Error::other("a malformed sock_diag answer"));
            }
            match kind {
                NLMSG_DONE => return Ok(()),
                NLMSG_ERROR => return Err(std::io::Error::other("sock_diag refused the request")),
                SOCK_DIAG_BY_FAMILY => {
                    if let Some(listener) = parse(&buf[at + HEADER..at + len], port) {
                        found.push(listener);
                    }
                }
                _ => {}
            }
            at += (len + 3) & !3;
        }
        if n == 0 {
            return Ok(());
        }
    }
}

/// One `struct inet_diag_msg`: the source port (network order) at 4, uid at 64, inode at 68.
fn parse(msg: &[u8], port: u16) -> Option<Listener> {
    let sport = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    (sport == port && msg.len() >= 72).then(|| Listener {
        uid: u32_at(msg, 64),
        inode: u64::from(u32_at(msg, 68)),
    })
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_listener_is_found_by_its_port_with_its_inode() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = listeners_on(port).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        // The inode /proc names the socket by is the one the kernel gave.
        let fd_links: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .map(|target| target.to_string_lossy().into_owned())
            .collect();
        let wanted = format!("socket:[{}]", found[0].inode);
        assert!(fd_links.contains(&wanted), "{wanted} not in {fd_links:?}");
        drop(listener);
        assert!(listeners_on(port).unwrap().is_empty());
    }
}
