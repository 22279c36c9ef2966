//! Scenario 15's steps against a hostile neighbour: sign-in forms whose bodies never finish,
//! held open as long as the daemon has connection slots, while clients with the token, health
//! and the status page must still be served and SIGTERM must still end the daemon at once; and
//! a copied session cookie, which must stop working when its session signs out.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::scenario::context::RunContext;

/// Connection slots the flooded daemon gets (`AIMA_API_MAX_CONNECTIONS`), and how many
/// unfinished sign-ins are sent: as many as there are slots.
pub const FLOOD: usize = 16;
/// How long each of the three requests beside the flood may take to be answered.
pub const SERVED_WITHIN: Duration = Duration::from_secs(5);
/// How long SIGTERM may take with the flood still open.
pub const STOPPED_WITHIN: Duration = Duration::from_secs(5);

/// What the sign-in flood saw.
#[derive(Debug, Clone, Default)]
pub struct LoginFlood {
    /// Connections that sent a sign-in head and part of its body.
    pub opened: usize,
    /// Of those, how many the daemon had answered (and with what status line) after a pause.
    pub answered: Vec<String>,
    /// Health without the token, the API and the status page with it, beside the flood.
    pub beside: Vec<(String, Result<HttpReply, String>)>,
    /// SIGTERM with the flood still open: how long until the daemon was gone, whether it left
    /// on its own with exit code 0, and the harness's account of the stop.
    pub stop_ms: Option<u64>,
    pub stopped_cleanly: bool,
    pub stop_evidence: String,
}

/// What the sign-out of a copied session saw: the sign-in, the page with the cookie before
/// sign-out, the sign-out, and the page with the copy after it.
#[derive(Debug, Clone, Default)]
pub struct Revocation {
    pub sign_in: Option<Result<HttpReply, String>>,
    pub before: Option<Result<HttpReply, String>>,
    pub sign_out: Option<Result<HttpReply, String>>,
    pub copy_after: Option<Result<HttpReply, String>>,
}

/// A `POST /login` whose head is complete and whose body never is.
fn unfinished_sign_in(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken="
    );
    stream.write_all(head.as_bytes())?;
    Ok(stream)
}

/// The status line the daemon has sent on `stream` so far, if any.
fn answered(stream: &mut TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .ok()?;
    let mut buf = [0u8; 256];
    match stream.read(&mut buf) {
        Ok(n) if n > 0 => {
            let text = String::from_utf8_lossy(&buf[..n]);
            Some(text.lines().next().unwrap_or_default().to_owned())
        }
        Ok(_) => Some("closed".to_owned()),
        Err(_) => None,
    }
}

/// Starts a daemon with [`FLOOD`] connection slots, holds [`FLOOD`] unfinished sign-ins, asks
/// beside them, then stops the daemon with them still open.
pub fn login_flood(ctx: &mut RunContext) -> anyhow::Result<LoginFlood> {
    let slots = FLOOD.to_string();
    // A long body timeout: the flood must be bounded by its budget, not by the timer.
    ctx.start_daemon(&[
        ("AIMA_API_MAX_CONNECTIONS", &slots),
        ("AIMA_API_BODY_TIMEOUT_SECS", "60"),
    ])?;
    let mut flood = LoginFlood::default();
    let mut held = Vec::new();
    for _ in 0..FLOOD {
        match unfinished_sign_in(ctx.listen) {
            Ok(stream) => held.push(stream),
            Err(e) => ctx.say(&format!("an unfinished sign-in could not connect: {e}")),
        }
    }
    flood.opened = held.len();
    ctx.say(&format!(
        "{} sign-in forms sent without the end of their bodies",
        flood.opened
    ));
    // Lets the daemon accept them all: a bounded pause, not a timing judgement.
    std::thread::sleep(Duration::from_millis(500));
    flood.answered = held.iter_mut().filter_map(answered).collect();
    let requests = [
        (
            "GET /api/v2/health (no token)",
            HttpRequest::new("GET", "/api/v2/health"),
        ),
        (
            "GET /api/v2/models (token)",
            ctx.api("GET", "/api/v2/models"),
        ),
        ("GET / (token)", ctx.api("GET", "/")),
    ];
    for (what, request) in requests {
        let reply = ctx
            .http(
                "beside the sign-in flood",
                request.timeout(SERVED_WITHIN * 2),
            )
            .map_err(|e| format!("{e:#}"));
        flood.beside.push((what.to_owned(), reply));
    }
    if let Some(stopped) = ctx.signal_daemon("TERM", Duration::from_secs(30)) {
        flood.stop_ms = Some(stopped.waited_ms);
        flood.stopped_cleanly =
            stopped.verified && !stopped.escalated && stopped.exit_code == Some(0);
        flood.stop_evidence = stopped.describe();
    }
    drop(held);
    Ok(flood)
}

/// `name=value` of the `Set-Cookie` header of `reply`.
fn cookie(reply: &Result<HttpReply, String>) -> Option<String> {
    let set = reply.as_ref().ok()?.header("set-cookie")?;
    set.split(';').next().map(str::to_owned)
}

/// `value` percent-encoded for a form body.
fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// On the running daemon (with the run's token): signs in through the page's form, keeps a
/// copy of the cookie, signs out, and opens the page with the copy.
pub fn revocation(ctx: &mut RunContext) -> Revocation {
    let mut seen = Revocation::default();
    let mut sign_in = HttpRequest::new("POST", "/login")
        .header("Content-Type", "application/x-www-form-urlencoded");
    sign_in.body = Some(format!("token={}&next=%2F", form_encoded(&ctx.api_token)));
    let reply = ctx
        .http("sign in on the status page", sign_in)
        .map_err(|e| format!("{e:#}"));
    let cookie = cookie(&reply);
    seen.sign_in = Some(reply);
    let Some(cookie) = cookie else {
        return seen;
    };
    let copy = cookie.clone();
    let page = |cookie: &str| HttpRequest::new("GET", "/").header("Cookie", cookie);
    seen.before = Some(
        ctx.http("the page with the session", page(&cookie))
            .map_err(|e| format!("{e:#}")),
    );
    let sign_out = HttpRequest::new("POST", "/logout").header("Cookie", cookie);
    seen.sign_out = Some(ctx.http("sign out", sign_out).map_err(|e| format!("{e:#}")));
    seen.copy_after = Some(
        ctx.http("the page with a copy of the signed-out cookie", page(&copy))
            .map_err(|e| format!("{e:#}")),
    );
    seen
}
