//! The criteria of scenario 15, as implemented; `scenarios/15-api-auth.md` lists the same ids
//! (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 8] = [
    Criterion {
        id: "S15.C1",
        title: "With no token configured the daemon generates one and refuses requests without it",
    },
    Criterion {
        id: "S15.C2",
        title: "With a token every route but health refuses requests without it or with a wrong one, and changes nothing",
    },
    Criterion {
        id: "S15.C3",
        title: "With the token every route answers its success status",
    },
    Criterion {
        id: "S15.C4",
        title: "A daemon asked to listen on a non-loopback address without a token refuses to start",
    },
    Criterion {
        id: "S15.C5",
        title: "The token appears in no log and no command output",
    },
    Criterion {
        id: "S15.C6",
        title: "With the operator's explicit opt-out a loopback daemon serves requests without a token",
    },
    Criterion {
        id: "S15.C7",
        title: "Unfinished sign-ins filling every connection slot leave health, the API and the page served, and SIGTERM prompt",
    },
    Criterion {
        id: "S15.C8",
        title: "Signing out ends the session on the daemon: a copy of its cookie stops working",
    },
];
