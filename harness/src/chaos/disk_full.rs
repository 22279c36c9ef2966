//! The disk-full fault: the run's data dir sits on a small tmpfs (when the harness may mount
//! one), and the fault fills it to the last byte with a file for a while, then deletes the
//! file. During it aima's commands must fail with the documented codes (disk_full 11, storage
//! 9) and never panic; the acknowledged services must still be listed once the disk has room
//! again, and the database must pass `integrity_check` at the end — the rules that always
//! apply check all of that.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use super::fault::FaultKind;
use super::schedule::Step;
use super::world::World;

/// Size of the data dir's tmpfs: above aima's default free-space minimum for the data dir
/// (32 MiB), so the run works until the fault fills it.
pub(crate) const TMPFS_SIZE: &str = "64m";

/// The file that fills the data dir (aima never reads it).
const FILL_NAME: &str = "chaos-disk-fill";

/// Fills the data dir's tmpfs for `hold`, then frees it.
pub(crate) fn fill(world: &World, step: &Step, hold: Duration) -> Value {
    if !world.small_disk {
        let why = world
            .skipped_why(FaultKind::DiskFull)
            .unwrap_or_else(|| "the data dir is not on a tmpfs of the run".to_owned());
        return json!({"outcome": "skipped", "why": why});
    }
    let path = world.data_dir.join(FILL_NAME);
    let filled = fill_file(&path);
    world.disk_full.store(true, Ordering::SeqCst);
    world.history.record(
        "fault",
        json!({"fault": "disk-full", "step": step.id, "filled_bytes": filled.0, "stopped_by": filled.1, "hold_ms": hold.as_millis() as u64}),
    );
    world.say(&format!(
        "FAULT data dir full ({} MiB written, {}) for {} ms",
        filled.0 >> 20,
        filled.1,
        hold.as_millis()
    ));
    std::thread::sleep(hold);
    let freed = std::fs::remove_file(&path);
    world.disk_full.store(false, Ordering::SeqCst);
    world.history.record(
        "heal",
        json!({"fault": "disk-full", "step": step.id, "freed": freed.is_ok()}),
    );
    json!({"outcome": "disk-full", "filled_bytes": filled.0, "hold_ms": hold.as_millis() as u64, "freed": freed.map_err(|e| e.to_string()).err()})
}

/// Writes zeros to `path` until the disk has no byte left; the bytes written and what stopped
/// the writing (`no space left` when all went as meant).
fn fill_file(path: &Path) -> (u64, String) {
    let mut file = match std::fs::File::create(path) {
        Ok(file) => file,
        Err(err) => return (0, format!("could not create {}: {err}", path.display())),
    };
    let mut written = 0u64;
    // Big chunks first, then small ones for the last pages.
    for chunk in [1 << 20, 4 << 10, 512] {
        let zeros = vec![0u8; chunk];
        loop {
            match file.write(&zeros) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(err) if crate::fixtures::tmpfs::is_no_space(&err) => break,
                Err(err) => return (written, format!("write failed: {err}")),
            }
        }
    }
    let _ = file.flush();
    (written, "no space left".to_owned())
}
