//! Wall-clock time as stored (unix milliseconds) and as shown (RFC 3339, "3m ago").

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

pub fn now_ms() -> i64 {
    (now_nanos() / 1_000_000) as i64
}

pub fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// "just now", "5s ago", "3m ago", "2h ago", "4d ago": for tables read by people.
pub fn ago(ms: i64, now: i64) -> String {
    let secs = (now - ms).max(0) / 1000;
    match secs {
        0..=1 => "just now".to_owned(),
        _ => format!("{} ago", span(secs)),
    }
}

/// "in 8s", "in 3m", or "due now" once `ms` has come: when something scheduled happens.
pub fn until(ms: i64, now: i64) -> String {
    let secs = (ms - now) / 1000;
    if secs <= 0 {
        "due now".to_owned()
    } else {
        format!("in {}", span(secs))
    }
}

/// "42s", "3m", "2h", "4d": a length of time in its largest whole unit.
pub fn span(secs: i64) -> String {
    match secs.max(0) {
        s @ 0..=59 => format!("{s}s"),
        s @ 60..=3599 => format!("{}m", s / 60),
        s @ 3600..=86_399 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(ago(0, 500), "just now");
        assert_eq!(ago(0, 42_000), "42s ago");
        assert_eq!(ago(0, 180_000), "3m ago");
        assert_eq!(ago(0, 7_200_000), "2h ago");
        assert_eq!(ago(0, 3 * 86_400_000), "3d ago");
        assert_eq!(until(8_500, 0), "in 8s");
        assert_eq!(until(180_000, 0), "in 3m");
        assert_eq!(until(500, 0), "due now");
        assert_eq!(until(0, 5_000), "due now");
    }

    #[test]
    fn timestamps_render_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }
}
