//! The `aima` command line: parse, run one command in-process, print, exit with a documented code.

mod apply;
mod args;
mod backup;
mod commands;
mod docs;
mod events;
mod examples;
mod hints;
mod info;
mod logging;
mod man;
mod progress;
mod remote;
mod render;
mod service_verbs;
mod terminal;
mod tokens;
mod verbs;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command, Output};

use crate::config::Env;
use crate::error::{Error, Kind};

pub(crate) use info::gather as gather_info;

/// Entry point of the binary: the arguments and the environment are read here, once.
pub fn main() -> ExitCode {
    let mut env = Env::capture();
    let args: Vec<OsString> = std::env::args_os().collect();
    let parsed = Cli::command()
        .try_get_matches_from(&args)
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return usage_error(e, &args),
    };
    let output = cli.output;
    if let Err(err) = args::output_applies(&cli.command, &matches) {
        return report(&err, output);
    }
    if let Some(dir) = &cli.data_dir {
        env = env.with("AIMA_DATA_DIR", &dir.to_string_lossy());
    }
    if let Err(err) = logging::init(matches!(cli.command, Command::Start { .. }), &env) {
        return report(&err, output);
    }
    let result = match cli.host.clone() {
        Some(host) => remote::DaemonUrl::parse(&host).and_then(|url| remote::run(cli, url, &env)),
        None => commands::run(cli, env),
    };
    match result {
        Ok(text) => {
            if !text.is_empty() {
                // JSON escapes control characters itself, and must stay valid JSON.
                match output {
                    Output::Table | Output::Toml => print_stdout(&terminal::block(&text)),
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
    if output == Output::Json && !apply::PRINTED.load(std::sync::atomic::Ordering::SeqCst) {
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

/// clap's own message and a hint for common slips, plus the JSON error object when the caller
/// asked for JSON.
fn usage_error(mut e: clap::Error, args: &[OsString]) -> ExitCode {
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
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let hint = hints::slip(&words, e.kind());
    if hint.is_some() {
        // Our hint knows the slip; clap's guess by spelling (`stop` → `restore`) would mislead.
        use clap::error::{ContextKind, ContextValue};
        e.remove(ContextKind::SuggestedSubcommand);
        if matches!(e.get(ContextKind::Suggested), Some(ContextValue::StyledStrs(tips)) if tips.is_empty())
        {
            e.remove(ContextKind::Suggested);
        }
    }
    let _ = e.print();
    if let Some(hint) = &hint {
        eprintln!("help: {hint}");
    }
    if asked_for_json(args) {
        let text = e.render().to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("invalid usage")
            .trim_start_matches("error: ")
            .to_owned();
        let mut error = Error::new(Kind::Usage, first);
        error.help = hint;
        print_stdout(&render::json_error(&error));
    }
    ExitCode::from(Kind::Usage.exit_code())
}
