//! The `aima` command line: parse, run one command in-process, print, exit with a documented code.

mod args;
mod commands;
mod progress;
mod render;
mod service_verbs;
mod terminal;
mod verbs;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, Output};

use crate::config::Env;
use crate::error::{Error, Kind};

/// Entry point of the binary: the arguments and the environment are read here, once.
pub fn main() -> ExitCode {
    let env = Env::capture();
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, asked_for_json(&args)),
    };
    init_logging(
        matches!(cli.command, Command::Start { .. }),
        env.get("AIMA_LOG"),
    );
    let output = cli.output;
    match commands::run(cli, env) {
        Ok(text) => {
            if !text.is_empty() {
                // JSON escapes control characters itself, and must stay valid JSON.
                match output {
                    Output::Table => print_stdout(&terminal::block(&text)),
                    Output::Json => print_stdout(&text),
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => report(&err, output),
    }
}

/// Prints an error the documented way and returns its exit code.
fn report(err: &Error, output: Output) -> ExitCode {
    eprint!("{}", terminal::block(&err.render()));
    if output == Output::Json {
        print_stdout(&render::json_error(err));
    }
    ExitCode::from(err.code.exit_code())
}

fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`aima ... | head`) is not an error worth a panic.
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
}

/// Whether a command line that clap refused still asks for JSON. clap stops at the first
/// error, before it has read a later `--output`, so this looks for the option's spellings
/// (`-o json`, `--output json`, `--output=json`, `-ojson`) in the same arguments.
fn asked_for_json(args: &[OsString]) -> bool {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    args.windows(2)
        .any(|w| (w[0] == "-o" || w[0] == "--output") && w[1] == "json")
        || args.iter().any(|a| *a == "--output=json" || *a == "-ojson")
}

/// clap's own message, plus the JSON error object when the caller asked for JSON.
fn usage_error(e: clap::Error, wants_json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            },
        );
    }
    let _ = e.print();
    if wants_json {
        let text = e.render().to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("invalid usage")
            .trim_start_matches("error: ")
            .to_owned();
        print_stdout(&render::json_error(&Error::new(Kind::Usage, first)));
    }
    ExitCode::from(Kind::Usage.exit_code())
}

/// Logs go to stderr only, filtered by `AIMA_LOG` (default: warnings; the daemon: info).
fn init_logging(daemon: bool, aima_log: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let default = if daemon { "info" } else { "warn" };
    let filter = aima_log
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
