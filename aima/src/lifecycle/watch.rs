//! Whether Docker's event stream keeps the records of running services true right now: while
//! it does, a read may take them as recorded instead of asking Docker ([`Trust`]). The daemon's
//! event follower reports what it knows; everything else only asks.
//!
//! The records are trusted only while the stream is open, a full refresh begun after the
//! stream's starting mark has finished since it opened (so a death missed while it was closed is
//! recorded), and no event received is still waiting to be made true in the store.

use std::sync::{Mutex, MutexGuard};

use super::refresh::Trust;

#[derive(Debug, Default)]
pub struct EventWatch {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Increases with each opening of the stream.
    epoch: u64,
    open: bool,
    caught_up: bool,
    /// Events received whose service has not been made true yet.
    pending: usize,
}

impl EventWatch {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stream has opened; returns its epoch, for [`EventWatch::caught_up`].
    pub fn opened(&self) -> u64 {
        let mut w = self.inner();
        w.epoch += 1;
        w.open = true;
        w.caught_up = false;
        w.pending = 0;
        w.epoch
    }

    /// A full refresh begun after the stream of `epoch` opened has finished.
    pub fn caught_up(&self, epoch: u64) {
        let mut w = self.inner();
        if w.open && w.epoch == epoch {
            w.caught_up = true;
        }
    }

    /// The stream broke, or ended: nothing is trusted until it opens and catches up again.
    pub fn closed(&self) {
        let mut w = self.inner();
        w.open = false;
        w.caught_up = false;
    }

    /// An event came: until the guard drops (its service made true), nothing is trusted.
    pub fn received(&self) -> Pending<'_> {
        self.inner().pending += 1;
        Pending(self)
    }

    /// What a read may take as recorded now.
    pub fn trust(&self) -> Trust {
        let w = self.inner();
        if w.open && w.caught_up && w.pending == 0 {
            Trust::RunningRecords
        } else {
            Trust::Nothing
        }
    }
}

/// An event being handled; see [`EventWatch::received`].
#[must_use]
pub struct Pending<'a>(&'a EventWatch);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let mut w = self.0.inner();
        w.pending = w.pending.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_only_while_open_caught_up_and_idle() {
        let watch = EventWatch::default();
        assert_eq!(watch.trust(), Trust::Nothing, "never opened");
        let epoch = watch.opened();
        assert_eq!(watch.trust(), Trust::Nothing, "not caught up yet");
        watch.caught_up(epoch);
        assert_eq!(watch.trust(), Trust::RunningRecords);
        {
            let _handling = watch.received();
            assert_eq!(watch.trust(), Trust::Nothing, "an event waits to be recorded");
        }
        assert_eq!(watch.trust(), Trust::RunningRecords);
        watch.closed();
        assert_eq!(watch.trust(), Trust::Nothing, "closed");
    }

    #[test]
    fn a_catch_up_of_an_earlier_opening_does_not_count() {
        let watch = EventWatch::default();
        let first = watch.opened();
        watch.closed();
        let second = watch.opened();
        watch.caught_up(first);
        assert_eq!(watch.trust(), Trust::Nothing);
        watch.caught_up(second);
        assert_eq!(watch.trust(), Trust::RunningRecords);
        watch.closed();
        watch.caught_up(second);
        assert_eq!(watch.trust(), Trust::Nothing, "closed after catching up");
    }
}
