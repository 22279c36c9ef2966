//! The status page in headless Chromium, against a daemon with the token it generates and two
//! real services: one running on the engine simulator, one failed on a port another program
//! holds. The page shows both through the DOM, takes a screenshot into the test artifacts, and
//! shows a stop made through the CLI without a reload.

use std::time::Duration;

use crate::support::browser::{Browser, artifacts_dir, chromium};
use crate::support::daemon::Daemon;
use crate::support::lab::Lab;
use crate::support::port_blocker::PortBlocker;
use crate::support::ports::free_port;

/// "Within a few seconds": the page polls every 2 s; the rest is slack for a loaded machine.
const LIVE_LIMIT: Duration = Duration::from_secs(8);

/// How the page's script keeps it live: `events` (the stream is open) or `polling`.
const MODE: &str = "document.getElementById('live-state').dataset.mode";
const MODE_IS_EVENTS: &str = "document.getElementById('live-state').dataset.mode === 'events'";

/// `#id [data-status]` of a row or of the service page's facts, as the DOM has it now.
fn status_js(row: &str) -> String {
    format!("(document.querySelector('tr#{row}') || {{dataset: {{}}}}).dataset.status")
}

#[test]
fn the_page_shows_running_and_blocked_services_and_follows_a_cli_stop() {
    let Some(chromium) = chromium() else { return };
    let lab = Lab::new(&[]);
    let model = lab.create_model();
    let (up_port, blocked_port) = (free_port(), free_port());
    let up = lab.create_service(
        &model,
        &["--port", &up_port.to_string(), "--name", "chat-up"],
    );
    let down = lab.create_service(
        &model,
        &[
            "--port",
            &blocked_port.to_string(),
            "--name",
            "chat-blocked",
        ],
    );
    lab.run(&["service", "start", &up, "--wait", "--timeout", "90"])
        .success();
    let blocker = PortBlocker::python(blocked_port);
    lab.run(&["service", "start", &down, "--wait", "--timeout", "60"])
        .failure(5);
    let holder = format!("python3 (pid {})", blocker.pid());

    let daemon = Daemon::start(&lab, &[("AIMA_RECONCILE_SECS", "1")]);
    let token = daemon.token().expect("the daemon generated a token");
    let base = format!("http://127.0.0.1:{}", daemon.port);
    let mut browser = Browser::launch(&chromium);

    // Without the token: the login form, and nothing of the services.
    browser.open(&format!("{base}/"));
    assert!(browser.text_of("form#login").is_some(), "no login form");
    let shown = browser.eval("document.body.innerText").to_string();
    for secret in [
        up.as_str(),
        down.as_str(),
        "chat-up",
        "chat-blocked",
        "python3",
    ] {
        assert!(
            !shown.contains(secret),
            "{secret} shown before sign-in: {shown}"
        );
    }

    // A wrong token is refused; the right one, typed into the form, opens the page. The form's
    // POST is same-origin and carries an Origin header, which the daemon must accept here.
    sign_in(&mut browser, "not-the-token");
    browser.wait_for(
        "document.getElementById('login-problem') !== null",
        LIVE_LIMIT,
    );
    assert!(browser.text_of("table.services").is_none());
    sign_in(&mut browser, &token);
    browser.wait_for(
        "document.querySelector('table.services') !== null",
        LIVE_LIMIT,
    );
    let cookie_visible = browser.eval("document.cookie.includes('aima_session')");
    assert_eq!(
        cookie_visible,
        serde_json::json!(false),
        "the session cookie must be HttpOnly"
    );

    // Live updates come from the event stream once it is open.
    browser.wait_for(MODE_IS_EVENTS, LIVE_LIMIT);

    // Both services, with status, port and the holder of the blocked port.
    assert_eq!(browser.eval(&status_js(&up)), "running");
    assert_eq!(browser.eval(&status_js(&down)), "failed");
    let up_row = browser.text_of(&format!("tr#{up}")).unwrap();
    assert!(up_row.contains(&format!("127.0.0.1:{up_port}")), "{up_row}");
    assert!(
        up_row.contains("chat-up") && up_row.contains("vllm"),
        "{up_row}"
    );
    let down_row = browser.text_of(&format!("tr#{down}")).unwrap();
    assert!(
        down_row.contains(&format!("port {blocked_port} is in use by {holder}")),
        "{down_row}"
    );
    let shot = artifacts_dir().join("status-page.png");
    browser.screenshot(&shot);
    eprintln!("screenshot: {}", shot.display());

    // A stop through the CLI appears on the open page, with no reload.
    browser.eval("window.aimaTestMarker = 'same document'");
    lab.run(&["service", "stop", &up]).success();
    let took = browser.wait_for(&format!("{} === 'stopped'", status_js(&up)), LIVE_LIMIT);
    eprintln!("the page showed the stop {took:?} after the CLI returned");
    assert_eq!(
        browser.eval("window.aimaTestMarker"),
        "same document",
        "the page reloaded"
    );

    // Without the event stream (blocked here), the page falls back to polling and still
    // follows: the service started again through the CLI shows as running.
    browser.call("Network.enable", serde_json::json!({}));
    browser.call(
        "Network.setBlockedURLs",
        serde_json::json!({"urls": ["*/page/events"]}),
    );
    browser.open(&format!("{base}/"));
    browser.wait_for(
        "document.querySelector('table.services') !== null",
        LIVE_LIMIT,
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(browser.eval(MODE), "polling", "the blocked stream opened");
    browser.eval("window.aimaTestMarker = 'polled document'");
    lab.run(&["service", "start", &up, "--wait", "--timeout", "90"])
        .success();
    let took = browser.wait_for(&format!("{} === 'running'", status_js(&up)), LIVE_LIMIT);
    eprintln!("polling: the page showed the start {took:?} after the CLI returned");
    assert_eq!(browser.eval("window.aimaTestMarker"), "polled document");
    browser.call("Network.setBlockedURLs", serde_json::json!({"urls": []}));

    // The failed service's page: the preflight attempt, its reason and the recorded changes.
    browser.open(&format!("{base}/services/{down}"));
    let facts = browser.text_of("#facts").unwrap();
    assert!(
        facts.contains("failed") && facts.contains(&blocked_port.to_string()),
        "{facts}"
    );
    let attempts = browser
        .text_of("table.attempts")
        .expect("an attempts table");
    assert!(
        attempts.contains("preflight") && attempts.contains(&holder),
        "{attempts}"
    );
    let changes = browser.text_of("ol.changes").expect("the recent changes");
    assert!(
        changes.contains("starting → failed") && changes.contains(&holder),
        "{changes}"
    );
    browser.screenshot(&artifacts_dir().join("status-page-service.png"));

    // Signing out (another same-origin POST) ends the session: the form is back.
    browser.eval("document.querySelector('form.sign-out').submit(); true");
    browser.wait_for("document.querySelector('form#login') !== null", LIVE_LIMIT);
    assert!(browser.text_of("table.services").is_none());
    drop(blocker);
}

fn sign_in(browser: &mut Browser, token: &str) {
    browser.eval(&format!(
        "document.querySelector('input[name=token]').value = {}; \
         document.getElementById('login').submit(); true",
        serde_json::json!(token)
    ));
}
