//! Who acts: the person (or the daemon itself) behind a command or a request, with the groups
//! that decide their quotas and whether they may change what others own.

use serde::Serialize;

/// The name the daemon's own changes carry (the supervisor's restarts, the reconciler's
/// verdicts): never a person's, so a person named `aima` is still a person.
pub const DAEMON_NAME: &str = "aima";

/// The name the legacy API token (`AIMA_API_TOKEN`, `[api] token`, the `api-token` file) acts as.
pub const LEGACY_TOKEN_NAME: &str = "admin";

/// How an actor reached aima.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Via {
    /// A CLI command writing the store itself (no `--host`): the OS user running it.
    InProcess,
    /// The daemon's unix socket: the peer's credentials as the kernel reported them.
    Socket { uid: u32, gid: u32 },
    /// A bearer token over TCP (or the status page's sign-in): the token's name.
    Token { name: String },
    /// The daemon itself.
    Daemon,
}

/// A user of aima as one request or command sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The user name (`alice`), `uid:1234` for a uid with no name, `aima` for the daemon.
    pub name: String,
    /// The user's groups by name (supplementary groups, the primary one included).
    pub groups: Vec<String>,
    /// May change what anyone owns, and manage tokens.
    pub admin: bool,
    pub via: Via,
}

impl Actor {
    /// The daemon's own changes (supervisor, reconciler): admin.
    pub fn daemon() -> Self {
        Actor {
            name: DAEMON_NAME.to_owned(),
            groups: Vec::new(),
            admin: true,
            via: Via::Daemon,
        }
    }

    /// Whether the actor is `name` or an admin: who may change what `name` owns.
    pub fn is_or_admin(&self, name: &str) -> bool {
        self.admin || self.name == name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_is_an_admin_named_aima() {
        let daemon = Actor::daemon();
        assert_eq!((daemon.name.as_str(), daemon.admin), ("aima", true));
        assert_eq!(daemon.via, Via::Daemon);
    }

    #[test]
    fn only_the_owner_or_an_admin_passes() {
        let bob = Actor {
            name: "bob".into(),
            groups: vec!["ml".into()],
            admin: false,
            via: Via::Token { name: "bob".into() },
        };
        assert!(bob.is_or_admin("bob"));
        assert!(!bob.is_or_admin("alice"));
        assert!(Actor::daemon().is_or_admin("alice"));
    }
}
