//! Command-line interface of the simulator (flags and their environment fallbacks).

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Reads llama.cpp's `-hf REPO` (what aima gives the llama.cpp image for a repository model) as
/// `--model REPO`, so the simulator can also play the `llamacpp` engine.
pub fn llama_cpp_words(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    args.into_iter()
        .map(|arg| {
            if arg == "-hf" {
                OsString::from("--model")
            } else {
                arg
            }
        })
        .collect()
}

#[derive(Debug, Parser)]
#[command(
    name = "aima-engine-sim",
    version,
    about = "vLLM-style inference engine simulator for tests"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve an OpenAI-compatible API for one model, like `vllm serve`.
    Serve(ServeArgs),
    /// Package this binary into a local Docker image and print its reference.
    Image(ImageArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// `serve` again, as aima starts the ollama image (`ollama serve`): the simulator then acts
    /// as Ollama (see `ollama`), listening on `OLLAMA_HOST` and pulling models into its store.
    #[arg(value_parser = ["serve"], value_name = "OLLAMA")]
    pub ollama: Option<String>,
    /// Model name reported by /v1/models and chat completions.
    #[arg(long, required_unless_present = "ollama")]
    pub model: Option<String>,
    #[arg(long, required_unless_present = "ollama")]
    pub port: Option<u16>,
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,
    /// Seconds during which /health answers 503, simulating weight loading.
    #[arg(long, env = "AIMA_SIM_LOAD_SECS", default_value_t = 0)]
    pub load_secs: u64,
    /// Fail at startup instead of serving.
    #[arg(long, env = "AIMA_SIM_CRASH", value_enum)]
    pub crash: Option<Crash>,
    /// Serve, then exit this many seconds after loading, as an engine that dies while running.
    #[arg(long, env = "AIMA_SIM_CRASH_AFTER_SECS", value_name = "SECS")]
    pub crash_after: Option<u64>,
    /// The exit code of `--crash-after` (0: the engine ends on its own, as after a clean exit).
    #[arg(long, env = "AIMA_SIM_CRASH_EXIT_CODE", default_value_t = 1)]
    pub crash_exit_code: i32,
    /// Serve, then stop answering every request this many seconds after loading while the
    /// process stays alive, as an engine that hangs.
    #[arg(long, env = "AIMA_SIM_HANG_AFTER_SECS", value_name = "SECS")]
    pub hang_after: Option<u64>,
    /// Allocate this many MiB while loading, before the server answers, and keep it: every
    /// page is written, so the kernel charges it to the container (a memory limit below it
    /// ends in the OOM killer).
    #[arg(long, env = "AIMA_SIM_ALLOC_MIB", value_name = "MIB")]
    pub alloc_mib: Option<usize>,
    /// Ignore SIGTERM, as a PID-1 engine without a handler does: `docker stop` then waits out
    /// its whole grace period and kills.
    #[arg(long, env = "AIMA_SIM_IGNORE_SIGTERM")]
    pub ignore_sigterm: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Crash {
    /// Generic engine initialisation failure (retryable for aima).
    Error,
    /// CUDA out-of-memory failure (fatal for aima).
    Oom,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Bake an environment variable into the image, e.g. `AIMA_SIM_CRASH=oom`.
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Docker endpoint (unix://, tcp:// or http://); defaults to DOCKER_HOST or the local socket.
    #[arg(long)]
    pub docker_host: Option<String>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    let (key, value) = s.split_once('=').ok_or("expected K=V")?;
    let valid_key = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_key {
        return Err(format!("invalid variable name {key:?}"));
    }
    // A newline would end the Dockerfile instruction early.
    if value.contains(['\n', '\r']) {
        return Err("value must not contain newlines".into());
    }
    Ok((key.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_serve_is_the_ollama_flavour() {
        let cli = Cli::try_parse_from(["sim", "serve", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.ollama.as_deref(), Some("serve"));
        assert!(
            Cli::try_parse_from(["sim", "serve"]).is_err(),
            "vLLM style needs --model"
        );
        assert!(Cli::try_parse_from(["sim", "serve", "run"]).is_err());
    }

    #[test]
    fn llama_cpp_hf_names_the_model() {
        let words = ["sim", "serve", "-hf", "org/tiny-GGUF", "--port", "8080"];
        let cli = Cli::parse_from(llama_cpp_words(words.map(OsString::from)));
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.model.as_deref(), Some("org/tiny-GGUF"));
        assert_eq!(args.port, Some(8080));
    }

    #[test]
    fn env_pairs() {
        assert_eq!(parse_env("A_1=x=y"), Ok(("A_1".into(), "x=y".into())));
        assert_eq!(parse_env("A="), Ok(("A".into(), String::new())));
        assert!(parse_env("novalue").is_err());
        assert!(parse_env("=x").is_err());
        assert!(parse_env("1A=x").is_err());
        assert!(parse_env("A-B=x").is_err());
        assert!(parse_env("A=x\ny").is_err());
    }
}
