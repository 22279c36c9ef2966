//! Man pages (`aima man`), generated from the command definitions so they cannot drift from the
//! CLI, with what `--help` cannot say: EXIT STATUS (from [`Kind`]), ENVIRONMENT, FILES and, for
//! the main verbs, EXAMPLES (the same texts as their `--help`).

use std::path::Path;

use clap::{Command, CommandFactory};
use clap_mangen::Man;

use super::args::Cli;
use super::examples;
use crate::error::{Error, Kind, Result};

/// The command tree as the pages show it: without clap's `help` subcommand, which has no page.
fn tree() -> Command {
    fn without_help(cmd: Command) -> Command {
        cmd.disable_help_subcommand(true)
            .mut_subcommands(without_help)
    }
    let mut cmd = without_help(Cli::command());
    cmd.build();
    cmd
}

/// The page for `aima` itself (roff), listing its subcommands.
pub(crate) fn man_page() -> Result<String> {
    page(&tree())
}

/// Writes one page per command (`aima.1`, `aima-service-start.1`, …) into `dir`; returns a line
/// naming what was written.
pub(crate) fn write_man_pages(dir: &Path) -> Result<String> {
    fn write(cmd: &Command, dir: &Path, count: &mut usize) -> Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            write(sub, dir, count)?;
        }
        let path = dir.join(format!("{}.1", name(cmd)));
        std::fs::write(&path, page(cmd)?).map_err(|e| cannot_write(dir, e))?;
        *count += 1;
        Ok(())
    }
    std::fs::create_dir_all(dir).map_err(|e| cannot_write(dir, e))?;
    let mut count = 0;
    write(&tree(), dir, &mut count)?;
    Ok(format!("wrote {count} man pages to {}", dir.display()))
}

fn cannot_write(dir: &Path, e: std::io::Error) -> Error {
    Error::usage(format!("cannot write man pages into {}", dir.display()))
        .caused_by(e)
        .with_help("pass --out-dir a directory you can write")
}

/// `aima-service-start`: the page's name.
fn name(cmd: &Command) -> String {
    cmd.get_display_name().unwrap_or(cmd.get_name()).to_owned()
}

fn page(cmd: &Command) -> Result<String> {
    let man = Man::new(cmd.clone());
    let mut out = Vec::new();
    let rendered = (|| {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        man.render_options_section(&mut out)?;
        if cmd.has_subcommands() {
            man.render_subcommands_section(&mut out)?;
        }
        out.extend_from_slice(sections(&name(cmd)).as_bytes());
        // Only the top command has a version; clap_mangen expects one when asked for it.
        if cmd.get_version().is_some() {
            man.render_version_section(&mut out)?;
        }
        Ok::<(), std::io::Error>(())
    })();
    rendered.map_err(|e| Error::internal("cannot render the man page").caused_by(e))?;
    Ok(once_preamble(&String::from_utf8_lossy(&out)))
}

/// Each of clap_mangen's sections rendered alone opens with the same two-line preamble (the
/// quote string); the page keeps the first.
fn once_preamble(page: &str) -> String {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    match page.split_once(PREAMBLE) {
        Some((head, tail)) => format!("{head}{PREAMBLE}{}", tail.replace(PREAMBLE, "")),
        None => page.to_owned(),
    }
}

/// EXIT STATUS, ENVIRONMENT, FILES, and EXAMPLES where the command has some.
fn sections(name: &str) -> String {
    let mut out = String::from(".SH \"EXIT STATUS\"\n");
    out.push_str(&item("0", "Success."));
    let mut kinds = Kind::ALL;
    kinds.sort_by_key(|kind| kind.exit_code());
    for kind in kinds {
        let text = format!("{} (code {}).", exit_meaning(kind), kind.code());
        out.push_str(&item(&kind.exit_code().to_string(), &text));
    }
    out.push_str(".SH ENVIRONMENT\n");
    for (var, text) in ENVIRONMENT {
        out.push_str(&item(var, text));
    }
    out.push_str(".SH FILES\n");
    for (file, text) in FILES {
        out.push_str(&item(file, text));
    }
    if let Some(examples) = examples::of(&name.replace('-', " ")) {
        out.push_str(".SH EXAMPLES\n.nf\n");
        for line in examples.lines().skip(1) {
            out.push_str(&escape(line.trim_start()));
            out.push('\n');
        }
        out.push_str(".fi\n");
    }
    out
}

