//! The criteria of scenario 19, as implemented; `scenarios/19-restart-survival.md` lists the
//! same ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 4] = [
    Criterion {
        id: "S19.C1",
        title: "Every model and service survives a SIGKILL of the daemon and its restart",
    },
    Criterion {
        id: "S19.C2",
        title: "A running engine keeps running through the kill and the restarted daemon adopts it",
    },
    Criterion {
        id: "S19.C3",
        title: "The restarted daemon stops the adopted service cleanly",
    },
    Criterion {
        id: "S19.C4",
        title: "A start the killed daemon was running is resolved to failed and its container removed",
    },
];
