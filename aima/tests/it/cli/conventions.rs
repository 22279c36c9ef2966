//! Command-line conventions: `--version` with the commit, completion scripts and man pages
//! generated from the definitions, help text on every argument, hints for common slips, and
//! `NO_COLOR` honoured on a terminal.

use std::process::Command;

use crate::support::aima::Aima;
use crate::support::snapshot::settings;

/// The commit `--version` names, as git reports it for this checkout.
fn head_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn version_names_the_commit() {
    let aima = Aima::new();
    let out = aima.run(&["--version"]).success();
    let commit = head_commit().unwrap_or_else(|| "unknown".to_owned());
    assert_eq!(
        out.stdout.trim(),
        format!("aima {} (commit {commit})", env!("CARGO_PKG_VERSION")),
        "{out}"
    );
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    let aima = Aima::new();
    for (shell, marker) in [
        ("bash", "complete -F _aima"),
        ("zsh", "#compdef aima"),
        ("fish", "complete -c aima"),
    ] {
        let out = aima.run(&["completions", shell]).success();
        assert!(out.stdout.contains(marker), "{shell}: no {marker:?}\n{out}");
        // Every subcommand is completed.
        for sub in ["service", "model", "info", "completions", "man"] {
            assert!(out.stdout.contains(sub), "{shell}: {sub} missing\n{out}");
        }
    }
    // bash itself accepts the script.
    let script = aima.run(&["completions", "bash"]).success().stdout;
    let check = Command::new("bash")
        .args(["-n", "-c", &script])
        .status()
        .expect("run bash");
    assert!(check.success(), "bash -n refused the completion script");
    aima.run(&["completions", "tcsh"])
        .failure(2)
        .stderr_has("invalid value 'tcsh'");
}

#[test]
fn man_pages_from_the_same_definitions() {
    let aima = Aima::new();
    let page = aima.run(&["man"]).success().stdout;
    settings(&aima, &[]).bind(|| {
        let page = redact_version(&page);
        insta::assert_snapshot!("man_page", page);
    });
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    let out = aima
        .run(&["man", "--out-dir", out_dir.to_str().unwrap()])
        .success();
    let mut pages: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for expected in [
        "aima.1",
        "aima-service-start.1",
        "aima-model-create.1",
        "aima-info.1",
    ] {
        assert!(
            pages.iter().any(|p| p == expected),
            "{expected} missing: {pages:?}\n{out}"
        );
    }
    assert!(
        out.stdout
            .contains(&format!("wrote {} man pages", pages.len())),
        "{out}"
    );
    let start = std::fs::read_to_string(out_dir.join("aima-service-start.1")).unwrap();
    assert!(
        start.contains("Seconds the whole start may take"),
        "{start}"
    );
}

fn redact_version(text: &str) -> String {
    let commit = head_commit().unwrap_or_else(|| "unknown".to_owned());
    text.replace(&commit, "[COMMIT]")
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

#[test]
fn help_shows_env_vars_and_each_default_once() {
    let aima = Aima::new();
    let help = aima.run(&["service", "start", "--help"]).success().stdout;
    settings(&aima, &[]).bind(|| insta::assert_snapshot!("service_start_help", help));
    assert_eq!(help.matches("300").count(), 1, "{help}");
    let help = aima.run(&["start", "--help"]).success().stdout;
    assert!(help.contains("[env: AIMA_LISTEN"), "{help}");
    assert!(help.contains("[env: AIMA_DATA_DIR="), "{help}");
}

#[test]
fn slips_get_a_hint() {
    let aima = Aima::new();
    let slip = aima.run(&["start", "svc-12345678"]).failure(2);
    let json = aima.run(&["stop", "svc-12345678", "-o", "json"]).failure(2);
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("slip_start_service", slip.stderr);
        insta::assert_snapshot!("slip_stop_service_json", json.stdout);
    });
    assert!(
        !aima.data_dir().join("aima.db").exists(),
        "a refused command line touched the store"
    );
}

/// A terminal through `script(1)`: the daemon's log and the help are in colour there, and not
/// with `NO_COLOR`.
#[test]
fn no_color_is_honoured_on_a_terminal() {
    let aima = Aima::new();
    let run_in_pty = |no_color: bool| {
        let port = crate::support::ports::free_port();
        let mut cmd = aima.command(&[]);
        let aima_bin = cmd.get_program().to_string_lossy().into_owned();
        let line =
            format!("timeout -s INT 2 {aima_bin} start --listen 127.0.0.1:{port}; echo exited");
        cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"]);
        for (k, v) in aima.command(&[]).get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.env_remove("NO_COLOR").env("AIMA_API_AUTH", "none");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().expect("run script(1)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = run_in_pty(false);
    assert!(coloured.contains("listening"), "{coloured}");
    assert!(
        coloured.contains("\x1b["),
        "no colours on a terminal:\n{coloured}"
    );
    let plain = run_in_pty(true);
    assert!(plain.contains("listening"), "{plain}");
    assert!(
        !plain.contains("\x1b["),
        "colours despite NO_COLOR:\n{plain:?}"
    );
}

/// The main verbs' `--help` ends with examples; `-o` is refused where it means nothing.
#[test]
fn help_has_examples_and_output_is_refused_where_it_means_nothing() {
    let aima = Aima::new();
    for verb in [
        &["service", "create"][..],
        &["service", "start"],
        &["model", "create"],
        &["start"],
    ] {
        let out = aima.run(&[verb, &["--help"]].concat()).success();
        assert!(out.stdout.contains("Examples:\n  aima "), "{verb:?}: {out}");
    }
    for args in [
        &["completions", "bash", "-o", "json"][..],
        &["-o", "table", "man"],
    ] {
        let out = aima.run(args).failure(2);
        assert!(
            out.stderr.contains("--output means nothing"),
            "{args:?}: {out}"
        );
    }
    let page = aima.run(&["man"]).success();
    assert!(page.stdout.contains(".SH \"EXIT STATUS\""), "{page}");
    assert!(!page.stdout.contains("aima\\-help(1)"), "{page}");
    aima.run(&["completions", "bash"]).success();
}