/// What each exit code means; exhaustive, so a new kind must be described here.
fn exit_meaning(kind: Kind) -> &'static str {
    match kind {
        Kind::Internal => "A bug in aima; please report it",
        Kind::Usage => "Bad usage (an unknown option, a bad value); nothing was changed",
        Kind::NotFound => "No such model, service or route",
        Kind::Conflict => {
            "The record is busy or in another state (in use, starting, stopped by another command)"
        }
        Kind::PortInUse => "The service's host port is taken",
        Kind::GpuInUse => "A GPU the start needs is held by another service or lacks free memory",
        Kind::Forbidden => "The model or service belongs to another user",
        Kind::QuotaExceeded => "The start would exceed a quota of the caller",
        Kind::DockerUnavailable => "Docker cannot be reached, or the daemon is shutting down",
        Kind::StartFailed => "The engine did not start",
        Kind::Timeout => "The engine was not healthy within the timeout",
        Kind::Storage => "aima's state database cannot be read or written",
        Kind::Engine => "A running engine refused or failed a request",
        Kind::DiskFull => "A disk aima or Docker writes to is full or below its minimum",
        Kind::Interrupted => "Interrupted (Ctrl-C, SIGTERM)",
    }
}

const ENVIRONMENT: [(&str, &str); 13] = [
    (
        "AIMA_DATA_DIR",
        "The data dir (default ~/.aima); as --data-dir.",
    ),
    (
        "AIMA_LISTEN",
        "The daemon's address, IP:PORT (default [api] listen, else 127.0.0.1:9090).",
    ),
    (
        "AIMA_API_TOKEN",
        "The token TCP clients of the daemon send (default: generated into api-token).",
    ),
    (
        "AIMA_API_AUTH",
        "none turns the token off (loopback addresses only).",
    ),
    (
        "AIMA_RUNTIME",
        "Where engines run: docker (default) or swarm.",
    ),
    (
        "AIMA_LOG",
        "Log filter, as tracing's (default: warn; the daemon: info). Logs go to stderr.",
    ),
    ("AIMA_LOG_FORMAT", "text (default) or json."),
    (
        "AIMA_DATA_MIN_FREE, AIMA_DOCKER_MIN_FREE",
        "Free space below which aima refuses to write (0: no check).",
    ),
    (
        "AIMA_MODEL_ROOTS",
        "Directories local models may be under, separated by colons.",
    ),
    (
        "AIMA_<ENGINE>_<SETTING>",
        "An engine setting: ENGINE is VLLM, OLLAMA or LLAMACPP; SETTING is IMAGE, GPU, GPUS, GPU_MEMORY, PORT, BIND, PULL, API_KEY, MEMORY, SHM_SIZE, PIDS_LIMIT, LOG_MAX_SIZE or LOG_MAX_FILES. `aima info` shows each with its source.",
    ),
    (
        "HF_TOKEN",
        "A Hugging Face token handed to engines that download from it; never shown.",
    ),
    (
        "DOCKER_HOST",
        "The Docker daemon (default unix:///var/run/docker.sock).",
    ),
    ("NO_COLOR", "Set: no colours."),
];

const FILES: [(&str, &str); 5] = [
    (
        "$AIMA_DATA_DIR/config.toml",
        "Settings: [api], [runtime], [disk], [engines.NAME].",
    ),
    (
        "$AIMA_DATA_DIR/aima.db",
        "The state database (models, services, the change log).",
    ),
    (
        "$AIMA_DATA_DIR/api-token",
        "The daemon's generated API token (mode 0600).",
    ),
    (
        "$AIMA_DATA_DIR/aima.sock",
        "The daemon's unix socket: the API without a token.",
    ),
    (
        "$AIMA_DATA_DIR/instance-id",
        "This data dir's identity, in its containers' labels.",
    ),
];

fn item(tag: &str, text: &str) -> String {
    format!(".TP\n\\fB{}\\fR\n{}\n", escape(tag), escape(text))
}

/// Text as roff shows it literally: backslashes and dashes escaped, no line read as a request.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_have_exit_status_environment_and_files_and_reference_no_help_page() {
        let page = man_page().unwrap();
        for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES"] {
            assert!(page.contains(section), "{section} missing:\n{page}");
        }
        for kind in Kind::ALL {
            let code = format!("\\fB{}\\fR\n", kind.exit_code());
            assert!(page.contains(&code), "{kind:?} missing");
        }
        assert!(!page.contains("help(1)"), "{page}");
    }

    #[test]
    fn the_main_verbs_pages_have_their_examples() {
        let dir = tempfile::tempdir().unwrap();
        write_man_pages(dir.path()).unwrap();
        for page in [
            "aima-service-create",
            "aima-service-start",
            "aima-service-update",
            "aima-apply",
            "aima-model-create",
            "aima-start",
        ] {
            let text = std::fs::read_to_string(dir.path().join(format!("{page}.1"))).unwrap();
            assert!(text.contains(".SH EXAMPLES"), "{page}");
        }
        assert!(!dir.path().join("aima-help.1").exists());
        let listed = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(listed, 36);
    }
}
