//! A data dir another account can write (issue 28): its planted `config.toml` — an API token,
//! `roots = ["/"]`, an engine image, `bind = "0.0.0.0"` — must never be read. Every command and
//! the daemon refuse the directory at start with exit 9, naming it, its owner and mode, and
//! the fix.

use std::os::unix::fs::PermissionsExt;

use crate::support::aima::Aima;

const PLANTED: &str = r#"[api]
token = "planted-by-a-neighbour-0123456789"

[models]
roots = ["/"]

[engines.vllm]
image = "neighbour/backdoor:latest"
bind = "0.0.0.0"
"#;

/// A data dir as the issue found it: mode 0777, and (when this test may give files away, as
/// root in CI) owned by another account, holding that account's `config.toml`.
fn hostile() -> (Aima, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), PLANTED).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let owner = if std::fs::metadata(tmp.path())
        .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
    {
        let nobody = 65534;
        std::os::unix::fs::chown(&dir, Some(nobody), Some(nobody)).unwrap();
        std::os::unix::fs::chown(dir.join("config.toml"), Some(nobody), Some(nobody)).unwrap();
        format!("owned by uid {nobody}")
    } else {
        "owned by uid ".to_owned()
    };
    (Aima::at(tmp, dir), owner)
}

#[test]
fn a_data_dir_others_can_write_is_refused_by_every_command_and_the_daemon() {
    let (aima, owner) = hostile();
    let dir = aima.data_dir().display().to_string();
    let model = [
        "model", "create", "--name", "etc", "--source", "local", "--repo", "etc", "--path", "/etc",
    ];
    for args in [&model[..], &["model", "list"], &["info"], &["start"]] {
        aima.run(args)
            .failure(9)
            .stderr_has(&format!("error: refusing data dir {dir}: {owner}"))
            .stderr_has("mode 0777")
            .stderr_has("help: ")
            .stdout_is_empty();
    }
    assert!(
        !aima.data_dir().join("aima.db").exists() && !aima.data_dir().join("api-token").exists(),
        "aima wrote into the hostile data dir"
    );
}
