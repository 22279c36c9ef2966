//! One reader at a time acts on a service's record within this process. The daemon's
//! reconciler and its Docker-event follower may both find the same engine dead; the first
//! removes its container before recording why, and without this the other, looking in
//! between, would find the container gone and record that instead of the exit code.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

use crate::domain::ServiceId;

type Gate = tokio::sync::Mutex<()>;

static GATES: LazyLock<Mutex<HashMap<ServiceId, Weak<Gate>>>> = LazyLock::new(Default::default);

/// Waits until no other reader of this process acts on `id`; the guard lets the next one in.
pub(crate) async fn one_at_a_time(id: &ServiceId) -> OwnedMutexGuard<()> {
    let gate = {
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        match gates.get(id).and_then(Weak::upgrade) {
            Some(gate) => gate,
            None => {
                gates.retain(|_, gate| gate.strong_count() > 0);
                let gate = Arc::new(Gate::new(()));
                gates.insert(id.clone(), Arc::downgrade(&gate));
                gate
            }
        }
    };
    gate.lock_owned().await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_second_reader_of_the_same_service_waits_and_another_service_does_not() {
        let id = ServiceId::parse("svc-0000aaaa").unwrap();
        let other = ServiceId::parse("svc-0000bbbb").unwrap();
        let first = one_at_a_time(&id).await;
        let second = tokio::spawn({
            let id = id.clone();
            async move { drop(one_at_a_time(&id).await) }
        });
        // Another service's gate opens at once while the first is held.
        drop(one_at_a_time(&other).await);
        tokio::task::yield_now().await;
        assert!(!second.is_finished(), "the second reader went in");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the second reader is let in once the first is done")
            .unwrap();
    }
}
