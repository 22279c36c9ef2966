//! Model rows: register, list, read and delete.

use rusqlite::{OptionalExtension, Row, params};

use super::Store;
use crate::domain::{Model, ModelId, ModelSource, Status};
use crate::error::{Error, Result};

const COLUMNS: &str = "id, name, source, repo, path, model_type, created_at, created_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Model> {
    let source: String = r.get(2)?;
    Ok(Model {
        id: ModelId::parse(&r.get::<_, String>(0)?).map_err(|e| bad_column(0, e))?,
        name: r.get(1)?,
        source: ModelSource::parse(&source)
            .ok_or_else(|| bad_column(2, format!("unknown source {source}")))?,
        repo: r.get(3)?,
        path: r.get(4)?,
        model_type: r.get(5)?,
        status: "registered",
        created_at: r.get(6)?,
        created_by: r.get(7)?,
    })
}

pub(super) fn bad_column(col: usize, e: impl ToString) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        e.to_string().into(),
    )
}

impl Store {
    pub(crate) fn insert_model(&mut self, m: &Model) -> Result<()> {
        self.room_for_new()?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO models (id, name, source, repo, path, model_type, created_at,
                    created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    m.id.as_str(),
                    m.name,
                    m.source.as_str(),
                    m.repo,
                    m.path,
                    m.model_type,
                    m.created_at,
                    m.created_by
                ],
            )?;
            Ok(())
        })
    }

    pub(crate) fn list_models(&self) -> Result<Vec<Model>> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM models ORDER BY seq"))?;
        let rows = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Up to `limit` models created after `after` (from the start without it), oldest first,
    /// and how many there are in all; `None` when `after` names no model.
    pub(crate) fn models_after(
        &self,
        after: Option<&ModelId>,
        limit: usize,
    ) -> Result<Option<(Vec<Model>, usize)>> {
        self.rows_after(
            "models",
            COLUMNS,
            after.map(ModelId::as_str),
            limit,
            from_row,
        )
    }

    pub(crate) fn get_model(&self, id: &ModelId) -> Result<Model> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM models WHERE id = ?1"),
                [id.as_str()],
                from_row,
            )
            .optional()?
            .ok_or_else(|| Error::not_found("model", id.as_str()))
    }

    /// Refused while services use the model; `force` deletes those services too, unless one of
    /// them is starting or running (its container must be stopped first).
    pub(crate) fn delete_model(&mut self, id: &ModelId, force: bool) -> Result<Model> {
        let model = self.get_model(id)?;
        let acting = self.acting.clone();
        self.write(|tx| {
            let mut stmt =
                tx.prepare("SELECT id, status FROM services WHERE model_id = ?1 ORDER BY seq")?;
            let users: Vec<(String, String)> = stmt
                .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let active: Vec<&str> = users
                .iter()
                .filter(|(_, st)| Status::parse(st).is_some_and(|st| Status::BUSY.contains(&st)))
                .map(|(sid, _)| sid.as_str())
                .collect();
            if !active.is_empty() {
                return Err(Error::conflict(format!(
                    "model {id} is used by active service(s) {}",
                    active.join(", ")
                ))
                .with_help(format!("stop them first: aima service stop {}", active[0])));
            }
            if !users.is_empty() && !force {
                let ids: Vec<&str> = users.iter().map(|(sid, _)| sid.as_str()).collect();
                return Err(Error::conflict(format!(
                    "model {id} is used by service(s) {}",
                    ids.join(", ")
                ))
                .with_help(
                    "delete those services first, or pass --force to delete them with the model",
                ));
            }
            // The deleted services' log entries name who deleted them.
            tx.execute(
                "UPDATE services SET changed_by = ?2 WHERE model_id = ?1",
                params![id.as_str(), acting],
            )?;
            tx.execute("DELETE FROM services WHERE model_id = ?1", [id.as_str()])?;
            tx.execute("DELETE FROM models WHERE id = ?1", [id.as_str()])?;
            Ok(())
        })?;
        Ok(model)
    }
}
