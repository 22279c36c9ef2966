//! `[disk]`: how much room aima keeps free on the data dir's disk and on Docker's data root
//! before it writes there (`AIMA_DATA_MIN_FREE`, `AIMA_DOCKER_MIN_FREE`; 0 turns a check off).

use serde::Deserialize;

use super::{ConfigError, Env, Result, Source, Sources};
use crate::domain::parse_size;

/// Room the state database needs for a few transactions and its write-ahead log, with margin.
pub const DEFAULT_DATA_MIN_FREE: u64 = 32 << 20;
/// Below this an engine image pull (hundreds of MB to many GB) or a container's writable layer
/// is bound to fail half-way.
pub const DEFAULT_DOCKER_MIN_FREE: u64 = 2 << 30;

/// The free-space minimums, in bytes; 0 means "do not check".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskLimits {
    /// Before every write to the state database, and before the daemon starts.
    pub data_min_free: u64,
    /// Before an engine image is pulled and before a container is created.
    pub docker_min_free: u64,
}

impl Default for DiskLimits {
    fn default() -> Self {
        DiskLimits {
            data_min_free: DEFAULT_DATA_MIN_FREE,
            docker_min_free: DEFAULT_DOCKER_MIN_FREE,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileDisk {
    #[serde(default, deserialize_with = "size_or_zero")]
    data_min_free: Option<u64>,
    #[serde(default, deserialize_with = "size_or_zero")]
    docker_min_free: Option<u64>,
}

impl DiskLimits {
    /// The defaults, then the file, then the environment.
    pub(super) fn load(file: &FileDisk, env: &Env, sources: &mut Sources) -> Result<Self> {
        let mut limits = DiskLimits::default();
        let fields = [
            (
                "disk.data_min_free",
                file.data_min_free,
                "AIMA_DATA_MIN_FREE",
                &mut limits.data_min_free,
            ),
            (
                "disk.docker_min_free",
                file.docker_min_free,
                "AIMA_DOCKER_MIN_FREE",
                &mut limits.docker_min_free,
            ),
        ];
        for (key, from_file, var, slot) in fields {
            if let Some(bytes) = from_file {
                *slot = bytes;
                sources.set(key, Source::File);
            }
            if let Some(text) = env.get(var) {
                *slot = parse(text).ok_or_else(|| ConfigError::BadValue {
                    var: var.to_owned(),
                    expected: "a size such as 2g, 64m or 1048576, or 0 for no check".to_owned(),
                    value: text.to_owned(),
                })?;
                sources.set(key, Source::Env(var.to_owned()));
            }
        }
        Ok(limits)
    }
}

/// A size (`"2g"`), or `0` for "no check".
fn parse(text: &str) -> Option<u64> {
    if text.trim() == "0" {
        Some(0)
    } else {
        parse_size(text)
    }
}

fn size_or_zero<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u64>, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "{text:?} is not a size: use bytes or a number with k, m or g (\"2g\"), or \"0\" for no check"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn the_environment_beats_the_file_and_zero_turns_a_check_off() {
        let file: FileDisk =
            toml::from_str("data_min_free = \"1g\"\ndocker_min_free = \"10g\"").unwrap();
        let mut sources = Sources::default();
        let limits =
            DiskLimits::load(&file, &env(&[("AIMA_DOCKER_MIN_FREE", "0")]), &mut sources).unwrap();
        assert_eq!(limits.data_min_free, 1 << 30);
        assert_eq!(limits.docker_min_free, 0);
        assert_eq!(sources.of("disk.data_min_free"), Source::File);
        assert_eq!(
            sources.of("disk.docker_min_free"),
            Source::Env("AIMA_DOCKER_MIN_FREE".into())
        );
    }

    #[test]
    fn defaults_and_bad_values() {
        let mut sources = Sources::default();
        let limits = DiskLimits::load(&FileDisk::default(), &env(&[]), &mut sources).unwrap();
        assert_eq!(limits, DiskLimits::default());
        let err = DiskLimits::load(
            &FileDisk::default(),
            &env(&[("AIMA_DATA_MIN_FREE", "lots")]),
            &mut sources,
        )
        .unwrap_err();
        assert!(err.to_string().contains("AIMA_DATA_MIN_FREE"), "{err}");
        assert!(toml::from_str::<FileDisk>("data_min_free = \"-1\"").is_err());
    }
}
