//! `aima-engine-sim`: a small vLLM-style inference engine simulator for tests (with an Ollama
//! flavour, `ollama`).
//!
//! `serve` runs a real OpenAI-compatible HTTP server (see `server`), `image`
//! packages this very binary into a local Docker image (see `image`) so tests
//! can run it as a real engine container without pulling anything.

mod alloc;
mod args;
mod chat;
mod context;
mod image;
mod ollama;
mod server;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse_from(args::llama_cpp_words(std::env::args_os()));
    init_logging();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(opts) => server::run(opts).await,
            Command::Image(opts) => image::run(opts).await.map(|tag| println!("{tag}")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Logs go to stderr so that stdout of `image` carries only the image reference.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
