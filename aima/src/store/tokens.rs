//! Named API tokens (`aima token create|list|revoke`): only a token's SHA-256 hash is kept,
//! so the database never holds one that could be used.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::clock;
use crate::error::{Error, Result};

/// A named token as `aima token list` shows it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// The user it acts as.
    pub name: String,
    /// Whether it acts as an admin.
    pub admin: bool,
    #[serde(
        serialize_with = "crate::domain::rfc3339",
        deserialize_with = "crate::domain::wire::time"
    )]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Who created it.
    pub created_by: Option<String>,
}

/// What a request's token is checked against: a name, its hash, admin or not.
#[derive(Debug, Clone)]
pub struct TokenHash {
    pub name: String,
    pub hash: String,
    pub admin: bool,
}

impl Store {
    /// Records a token named `name` by its hash; refused when the name is taken.
    pub(crate) fn insert_token(&mut self, name: &str, hash: &str, admin: bool) -> Result<TokenInfo> {
        self.room_for_new()?;
        let acting = self.acting.clone();
        let now = clock::now_ms();
        self.write(|tx| {
            let taken = tx
                .query_row("SELECT 1 FROM api_tokens WHERE name = ?1", [name], |_| Ok(()))
                .optional()?
                .is_some();
            if taken {
                return Err(Error::conflict(format!("a token named {name} exists already"))
                    .with_help(format!(
                        "revoke it first (`aima token revoke {name}`), or choose another name"
                    )));
            }
            tx.execute(
                "INSERT INTO api_tokens (name, hash, admin, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, hash, admin, now, acting],
            )?;
            Ok(())
        })?;
        Ok(TokenInfo {
            name: name.to_owned(),
            admin,
            created_at: now,
            created_by: self.acting.clone(),
        })
    }

    /// Every named token, by name.
    pub(crate) fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let mut stmt = self.conn().prepare(
            "SELECT name, admin, created_at, created_by FROM api_tokens ORDER BY name",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TokenInfo {
                    name: r.get(0)?,
                    admin: r.get(1)?,
                    created_at: r.get(2)?,
                    created_by: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The hashes every request's token is compared with.
    pub(crate) fn token_hashes(&self) -> Result<Vec<TokenHash>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT name, hash, admin FROM api_tokens")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TokenHash {
                    name: r.get(0)?,
                    hash: r.get(1)?,
                    admin: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Removes the token named `name`: the next request with it is refused.
    pub(crate) fn delete_token(&mut self, name: &str) -> Result<TokenInfo> {
        let found = self
            .list_tokens()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| {
                Error::new(crate::error::Kind::NotFound, format!("token {name} not found"))
                    .with_help("run `aima token list` to see the existing names")
            })?;
        self.write(|tx| {
            tx.execute("DELETE FROM api_tokens WHERE name = ?1", [name])?;
            Ok(())
        })?;
        Ok(found)
    }
}
