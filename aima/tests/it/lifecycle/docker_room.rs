//! Real Docker whose data root has less room than aima keeps free (a minimum above any real
//! disk): the start fails at once with exit 11 naming Docker's data root and its free space,
//! before any container exists, and the service is `failed` with one `disk_full` attempt.

use crate::support::containers::containers_with;
use crate::support::docker::docker;
use crate::support::lab::Lab;

#[test]
fn a_start_is_refused_when_docker_s_disk_is_below_the_minimum() {
    let lab = Lab::with_env(&[], &[("AIMA_DOCKER_MIN_FREE", "100000g")]);
    let (svc, _port) = lab.service();
    let info = docker(&["info", "--format", "{{.DockerRootDir}}"]);
    let root = String::from_utf8_lossy(&info.stdout).trim().to_owned();
    assert!(!root.is_empty(), "docker info names no data root: {info:?}");

    let out = lab.run_waiting("start", &svc, "60", &[]).failure(11);

    let error = &out.json()["error"];
    assert_eq!(error["code"], "disk_full", "{out}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "cannot start service {svc}: Docker's disk is too full: only "
        )) && message.contains(&format!(
            " free on the disk holding {root}, below the 97.7 TiB aima keeps free there"
        )),
        "{out}"
    );
    assert!(
        error["help"]
            .as_str()
            .unwrap()
            .contains("AIMA_DOCKER_MIN_FREE"),
        "{out}"
    );
    let listed = lab.listed_failed(&svc, 1);
    assert_eq!(listed["attempts"][0]["code"], "disk_full", "{listed:#}");
    let left = containers_with(&[&format!("aima.service={svc}")]);
    assert!(left.is_empty(), "containers left: {left:?}");
}
