//! The criteria of scenario 7, as implemented; `scenarios/07-orphans-and-chaos.md` lists the
//! same ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 5] = [
    Criterion {
        id: "S7.C1",
        title: "The daemon removes this data dir's orphans on its own, including a killed start's container",
    },
    Criterion {
        id: "S7.C2",
        title: "service prune and its API equivalent remove a fresh orphan of this data dir at once",
    },
    Criterion {
        id: "S7.C3",
        title: "Another instance's container and a container with only aima.engine are never touched",
    },
    Criterion {
        id: "S7.C4",
        title: "A container removed behind aima's back reads failed and a plain start runs the service again",
    },
    Criterion {
        id: "S7.C5",
        title: "A live service keeps running and serving throughout",
    },
];
