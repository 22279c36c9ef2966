//! The system's accounts: the name of a uid and the groups of a user, as the C library's
//! account database (NSS) answers. A lookup may block on a network directory (LDAP, SSSD):
//! async callers run it on the blocking pool.

use std::ffi::CString;

use nix::unistd::{Gid, Group, Uid, User, getgrouplist};

use crate::domain::{Actor, Via};

/// The user name of `uid`, or `uid:1234` when the account database has none.
pub fn name_of_uid(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => format!("uid:{uid}"),
    }
}

/// The names of the groups `name` belongs to (its primary group first when it has one);
/// empty for a name that is no account here (a token's name, `uid:1234`).
pub fn groups_of(name: &str) -> Vec<String> {
    let Ok(Some(user)) = User::from_name(name) else {
        return Vec::new();
    };
    let Ok(c_name) = CString::new(name) else {
        return Vec::new();
    };
    let gids = getgrouplist(&c_name, user.gid).unwrap_or_else(|_| vec![user.gid]);
    let mut names: Vec<String> = Vec::with_capacity(gids.len());
    for gid in std::iter::once(user.gid).chain(gids) {
        let name = group_name(gid);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn group_name(gid: Gid) -> String {
    match Group::from_gid(gid) {
        Ok(Some(group)) => group.name,
        _ => format!("gid:{gid}"),
    }
}

/// Who decides admin: uid 0 and the daemon's own uid always are; members of `admin_group`
/// (`[access] admin_group`) too.
#[derive(Debug, Clone, Default)]
pub struct AdminRule {
    pub admin_group: Option<String>,
}

impl AdminRule {
    fn by_groups(&self, groups: &[String]) -> bool {
        self.admin_group
            .as_deref()
            .is_some_and(|admin| groups.iter().any(|g| g == admin))
    }
}

/// The peer of the daemon's unix socket with credentials `uid`/`gid`.
pub fn socket_peer(uid: u32, gid: u32, rule: &AdminRule) -> Actor {
    let name = name_of_uid(uid);
    let groups = groups_of(&name);
    let me = Uid::effective().as_raw();
    Actor {
        admin: uid == 0 || uid == me || rule.by_groups(&groups),
        name,
        groups,
        via: Via::Socket { uid, gid },
    }
}

/// The holder of the named token `name`: acts as the system user of that name when there is
/// one (for its groups); admin when the token was made so, or through the admin group.
pub fn token_holder(name: &str, admin: bool, rule: &AdminRule) -> Actor {
    let groups = groups_of(name);
    Actor {
        admin: admin || rule.by_groups(&groups),
        name: name.to_owned(),
        groups,
        via: Via::Token {
            name: name.to_owned(),
        },
    }
}

/// The name of the OS user running this process.
pub fn this_user() -> String {
    name_of_uid(Uid::effective().as_raw())
}

/// The OS user running this process: the in-process CLI, which writes the store itself and so
/// is an admin of it.
pub fn this_process() -> Actor {
    let name = this_user();
    Actor {
        groups: groups_of(&name),
        name,
        admin: true,
        via: Via::InProcess,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_0_is_root_and_an_unknown_uid_reads_as_its_number() {
        assert_eq!(name_of_uid(0), "root");
        assert_eq!(name_of_uid(3_999_999_999), "uid:3999999999");
    }

    #[test]
    fn root_is_in_its_own_group() {
        assert!(groups_of("root").iter().any(|g| g == "root"));
        assert!(groups_of("no-such-user-of-aima").is_empty());
    }

    #[test]
    fn a_socket_peer_of_another_uid_is_that_user_and_admin_only_as_root() {
        let root = socket_peer(0, 0, &AdminRule::default());
        assert_eq!((root.name.as_str(), root.admin), ("root", true));
        assert_eq!(root.via, Via::Socket { uid: 0, gid: 0 });
        let stranger = socket_peer(3_999_999_999, 3_999_999_999, &AdminRule::default());
        assert_eq!(stranger.name, "uid:3999999999");
        assert!(!stranger.admin, "a uid with no account is no admin");
    }

    #[test]
    fn the_admin_group_makes_its_members_admins() {
        let rule = AdminRule {
            admin_group: Some("root".into()),
        };
        assert!(token_holder("root", false, &rule).admin);
        assert!(!token_holder("nobody-at-all", false, &rule).admin);
        assert!(token_holder("nobody-at-all", true, &AdminRule::default()).admin);
    }

    #[test]
    fn this_process_is_an_admin_acting_in_process() {
        let me = this_process();
        assert!(me.admin);
        assert_eq!(me.via, Via::InProcess);
        assert!(!me.name.is_empty());
    }
}
