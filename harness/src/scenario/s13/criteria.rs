//! The criteria of scenario 13, as implemented; `scenarios/13-http-api.md` lists the same ids
//! (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 8] = [
    Criterion {
        id: "S13.C1",
        title: "Every route answers its documented success status with a JSON body and Content-Type application/json",
    },
    Criterion {
        id: "S13.C2",
        title: "Invalid JSON is refused with 400 and a structured error",
    },
    Criterion {
        id: "S13.C3",
        title: "An unknown route answers 404 with an error code",
    },
    Criterion {
        id: "S13.C4",
        title: "A wrong method answers 405 with an Allow header",
    },
    Criterion {
        id: "S13.C5",
        title: "A body over the limit is refused with 413",
    },
    Criterion {
        id: "S13.C6",
        title: "Ten concurrent list calls all succeed",
    },
    Criterion {
        id: "S13.C7",
        title: "The health route answers 200",
    },
    Criterion {
        id: "S13.C8",
        title: "An apply file applied again, or exported and applied back, changes nothing",
    },
];
