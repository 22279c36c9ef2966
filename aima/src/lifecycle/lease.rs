//! Owner leases: a start (or stop) claims its service with this process as owner and a lease,
//! and renews the lease while it works. A reader declares the owner gone when this host sees its
//! process dead, or — wherever it runs, even in another PID namespace or on another host sharing
//! the data dir — when its lease has lapsed: a hung starter is then reported `failed` too.

use std::time::{Duration, Instant};

use super::Deps;
use crate::clock;
use crate::domain::{Owner, ServiceId, Status};
use crate::host::Liveness;
use crate::store::StoreHandle;

/// This process as the owner of a new claim made now.
pub(super) fn claim(deps: &Deps) -> Owner {
    Owner {
        lease_until: clock::now_ms() + deps.config.lease.as_millis() as i64,
        claim: crate::domain::random_claim(),
        ..deps.host.current_owner()
    }
}

/// How often a claim's holder looks whether it still holds it: a stop or delete waits for a
/// displaced starter, so this bounds how long it waits (a read, not a write).
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// The claim is no longer its holder's: a stop took the row over, or a reader took the holder
/// for hung or gone. Whoever did decides now; the holder only removes what it created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lost;

/// Holds `owner`'s claim on `id` for as long as it is polled (the caller races it against the
/// work): renews the lease a few times per lease period, and resolves as soon as the row is no
/// longer this claim's `status`.
pub(super) async fn hold(
    store: &StoreHandle,
    id: &ServiceId,
    status: Status,
    owner: Owner,
    lease: Duration,
) -> Lost {
    let renew_every = (lease / 3).max(LOOK_EVERY);
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(LOOK_EVERY).await;
        let held = if renewed.elapsed() >= renew_every {
            renewed = Instant::now();
            let until = clock::now_ms() + lease.as_millis() as i64;
            store.renew_lease(id, status, owner, until).await
        } else {
            store.holds_claim(id, status, owner.claim).await
        };
        match held {
            Ok(true) => {}
            Ok(false) => return Lost,
            // The next look tries again; the lease covers a few missed beats.
            Err(e) => tracing::warn!(service = %id, "cannot check the claim: {}", e.message),
        }
    }
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
