//! Owner leases: a start (or stop) claims its service with this process as owner and a lease,
//! and renews the lease while it works. A reader declares the owner gone when this host sees its
//! process dead, or — wherever it runs, even in another PID namespace or on another host sharing
//! the data dir — when its lease has lapsed: a hung starter is then reported `failed` too.

use std::convert::Infallible;

use super::Deps;
use crate::clock;
use crate::domain::{Owner, ServiceId, Status};
use crate::host::Liveness;
use crate::store::Store;

/// This process as the owner of a claim made now.
pub(super) fn claim(deps: &Deps) -> Owner {
    Owner {
        lease_until: clock::now_ms() + deps.config.lease.as_millis() as i64,
        ..deps.host.current_owner()
    }
}

/// Renews `owner`'s lease on `id` a few times per lease period, for as long as it is polled
/// (the caller races it against the work). Stops renewing, silently, once the row is no longer
/// this owner's `status`: whoever took it over decides now.
pub(super) async fn keep_alive(
    store: &mut Store,
    id: &ServiceId,
    status: Status,
    owner: Owner,
    lease: std::time::Duration,
) -> Infallible {
    let every = (lease / 3).max(std::time::Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let until = clock::now_ms() + lease.as_millis() as i64;
        match store.renew_lease(id, status, &owner, until) {
            Ok(true) => {}
            Ok(false) => break,
            // The next beat tries again; the lease covers a few missed ones.
            Err(e) => tracing::warn!(service = %id, "cannot renew the lease: {}", e.message),
        }
    }
    std::future::pending().await
}

/// Why the owner of a `starting`/`stopping` row is gone, if it is: `None` while it may still
/// be working.
pub(super) fn gone(deps: &Deps, owner: Owner) -> Option<String> {
    let pid = owner.pid;
    if clock::now_ms() > owner.lease_until {
        return Some(format!(
            "the aima process that ran it (pid {pid}) has not renewed its lease since {}: it hung, \
             or is gone where this host cannot see it",
            clock::rfc3339(owner.lease_until)
        ));
    }
    match deps.host.owner_liveness(owner) {
        Liveness::Dead => Some(format!("the aima process that ran it (pid {pid}) is gone")),
        // Another namespace or boot: its pid means nothing here, only its lease can tell.
        Liveness::Alive | Liveness::Unknowable => None,
    }
}
