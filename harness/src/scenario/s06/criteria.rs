//! The criteria of scenario 6, as implemented; `scenarios/06-lifecycle-stress.md` lists the
//! same ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 6] = [
    Criterion {
        id: "S6.C1",
        title: "Five start/stop cycles of one service all succeed",
    },
    Criterion {
        id: "S6.C2",
        title: "Every start runs a fresh container",
    },
    Criterion {
        id: "S6.C3",
        title: "The service reads running after each start and stopped after each stop",
    },
    Criterion {
        id: "S6.C4",
        title: "The service keeps its port and its engine answers on it in every cycle",
    },
    Criterion {
        id: "S6.C5",
        title: "No container is left after the last stop",
    },
    Criterion {
        id: "S6.C6",
        title: "A stop during a slow start wins: nothing left, the starter ends, the port is free",
    },
];
