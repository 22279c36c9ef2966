//! Polling until a condition holds, for what happens in another process or container.

use std::time::{Duration, Instant};

/// What a poll returns: `true`, or `Some(value)` to hand back, once the wait is over.
pub trait Ready {
    type Value;
    fn value(self) -> Option<Self::Value>;
}

impl Ready for bool {
    type Value = ();
    fn value(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Ready for Option<T> {
    type Value = T;
    fn value(self) -> Option<T> {
        self
    }
}

/// Polls `ready` every 50 ms until it holds or `limit` passes; panics naming `what`.
#[track_caller]
pub fn wait_until<R: Ready>(limit: Duration, what: &str, mut ready: impl FnMut() -> R) -> R::Value {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = ready().value() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
