//! The criteria of scenario 16, as implemented; `scenarios/16-two-services.md` lists the same
//! ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 5] = [
    Criterion {
        id: "S16.C1",
        title: "Two services of one model get distinct ports and both run and answer",
    },
    Criterion {
        id: "S16.C2",
        title: "service list shows both services with the statuses Docker confirms",
    },
    Criterion {
        id: "S16.C3",
        title: "Stopping one service leaves the other serving requests",
    },
    Criterion {
        id: "S16.C4",
        title: "The freed port is reusable at once by a new service",
    },
    Criterion {
        id: "S16.C5",
        title: "Two services of one engine run side by side with their own engine arguments",
    },
];
