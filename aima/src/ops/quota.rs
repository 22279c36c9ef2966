//! Quotas as the operations see them: the port range at `service create`, and a person's
//! use against their limits for `aima quota` and `GET /api/v2/quota`.

use crate::domain::{Actor, Holding, HostPort, PortRange, UseRow, check_quota_port, quota_rows};
use crate::error::{Error, Kind, Result};
use crate::lifecycle::Deps;
use crate::lifecycle::quota::{held_by, holdings, person};
use crate::store::StoreHandle;

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

/// A person's limits, each with its use now and the services using it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct QuotaReport {
    pub user: String,
    /// One row per limit that applies; empty when none does.
    pub quotas: Vec<UseRow>,
}

/// The report for `who` from the services as recorded (starting or running, owned by them).
/// Docker is asked for the host's memory only when a memory quota needs it, and its absence
/// then fails the report rather than show a wrong sum.
pub async fn report(deps: &Deps, store: &StoreHandle, who: &Actor) -> Result<QuotaReport> {
    let applied = deps.config.quotas.for_person(person(who));
    let services = store.list_services().await?;
    let mine = held_by(&who.name, &services);
    let rt = match applied.memory {
        Some(_) => Some(deps.docker().await?),
        None => None,
    };
    let held = holdings(deps, rt.as_deref(), &applied, &mine).await?;
    Ok(QuotaReport {
        user: who.name.clone(),
        quotas: quota_rows(&applied, &held),
    })
}

/// The person `aima quota USER` and `?user=` name: the caller when it is them, else the
/// system user of that name with their groups, looked at as someone who is not an admin.
pub fn named(caller: &Actor, user: Option<&str>) -> Actor {
    match user {
        Some(name) if name != caller.name => Actor {
            name: name.to_owned(),
            groups: crate::host::users::groups_of(name),
            admin: false,
            via: caller.via.clone(),
        },
        _ => caller.clone(),
    }
}
