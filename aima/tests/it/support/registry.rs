//! A real image registry for the pull tests: Debian's `docker-registry` (the reference
//! registry), started on a free 127.0.0.1 port with its own storage dir and no auth section,
//! and stopped when the handle drops (a panic included). It runs under `timeout`, so even a
//! test process killed outright leaves it running for 15 minutes at most.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::docker::docker;
use super::http::http;
use super::ports::free_port;
use super::wait::wait_until;

const BINARY: &str = "/usr/bin/docker-registry";

pub struct Registry {
    pub port: u16,
    child: Child,
    /// References pushed or pulled through this registry, removed from Docker at the end.
    images: std::sync::Mutex<Vec<String>>,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Fails (never skips) when the registry is not installed: `ci/registry.sh` installs it.
    pub fn start() -> Self {
        assert!(
            Path::new(BINARY).exists(),
            "the pull tests need Debian's docker-registry at {BINARY}: run `bash ci/registry.sh` \
             (ci/test.sh does) and run the tests again"
        );
        let dir = tempfile::tempdir().expect("create the registry's dir");
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(&config, config_yaml(&dir.path().join("storage"), port))
            .expect("write the registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new("timeout")
            .args(["--signal=TERM", "--kill-after=5", "900", BINARY, "serve"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("registry log"))
            .stderr(log)
            .spawn()
            .expect("cannot start docker-registry");
        let registry = Registry {
            port,
            child,
            images: Default::default(),
            dir,
        };
        wait_until(
            Duration::from_secs(20),
            "the registry to answer /v2/",
            || matches!(http(port, "GET", "/v2/", None, None, 2), Ok((200, _))),
        );
        registry
    }

    /// `127.0.0.1:PORT/<name>:<tag>` holding `image`, which is then absent from Docker: the
    /// next use of the reference must pull it.
    pub fn push(&self, image: &str, name: &str) -> String {
        let tag = image.rsplit(':').next().unwrap_or("latest");
        let reference = format!("127.0.0.1:{}/{name}:{tag}", self.port);
        self.forget_later(&reference);
        for args in [
            vec!["tag", image, reference.as_str()],
            vec!["push", reference.as_str()],
            vec!["rmi", reference.as_str()],
        ] {
            let out = docker(&args);
            assert!(
                out.status.success(),
                "`docker {}` failed: {}\nregistry log:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr),
                self.log()
            );
        }
        reference
    }

    /// Removes `reference` from Docker when the registry stops (it is ours alone).
    pub fn forget_later(&self, reference: &str) {
        self.images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(reference.to_owned());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

/// Storage, listen address and request logging (the tests read which manifests were asked
/// for), and no auth section, so pulls need no credentials.
fn config_yaml(storage: &Path, port: u16) -> String {
    format!(
        "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
         http:\n  addr: 127.0.0.1:{port}\n",
        storage.display()
    )
}

impl Drop for Registry {
    fn drop(&mut self) {
        for reference in self.images.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = docker(&["rmi", "-f", reference]);
        }
        // `timeout` passes the TERM on to the registry and exits when it has.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
