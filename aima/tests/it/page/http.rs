//! The status page over real HTTP against a real daemon (no Docker needed: nothing starts):
//! the token rules, the session cookie, which `Origin` headers are accepted where, escaping of
//! hostile names, and the headers that lock the page down.

use std::time::Duration;

use crate::support::aima::Aima;
use crate::support::daemon::Daemon;
use crate::support::http::{Answer, Request};
use crate::support::ports::free_port;

/// One request with exactly these headers (plus `Host: 127.0.0.1:port`, `Connection: close`
/// and `Content-Length`).
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    Request::new(method, path)
        .host(format!("127.0.0.1:{port}"))
        .headers(headers)
        .body(body)
        .timeout(Duration::from_secs(20))
        .send(("127.0.0.1", port))
        .expect("an HTTP answer")
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// A daemon with a fixed token and one service whose name is hostile markup.
fn daemon_with_hostile_service() -> (Aima, Daemon, String) {
    let aima = Aima::new();
    aima.run(&[
        "model", "create", "--name", "m<i>", "--source", "ollama", "--repo", "r",
    ])
    .success();
    let model = aima.run(&["model", "list", "-o", "json"]).success().json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = free_port().to_string();
    // Control characters are refused at create; a direction override is printable text.
    let name = "<script>alert(1)</script>\u{202e}x";
    let created = aima
        .run(&[
            "service",
            "create",
            "--model-id",
            &model,
            "--engine-type",
            "vllm",
            "--port",
            &port,
            "--name",
            name,
            "-o",
            "json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    let daemon = Daemon::start(&aima, &[("AIMA_API_TOKEN", "page-test-token-1")]);
    (aima, daemon, id)
}

#[test]
fn without_the_token_the_page_is_a_login_form_and_shows_no_service() {
    let (_aima, daemon, id) = daemon_with_hostile_service();
    for path in ["/", &format!("/services/{id}")] {
        let answer = request(daemon.port, "GET", path, &[], "");
        assert_eq!(answer.status, 401, "{path}: {}", answer.body);
        assert!(
            answer
                .body
                .contains("<form method=\"post\" action=\"/login\""),
            "{}",
            answer.body
        );
        // The form returns to the path asked for; of the service itself nothing shows.
        for secret in ["alert(1)", "m&lt;i&gt;", "vllm", "class=\"services\""] {
            assert!(
                !answer.body.contains(secret),
                "{path} shows {secret}: {}",
                answer.body
            );
        }
        let cookie = format!("aima_session={}", "0".repeat(64));
        let forged = request(daemon.port, "GET", path, &[("Cookie", &cookie)], "");
        assert_eq!(forged.status, 401, "a made-up session opened {path}");
    }
    let wrong = request(
        daemon.port,
        "GET",
        "/",
        &[("Authorization", "Bearer nope")],
        "",
    );
    assert_eq!(wrong.status, 401);
    let right = request(
        daemon.port,
        "GET",
        "/",
        &[("Authorization", "Bearer page-test-token-1")],
        "",
    );
    assert_eq!(right.status, 200, "{}", right.body);
    assert!(right.body.contains(&id));
}

#[test]
fn the_login_form_sets_a_strict_http_only_session_that_opens_the_page_but_not_the_api() {
    let (_aima, daemon, id) = daemon_with_hostile_service();
    let origin = format!("http://127.0.0.1:{}", daemon.port);
    let wrong = request(
        daemon.port,
        "POST",
        "/login",
        &[FORM, ("Origin", &origin)],
        "token=nope&next=%2F",
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());

    let next = format!("%2Fservices%2F{id}");
    let login = request(
        daemon.port,
        "POST",
        "/login",
        &[FORM, ("Origin", &origin)],
        &format!("token=page-test-token-1&next={next}"),
    );
    assert_eq!(login.status, 303, "{}", login.body);
    assert_eq!(
        login.header("location"),
        Some(format!("/services/{id}").as_str())
    );
    let set = login.header("set-cookie").expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(
        !set.contains("page-test-token-1"),
        "the cookie holds the token itself: {set}"
    );
    let cookie = set.split(';').next().unwrap();

    let page = request(
        daemon.port,
        "GET",
        &format!("/services/{id}"),
        &[("Cookie", cookie)],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&id));
    let api = request(
        daemon.port,
        "GET",
        "/api/v2/services",
        &[("Cookie", cookie)],
        "",
    );
    assert_eq!(
        api.status, 401,
        "the page's cookie opened the API: {}",
        api.body
    );

    // A login elsewhere never sends the browser off this site.
    let away = request(
        daemon.port,
        "POST",
        "/login",
        &[FORM],
        "token=page-test-token-1&next=%2F%2Fevil.example%2F",
    );
    assert_eq!(away.header("location"), Some("/"));
}

#[test]
fn same_origin_is_accepted_on_page_paths_only_and_other_origins_nowhere() {
    let (_aima, daemon, _id) = daemon_with_hostile_service();
    let port = daemon.port;
    let same = format!("http://127.0.0.1:{port}");
    let auth = ("Authorization", "Bearer page-test-token-1");
    let login_body = "token=page-test-token-1&next=%2F";

    assert_eq!(
        request(
            port,
            "POST",
            "/login",
            &[FORM, ("Origin", &same)],
            login_body
        )
        .status,
        303
    );
    assert_eq!(
        request(port, "GET", "/", &[auth, ("Origin", &same)], "").status,
        200
    );
    for other in [
        "http://evil.example",
        "null",
        "https://127.0.0.1",
        &format!("http://127.0.0.1:{}", port + 1),
    ] {
        let login = request(
            port,
            "POST",
            "/login",
            &[FORM, ("Origin", other)],
            login_body,
        );
        assert_eq!(login.status, 403, "login from {other}: {}", login.body);
        assert!(login.header("set-cookie").is_none());
        assert_eq!(
            request(port, "GET", "/", &[auth, ("Origin", other)], "").status,
            403
        );
    }
    // The API keeps refusing every web page, its own origin included.
    for (method, path) in [("GET", "/api/v2/services"), ("POST", "/api/v2/models")] {
        let answer = request(port, method, path, &[auth, ("Origin", &same)], "{}");
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.body);
    }
}

