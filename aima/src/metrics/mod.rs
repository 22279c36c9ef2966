//! The daemon's metrics, kept in memory and served at `/metrics` in Prometheus' text format.
//!
//! Starts are counted from the services' change log, not where they run: a start run by any
//! CLI process counts like one run by the daemon. Counters begin at zero when the daemon starts.

mod per_service;
mod text;

pub(crate) use per_service::ServiceGauge;

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::domain::Status;
use crate::store::{EventKind, ServiceEvent};

/// Upper bounds of the start duration histogram, in seconds.
const START_BUCKETS: [f64; 11] = [
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (outcome, phase) → count.
    starts: BTreeMap<(String, String), u64>,
    /// outcome → histogram.
    start_seconds: BTreeMap<String, Histogram>,
    /// reason → count.
    fast_failures: BTreeMap<String, u64>,
    /// `ok` / `error` → count.
    reconcile_passes: BTreeMap<&'static str, u64>,
    reaped: u64,
    /// (method, route, status) → count.
    http: BTreeMap<(String, String, u16), u64>,
    /// service id → the supervisor's restarts begun; forgotten when the service is deleted.
    restarts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Cumulative counts per bucket of [`START_BUCKETS`].
    buckets: [u64; START_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, value: f64) {
        for (bound, n) in START_BUCKETS.iter().zip(self.buckets.iter_mut()) {
            if value <= *bound {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum += value;
    }
}

/// How a start ended, as the change log tells it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StartEnd {
    /// `running`, `failed` or `stopped`.
    pub outcome: &'static str,
    /// The phase of the failing attempt; `none` unless the start failed.
    pub phase: String,
    /// Failed before any engine container existed (connect or preflight): the reason's code.
    pub fast_failure: Option<String>,
    pub seconds: Option<f64>,
}

impl StartEnd {
    /// The end of a start, when `event` is one: the service leaves `starting`.
    pub(crate) fn of(event: &ServiceEvent) -> Option<Self> {
        if event.from.as_deref() != Some(Status::Starting.as_str()) {
            return None;
        }
        let outcome = match Status::parse(&event.to) {
            Some(Status::Running) => "running",
            Some(Status::Failed) => "failed",
            _ => "stopped",
        };
        let attempt = event.attempt.as_ref().filter(|_| outcome == "failed");
        let phase = attempt.map_or("none", |a| a.phase.as_str());
        let fast_failure = attempt
            .filter(|_| matches!(phase, "connect" | "preflight"))
            .map(|a| a.code.clone().unwrap_or_else(|| "unknown".to_owned()));
        Some(StartEnd {
            outcome,
            phase: phase.to_owned(),
            fast_failure,
            seconds: event
                .began_at
                .map(|began| (event.at - began).max(0) as f64 / 1000.0),
        })
    }
}

impl Metrics {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `event` if it ends a start or begins a restart.
    pub(crate) fn service_event(&self, event: &ServiceEvent) {
        if event.kind == EventKind::Restarting {
            *self
                .inner()
                .restarts
                .entry(event.service_id.clone())
                .or_default() += 1;
        }
        if event.to == "deleted" {
            self.inner().restarts.remove(&event.service_id);
        }
        let Some(end) = StartEnd::of(event) else {
            return;
        };
        let mut m = self.inner();
        *m.starts
            .entry((end.outcome.to_owned(), end.phase))
            .or_default() += 1;
        if let Some(seconds) = end.seconds {
            m.start_seconds
                .entry(end.outcome.to_owned())
                .or_default()
                .observe(seconds);
        }
        if let Some(reason) = end.fast_failure {
            *m.fast_failures.entry(reason).or_default() += 1;
        }
    }

    pub(crate) fn reconcile_pass(&self, ok: bool, reaped: usize) {
        let mut m = self.inner();
        *m.reconcile_passes
            .entry(if ok { "ok" } else { "error" })
            .or_default() += 1;
        m.reaped += reaped as u64;
    }

    /// `route` is the matched route's pattern (`/api/v2/services/{id}`), never the raw path.
    pub(crate) fn http_request(&self, method: &str, route: &str, status: u16) {
        *self
            .inner()
            .http
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
    }

    /// The text exposition, with the services counted by status and each service as read
    /// just now.
    pub(crate) fn render(&self, services: &[(Status, u64)], each: &[ServiceGauge]) -> String {
        let m = self.inner();
        let mut out = text::Writer::default();
        out.family(
            "aima_build_info",
            "gauge",
            "The aima build serving: version and git commit.",
        );
        out.sample(
            "aima_build_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("commit", env!("AIMA_COMMIT")),
            ],
            1,
        );
        out.family(
            "aima_services",
            "gauge",
            "Services by status, as recorded in the store.",
        );
        for (status, n) in services {
            out.sample("aima_services", &[("status", status.as_str())], *n);
        }
        per_service::write(&mut out, each, &m.restarts);
        out.family(
            "aima_starts_total",
            "counter",
            "Starts that ended (by any aima process), by outcome and the phase a failure ended in.",
        );
        for ((outcome, phase), n) in &m.starts {
            out.sample(
                "aima_starts_total",
                &[("outcome", outcome), ("phase", phase)],
                *n,
            );
        }
        out.family(
            "aima_start_duration_seconds",
            "histogram",
            "Time from claiming a service to the end of its start, by outcome.",
        );
        for (outcome, h) in &m.start_seconds {
            out.histogram(
                "aima_start_duration_seconds",
                ("outcome", outcome),
                &START_BUCKETS,
                &h.buckets,
                h.count,
                h.sum,
            );
        }
        out.family(
            "aima_start_fast_failures_total",
            "counter",
            "Starts that failed before any engine container existed, by reason.",
        );
        for (reason, n) in &m.fast_failures {
            out.sample("aima_start_fast_failures_total", &[("reason", reason)], *n);
        }
        out.family(
            "aima_reconcile_passes_total",
            "counter",
            "Reconciler passes, by result.",
        );
        for (result, n) in &m.reconcile_passes {
            out.sample("aima_reconcile_passes_total", &[("result", result)], *n);
        }
        out.family(
            "aima_reaped_containers_total",
            "counter",
            "Orphaned engine containers the reconciler removed.",
        );
        out.sample("aima_reaped_containers_total", &[], m.reaped);
        out.family(
            "aima_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route and status.",
        );
        for ((method, route, status), n) in &m.http {
            let status = status.to_string();
            out.sample(
                "aima_http_requests_total",
                &[("method", method), ("route", route), ("status", &status)],
                *n,
            );
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests;
