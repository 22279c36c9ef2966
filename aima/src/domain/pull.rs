//! When `service start` pulls its engine image: the policy, as configured per engine or asked
//! for with `--pull`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Pull only when the image is not present locally.
    #[default]
    Missing,
    /// Pull before every start, so a moved tag is picked up.
    Always,
    /// Never pull: a missing image fails the start.
    Never,
}

impl PullPolicy {
    pub const ALL: [PullPolicy; 3] = [PullPolicy::Missing, PullPolicy::Always, PullPolicy::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Missing => "missing",
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}
