//! `[access]`: who counts as an admin beyond root and the daemon's own user (`admin_group`),
//! and who may read a service's engine logs and chat with it (`logs`). File only.

use serde::Deserialize;

use super::{Source, Sources};

/// Who may read a service's logs and chat with its engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogAccess {
    /// Its owner and admins (the default): logs may hold prompts and secrets.
    #[default]
    Owner,
    /// Everyone signed in.
    All,
}

/// `[access]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Access {
    /// Members of this group are admins (`admin_group`; unset: none beyond root and the
    /// daemon's own user).
    pub admin_group: Option<String>,
    pub logs: LogAccess,
}

/// `[access]` as the file has it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAccess {
    admin_group: Option<String>,
    logs: Option<LogAccess>,
}

impl Access {
    /// The defaults, then the file; an empty group name is no group.
    pub(super) fn load(file: &FileAccess, sources: &mut Sources) -> Self {
        let mut access = Access::default();
        if let Some(group) = file.admin_group.as_deref().map(str::trim)
            && !group.is_empty()
        {
            access.admin_group = Some(group.to_owned());
            sources.set("access.admin_group", Source::File);
        }
        if let Some(logs) = file.logs {
            access.logs = logs;
            sources.set("access.logs", Source::File);
        }
        access
    }
}
