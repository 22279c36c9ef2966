//! Prometheus' text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples.

use std::fmt::Write;

#[derive(Default)]
pub(super) struct Writer {
    out: String,
}

impl Writer {
    pub(super) fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape(help, false));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    pub(super) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        let _ = writeln!(self.out, "{name}{} {value}", label_set(labels));
    }

    pub(super) fn histogram(
        &mut self,
        name: &str,
        label: (&str, &str),
        bounds: &[f64],
        cumulative: &[u64],
        count: u64,
        sum: f64,
    ) {
        for (bound, n) in bounds.iter().zip(cumulative) {
            let le = bound.to_string();
            self.sample(&format!("{name}_bucket"), &[label, ("le", &le)], *n);
        }
        self.sample(&format!("{name}_bucket"), &[label, ("le", "+Inf")], count);
        let _ = writeln!(self.out, "{name}_sum{} {sum}", label_set(&[label]));
        self.sample(&format!("{name}_count"), &[label], count);
    }

    pub(super) fn finish(self) -> String {
        self.out
    }
}

fn label_set(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v, true)))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// Backslash and newline always; double quotes in label values.
fn escape(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_set(&[("a", "x\"y\\z\nw")]), r#"{a="x\"y\\z\nw"}"#);
        assert_eq!(label_set(&[]), "");
    }
}
