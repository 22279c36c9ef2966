//! The seven criteria of scenario 20, as implemented. `scenarios/20-port-contention.md` must
//! list exactly these ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 7] = [
    Criterion {
        id: "S20.C1",
        title: "A start blocked by a foreign process fails fast with a clear message naming the port and the blocker",
    },
    Criterion {
        id: "S20.C2",
        title: "After the port conflict the service reads back as failed",
    },
    Criterion {
        id: "S20.C3",
        title: "The failed start leaves no aima.engine container behind",
    },
    Criterion {
        id: "S20.C4",
        title: "An unreachable Docker daemon gives a clear, prompt error instead of hanging",
    },
    Criterion {
        id: "S20.C5",
        title: "The error of a blocked start accounts for every attempt with its reason",
    },
    Criterion {
        id: "S20.C6",
        title: "service stop succeeds on failed services and they read back as stopped",
    },
    Criterion {
        id: "S20.C7",
        title: "Three start/fail cycles leak no container and no port",
    },
];
