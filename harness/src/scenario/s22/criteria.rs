//! The criteria of scenario 22, as implemented; `scenarios/22-graceful-shutdown.md` lists the
//! same ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 5] = [
    Criterion {
        id: "S22.C1",
        title: "After SIGTERM the daemon accepts no new connection",
    },
    Criterion {
        id: "S22.C2",
        title: "A request in flight at SIGTERM finishes and the daemon then exits 0 within the shutdown deadline",
    },
    Criterion {
        id: "S22.C3",
        title: "Engines keep running through the shutdown and the restarted daemon reports them running",
    },
    Criterion {
        id: "S22.C4",
        title: "The database passes integrity_check after SIGTERM and after SIGKILL",
    },
    Criterion {
        id: "S22.C5",
        title: "SIGKILL right after committed writes loses none of them and the restart is clean",
    },
];
