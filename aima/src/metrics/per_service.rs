//! One sample per service: whether it runs, whether its operator wants it running, and the
//! supervisor's restarts counted from the change log.

use std::collections::BTreeMap;

use super::text::Writer;
use crate::domain::{Desired, Service, Status};

/// What `/metrics` shows of one service, read from the store at each scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceGauge {
    pub id: String,
    pub name: String,
    /// The service reads `running`.
    pub up: bool,
    /// Its operator wants it running (`desired: running`).
    pub desired_running: bool,
}

impl ServiceGauge {
    pub(crate) fn of(svc: &Service) -> Self {
        ServiceGauge {
            id: svc.id.to_string(),
            name: svc.name.clone(),
            up: svc.status == Status::Running,
            desired_running: svc.desired == Desired::Running,
        }
    }
}

/// Writes the three per-service families; `restarts` counts the supervisor's restarts begun
/// since the daemon started, by service id (a service without one reads 0).
pub(super) fn write(out: &mut Writer, services: &[ServiceGauge], restarts: &BTreeMap<String, u64>) {
    out.family(
        "aima_service_restarts_total",
        "counter",
        "Restarts the supervisor began (since the daemon started), by service.",
    );
    for s in services {
        let n = restarts.get(&s.id).copied().unwrap_or(0);
        out.sample("aima_service_restarts_total", &labels(s), n);
    }
    out.family(
        "aima_service_up",
        "gauge",
        "1 when the service reads running, else 0.",
    );
    for s in services {
        out.sample("aima_service_up", &labels(s), u64::from(s.up));
    }
    out.family(
        "aima_service_desired_running",
        "gauge",
        "1 when the service's operator wants it running (desired: running), else 0.",
    );
    for s in services {
        out.sample(
            "aima_service_desired_running",
            &labels(s),
            u64::from(s.desired_running),
        );
    }
}

fn labels(s: &ServiceGauge) -> [(&str, &str); 2] {
    [("service", s.id.as_str()), ("name", s.name.as_str())]
}
