//! The criteria of scenario 2, as implemented; `scenarios/02-zero-to-inference.md` lists the same
//! ids (a unit test keeps the two in step).

use crate::scenario::Criterion;

pub const CRITERIA: [Criterion; 8] = [
    Criterion {
        id: "S2.C1",
        title: "A model is registered from a local directory holding a GGUF and from the .gguf file itself",
    },
    Criterion {
        id: "S2.C2",
        title: "A llama.cpp service of each model starts with --wait, reads back running, and the engine answers /health",
    },
    Criterion {
        id: "S2.C3",
        title: "`aima inference chat` gets an answer from each service",
    },
    Criterion {
        id: "S2.C4",
        title: "A standard OpenAI client gets a chat completion, whole and streamed, from the service's endpoint",
    },
    Criterion {
        id: "S2.C5",
        title: "Stopping a service removes its container and frees its port",
    },
    Criterion {
        id: "S2.C6",
        title: "An invalid GGUF fails after one attempt with the engine's line naming the cause, and the file, leaving no container",
    },
    Criterion {
        id: "S2.C7",
        title: "A repository id is refused at create unless it is owner/name, which the engine fetches itself with -hf",
    },
    Criterion {
        id: "S2.C8",
        title: "Two llama.cpp services of one model run side by side with their own --ctx-size, each reported by its server's /props",
    },
];