#[test]
fn hostile_names_are_escaped_and_the_page_is_locked_down() {
    let (_aima, daemon, id) = daemon_with_hostile_service();
    let auth = ("Authorization", "Bearer page-test-token-1");
    for path in ["/".to_owned(), format!("/services/{id}")] {
        let page = request(daemon.port, "GET", &path, &[auth], "");
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.body
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;\\u{202e}x"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("m&lt;i&gt;"),
            "the model name: {}",
            page.body
        );
        assert!(!page.body.contains("<script>alert"), "raw markup on {path}");
        assert!(!page.body.contains('\u{1b}') && !page.body.contains('\u{202e}'));
        // The only script is the served file; nothing inline.
        assert_eq!(page.body.matches("<script").count(), 1, "{}", page.body);
        assert!(
            page.body
                .contains("<script src=\"/page/app.js\" defer></script>")
        );
        let csp = page.header("content-security-policy").expect("a CSP");
        for rule in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(rule), "{csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("cache-control"), Some("no-store"));
    }
    let script = request(daemon.port, "GET", "/page/app.js", &[], "");
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(
        !script.body.contains("innerHTML"),
        "the script must not build markup"
    );
    // Read-only: the page takes no writes.
    let post = request(daemon.port, "POST", "/", &[auth], "");
    assert_eq!(post.status, 405);
    let missing = request(daemon.port, "GET", "/services/svc-00000000", &[auth], "");
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("<h1>Not found</h1>"),
        "{}",
        missing.body
    );
}

/// Signs in through the form; returns the `name=value` of the session cookie.
fn sign_in(port: u16, token: &str) -> String {
    let login = request(
        port,
        "POST",
        "/login",
        &[FORM],
        &format!("token={token}&next=%2F"),
    );
    assert_eq!(login.status, 303, "{}", login.body);
    let set = login.header("set-cookie").expect("a session cookie");
    set.split(';').next().unwrap().to_owned()
}

#[test]
fn sign_out_ends_the_session_on_the_daemon_and_a_restart_ends_them_all() {
    let aima = Aima::new();
    let token = ("AIMA_API_TOKEN", "page-test-token-2");
    let mut daemon = Daemon::start(&aima, &[token]);
    let first = sign_in(daemon.port, "page-test-token-2");
    let second = sign_in(daemon.port, "page-test-token-2");
    assert_ne!(first, second, "two sign-ins got the same session");
    // A copy of the first cookie, kept by someone else, stops working at sign-out.
    let copied = first.clone();
    let out = request(daemon.port, "POST", "/logout", &[("Cookie", &first)], "");
    assert_eq!(out.status, 303);
    let after = request(daemon.port, "GET", "/", &[("Cookie", &copied)], "");
    assert_eq!(
        after.status, 401,
        "a signed-out session still opens the page"
    );
    let other = request(daemon.port, "GET", "/", &[("Cookie", &second)], "");
    assert_eq!(other.status, 200, "signing out one session ended another");

    // Sessions live in the daemon's memory: a restart (same token or another) ends them.
    daemon.signal("TERM");
    assert!(daemon.wait_exit(Duration::from_secs(10)).success());
    let again = Daemon::start(&aima, &[token]);
    let stale = request(again.port, "GET", "/", &[("Cookie", &second)], "");
    assert_eq!(stale.status, 401, "a session outlived the daemon");
}
