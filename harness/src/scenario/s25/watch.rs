//! Scenario 25's watcher: a thread that lists the run's containers (`aima.instance=<ours>`)
//! through Docker's API every 100 ms, so a judge knows how many containers each service had at
//! every moment (two at once is a failure; a container after a stop is a restart). Docker is
//! only read, never the daemon: the watcher cannot change what it watches.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::fixtures::census::{DockerView, INSTANCE_LABEL};

/// How often the watcher lists containers.
pub const PERIOD: Duration = Duration::from_millis(100);

/// One container of a service as one listing saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub id: String,
    pub state: String,
}

/// One listing: ms since the run began, and each service's containers.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub at_ms: u64,
    pub by_service: BTreeMap<String, Vec<Seen>>,
}

/// Every listing of the run, oldest first, and the listings that failed.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub samples: Vec<Sample>,
    pub errors: usize,
}

/// A container of one service across the listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifetime {
    pub id: String,
    pub first_ms: u64,
    pub last_ms: u64,
}

impl Samples {
    /// The most containers `service` had in one listing within `[from, to]` ms, and when.
    pub fn most_at_once(&self, service: &str, from: u64, to: u64) -> (usize, u64) {
        self.samples
            .iter()
            .filter(|s| s.at_ms >= from && s.at_ms <= to)
            .map(|s| (s.by_service.get(service).map_or(0, Vec::len), s.at_ms))
            .fold((0, 0), |best, now| if now.0 > best.0 { now } else { best })
    }

    /// Each container of `service`, in the order they first appeared.
    pub fn lifetimes(&self, service: &str) -> Vec<Lifetime> {
        let mut out: Vec<Lifetime> = Vec::new();
        for sample in &self.samples {
            for seen in sample.by_service.get(service).into_iter().flatten() {
                match out.iter_mut().find(|l| l.id == seen.id) {
                    Some(life) => life.last_ms = sample.at_ms,
                    None => out.push(Lifetime {
                        id: seen.id.clone(),
                        first_ms: sample.at_ms,
                        last_ms: sample.at_ms,
                    }),
                }
            }
        }
        out
    }

    /// Containers of `service` that first appeared after `after` ms.
    pub fn appeared_after(&self, service: &str, after: u64) -> Vec<Lifetime> {
        self.lifetimes(service)
            .into_iter()
            .filter(|l| l.first_ms > after)
            .collect()
    }

    /// `N listings over Xs, at most Yms apart, K failed`, for evidence.
    pub fn describe(&self) -> String {
        let span = match (self.samples.first(), self.samples.last()) {
            (Some(a), Some(b)) => (b.at_ms - a.at_ms) as f64 / 1000.0,
            _ => 0.0,
        };
        let widest = self
            .samples
            .windows(2)
            .map(|w| w[1].at_ms - w[0].at_ms)
            .max()
            .unwrap_or(0);
        format!(
            "the watcher listed this data dir's containers {} times over {span:.1}s ({} ms pause between listings, at most {widest}ms apart); {} listing(s) failed",
            self.samples.len(),
            PERIOD.as_millis(),
            self.errors
        )
    }
}

/// The running watcher; [`Watcher::finish`] stops it and returns what it saw. Dropped
/// unfinished (a scenario that panicked), it still stops.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Samples>>,
}

impl Watcher {
    /// Starts listing containers of `instance`, stamping each listing with the time since
    /// `origin` (the run's timeline start).
    pub fn start(instance: String, origin: Instant) -> anyhow::Result<Self> {
        let docker = DockerView::connect()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let filter = format!("{INSTANCE_LABEL}={instance}");
        let thread = std::thread::spawn(move || {
            let mut out = Samples::default();
            while !flag.load(Ordering::Relaxed) {
                let at_ms = crate::exec::millis(origin.elapsed());
                match docker.list_with_label(&filter) {
                    Ok(list) => {
                        let mut by_service: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
                        for c in list {
                            if let Some(service) = c.label("aima.service") {
                                by_service
                                    .entry(service.to_owned())
                                    .or_default()
                                    .push(Seen {
                                        id: c.id.clone(),
                                        state: c.state.clone(),
                                    });
                            }
                        }
                        out.samples.push(Sample { at_ms, by_service });
                    }
                    Err(_) => out.errors += 1,
                }
                std::thread::sleep(PERIOD);
            }
            out
        });
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and returns every listing.
    pub fn finish(mut self) -> Samples {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: u64, containers: &[(&str, &str)]) -> Sample {
        let mut by_service: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
        for (service, id) in containers {
            by_service
                .entry((*service).to_owned())
                .or_default()
                .push(Seen {
                    id: (*id).to_owned(),
                    state: "running".into(),
                });
        }
        Sample { at_ms, by_service }
    }

    #[test]
    fn counts_containers_at_once_and_their_lifetimes() {
        let samples = Samples {
            samples: vec![
                sample(0, &[("a", "c1")]),
                sample(100, &[("a", "c1"), ("a", "c2")]),
                sample(200, &[("a", "c2"), ("b", "c3")]),
                sample(300, &[]),
            ],
            errors: 0,
        };
        assert_eq!(samples.most_at_once("a", 0, 300), (2, 100));
        assert_eq!(samples.most_at_once("a", 150, 300), (1, 200));
        assert_eq!(samples.most_at_once("z", 0, 300), (0, 0));
        let lives = samples.lifetimes("a");
        assert_eq!(lives.len(), 2);
        assert_eq!((lives[1].first_ms, lives[1].last_ms), (100, 200));
        assert_eq!(samples.appeared_after("a", 50).len(), 1);
        assert!(samples.describe().contains("4 times over 0.3s"));
        assert!(samples.describe().contains("at most 100ms apart"));
    }
}
