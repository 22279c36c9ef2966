//! Documentation generated from the command definitions themselves: shell completion scripts
//! (`aima completions SHELL`) and man pages (`aima man`), so neither can drift from the CLI.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use super::args::Cli;
use crate::error::{Error, Result};

/// The completion script for `shell`.
pub(crate) fn completions(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "aima", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The page for `aima` itself (roff), listing its subcommands.
pub(crate) fn man_page() -> Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::internal("cannot render the man page").caused_by(e))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Writes one page per command (`aima.1`, `aima-service-start.1`, …) into `dir`; returns a line
/// naming what was written.
pub(crate) fn write_man_pages(dir: &Path) -> Result<String> {
    std::fs::create_dir_all(dir)
        .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
        .map_err(|e| {
            Error::usage(format!("cannot write man pages into {}", dir.display()))
                .caused_by(e)
                .with_help("pass --out-dir a directory you can write")
        })?;
    let count = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "1"))
                .count()
        })
        .unwrap_or(0);
    Ok(format!("wrote {count} man pages to {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_argument_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "aima", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }
}
