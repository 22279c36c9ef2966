//! Reading criterion ids out of a scenario document, so a test can hold the document and the
//! implemented checks to the same list.

/// Criterion ids (`S20.C1`, ...) that open a list item in the document's "Success criteria"
/// section, in document order. A list item looks like `- **S20.C1** — statement`.
pub fn criterion_ids(document: &str) -> Vec<String> {
    let mut in_section = false;
    let mut ids = Vec::new();
    for line in document.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            in_section = heading.trim().eq_ignore_ascii_case("success criteria");
            continue;
        }
        if !in_section {
            continue;
        }
        let Some(item) = line.trim_start().strip_prefix("- ") else {
            continue;
        };
        let id: String = item
            .trim_start_matches('*')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        if id.starts_with('S') && id.contains(".C") {
            ids.push(id);
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::SCENARIOS;

    #[test]
    fn parses_ids_only_from_the_criteria_section() {
        let doc = "## Steps\n- **S9.C9** not here\n## Success criteria\n- **S20.C1** — a\n- **S20.C2** — b\n\nprose\n## Next\n- **S20.C3** — no";
        assert_eq!(criterion_ids(doc), ["S20.C1", "S20.C2"]);
    }

    #[test]
    fn every_scenario_document_matches_its_implemented_checks() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for scenario in SCENARIOS {
            let text = std::fs::read_to_string(root.join(scenario.document)).unwrap();
            let documented = criterion_ids(&text);
            let implemented: Vec<&str> = scenario.criteria.iter().map(|c| c.id).collect();
            assert_eq!(
                documented, implemented,
                "{} and the implemented checks disagree",
                scenario.document
            );
        }
    }
}
