//! Finding the record a person means: by full id, by unique name, or by an unambiguous id
//! prefix (`svc-1a2b`, or just `1a2b`), as `docker` accepts id prefixes.
//!
//! Precedence: an exact id, then an exact name, then an id prefix. A name shared by several
//! records, or a prefix of several ids, is a usage error (exit 2) listing the candidates, so a
//! command never acts on a record the person did not mean.

use crate::domain::{BadId, ModelId, ServiceId};
use crate::error::{Error, Result};
use crate::store::Store;

/// The service `given` names.
pub(crate) fn service(store: &Store, given: &str) -> Result<ServiceId> {
    let services = store.list_services()?;
    let records = services.iter().map(|s| (s.id.as_str(), s.name.as_str()));
    let id = resolve(Kind::SERVICE, given, records)?;
    Ok(ServiceId::parse(&id)?)
}

/// The model `given` names.
pub(crate) fn model(store: &Store, given: &str) -> Result<ModelId> {
    let models = store.list_models()?;
    let records = models.iter().map(|m| (m.id.as_str(), m.name.as_str()));
    let id = resolve(Kind::MODEL, given, records)?;
    Ok(ModelId::parse(&id)?)
}

/// What is being looked up, as errors name it.
struct Kind {
    what: &'static str,
    prefix: &'static str,
}

impl Kind {
    const SERVICE: Kind = Kind {
        what: "service",
        prefix: ServiceId::PREFIX,
    };
    const MODEL: Kind = Kind {
        what: "model",
        prefix: ModelId::PREFIX,
    };
}

/// The id of the one record among `(id, name)` pairs that `given` designates.
fn resolve<'a>(
    kind: Kind,
    given: &str,
    records: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Result<String> {
    if let Some((id, _)) = records.clone().find(|(id, _)| *id == given) {
        return Ok(id.to_owned());
    }
    let by_name: Vec<(&str, &str)> = records.clone().filter(|(_, n)| *n == given).collect();
    if let Some(id) = one(&kind, given, "name", &by_name)? {
        return Ok(id);
    }
    let hex = given.strip_prefix(kind.prefix).unwrap_or(given);
    let by_prefix: Vec<(&str, &str)> = if hex.is_empty() {
        Vec::new()
    } else {
        records
            .filter(|(id, _)| id[kind.prefix.len()..].starts_with(hex))
            .collect()
    };
    if let Some(id) = one(&kind, given, "id prefix", &by_prefix)? {
        return Ok(id);
    }
    Err(not_found(&kind, given))
}

/// `None` when nothing matched, the id when one did, an error listing them when several did.
fn one(kind: &Kind, given: &str, how: &str, matches: &[(&str, &str)]) -> Result<Option<String>> {
    match matches {
        [] => Ok(None),
        [(id, _)] => Ok(Some((*id).to_owned())),
        several => {
            let listed: Vec<String> = several
                .iter()
                .map(|(id, name)| format!("{id} ({name})"))
                .collect();
            Err(Error::usage(format!(
                "{} {given:?} is ambiguous: {} {}s match it: {}",
                kind.what,
                several.len(),
                kind.what,
                listed.join(", ")
            ))
            .with_help(format!(
                "the {how} matches several {}s: give the full id of the one you mean",
                kind.what
            )))
        }
    }
}

/// No record matched: the familiar "not found", with what may be given instead.
fn not_found(kind: &Kind, given: &str) -> Error {
    let well_formed = match kind.prefix {
        ServiceId::PREFIX => ServiceId::parse(given).is_ok(),
        _ => ModelId::parse(given).is_ok(),
    };
    if well_formed {
        return Error::not_found(kind.what, given);
    }
    Error::from(BadId {
        what: kind.what,
        prefix: kind.prefix,
        given: given.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDS: [(&str, &str); 4] = [
        ("svc-1a2b0001", "chat"),
        ("svc-1a2b0002", "embed"),
        ("svc-ffff0003", "twin"),
        ("svc-eeee0004", "twin"),
    ];

    fn find(given: &str) -> Result<String> {
        resolve(Kind::SERVICE, given, RECORDS.iter().copied())
    }

    #[test]
    fn ids_names_and_prefixes_resolve() {
        assert_eq!(find("svc-1a2b0002").unwrap(), "svc-1a2b0002");
        assert_eq!(find("chat").unwrap(), "svc-1a2b0001");
        assert_eq!(find("svc-ff").unwrap(), "svc-ffff0003");
        assert_eq!(find("eee").unwrap(), "svc-eeee0004");
    }

    #[test]
    fn ambiguity_lists_the_candidates_as_a_usage_error() {
        let err = find("1a2b").unwrap_err();
        assert_eq!(err.code.exit_code(), 2);
        assert_eq!(
            err.message,
            "service \"1a2b\" is ambiguous: 2 services match it: svc-1a2b0001 (chat), svc-1a2b0002 (embed)"
        );
        let err = find("twin").unwrap_err();
        assert!(
            err.message
                .contains("svc-ffff0003 (twin), svc-eeee0004 (twin)")
        );
        assert!(err.help.unwrap().contains("name matches several services"));
    }

    #[test]
    fn nothing_matching_is_not_found() {
        for given in ["svc-99999999", "nope", "svc-", ""] {
            let err = find(given).unwrap_err();
            assert_eq!(err.code.exit_code(), 3, "{given}");
        }
    }
}
