//! Named API tokens: `aima token create NAME [--admin]` makes one and shows it once, only its
//! hash is kept; a request with it acts as the user NAME. Managing tokens is for admins.

use sha2::{Digest, Sha256};

use super::access::admins_only;
use crate::domain::{Actor, DAEMON_NAME, LEGACY_TOKEN_NAME};
use crate::error::{Error, Result};
use crate::store::{Store, TokenHash, TokenInfo};

/// A token just made: the secret is in no other place, so it is shown now or never.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token; not stored, not shown again.
    pub token: String,
}

/// The longest token name: a user name's length on most systems.
const MAX_NAME: usize = 32;

/// The SHA-256 of `token`, hex: what the store keeps.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token among `known` whose hash is the hash of `given`. Every hash is compared whole,
/// without an early exit, so the time taken tells nothing about how close a guess came.
pub fn find<'a>(known: &'a [TokenHash], given: &str) -> Option<&'a TokenHash> {
    let given = hash(given);
    let mut found = None;
    for token in known {
        let same = token.hash.len() == given.len()
            && token
                .hash
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            found = Some(token);
        }
    }
    found
}

/// A name a token may act as: a user name's characters, not the daemon's or the legacy token's.
fn check_name(name: &str) -> Result<()> {
    let well_formed = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if !well_formed {
        return Err(
            Error::usage(format!("bad token name {name:?}")).with_help(format!(
                "a token acts as the user it names: lowercase letters, digits, `_`, `.` and `-`, \
             starting with a letter or `_`, at most {MAX_NAME} characters"
            )),
        );
    }
    if name == DAEMON_NAME || name == LEGACY_TOKEN_NAME {
        return Err(Error::usage(format!(
            "{name} is a reserved name: `{DAEMON_NAME}` is the daemon, `{LEGACY_TOKEN_NAME}` the \
             daemon's own API token"
        ))
        .with_help("name the token after the person who will use it"));
    }
    Ok(())
}

/// Makes a token named `name` (admin or not) and returns it, once.
pub fn create_token(store: &mut Store, actor: &Actor, name: &str, admin: bool) -> Result<NewToken> {
    admins_only(actor, "create API tokens")?;
    check_name(name)?;
    let token = crate::host::secret::random_hex(32)
        .map(|hex| format!("aima_{hex}"))
        .map_err(|e| Error::internal("cannot generate a token").caused_by(e))?;
    let info = store.insert_token(name, &hash(&token), admin)?;
    Ok(NewToken { info, token })
}

pub fn list_tokens(store: &Store, actor: &Actor) -> Result<Vec<TokenInfo>> {
    admins_only(actor, "list API tokens")?;
    store.list_tokens()
}

/// Removes the token named `name`; the next request with it is refused (401).
pub fn revoke_token(store: &mut Store, actor: &Actor, name: &str) -> Result<TokenInfo> {
    admins_only(actor, "revoke API tokens")?;
    store.delete_token(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Via;
    use crate::error::Kind;

    fn bob() -> Actor {
        Actor {
            name: "bob".into(),
            groups: Vec::new(),
            admin: false,
            via: Via::Token { name: "bob".into() },
        }
    }

    #[test]
    fn a_token_is_shown_once_stored_as_its_hash_and_found_by_it() {
        let mut store = Store::open_in_memory().unwrap();
        let made = create_token(&mut store, &Actor::daemon(), "alice", false).unwrap();
        assert!(
            made.token.starts_with("aima_") && made.token.len() == 69,
            "{}",
            made.token
        );
        let hashes = store.token_hashes().unwrap();
        assert_eq!(hashes.len(), 1);
        assert_ne!(
            hashes[0].hash, made.token,
            "the token itself is never stored"
        );
        assert_eq!(
            find(&hashes, &made.token).map(|t| t.name.as_str()),
            Some("alice")
        );
        assert!(find(&hashes, "aima_not-it").is_none());
        let listed = list_tokens(&store, &Actor::daemon()).unwrap();
        assert_eq!(listed[0].name, "alice");
        assert!(!listed[0].admin);

        revoke_token(&mut store, &Actor::daemon(), "alice").unwrap();
        assert!(find(&store.token_hashes().unwrap(), &made.token).is_none());
        let again = revoke_token(&mut store, &Actor::daemon(), "alice").unwrap_err();
        assert_eq!(again.code, Kind::NotFound);
    }

    #[test]
    fn only_admins_manage_tokens() {
        let mut store = Store::open_in_memory().unwrap();
        let err = create_token(&mut store, &bob(), "bob", true).unwrap_err();
        assert_eq!(err.code, Kind::Forbidden);
        assert!(err.message.contains("bob is not one"), "{}", err.message);
        assert_eq!(
            list_tokens(&store, &bob()).unwrap_err().code,
            Kind::Forbidden
        );
    }

    #[test]
    fn names_are_user_names_and_unique() {
        let mut store = Store::open_in_memory().unwrap();
        let root = Actor::daemon();
        for bad in ["", "Alice", "a b", "aima", "admin", "-x", &"x".repeat(33)] {
            let err = create_token(&mut store, &root, bad, false).unwrap_err();
            assert_eq!(err.code, Kind::Usage, "{bad:?}");
        }
        create_token(&mut store, &root, "carol.d-1", false).unwrap();
        let twice = create_token(&mut store, &root, "carol.d-1", false).unwrap_err();
        assert_eq!(twice.code, Kind::Conflict);
    }
}
