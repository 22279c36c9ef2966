//! The criteria of scenario 23, as implemented; `scenarios/23-memory-and-gpu-exhaustion.md`
//! lists the same ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 4] = [
    Criterion {
        id: "S23.C1",
        title: "An engine past its --memory limit fails once as out of memory, naming the limit",
    },
    Criterion {
        id: "S23.C2",
        title: "No container of the out-of-memory service remains",
    },
    Criterion {
        id: "S23.C3",
        title: "A service's memory limit reaches its running container, with no swap and no device request",
    },
    Criterion {
        id: "S23.C4",
        title: "A service that needs GPUs the host lacks is refused at once, before any container exists",
    },
];
