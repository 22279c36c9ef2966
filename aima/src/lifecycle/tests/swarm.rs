//! The lifecycle on the Swarm runtime, at the runtime boundary with the fake: `--node` becomes
//! a placement constraint (and is refused on plain Docker), and a port conflict a Swarm node
//! reports ends the start as a port conflict naming that node.

use super::{Fixture, PORT, assert_has, start_opts};
use crate::config::RuntimeKind;
use crate::domain::{Phase, Status};
use crate::error::Kind;
use crate::lifecycle::StartOptions;
use crate::runtime::RuntimeError;
use crate::runtime::fake::Op;

fn on(node: &str) -> StartOptions<'static> {
    StartOptions {
        node: Some(node.to_owned()),
        ..start_opts()
    }
}

fn swarm_fixture() -> Fixture {
    let mut f = Fixture::new();
    f.deps.config.runtime.kind = RuntimeKind::Swarm;
    f.deps.config.runtime.constraints = vec!["node.labels.gpu==true".to_owned()];
    f
}

#[tokio::test]
async fn a_node_on_plain_docker_is_a_usage_error_and_nothing_is_claimed() {
    let mut f = Fixture::new();
    let err = f
        .start_with(on("gpu-1"), std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(err.code, Kind::Usage, "{err:?}");
    assert_has(&err.message, "--node gpu-1");
    assert_eq!(f.service().status, Status::Created);
    assert!(
        f.rt.calls().is_empty(),
        "Docker was asked: {:?}",
        f.rt.calls()
    );
}

#[tokio::test]
async fn a_node_that_is_no_name_is_refused() {
    let mut f = swarm_fixture();
    let err = f
        .start_with(on("gpu-1==x"), std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(err.code, Kind::Usage, "{err:?}");
    assert!(f.rt.created().is_empty());
}

#[tokio::test]
async fn the_node_asked_for_joins_the_configured_constraints() {
    let mut f = swarm_fixture();
    let svc = f
        .start_with(on("gpu-2"), std::future::pending())
        .await
        .unwrap();
    assert_eq!(svc.status, Status::Running);
    let specs = f.rt.specs();
    assert_eq!(
        specs[0].placement,
        ["node.labels.gpu==true", "node.hostname==gpu-2"]
    );
}

#[tokio::test]
async fn a_port_taken_on_a_swarm_node_fails_at_once_naming_port_and_node() {
    let mut f = swarm_fixture();
    let conflict = RuntimeError::PortConflict {
        port: PORT,
        node: Some("gpu-2".to_owned()),
        cause: "Error starting userland proxy: listen tcp4 0.0.0.0: bind: address already in use"
            .into(),
    };
    f.rt.fail_next(Op::Start, conflict);
    let err = f
        .start_with(on("gpu-2"), std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(err.code, Kind::PortInUse, "{err:?}");
    assert_eq!(
        err.message,
        format!(
            "cannot start service {}: port {PORT} is in use on Swarm node gpu-2",
            f.id
        )
    );
    assert!(
        err.help.as_deref().unwrap_or("").contains("--node"),
        "{err:?}"
    );
    let svc = f.service();
    assert_eq!(svc.status, Status::Failed);
    assert_eq!(svc.attempts.len(), 1, "a port conflict is not retried");
    assert_eq!(svc.attempts[0].phase, Phase::Start);
    assert_eq!(svc.attempts[0].code.as_deref(), Some("port_in_use"));
    assert!(
        f.own_containers().is_empty(),
        "left: {:?}",
        f.own_containers()
    );
}
