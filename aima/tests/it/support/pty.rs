//! Running `aima` on a terminal, as a person would: `script` gives it a pseudo-terminal, so
//! what is shown only on a terminal (the live start progress) can be checked.

use std::time::Duration;

use super::aima::Aima;
use super::run::Outcome;

impl Aima {
    /// Runs `aima ARGS` under `script`; stdout holds everything the terminal received
    /// (stdout and stderr together, with the terminal's control sequences).
    pub fn run_in_pty(&self, args: &[&str]) -> Outcome {
        let inner = self.command(args);
        let mut line = vec![quote(&inner.get_program().to_string_lossy())];
        line.extend(inner.get_args().map(|a| quote(&a.to_string_lossy())));
        let mut cmd = std::process::Command::new("script");
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        // A terminal wide enough that the live line is not wrapped.
        cmd.env("COLUMNS", "200")
            .args(["-qefc", &line.join(" "), "/dev/null"]);
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(Duration::from_secs(180));
        Outcome::of(cmd, format!("(pty) aima {}", args.join(" ")))
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
