//! Through the daemon: a service's logs (followed as they stream), a chat (streamed when
//! asked), the caches, the change log, the daemon's info, tokens and quotas, printed as
//! in-process.

use std::io::Write;
use std::time::Duration;

use hyper::Method;
use serde_json::json;

use super::client::{Client, QUICK};
use super::paths::segment;
use crate::cli::args::{CacheCommand, InferenceCommand, LogsArgs, Output, TokenCommand};
use crate::cli::info::Info;
use crate::cli::{events, render, service_verbs, terminal};
use crate::error::Result;
use crate::lifecycle::cache::CacheInfo;
use crate::ops::quota::QuotaReport;
use crate::ops::tokens::NewToken;
use crate::ops::{ChatAnswer, LogLines};
use crate::store::ServiceEvent;
use crate::store::TokenInfo;

/// An engine may take this long to answer one chat (as in-process), plus the way there.
const CHATTING: Duration = Duration::from_secs(330);

pub(super) async fn logs(client: &Client, args: LogsArgs, output: Output) -> Result<String> {
    service_verbs::refuse_json_follow(&args, output)?;
    let mut query = Vec::new();
    if let Some(n) = args.tail {
        query.push(format!("tail={n}"));
    }
    if let Some(k) = args.attempt {
        query.push(format!("attempt={k}"));
    }
    if args.follow {
        query.push("follow=true".to_owned());
    }
    let path = format!(
        "/api/v2/services/{}/logs?{}",
        segment(&args.id),
        query.join("&")
    );
    if args.follow {
        // Lines may arrive split across chunks: only whole lines are printed.
        let mut pending = Vec::new();
        client
            .stream(Method::GET, &path, None, QUICK, |chunk| {
                pending.extend_from_slice(chunk);
                while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    service_verbs::print_line(String::from_utf8_lossy(&line[..end]).as_ref());
                }
            })
            .await?;
        if !pending.is_empty() {
            service_verbs::print_line(String::from_utf8_lossy(&pending).as_ref());
        }
        return Ok(String::new());
    }
    let got: LogLines = client.call(Method::GET, &path, None, QUICK).await?;
    if output == Output::Json {
        return Ok(render::to_json(&got));
    }
    got.lines.iter().for_each(|l| service_verbs::print_line(l));
    if let (Some(attempt), Some(reason)) = (got.attempt, &got.reason) {
        service_verbs::kept_note(attempt, reason, false);
    }
    Ok(String::new())
}

/// A chat through the daemon; with `--stream` (not JSON) its pieces are printed as they come,
/// as in-process.
pub(super) async fn chat(client: &Client, cmd: InferenceCommand, output: Output) -> Result<String> {
    let InferenceCommand::Chat {
        service,
        message,
        max_tokens,
        stream,
    } = cmd;
    let path = format!("/api/v2/services/{}/chat", segment(&service));
    let json = output == Output::Json;
    let body = json!({"message": message, "max_tokens": max_tokens, "stream": stream && !json});
    if stream && !json {
        let mut text = Utf8Pieces::default();
        client
            .stream(Method::POST, &path, Some(body), CHATTING, |chunk| {
                print_piece(&text.take(chunk))
            })
            .await?;
        // Already printed piece by piece: end the line.
        return Ok(String::new());
    }
    let answer: ChatAnswer = client
        .call(Method::POST, &path, Some(body), CHATTING)
        .await?;
    Ok(if json {
        render::to_json(&answer)
    } else {
        terminal::block(&answer.content).into_owned()
    })
}

fn print_piece(piece: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(terminal::block(piece).as_bytes());
    let _ = out.flush();
}

/// Text from chunks that may split a character: what is whole, the rest kept for the next.
#[derive(Default)]
struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    fn take(&mut self, chunk: &[u8]) -> String {
        self.pending.extend_from_slice(chunk);
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // A character cut at the end waits; invalid bytes inside are replaced.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let rest = self.pending.split_off(whole);
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending = rest;
        text
    }
}

