//! A real headless Chromium, driven over the DevTools protocol through a pipe
//! (`--remote-debugging-pipe`: commands go in on fd 3, answers and events come out on fd 4, each
//! a JSON message ended by a NUL byte). A shell moves the child's stdin and stdout onto those
//! descriptors, so no websocket and no unsafe code are needed.
//!
//! Without Chromium a test fails under `CI=true` (`ci/browser-up.sh` installs it there) and is
//! skipped with a message elsewhere.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The longest any one protocol command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// Chromium on PATH; `None` (after saying so) when there is none and this is not CI.
#[track_caller]
pub fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(which);
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "this test needs Chromium and none is on PATH: run ci/browser-up.sh \
             (Debian's chromium package)"
        );
        eprintln!("SKIPPED: no chromium on PATH (ci/browser-up.sh installs it)");
    }
    found
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// Where tests leave files for people to look at: `target/test-artifacts`.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir")
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create the artifacts dir");
    dir
}

/// One headless browser with one page (tab) open; killed on drop.
pub struct Browser {
    child: Child,
    input: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    session: String,
    log: PathBuf,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium` headless with a fresh profile and opens a blank page.
    pub fn launch(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("a profile dir");
        let log = profile.path().join("chromium.log");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(chromium)
            .args([
                "--headless",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1200,640",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("the browser's log"))
            .spawn()
            .expect("cannot start chromium");
        let input = child.stdin.take().expect("piped stdin");
        let output = child.stdout.take().expect("piped stdout");
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(output);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && tx.send(value).is_err()
                {
                    break;
                }
            }
        });
        let mut browser = Browser {
            child,
            input,
            messages,
            next_id: 0,
            session: String::new(),
            log,
            _profile: profile,
        };
        let target = browser.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = browser.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        browser.call("Page.enable", json!({}));
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1200, "height": 640, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser
    }

    /// A command to the browser itself.
    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    /// A command to the open page.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.try_send(method, params, session)
            .unwrap_or_else(|error| panic!("chromium refused {method}: {error}"))
    }

    /// The answer, or the protocol error it came with (e.g. a page navigating away).
    fn try_send(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        if let Err(e) = self.input.write_all(&bytes) {
            panic!("cannot send {method} to chromium: {e}\n{}", self.log());
        }
        let deadline = Instant::now() + COMMAND_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(answer) if answer["id"] == json!(id) => {
                    return match answer.get("error") {
                        Some(error) => Err(error.clone()),
                        None => Ok(answer["result"].clone()),
                    };
                }
                Ok(_event) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!("chromium did not answer {method} in {COMMAND_LIMIT:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("chromium went away during {method}\n{}", self.log())
                }
            }
        }
    }

    /// Opens `url` and waits until the document has loaded.
    pub fn open(&mut self, url: &str) {
        let nav = self.call("Page.navigate", json!({"url": url}));
        if let Some(problem) = nav.get("errorText") {
            panic!("chromium cannot open {url}: {problem}");
        }
        self.wait_for(
            "document.readyState === 'complete'",
            Duration::from_secs(20),
        );
    }

    /// The value of a JavaScript expression in the page (JSON-able values only).
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|problem| panic!("{expression} failed in the page: {problem}"))
    }

    /// As [`Browser::eval`], with the failure (a throw, a page being replaced) as `Err`.
    fn try_eval(&mut self, expression: &str) -> Result<Value, Value> {
        let session = self.session.clone();
        let result = self.try_send(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            Some(&session),
        )?;
        match result.get("exceptionDetails") {
            Some(problem) => Err(problem.clone()),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    /// The text of the first element matching `selector`, or `None` when there is none.
    pub fn text_of(&mut self, selector: &str) -> Option<String> {
        let expression = format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.textContent : null; }})()",
            json!(selector)
        );
        self.eval(&expression).as_str().map(str::to_owned)
    }

    /// Polls `expression` until it is `true`; returns how long that took, or panics.
    pub fn wait_for(&mut self, expression: &str, limit: Duration) -> Duration {
        let began = Instant::now();
        loop {
            // While a navigation replaces the document, evaluating fails: not yet.
            if self.try_eval(expression) == Ok(json!(true)) {
                return began.elapsed();
            }
            if began.elapsed() > limit {
                let url = self.eval("location.href");
                let body = self.eval("document.body ? document.body.innerText : ''");
                panic!("waited {limit:?} for `{expression}` on {url}; the page shows:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the page as shown, written to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let data = shot["data"].as_str().expect("screenshot data");
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("the screenshot is base64");
        std::fs::write(path, png).expect("write the screenshot");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Asks the browser to close (so its helper processes end with it), then kills it if it has
/// not within five seconds.
impl Drop for Browser {
    fn drop(&mut self) {
        self.next_id += 1;
        let close = json!({"id": self.next_id, "method": "Browser.close", "params": {}});
        let mut bytes = serde_json::to_vec(&close).unwrap();
        bytes.push(0);
        let _ = self.input.write_all(&bytes);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
