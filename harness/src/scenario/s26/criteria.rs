//! The criteria of scenario 26, as implemented; `scenarios/26-shared-server.md` lists the same
//! ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 6] = [
    Criterion {
        id: "S26.C1",
        title: "alice creates and starts a service through the socket; it records her as creator and starter",
    },
    Criterion {
        id: "S26.C2",
        title: "bob's stop of alice's service is refused with exit 13 naming alice, and it keeps running",
    },
    Criterion {
        id: "S26.C3",
        title: "root, an admin over the socket, stops alice's service",
    },
    Criterion {
        id: "S26.C4",
        title: "bob's second start past max_running = 1 is refused with exit 14 naming the quota, no container made",
    },
    Criterion {
        id: "S26.C5",
        title: "The events of alice's service name who started it and who stopped it",
    },
    Criterion {
        id: "S26.C6",
        title: "A named token for bob acts as bob over TCP: stopping alice's service answers 403 forbidden",
    },
];
