//! The data dir's ownership rule, on real files in a temporary directory.

use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::config::{Config, Env};
use crate::error::{Classified, Error, Kind};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn refused(dir: &Path) -> Error {
    let err = Config::load(dir, Env::default()).unwrap_err();
    assert_eq!(err.kind(), Kind::Storage, "{err}");
    Error::from(err)
}

/// Whether this process may give files away (root); says why a test is skipped when not, and
/// fails under `CI=true`, which runs as root.
fn can_chown() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "this test gives a file to another account and needs root (CI runs as root)"
    );
    eprintln!("SKIPPED: giving a file to another account needs root");
    false
}

#[test]
fn a_private_data_dir_and_its_files_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    Config::load(&dir, Env::default()).unwrap();
    std::fs::write(dir.join("config.toml"), "").unwrap();
    chmod(&dir.join("config.toml"), 0o644);
    // Group access without write (the way to share the socket) is fine, setgid included.
    chmod(&dir, 0o2710);
    Config::load(&dir, Env::default()).unwrap();
}

#[test]
fn a_data_dir_others_may_write_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o777);
    let err = refused(dir.path());
    let shown = err.render();
    let path = dir.path().display().to_string();
    assert!(
        shown.contains(&format!("refusing data dir {path}: owned by uid ")),
        "{shown}"
    );
    assert!(shown.contains("mode 0777"), "{shown}");
    assert!(shown.contains(&format!("chmod go-w {path}")), "{shown}");
    chmod(dir.path(), 0o770);
    assert!(refused(dir.path()).render().contains("mode 0770"));
}

#[test]
fn each_file_aima_reads_is_checked() {
    for name in READ_FILES {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, "").unwrap();
        chmod(&file, 0o666);
        let shown = refused(dir.path()).render();
        let expected = format!("refusing data dir file {}", file.display());
        assert!(shown.contains(&expected), "{name}: {shown}");
        assert!(
            shown.contains(&format!("chmod 600 {}", file.display())),
            "{shown}"
        );
    }
}

#[test]
fn a_data_dir_or_file_of_another_account_is_refused() {
    if !can_chown() {
        return;
    }
    let nobody = 65534;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[api]\ntoken = \"planted-by-a-neighbour\"\n").unwrap();
    chmod(&config, 0o644);
    std::os::unix::fs::chown(&config, Some(nobody), None).unwrap();
    let shown = refused(dir.path()).render();
    assert!(shown.contains(&format!("owned by uid {nobody}")), "{shown}");
    assert!(shown.contains("another account owns it"), "{shown}");
    assert!(shown.contains("sudo chown"), "{shown}");
    assert!(!shown.contains("planted-by-a-neighbour"), "{shown}");

    std::fs::remove_file(&config).unwrap();
    std::os::unix::fs::chown(dir.path(), Some(nobody), None).unwrap();
    let shown = refused(dir.path()).render();
    assert!(
        shown.contains(&format!("refusing data dir {}", dir.path().display())),
        "{shown}"
    );
    // Root's own files are trusted by everyone.
    std::os::unix::fs::chown(dir.path(), Some(0), None).unwrap();
    Config::load(dir.path(), Env::default()).unwrap();
}

#[test]
fn files_aima_creates_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let config = Config::load(&dir, Env::default()).unwrap();
    let store = crate::store::Store::open_in(&config).unwrap();
    store.readable().unwrap();
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700);
    for name in [
        crate::instance::ID_FILE,
        "aima.db",
        "aima.db-wal",
        "aima.db-shm",
    ] {
        assert_eq!(mode(name), 0o600, "{name}");
    }
}
