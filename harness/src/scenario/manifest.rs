//! The required manifest (`scenarios/manifest.txt`): the scenarios `harness scenario all` must
//! run. A scenario listed but not implemented, implemented but not listed, or listed with
//! another document is a failure of `all`, never silently left out.
//!
//! Each line may name a tier after the document (default [`DEFAULT_TIER`]): `all` runs one tier
//! (`--tier`), while the listed-versus-implemented check always spans every tier. The
//! `real-engine` tier needs inputs built outside the harness (a real llama.cpp image).

use std::path::{Path, PathBuf};

use super::{SCENARIOS, ScenarioInfo, find};

/// The manifest's place in the repository.
pub const MANIFEST: &str = "scenarios/manifest.txt";

/// The tier of a manifest line that names none: scenarios that need only Docker and the engine
/// simulator.
pub const DEFAULT_TIER: &str = "simulator";

/// One line of the manifest: a scenario number and its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub number: u32,
    pub document: String,
    pub tier: String,
}

/// A manifest line that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} line {line}: {problem}; expected `<number> <document> [tier]`, e.g. `20 scenarios/20-port-contention.md`"
    )]
    Line {
        path: PathBuf,
        line: usize,
        problem: String,
    },
}

/// The repository's manifest file.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(MANIFEST)
}

/// Reads the manifest: one `<number> <document> [tier]` per line; blank lines and `#` comments
/// skipped.
pub fn load(path: &Path) -> Result<Vec<Entry>, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text).map_err(|(line, problem)| ManifestError::Line {
        path: path.to_owned(),
        line,
        problem,
    })
}

fn parse(text: &str) -> Result<Vec<Entry>, (usize, String)> {
    let mut entries: Vec<Entry> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(number), Some(document), tier, None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err((n + 1, format!("{line:?} is not two or three fields")));
        };
        let number: u32 = number
            .parse()
            .map_err(|_| (n + 1, format!("{number:?} is not a scenario number")))?;
        if entries.iter().any(|e| e.number == number) {
            return Err((n + 1, format!("scenario {number} is listed twice")));
        }
        entries.push(Entry {
            number,
            document: document.to_owned(),
            tier: tier.unwrap_or(DEFAULT_TIER).to_owned(),
        });
    }
    Ok(entries)
}

/// What `all` will run, and what is wrong with the manifest against the implemented scenarios.
#[derive(Debug, Default)]
pub struct Plan {
    pub run: Vec<&'static ScenarioInfo>,
    /// Each problem fails `all`: unlisted, unimplemented or mismatched scenarios.
    pub problems: Vec<String>,
}

/// Holds the manifest against the registry.
pub fn plan(entries: &[Entry]) -> Plan {
    let mut plan = Plan::default();
    for entry in entries {
        match find(entry.number) {
            None => plan.problems.push(format!(
                "scenario {} is required by the manifest but not implemented ({})",
                entry.number, entry.document
            )),
            Some(info) if info.document != entry.document => plan.problems.push(format!(
                "scenario {}: the manifest names {} but the harness implements {}",
                entry.number, entry.document, info.document
            )),
            Some(info) => plan.run.push(info),
        }
    }
    plan.problems.extend(
        SCENARIOS
            .iter()
            .filter(|s| !entries.iter().any(|e| e.number == s.number))
            .map(|s| {
                format!(
                    "scenario {} ({}) is implemented but missing from the manifest",
                    s.number, s.document
                )
            }),
    );
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_refuses_bad_lines() {
        let entries =
            parse("# required\n20 scenarios/20-port-contention.md  # ports\n2 b.md real-engine\n")
                .unwrap();
        assert_eq!(
            entries,
            [
                Entry {
                    number: 20,
                    document: "scenarios/20-port-contention.md".into(),
                    tier: DEFAULT_TIER.into(),
                },
                Entry {
                    number: 2,
                    document: "b.md".into(),
                    tier: "real-engine".into(),
                }
            ]
        );
        assert!(parse("20 a.md simulator extra").is_err());
        assert_eq!(parse("x scenarios/a.md").unwrap_err().0, 1);
        assert_eq!(parse("\n20\n").unwrap_err().0, 2);
        assert!(parse("20 a.md\n20 a.md").unwrap_err().1.contains("twice"));
    }

    #[test]
    fn missing_unlisted_and_mismatched_scenarios_are_problems() {
        let missing = plan(&[Entry {
            number: 99,
            document: "scenarios/99-x.md".into(),
            tier: DEFAULT_TIER.into(),
        }]);
        assert!(missing.problems[0].contains("not implemented"));
        assert!(
            missing
                .problems
                .iter()
                .any(|p| p.contains("missing from the manifest"))
        );
        let wrong = plan(&[Entry {
            number: 20,
            document: "scenarios/other.md".into(),
            tier: DEFAULT_TIER.into(),
        }]);
        assert!(
            wrong
                .problems
                .iter()
                .any(|p| p.contains("the manifest names"))
        );
    }

    #[test]
    fn the_repository_manifest_lists_exactly_the_implemented_scenarios() {
        let entries = load(&default_path()).unwrap();
        let plan = plan(&entries);
        assert_eq!(plan.problems, Vec::<String>::new());
        assert_eq!(plan.run.len(), SCENARIOS.len());
    }
}
