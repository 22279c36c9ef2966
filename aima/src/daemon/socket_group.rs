//! Which group may use the daemon's socket (`[api] socket_group`): the socket is given to that
//! group, mode 0660, so its members reach the API as themselves (the daemon reads who they are
//! from the socket's peer credentials). Unset, the group `aima` is used when the system has
//! one (the Debian package creates it) and nothing changes when it does not; set to `""`, the
//! socket keeps the daemon's own group. An explicit group also opens a data dir the daemon
//! starts fresh (0750, that group), since members must search the data dir to reach the socket.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Classified, Kind};

/// The group used when `[api] socket_group` is not set and the system has it.
pub(crate) const DEFAULT_GROUP: &str = "aima";
/// The mode of a fresh data dir given to the socket group: members may search it, not write it.
const SHARED_DIR_MODE: u32 = 0o750;

/// The group the socket is given to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SocketGroup {
    pub name: String,
    pub gid: u32,
    /// Named in `config.toml` (failures are errors) rather than the default (failures warn).
    pub explicit: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SocketGroupError {
    #[error(
        "[api] socket_group names group {name:?}, which this system does not know (`getent group {name}` finds nothing)"
    )]
    Unknown { name: String },
    #[error("cannot give {} to group {group}", path.display())]
    Chgrp {
        path: PathBuf,
        group: String,
        #[source]
        source: std::io::Error,
    },
}

impl Classified for SocketGroupError {
    fn kind(&self) -> Kind {
        Kind::Storage
    }

    fn help(&self) -> Option<String> {
        Some(match self {
            SocketGroupError::Unknown { name } => format!(
                "create it (`sudo groupadd {name}`), name an existing local group, or remove socket_group from config.toml"
            ),
            SocketGroupError::Chgrp { group, .. } => format!(
                "the daemon's account must be root or a member of {group} (`sudo usermod -aG {group} \"$(id -un)\"`, then log in again), or remove socket_group from config.toml"
            ),
        })
    }
}

type Result<T> = std::result::Result<T, SocketGroupError>;

/// The group `[api] socket_group` asks for (`setting`), resolved against the system's groups.
pub(crate) fn resolve(setting: Option<&str>) -> Result<Option<SocketGroup>> {
    resolve_with(setting, group_id)
}

/// The id of group `name`, as the system's account database (NSS) knows it.
fn group_id(name: &str) -> Option<u32> {
    let group = nix::unistd::Group::from_name(name).ok().flatten()?;
    Some(group.gid.as_raw())
}

fn resolve_with(
    setting: Option<&str>,
    lookup: impl Fn(&str) -> Option<u32>,
) -> Result<Option<SocketGroup>> {
    match setting.map(str::trim) {
        Some("") => Ok(None),
        Some(name) => match lookup(name) {
            Some(gid) => Ok(Some(SocketGroup {
                name: name.to_owned(),
                gid,
                explicit: true,
            })),
            None => Err(SocketGroupError::Unknown {
                name: name.to_owned(),
            }),
        },
        None => Ok(lookup(DEFAULT_GROUP).map(|gid| SocketGroup {
            name: DEFAULT_GROUP.to_owned(),
            gid,
            explicit: false,
        })),
    }
}

impl SocketGroup {
    /// Gives the socket at `path` to the group. A default group the daemon may not use is
    /// logged and left alone (the socket keeps the daemon's group, as before the setting).
    pub(crate) fn give_socket(&self, path: &Path) -> Result<()> {
        match std::os::unix::fs::chown(path, None, Some(self.gid)) {
            Ok(()) => Ok(()),
            Err(source) if self.explicit => Err(SocketGroupError::Chgrp {
                path: path.to_owned(),
                group: self.name.clone(),
                source,
            }),
            Err(e) => {
                tracing::info!(
                    group = %self.name,
                    "the socket keeps the daemon's own group: cannot give it to group {} ({e}); set [api] socket_group to choose",
                    self.name
                );
                Ok(())
            }
        }
    }

