//! Reading aima's JSON output (lists, service records) and its human attempt lines. Tolerant:
//! anything unreadable becomes `None` and the judge says so.

use serde_json::Value;

/// `items[-1].id` of a `{"items":[...]}` list.
pub fn last_id(stdout: &str) -> Option<String> {
    let value: Value = serde_json::from_str(stdout.trim()).ok()?;
    value["items"]
        .as_array()?
        .last()?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

/// The `status` of the item with `id` in a list.
pub fn status_in_list(stdout: &str, id: &str) -> Option<String> {
    let value: Value = serde_json::from_str(stdout.trim()).ok()?;
    value["items"]
        .as_array()?
        .iter()
        .find(|item| item["id"] == id)?
        .get("status")?
        .as_str()
        .map(str::to_owned)
}

/// One attempt as the service record reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordedAttempt {
    pub number: u64,
    pub phase: String,
    pub reason: String,
}

/// `.attempts` of a `service get --output json` record.
pub fn attempts_of_record(stdout: &str) -> Option<Vec<RecordedAttempt>> {
    let value: Value = serde_json::from_str(stdout.trim()).ok()?;
    let attempts = value.get("attempts")?.as_array()?;
    Some(
        attempts
            .iter()
            .map(|a| RecordedAttempt {
                number: a["number"].as_u64().unwrap_or(0),
                phase: a["phase"].as_str().unwrap_or_default().to_owned(),
                reason: a["reason"].as_str().unwrap_or_default().to_owned(),
            })
            .collect(),
    )
}

/// An `attempt N/M ...: reason` line of a human error message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttemptLine {
    pub number: u64,
    pub reason: String,
}

/// Finds the attempt lines of a human error message.
pub fn attempt_lines(text: &str) -> Vec<AttemptLine> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("attempt ")?;
            let number = rest.split('/').next()?.trim().parse().ok()?;
            let reason = rest
                .split_once("]: ")
                .or_else(|| rest.split_once(": "))
                .map(|(_, reason)| reason.trim().to_owned())
                .unwrap_or_default();
            Some(AttemptLine { number, reason })
        })
        .collect()
}

/// Words of a message: runs of characters that can form a number, name or path part.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_records_and_attempt_lines() {
        let list = r#"{"items":[{"id":"svc-1","status":"failed"},{"id":"svc-2","status":"created"}],"total":2}"#;
        assert_eq!(last_id(list).as_deref(), Some("svc-2"));
        assert_eq!(status_in_list(list, "svc-1").as_deref(), Some("failed"));
        assert_eq!(status_in_list(list, "svc-9"), None);

        let record = r#"{"id":"svc-1","attempts":[{"number":1,"phase":"preflight","elapsed_ms":3,"reason":"port 8000 is in use"}]}"#;
        let attempts = attempts_of_record(record).unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].reason, "port 8000 is in use");

        let message = "error: cannot start\n  attempt 1/3 after 12ms [preflight]: port 8000 is in use by python3 (pid 42)\n  attempt 2/3 after 40ms [run]:\nhelp: free it";
        let lines = attempt_lines(message);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].number, 1);
        assert!(lines[0].reason.starts_with("port 8000"));
        assert_eq!(lines[1].reason, "");
        assert!(words("port 8000, pid (42).").any(|w| w == "42"));
        assert!(!words("/work/wt-harness/x").any(|w| w == "harness"));
    }
}
