//! A small tmpfs of a test's own (mounting needs root), unmounted when its guard drops, however
//! the test ends, and a filler file to take its room away.
//!
//! Where mounting is refused, a test fails under `CI=true` (CI runs as root) and is skipped with
//! a message elsewhere.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Tmpfs {
    mount: PathBuf,
    /// The mount point's parent; removed after the unmount.
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    /// A tmpfs of `size` (`mount -o size=…`, e.g. `8m`) on a fresh mount point; `None` (after
    /// saying so) when mounting is not permitted and this is not CI.
    #[track_caller]
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("create a temp dir");
        let mount = dir.path().join("fs");
        std::fs::create_dir(&mount).expect("create the mount point");
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&mount)
            .output();
        let why = match out {
            Ok(out) if out.status.success() => return Some(Tmpfs { mount, _dir: dir }),
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            Err(e) => format!("cannot run mount: {e}"),
        };
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "this test mounts a small tmpfs and may not ({why}); run it as root with mount \
             permitted (CI does)"
        );
        eprintln!("SKIPPED: cannot mount a tmpfs here ({why}); this test needs root");
        None
    }

    pub fn path(&self) -> &Path {
        &self.mount
    }

    pub fn free(&self) -> u64 {
        ::aima::disk::free_bytes(&self.mount).expect("statvfs of the tmpfs")
    }

    /// Writes filler until only about `left` bytes are free (page-rounded); a further call takes
    /// more.
    pub fn fill_leaving(&self, left: u64) {
        let take = self.free().saturating_sub(left);
        let mut file = self.new_filler();
        let chunk = vec![0u8; 64 << 10];
        let mut written = 0u64;
        while written < take {
            let n = (take - written).min(chunk.len() as u64) as usize;
            file.write_all(&chunk[..n]).expect("write the filler");
            written += n as u64;
        }
    }

    /// Writes filler until the disk refuses more (`ENOSPC`).
    pub fn fill(&self) {
        let mut file = self.new_filler();
        let chunk = vec![0u8; 4 << 10];
        loop {
            match file.write(&chunk) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        assert_eq!(self.free(), 0, "the filler left room");
    }

    /// Removes every filler file: the disk has its room back.
    pub fn unfill(&self) {
        for entry in std::fs::read_dir(&self.mount).expect("list the tmpfs") {
            let path = entry.expect("a tmpfs entry").path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("filler-"))
            {
                std::fs::remove_file(&path).expect("remove a filler");
            }
        }
    }

    fn new_filler(&self) -> File {
        let n = std::fs::read_dir(&self.mount).map_or(0, Iterator::count);
        File::create(self.mount.join(format!("filler-{n}"))).expect("create a filler file")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.mount)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a process of the test is still closing): detach it now, the kernel
            // frees it when the last user goes.
            let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
        }
    }
}
