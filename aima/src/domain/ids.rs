//! Identifiers of records (`model-` / `svc-` followed by 8 lowercase hex characters), and of
//! what the container runtime runs for a service.

use std::fmt;

use serde::{Deserialize, Serialize};

/// 8 hex characters from the OS random source; collisions are caught by the store's unique key.
fn random_hex8() -> String {
    format!("{:08x}", random_u64() as u32)
}

/// A random positive number that tells one claim on a service from every other.
pub(crate) fn random_claim() -> i64 {
    (random_u64() >> 1) as i64 | 1
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS per instance; mixing the time and pid makes two
    // processes started in the same instant still differ.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(crate::clock::now_nanos());
    h.write_u32(std::process::id());
    h.finish()
}

/// A string that is not an id of this kind; reported as "not found", since no record has it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {given} not found")]
pub struct BadId {
    /// `model` or `service`.
    pub what: &'static str,
    pub prefix: &'static str,
    pub given: String,
}

macro_rules! record_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                $name(format!("{}{}", $prefix, random_hex8()))
            }

            /// Accepts only well-formed ids, so a typo is reported as such rather than "not found".
            pub fn parse(s: &str) -> Result<Self, BadId> {
                let hex = s.strip_prefix($prefix).unwrap_or("");
                if hex.len() == 8
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    Ok($name(s.to_owned()))
                } else {
                    Err(BadId {
                        what: $what,
                        prefix: $prefix,
                        given: s.to_owned(),
                    })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

record_id!(ModelId, "model-", "model");
record_id!(ServiceId, "svc-", "service");

/// What the container runtime runs a service's engine as, in the runtime's own id: a Docker
/// container's id on plain Docker, the id of the engine's one-replica Swarm service on a Swarm.
/// Opaque above the runtime: compared, stored, shown, never parsed. Serialized as a plain string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContainerId(String);

impl ContainerId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its first 12 characters, as `docker ps` shows a container id.
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }
}

impl From<String> for ContainerId {
    fn from(id: String) -> Self {
        ContainerId(id)
    }
}

impl From<&str> for ContainerId {
    fn from(id: &str) -> Self {
        ContainerId(id.to_owned())
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_prefix_and_eight_hex_chars() {
        let id = ServiceId::generate();
        assert!(ServiceId::parse(id.as_str()).is_ok(), "{id}");
        assert_eq!(id.as_str().len(), 12);
        assert!(ModelId::generate().as_str().starts_with("model-"));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "svc-123",
            "svc-1234567g",
            "model-12345678",
            "",
            "svc-ABCDEF12",
        ] {
            assert!(ServiceId::parse(bad).is_err(), "{bad}");
        }
    }
}
