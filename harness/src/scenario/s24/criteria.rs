//! The criteria of scenario 24, as implemented; `scenarios/24-gpu-contention.md` lists the
//! same ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 3] = [
    Criterion {
        id: "S24.C1",
        title: "A start on a GPU a running service holds is refused at once, naming that service",
    },
    Criterion {
        id: "S24.C2",
        title: "Services on different GPUs both run",
    },
    Criterion {
        id: "S24.C3",
        title: "A started engine's container carries exactly its device request",
    },
];
