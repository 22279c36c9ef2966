//! Who may change what: a service belongs to the user who created it, a model to the user who
//! registered it; the owner and admins may change it, everyone signed in may read it. Creating
//! a service on another user's model is allowed: models are shared registrations.

use crate::config::LogAccess;
use crate::domain::{Actor, Model, Service};
use crate::error::{Error, Kind, Result};
use crate::store::{Store, StoreHandle};

/// Whether `actor` may `what` (a verb: "stop", "delete", …) something owned by `owner`, named
/// `thing` ("service qwen-vllm"). `None` owns rows from before owners were recorded: only
/// admins may change those. A refusal is [`Kind::Forbidden`] and says whom to ask.
pub fn may_change(actor: &Actor, owner: Option<&str>, thing: &str, what: &str) -> Result<()> {
    match owner {
        _ if actor.admin => Ok(()),
        Some(owner) if actor.is_or_admin(owner) => Ok(()),
        Some(owner) => Err(Error::new(
            Kind::Forbidden,
            format!(
                "{thing} belongs to {owner}; {} may not {what} it",
                actor.name
            ),
        )
        .with_help(format!("ask {owner} or an aima admin to {what} it"))),
        None => Err(Error::new(
            Kind::Forbidden,
            format!(
                "{thing} has no recorded owner (it predates owners); only an admin may {what} it, \
                 and {} is not one",
                actor.name
            ),
        )
        .with_help(format!("ask an aima admin to {what} it"))),
    }
}

/// [`may_change`] for a service.
pub fn may_change_service(actor: &Actor, svc: &Service, what: &str) -> Result<()> {
    may_change(
        actor,
        svc.created_by.as_deref(),
        &format!("service {}", svc.name),
        what,
    )
}

/// [`may_change`] for a model.
pub fn may_change_model(actor: &Actor, model: &Model, what: &str) -> Result<()> {
    may_change(
        actor,
        model.created_by.as_deref(),
        &format!("model {}", model.name),
        what,
    )
}

/// Whether `actor` may read the engine logs of a service and chat with it: with `[access] logs =
/// "owner"` (the default) as for a change, with `"all"` everyone signed in.
fn logs_allowed(
    actor: &Actor,
    owner: Option<&str>,
    name: &str,
    logs: LogAccess,
    what: &str,
) -> Result<()> {
    match logs {
        LogAccess::All => Ok(()),
        LogAccess::Owner => may_change(actor, owner, &format!("service {name}"), what),
    }
}

/// [`may_change_service`] for the service `given` (id, name or id prefix); not found as the
/// verb itself would say.
pub async fn check_service(
    store: &StoreHandle,
    actor: &Actor,
    given: &str,
    what: &str,
) -> Result<()> {
    if actor.admin {
        return Ok(());
    }
    let svc = super::get_service_recorded_by(store, given).await?;
    may_change_service(actor, &svc, what)
}

/// [`logs_allowed`] for the service `given` (id, name or id prefix); `what` is the verb the
/// refusal names ("read the logs of", "chat with").
pub async fn check_logs(
    store: &StoreHandle,
    actor: &Actor,
    given: &str,
    logs: LogAccess,
    what: &str,
) -> Result<()> {
    if actor.admin {
        return Ok(());
    }
    let svc = super::get_service_recorded_by(store, given).await?;
    logs_allowed(actor, svc.created_by.as_deref(), &svc.name, logs, what)
}

/// What only an admin may do (tokens, the engines' shared caches): anyone else is refused.
pub fn admins_only(actor: &Actor, what: &str) -> Result<()> {
    if actor.admin {
        return Ok(());
    }
    Err(Error::new(
        Kind::Forbidden,
        format!("only an admin may {what}; {} is not one", actor.name),
    )
    .with_help("ask an aima admin"))
}

/// [`may_change_model`] for the model `given` (id, name or id prefix).
pub fn check_model(store: &Store, actor: &Actor, given: &str, what: &str) -> Result<()> {
    if actor.admin {
        return Ok(());
    }
    may_change_model(actor, &super::get_model(store, given)?, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Via;

    fn user(name: &str, admin: bool) -> Actor {
        Actor {
            name: name.into(),
            groups: Vec::new(),
            admin,
            via: Via::Token { name: name.into() },
        }
    }

    #[test]
    fn the_owner_may_change_what_is_theirs() {
        may_change(&user("alice", false), Some("alice"), "service s", "stop").unwrap();
    }

    #[test]
    fn another_user_is_refused_with_the_owner_named() {
        let err =
            may_change(&user("bob", false), Some("alice"), "service qwen", "stop").unwrap_err();
        assert_eq!(err.code, Kind::Forbidden);
        assert_eq!(
            err.message,
            "service qwen belongs to alice; bob may not stop it"
        );
        assert_eq!(
            err.help.as_deref(),
            Some("ask alice or an aima admin to stop it")
        );
    }

    #[test]
    fn an_admin_may_change_anything_even_without_an_owner() {
        may_change(&user("root", true), Some("alice"), "service s", "delete").unwrap();
        may_change(&user("root", true), None, "service s", "delete").unwrap();
        may_change(&Actor::daemon(), Some("alice"), "service s", "start").unwrap();
    }

    #[test]
    fn logs_follow_the_access_setting() {
        let bob = user("bob", false);
        let refused = logs_allowed(
            &bob,
            Some("alice"),
            "s",
            LogAccess::Owner,
            "read the logs of",
        )
        .unwrap_err();
        assert_eq!(refused.code, Kind::Forbidden);
        assert_eq!(
            refused.message,
            "service s belongs to alice; bob may not read the logs of it"
        );
        logs_allowed(&bob, Some("alice"), "s", LogAccess::All, "chat with").unwrap();
        logs_allowed(
            &user("alice", false),
            Some("alice"),
            "s",
            LogAccess::Owner,
            "chat with",
        )
        .unwrap();
    }

    #[test]
    fn rows_from_before_owners_are_for_admins_only() {
        let err = may_change(&user("bob", false), None, "model m", "delete").unwrap_err();
        assert_eq!(err.code, Kind::Forbidden);
        assert!(
            err.message.contains("only an admin may delete it"),
            "{}",
            err.message
        );
    }
}
