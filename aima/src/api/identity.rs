//! Who a request is, as an [`Actor`] every handler can take (`Extension<Actor>`):
//!
//! - through the unix socket: the peer's uid as the kernel reports it (`SO_PEERCRED`), named by
//!   the account database; admin when it is root or the daemon's own user, or in
//!   `[access] admin_group`;
//! - over TCP: the daemon's own token acts as the admin `admin`; a named token (`aima token
//!   create`) as the user it names; a daemon without a token (`[api] auth = "none"`) lets
//!   anyone in as the admin `anonymous`, as it always did.
//!
//! Account lookups may block (a network directory): they run on the blocking pool, and their
//! answers are kept for a few seconds, so a burst of requests asks once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::{Actor, LEGACY_TOKEN_NAME, Via};
use crate::host::users::{self, AdminRule};

/// The daemon's unix-socket peer, as the server read it when it accepted the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerCred {
    pub uid: u32,
    pub gid: u32,
}

/// The name anyone acts as on a daemon that asks for no token.
pub(crate) const ANONYMOUS: &str = "anonymous";

/// How long a looked-up identity is reused: a user added to a group counts within this.
const KEEP: Duration = Duration::from_secs(10);
/// Identities kept at most; past it the cache starts over.
const MAX_KEPT: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Peer(u32, u32),
    Token(String, bool),
}

/// Recently built identities.
#[derive(Default)]
pub(crate) struct Identities {
    kept: Mutex<HashMap<Key, (Instant, Actor)>>,
}

impl Identities {
    /// The unix-socket peer `cred`.
    pub(crate) async fn peer(&self, cred: PeerCred, rule: &AdminRule) -> Actor {
        let rule = rule.clone();
        self.get(Key::Peer(cred.uid, cred.gid), move || {
            users::socket_peer(cred.uid, cred.gid, &rule)
        })
        .await
    }

    /// The holder of the named token `name`.
    pub(crate) async fn token(&self, name: &str, admin: bool, rule: &AdminRule) -> Actor {
        let rule = rule.clone();
        let owned = name.to_owned();
        self.get(Key::Token(name.to_owned(), admin), move || {
            users::token_holder(&owned, admin, &rule)
        })
        .await
    }

    async fn get(&self, key: Key, build: impl FnOnce() -> Actor + Send + 'static) -> Actor {
        let now = Instant::now();
        if let Some((at, actor)) = self.lock().get(&key)
            && now.duration_since(*at) < KEEP
        {
            return actor.clone();
        }
        let fallback = match &key {
            Key::Peer(uid, gid) => Actor {
                name: format!("uid:{uid}"),
                groups: Vec::new(),
                admin: false,
                via: Via::Socket {
                    uid: *uid,
                    gid: *gid,
                },
            },
            Key::Token(name, admin) => Actor {
                name: name.clone(),
                groups: Vec::new(),
                admin: *admin,
                via: Via::Token { name: name.clone() },
            },
        };
        // A lookup task that fails leaves the identity without groups, never without a name.
        let actor = tokio::task::spawn_blocking(build)
            .await
            .unwrap_or(fallback);
        let mut kept = self.lock();
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(key, (now, actor.clone()));
        actor
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, Actor)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The holder of the daemon's own token.
pub(crate) fn legacy_admin() -> Actor {
    Actor {
        name: LEGACY_TOKEN_NAME.to_owned(),
        groups: Vec::new(),
        admin: true,
        via: Via::Token {
            name: LEGACY_TOKEN_NAME.to_owned(),
        },
    }
}

/// Anyone, on a daemon that asks for no token.
pub(crate) fn anonymous() -> Actor {
    Actor {
        name: ANONYMOUS.to_owned(),
        groups: Vec::new(),
        admin: true,
        via: Via::Token {
            name: ANONYMOUS.to_owned(),
        },
    }
}

/// The daemon's own user, for a request through the unix socket whose peer is not known (a
/// router driven directly, as in tests): the socket admits the daemon's user and group only.
pub(crate) fn socket_owner() -> Actor {
    Actor {
        via: Via::Socket {
            uid: nix::unistd::Uid::effective().as_raw(),
            gid: nix::unistd::Gid::effective().as_raw(),
        },
        ..users::this_process()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_peer_is_looked_up_once_and_then_kept() {
        let ids = Identities::default();
        let root = ids.peer(PeerCred { uid: 0, gid: 0 }, &AdminRule::default()).await;
        assert_eq!((root.name.as_str(), root.admin), ("root", true));
        // A second look within the keep time is answered from memory.
        ids.lock().get_mut(&Key::Peer(0, 0)).unwrap().1.name = "kept".into();
        let again = ids.peer(PeerCred { uid: 0, gid: 0 }, &AdminRule::default()).await;
        assert_eq!(again.name, "kept");
    }

    #[tokio::test]
    async fn a_token_acts_as_its_name() {
        let ids = Identities::default();
        let bob = ids.token("bob", false, &AdminRule::default()).await;
        assert_eq!((bob.name.as_str(), bob.admin), ("bob", false));
        assert_eq!(bob.via, Via::Token { name: "bob".into() });
    }
}
