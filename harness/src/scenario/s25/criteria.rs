//! The criteria of scenario 25, as implemented; `scenarios/25-supervision.md` lists the same
//! ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 7] = [
    Criterion {
        id: "S25.C1",
        title: "A supervised engine killed with docker kill is healthy again within 5 s, one container at a time, the restart counted",
    },
    Criterion {
        id: "S25.C2",
        title: "A crash-looping engine backs off with growing waits, never holds two containers, and gives up after 3 with the reason",
    },
    Criterion {
        id: "S25.C3",
        title: "A port taken between a crash and its restart: the restart names the holder and makes no container; the service comes back once it leaves",
    },
    Criterion {
        id: "S25.C4",
        title: "An engine that died while the daemon was dead comes back after the daemon restarts; services stopped by the operator stay stopped",
    },
    Criterion {
        id: "S25.C5",
        title: "service stop during backoff: stopped, and no restart in the next 30 s",
    },
    Criterion {
        id: "S25.C6",
        title: "A hung engine (alive, silent) is restarted after its liveness failures",
    },
    Criterion {
        id: "S25.C7",
        title: "Policy no: a killed engine's service reads failed and stays failed",
    },
];
