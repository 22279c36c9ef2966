//! A model: a registration of weights (a repo id, maybe a local path) that services serve.

use serde::{Deserialize, Serialize};

use super::ids::ModelId;
use super::service::as_rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    Ollama,
    Huggingface,
    Modelscope,
    Local,
}

impl ModelSource {
    pub const ALL: [ModelSource; 4] = [
        ModelSource::Ollama,
        ModelSource::Huggingface,
        ModelSource::Modelscope,
        ModelSource::Local,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelSource::Ollama => "ollama",
            ModelSource::Huggingface => "huggingface",
            ModelSource::Modelscope => "modelscope",
            ModelSource::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Model {
    pub id: ModelId,
    pub name: String,
    pub source: ModelSource,
    pub repo: String,
    pub path: Option<String>,
    #[serde(rename = "type")]
    pub model_type: String,
    /// Models are registrations; they are always `registered`.
    #[schema(value_type = String, example = "registered")]
    pub status: &'static str,
    #[serde(serialize_with = "as_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Who registered it; null for models registered before aima knew who acts.
    pub created_by: Option<String>,
}

/// A model as its JSON reads (from the API), before its `status` is checked.
#[derive(Deserialize)]
struct ModelWire {
    id: ModelId,
    name: String,
    source: ModelSource,
    repo: String,
    path: Option<String>,
    #[serde(rename = "type")]
    model_type: String,
    status: String,
    #[serde(deserialize_with = "super::wire::time")]
    created_at: i64,
    #[serde(default)]
    created_by: Option<String>,
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = ModelWire::deserialize(d)?;
        if w.status != "registered" {
            return Err(serde::de::Error::custom(format!(
                "{:?} is not a model status",
                w.status
            )));
        }
        Ok(Model {
            id: w.id,
            name: w.name,
            source: w.source,
            repo: w.repo,
            path: w.path,
            model_type: w.model_type,
            status: "registered",
            created_at: w.created_at,
            created_by: w.created_by,
        })
    }
}
