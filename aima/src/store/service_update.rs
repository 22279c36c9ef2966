//! `service update`: a service's configuration changed in place, keeping its id, history and
//! (unless a new one is asked for) its port. A new port goes through create's ownership check.

use rusqlite::{OptionalExtension, params};

use super::Store;
use super::services::{sql_list, stored};
use crate::clock;
use crate::domain::{Gpus, HostPort, RestartPolicy, Service, ServiceId, ServiceSettings, Status};
use crate::error::{Error, Result};

/// The configuration a service ends up with; every field is written as given.
#[derive(Debug, Clone)]
pub(crate) struct ServiceConfig {
    pub name: String,
    pub port: HostPort,
    pub bind: std::net::IpAddr,
    pub gpus: Option<Gpus>,
    pub memory_bytes: Option<u64>,
    pub restart: RestartPolicy,
    pub settings: ServiceSettings,
}

impl ServiceConfig {
    /// What `svc` is configured with now.
    pub(crate) fn of(svc: &Service) -> Self {
        ServiceConfig {
            name: svc.name.clone(),
            port: svc.port,
            bind: svc.bind,
            gpus: svc.gpus.clone(),
            memory_bytes: svc.memory_bytes,
            restart: svc.restart,
            settings: svc.settings.clone(),
        }
    }
}

impl Store {
    /// Writes `config` while the service is in one of `while_in`; `None` when its status had
    /// moved on. A port other than its own must be free of other services, as at create.
    pub(crate) fn update_service(
        &mut self,
        id: &ServiceId,
        config: &ServiceConfig,
        while_in: &[Status],
    ) -> Result<Option<Service>> {
        let settings = stored(&config.settings)?;
        let acting = self.acting.clone();
        let changed = self.write(|tx| {
            let holder: Option<String> = tx
                .query_row(
                    &format!(
                        "SELECT id FROM services WHERE port = ?1 AND id != ?2 AND status IN ({}) LIMIT 1",
                        sql_list(&Status::HOLDS_PORT)
                    ),
                    params![config.port, id.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(holder) = holder {
                return Err(Error::conflict(format!(
                    "port {} is already assigned to service {holder}",
                    config.port
                ))
                .with_help("choose another --port, or stop or delete that service first"));
            }
            Ok(tx.execute(
                &format!(
                    "UPDATE services SET name = ?2, port = ?3, bind = ?4, gpus = ?5, memory_bytes = ?6,
                        restart_policy = ?7, settings = ?8, updated_at = ?9, changed_by = ?10
                     WHERE id = ?1 AND status IN ({})",
                    sql_list(while_in)
                ),
                params![
                    id.as_str(),
                    config.name,
                    config.port,
                    config.bind.to_string(),
                    config.gpus.as_ref().map(ToString::to_string),
                    config.memory_bytes.map(|b| b as i64),
                    config.restart.text(),
                    settings,
                    clock::now_ms(),
                    acting,
                ],
            )?)
        })?;
        if changed == 0 {
            return Ok(None);
        }
        self.get_service(id).map(Some)
    }
}
