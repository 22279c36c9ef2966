//! Redactions for snapshots of user-facing output: ids, timestamps, relative times, durations,
//! pids, the data dir, the user running the tests and the test's ports vary from run to run;
//! the wording must not.

use super::aima::Aima;

/// Insta settings that redact what varies; `ports` are the test's own (random) ports.
pub fn settings(aima: &Aima, ports: &[u16]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    // Relative to the asserting file (`it/<concept>/<file>.rs`): all snapshots stay in one place.
    s.set_snapshot_path("../../snapshots");
    s.add_filter(
        &escape(&aima.data_dir().display().to_string()),
        "[DATA_DIR]",
    );
    s.add_filter(r"svc-[0-9a-f]{8}", "svc-[ID]");
    s.add_filter(r"model-[0-9a-f]{8}", "model-[ID]");
    // Default service names end with 4 hex characters of their id.
    s.add_filter(r"-(vllm|ollama|llamacpp)-[0-9a-f]{4}\b", "-$1-[ID4]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]");
    s.add_filter(r"just now|\b\d+[smhd] ago", "[AGO]");
    s.add_filter(r"\b\d+ms\b", "[N]ms");
    s.add_filter(r#""elapsed_ms": \d+"#, r#""elapsed_ms": "[N]""#);
    s.add_filter(r"pid \d+", "pid [PID]");
    // The simulator image's tag is a hash of its content.
    s.add_filter(r"aima-engine-sim:[0-9a-f]+", "aima-engine-sim:[TAG]");
    // The interpreter's install path differs between machines.
    s.add_filter(r"(running: )\S*/python3\b", "${1}python3");
    s.add_filter(r"kill \d+", "kill [PID]");
    // Who ran the test: owners and starters are the OS user running it.
    s.add_filter(
        r"((?:created|started) by:\s+)[a-z_][a-z0-9_.-]*",
        "${1}[USER]",
    );
    s.add_filter(r#"("(created|started)_by": )"[^"]*""#, r#"$1"[USER]""#);
    for port in ports {
        s.add_filter(&format!(r"\b{port}\b"), "[PORT]");
    }
    s
}

fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = r"\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}