#[derive(serde::Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(serde::Deserialize, serde::Serialize)]
struct RemovedCache {
    engine: crate::domain::EngineType,
    volume: String,
}

pub(super) async fn cache(client: &Client, cmd: CacheCommand, output: Output) -> Result<String> {
    let json = output == Output::Json;
    Ok(match cmd {
        CacheCommand::List => {
            let caches: Items<CacheInfo> = client
                .call(Method::GET, "/api/v2/caches", None, QUICK)
                .await?;
            if json {
                render::json_list(&caches.items)
            } else {
                render::caches_table(&caches.items)
            }
        }
        CacheCommand::Rm { engine } => {
            let path = format!("/api/v2/caches/{}", engine.as_str());
            let removed: RemovedCache = client.call(Method::DELETE, &path, None, QUICK).await?;
            if json {
                render::to_json(&removed)
            } else {
                format!(
                    "removed the {} cache (volume {})",
                    removed.engine, removed.volume
                )
            }
        }
    })
}

pub(super) async fn events(
    client: &Client,
    since: Option<i64>,
    service: Option<String>,
    output: Output,
) -> Result<String> {
    let mut query = Vec::new();
    if let Some(seq) = since {
        query.push(format!("since={seq}"));
    }
    if let Some(svc) = &service {
        query.push(format!("service={}", segment(svc)));
    }
    let path = format!("/api/v2/events/log?{}", query.join("&"));
    let got: Items<ServiceEvent> = client.call(Method::GET, &path, None, QUICK).await?;
    Ok(events::render(&got.items, output))
}

/// The daemon's `aima info`: its JSON as the daemon wrote it, or the in-process table of it.
pub(super) async fn info(client: &Client, output: Output) -> Result<String> {
    let path = "/api/v2/info";
    if output == Output::Json {
        let info: serde_json::Value = client.call(Method::GET, path, None, QUICK).await?;
        return Ok(render::to_json(&info));
    }
    let info: Info = client.call(Method::GET, path, None, QUICK).await?;
    Ok(crate::cli::info::render_table(&info))
}

/// `aima quota [USER]`: the caller's quota, or USER's.
pub(super) async fn quota(client: &Client, user: Option<String>, output: Output) -> Result<String> {
    let path = match &user {
        Some(name) => format!("/api/v2/quota?user={}", segment(name)),
        None => "/api/v2/quota".to_owned(),
    };
    let report: QuotaReport = client.call(Method::GET, &path, None, QUICK).await?;
    Ok(crate::cli::commands::quota_shown(&report, output))
}

/// `aima token …` through the daemon's admin-only token routes; printed as in-process.
pub(super) async fn tokens(client: &Client, cmd: TokenCommand, output: Output) -> Result<String> {
    Ok(match cmd {
        TokenCommand::Create { name, admin } => {
            let body = json!({ "name": name, "admin": admin });
            let made: NewToken = client
                .call(Method::POST, "/api/v2/tokens", Some(body), QUICK)
                .await?;
            crate::cli::tokens::created(&made, output)
        }
        TokenCommand::List => {
            let got: Items<TokenInfo> = client
                .call(Method::GET, "/api/v2/tokens", None, QUICK)
                .await?;
            crate::cli::tokens::listed(&got.items, output)
        }
        TokenCommand::Revoke { name } => {
            let path = format!("/api/v2/tokens/{}", segment(&name));
            let gone: TokenInfo = client.call(Method::DELETE, &path, None, QUICK).await?;
            crate::cli::tokens::revoked(&gone, output)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::Utf8Pieces;

    #[test]
    fn a_character_split_across_chunks_is_printed_whole() {
        let mut text = Utf8Pieces::default();
        let bytes = "né".as_bytes();
        assert_eq!(text.take(&bytes[..2]), "n");
        assert_eq!(text.take(&bytes[2..]), "é");
        assert_eq!(text.take(b"\xffok"), "\u{fffd}ok");
    }
}
