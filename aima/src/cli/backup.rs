//! `aima backup` and `aima restore`: the state database copied out while aima runs, and put
//! back while no daemon serves the data dir (see [`crate::store::stage_restore`]).

use std::path::Path;

use serde::Serialize;

use super::args::Output;
use super::render;
use crate::config::Config;
use crate::error::Result;
use crate::instance::Replacement;
use crate::store::{BackupError, Store, stage_restore};

pub(crate) fn backup(config: &Config, file: &Path, force: bool, output: Output) -> Result<String> {
    let store = Store::open_in(config)?;
    let report = store.backup_to(file, &config.instance, force)?;
    Ok(match output {
        Output::Json => render::to_json(&report),
        Output::Table | Output::Toml => format!(
            "wrote {} ({} bytes, schema version {}, instance id {})",
            report.path.display(),
            report.bytes,
            report.schema_version,
            report.instance_id
        ),
    })
}

/// What `aima restore` did.
#[derive(Debug, Serialize)]
struct Restored<'a> {
    path: &'a Path,
    from: &'a Path,
    schema_version: usize,
    migrated_to: usize,
    /// The data dir's instance id after the restore.
    instance_id: &'a str,
    instance_id_replaced: bool,
}

pub(crate) fn restore(
    config: &Config,
    file: &Path,
    with_instance_id: bool,
    output: Output,
) -> Result<String> {
    if crate::daemon::serves(&config.data_dir) {
        return Err(BackupError::DaemonServes {
            data_dir: config.data_dir.clone(),
        }
        .into());
    }
    let db = config.db_path();
    let staged = stage_restore(file, &db)?;
    let new_id = match (&staged.instance_id, with_instance_id) {
        (Some(id), true) => {
            Some(Replacement::stage(&config.data_dir, id).map(|r| (id.clone(), r))?)
        }
        (None, true) => {
            return Err(BackupError::NoInstanceId {
                path: file.to_owned(),
            }
            .into());
        }
        (_, false) => None,
    };
    let (schema_version, migrated_to) = (staged.schema_version, staged.migrated_to);
    staged.install(&db)?;
    let instance_id = match new_id {
        Some((id, replacement)) => {
            replacement.commit()?;
            id
        }
        None => config.instance.clone(),
    };
    let restored = Restored {
        path: &db,
        from: file,
        schema_version,
        migrated_to,
        instance_id: &instance_id,
        instance_id_replaced: with_instance_id,
    };
    Ok(match output {
        Output::Json => render::to_json(&restored),
        Output::Table | Output::Toml => {
            let migrated = if migrated_to == schema_version {
                String::new()
            } else {
                format!(", migrated to {migrated_to}")
            };
            let kept = if with_instance_id {
                "taken from the backup"
            } else {
                "kept"
            };
            format!(
                "restored {} from {} (schema version {schema_version}{migrated}); instance id {instance_id} {kept}",
                db.display(),
                file.display()
            )
        }
    })
}