    /// A data dir the daemon starts `fresh` (no state yet) is given to an explicit group, mode
    /// 0750. Any other data dir is left as the operator made it, with a warning when members
    /// of the group cannot reach the socket through it.
    pub(crate) fn open_data_dir(&self, dir: &Path, fresh: bool) -> Result<()> {
        if fresh && self.explicit {
            let failed = |source| SocketGroupError::Chgrp {
                path: dir.to_owned(),
                group: self.name.clone(),
                source,
            };
            std::os::unix::fs::chown(dir, None, Some(self.gid)).map_err(failed)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(SHARED_DIR_MODE))
                .map_err(failed)?;
            return Ok(());
        }
        if let Ok(meta) = std::fs::metadata(dir)
            && !group_may_search(meta.gid(), meta.mode(), self.gid)
        {
            tracing::warn!(
                "members of group {} cannot reach the socket: data dir {} is mode {:04o}, group id {}; `chgrp {} {} && chmod 750 {}` lets them",
                self.name,
                dir.display(),
                meta.mode() & 0o7777,
                meta.gid(),
                self.name,
                dir.display(),
                dir.display()
            );
        }
        Ok(())
    }
}

/// Whether members of group `gid` may search a directory of group `dir_gid` and `mode`.
fn group_may_search(dir_gid: u32, mode: u32, gid: u32) -> bool {
    mode & 0o001 != 0 || (dir_gid == gid && mode & 0o010 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<u32> {
        match name {
            "aima" => Some(997),
            "lab" => Some(1500),
            _ => None,
        }
    }

    #[test]
    fn unset_uses_aima_when_it_exists_and_nothing_otherwise() {
        let got = resolve_with(None, lookup).unwrap().unwrap();
        assert_eq!(
            (got.name.as_str(), got.gid, got.explicit),
            ("aima", 997, false)
        );
        assert_eq!(resolve_with(None, |_| None).unwrap(), None);
    }

    #[test]
    fn an_explicit_group_must_exist_and_empty_means_none() {
        let got = resolve_with(Some("lab"), lookup).unwrap().unwrap();
        assert_eq!((got.gid, got.explicit), (1500, true));
        assert_eq!(resolve_with(Some(""), lookup).unwrap(), None);
        let err = resolve_with(Some("nolab"), lookup).unwrap_err();
        assert_eq!(err.kind(), Kind::Storage);
        assert!(err.to_string().contains("\"nolab\""), "{err}");
        assert!(err.help().unwrap().contains("groupadd nolab"));
    }

    #[test]
    fn the_system_knows_root_and_not_a_made_up_group() {
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(group_id("no-such-group-aima-test"), None);
    }

    #[test]
    fn searching_needs_the_group_bit_of_the_same_group_or_the_other_bit() {
        assert!(group_may_search(997, 0o750, 997));
        assert!(!group_may_search(0, 0o750, 997));
        assert!(!group_may_search(997, 0o700, 997));
        assert!(group_may_search(0, 0o711, 997));
    }

    /// The daemon's own primary group: any process may give its files to it.
    fn own_group(explicit: bool) -> SocketGroup {
        SocketGroup {
            name: "own".into(),
            gid: rustix::process::getegid().as_raw(),
            explicit,
        }
    }

    #[test]
    fn a_fresh_data_dir_is_opened_only_for_an_explicit_group() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mode = |dir: &Path| std::fs::metadata(dir).unwrap().mode() & 0o7777;
        own_group(false).open_data_dir(&dir, true).unwrap();
        assert_eq!(mode(&dir), 0o700, "the default group opened a data dir");
        own_group(true).open_data_dir(&dir, false).unwrap();
        assert_eq!(mode(&dir), 0o700, "a data dir with state was changed");
        own_group(true).open_data_dir(&dir, true).unwrap();
        assert_eq!(mode(&dir), SHARED_DIR_MODE);
    }

    #[test]
    fn a_group_the_daemon_may_not_use_fails_only_when_explicit() {
        if rustix::process::geteuid().is_root() {
            return; // root may give files to any group; the refusal cannot be shown
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sock");
        std::fs::write(&file, b"").unwrap();
        let foreign = |explicit| SocketGroup {
            name: "root".into(),
            gid: 0,
            explicit,
        };
        foreign(false).give_socket(&file).unwrap();
        let err = foreign(true).give_socket(&file).unwrap_err();
        assert!(err.help().unwrap().contains("usermod -aG root"), "{err}");
    }
}
