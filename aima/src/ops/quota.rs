//! Quotas as the operations see them: the port range at `service create`, and a person's
//! use against their limits for `aima quota` and `GET /api/v2/quota`.

use crate::domain::{Actor, Holding, HostPort, PortRange, check_quota_port};
use crate::error::{Error, Kind, Result};
use crate::lifecycle::Deps;
use crate::lifecycle::quota::person;

/// The range a new service's port must lie in, for whoever creates it: `None` when their
/// quota has no `ports`. An explicit `port` outside it is refused.
pub(crate) fn ports_at_create(
    deps: &Deps,
    port: Option<HostPort>,
    name: Option<&str>,
) -> Result<Option<PortRange>> {
    let Some(actor) = deps.acting.as_ref() else {
        return Ok(None);
    };
    let Some(ports) = deps.config.quotas.for_person(person(actor)).ports else {
        return Ok(None);
    };
    if let Some(port) = port {
        let wanted = Holding {
            id: String::new(),
            name: format!("service {}", name.unwrap_or("new")),
            gpus: 0,
            memory: 0,
            port,
        };
        check_quota_port(&actor.name, &ports, &wanted)
            .map_err(|r| Error::new(Kind::QuotaExceeded, r.message).with_help(r.help))?;
    }
    Ok(Some(ports.value))
}

#[expect(dead_code, reason = "used by the quota report, next")]
fn _actor(_: &Actor) {}
