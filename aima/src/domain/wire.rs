//! Reading back what the records' JSON writes in its own way (times as RFC 3339), so a client
//! of the daemon gets the same records the in-process CLI holds.

use serde::{Deserialize, Deserializer};

/// An RFC 3339 time, as `as_rfc3339` writes it, back to unix milliseconds.
pub(crate) fn time<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// [`time`], or null.
pub(crate) fn time_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| parse(&text).map_err(serde::de::Error::custom))
        .transpose()
}

/// A value written as its text (`Display`), read back with `parse`.
pub(crate) fn text<'de, D, T>(d: D, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

fn parse(text: &str) -> Result<i64, String> {
    let t = humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("{text} is before 1970"))?
        .as_millis();
    i64::try_from(ms).map_err(|_| format!("{text} is too far ahead"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_written_time_reads_back_to_the_same_millisecond() {
        let ms = 1_765_000_123_456;
        let text = crate::clock::rfc3339(ms);
        assert_eq!(super::parse(&text), Ok(ms));
        assert!(super::parse("yesterday").is_err());
    }
}
