//! The criteria of scenario 21, as implemented; `scenarios/21-timeout-cascade.md` lists the
//! same ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 4] = [
    Criterion {
        id: "S21.C1",
        title: "A start whose timeout is shorter than the engine's load time fails promptly as a timeout",
    },
    Criterion {
        id: "S21.C2",
        title: "After the timeout the service reads failed and none of its containers remain",
    },
    Criterion {
        id: "S21.C3",
        title: "A retry with a longer timeout runs the service without manual cleanup",
    },
    Criterion {
        id: "S21.C4",
        title: "The daemon keeps answering other requests during a long start",
    },
];
