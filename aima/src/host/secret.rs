//! Secrets from the kernel's random generator: the daemon's API token and named tokens.

use std::io::Read;

/// `bytes` random bytes from `/dev/urandom`, hex-encoded.
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
