//! Planting containers through the Docker API: orphans of this data dir, another instance's
//! container and a foreign one. Every planted container also carries the run's
//! `aima-harness.run` label, so the harness removes what is left of them at the end.

use std::collections::BTreeMap;

use crate::fixtures::census::{INSTANCE_LABEL, RUN_LABEL};
use crate::scenario::context::RunContext;
use crate::timeline::EventKind;

/// Whose container to plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// aima's four labels, this data dir's instance, a service that does not exist.
    OwnOrphan,
    /// aima's four labels with another data dir's instance.
    OtherInstance,
    /// Only `aima.engine` (plus the harness's run label).
    EngineOnly,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::OwnOrphan => "orphan of this data dir (unknown service)",
            Kind::OtherInstance => "container of another aima instance",
            Kind::EngineOnly => "foreign container with only aima.engine",
        }
    }
}

/// A service id no service has.
pub const GHOST_SERVICE: &str = "svc-0dead0ff";

/// Creates the container and records it as a fault in the timeline; returns its id.
pub fn plant(ctx: &mut RunContext, kind: Kind, image: &str) -> anyhow::Result<String> {
    let mut labels = BTreeMap::from([
        ("aima.engine".to_owned(), "vllm".to_owned()),
        (RUN_LABEL.to_owned(), ctx.run_id.clone()),
    ]);
    let instance = match kind {
        Kind::OwnOrphan => Some(ctx.instance.clone()),
        Kind::OtherInstance => Some(format!("0ther{}", &ctx.instance[5..])),
        Kind::EngineOnly => None,
    };
    if let Some(instance) = instance {
        labels.insert("aima.managed".to_owned(), "true".to_owned());
        labels.insert("aima.service".to_owned(), GHOST_SERVICE.to_owned());
        labels.insert(INSTANCE_LABEL.to_owned(), instance);
    }
    let id = ctx.docker.create_labelled(image, &labels)?;
    ctx.event(
        EventKind::Fault,
        format!("planted {} {}", kind.describe(), &id[..12]),
    );
    Ok(id)
}
