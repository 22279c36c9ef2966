//! A full disk under the store: a write that runs out of room is the one disk-full error and
//! rolls back whole; below the configured minimum a write is refused before it begins; other
//! SQLite failures keep their own kind.

use rusqlite::ffi;

use super::{Store, out_of_room};
use crate::domain::{Model, ModelId, ModelSource};
use crate::error::{Error, Kind};

fn model(repo: String) -> Model {
    Model {
        id: ModelId::generate(),
        name: format!("m-{}", repo.len()),
        source: ModelSource::Huggingface,
        repo,
        path: None,
        model_type: "llm".into(),
        status: "registered",
        created_at: crate::clock::now_ms(),
        created_by: None,
    }
}

#[test]
fn a_write_that_runs_out_of_room_is_disk_full_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("aima.db")).unwrap();
    let kept = model("owner/kept".into());
    store.insert_model(&kept).unwrap();
    // SQLite's page limit makes it answer SQLITE_FULL exactly as a full disk does.
    let pages: i64 = store
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    store
        .conn()
        .pragma_update(None, "max_page_count", pages)
        .unwrap();

    let err = store
        .insert_model(&model(format!("owner/{}", "a".repeat(100_000))))
        .unwrap_err();

    assert_eq!(err.code, Kind::DiskFull, "{err:?}");
    assert!(
        err.message.starts_with(&format!(
            "cannot write the state database: the disk holding {} is full (",
            dir.path().display()
        )),
        "{}",
        err.message
    );
    assert_eq!(err.causes(), ["database or disk is full"]);
    let ids: Vec<ModelId> = store
        .list_models()
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, [kept.id], "the failed write left nothing behind");
    store.check_integrity().unwrap();
}

#[test]
fn below_the_minimum_a_write_is_refused_before_it_begins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aima.db");
    drop(Store::open(&path).unwrap());
    let free = crate::disk::free_bytes(dir.path()).unwrap();
    let mut store = Store::open_keeping(&path, free + (1 << 40)).unwrap();

    let err = store
        .insert_model(&model("owner/refused".into()))
        .unwrap_err();

    assert_eq!(err.code, Kind::DiskFull, "{err:?}");
    assert!(
        err.message.contains("aima keeps free there"),
        "{}",
        err.message
    );
    assert!(
        Store::open(&path)
            .unwrap()
            .list_models()
            .unwrap()
            .is_empty()
    );
}

/// A SQLite failure with `code`, as a caller sees it.
fn failure(code: i32) -> Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), None).into()
}

#[test]
fn only_a_lack_of_room_becomes_disk_full() {
    let dir = tempfile::tempdir().unwrap();
    let full = out_of_room(failure(ffi::SQLITE_FULL), Some(dir.path()), "cannot write");
    assert_eq!(full.code, Kind::DiskFull);
    // An I/O error on a disk with room is not a full disk.
    let io = out_of_room(failure(ffi::SQLITE_IOERR_SHMSIZE), Some(dir.path()), "x");
    assert_eq!(io.code, Kind::Storage);
    let locked = out_of_room(failure(ffi::SQLITE_BUSY), Some(dir.path()), "x");
    assert_eq!(locked.code, Kind::Storage);
    // In memory there is no disk to name.
    let memory = out_of_room(failure(ffi::SQLITE_FULL), None, "x");
    assert_eq!(memory.code, Kind::Storage);
}

#[test]
fn below_the_minimum_outcomes_and_deletions_are_still_recorded() {
    use crate::domain::{EngineSpec, EngineType, Status};
    use crate::store::{Change, NewService};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aima.db");
    let mut store = Store::open(&path).unwrap();
    let m = model("owner/kept".into());
    store.insert_model(&m).unwrap();
    let svc = store
        .create_service(NewService {
            model_id: m.id.clone(),
            engine_type: EngineType::Vllm,
            name: None,
            port: None,
            default_port: EngineSpec::builtin(EngineType::Vllm).default_port,
            port_range: None,
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            gpus: crate::domain::Gpus::None,
            memory_bytes: None,
            restart: crate::domain::RestartPolicy::No,
            settings: Default::default(),
        })
        .unwrap();
    let free = crate::disk::free_bytes(dir.path()).unwrap();
    let mut store = Store::open_keeping(&path, free + (1 << 40)).unwrap();
    let to = |to| Change {
        to,
        last_error: None,
        attempts: Vec::new(),
        container_id: None,
        owner: None,
    };

    let claim = store.change_service(&svc.id, &Status::STARTABLE, to(Status::Starting));
    assert_eq!(
        claim.unwrap_err().code,
        Kind::DiskFull,
        "a new start is refused"
    );
    let ended = store.change_service(&svc.id, &Status::ALL, to(Status::Failed));
    assert_eq!(
        ended.unwrap().unwrap().status,
        Status::Failed,
        "an outcome is recorded"
    );
    store.delete_service(&svc.id).unwrap();
    store.delete_model(&m.id, false).unwrap();
}
