//! `[runtime]`: which container runtime runs the engines of this data dir, plain Docker or a
//! Docker Swarm, and where Swarm may place them.

use serde::Deserialize;

use super::sources::{Source, Sources};
use super::{ConfigError, Env};

/// Where engines run: containers on one Docker host, or one-replica services of a Swarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    #[default]
    Docker,
    Swarm,
}

impl RuntimeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Docker => "docker",
            RuntimeKind::Swarm => "swarm",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "docker" => Some(RuntimeKind::Docker),
            "swarm" => Some(RuntimeKind::Swarm),
            _ => None,
        }
    }
}

impl std::fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The runtime settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuntimeSettings {
    pub kind: RuntimeKind,
    /// Swarm placement constraints every engine gets (`node.labels.gpu==true`); the node a
    /// start asks for with `--node` is added to them.
    pub constraints: Vec<String>,
}

/// `[runtime]` as the file has it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRuntime {
    kind: Option<RuntimeKind>,
    constraints: Option<Vec<String>>,
}

/// The file's `[runtime]`, then `AIMA_RUNTIME` over its kind.
pub(super) fn resolve(
    file: FileRuntime,
    env: &Env,
    sources: &mut Sources,
) -> Result<RuntimeSettings, ConfigError> {
    let mut settings = RuntimeSettings::default();
    if let Some(kind) = file.kind {
        settings.kind = kind;
        sources.set("runtime.kind", Source::File);
    }
    if let Some(text) = env.get("AIMA_RUNTIME") {
        settings.kind = RuntimeKind::parse(text).ok_or_else(|| ConfigError::BadValue {
            var: "AIMA_RUNTIME".to_owned(),
            expected: "\"docker\" or \"swarm\"".to_owned(),
            value: text.to_owned(),
        })?;
        sources.set("runtime.kind", Source::Env("AIMA_RUNTIME".to_owned()));
    }
    if let Some(constraints) = file.constraints {
        if let Some(bad) = constraints.iter().find(|c| !is_constraint(c)) {
            return Err(ConfigError::BadValue {
                var: "runtime.constraints in config.toml".to_owned(),
                expected: "Swarm constraints such as \"node.labels.gpu==true\"".to_owned(),
                value: bad.clone(),
            });
        }
        settings.constraints = constraints;
        sources.set("runtime.constraints", Source::File);
    }
    Ok(settings)
}

/// `ATTRIBUTE==VALUE` or `ATTRIBUTE!=VALUE`, as Swarm takes them; checked here so that a typo
/// is refused when the file is read, not when a service is created.
fn is_constraint(text: &str) -> bool {
    let Some((attribute, value)) = text.split_once("==").or_else(|| text.split_once("!=")) else {
        return false;
    };
    !attribute.trim().is_empty() && !value.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(kind: Option<RuntimeKind>, constraints: Option<Vec<&str>>) -> FileRuntime {
        FileRuntime {
            kind,
            constraints: constraints.map(|c| c.into_iter().map(str::to_owned).collect()),
        }
    }

    #[test]
    fn docker_is_the_default_and_the_environment_beats_the_file() {
        let mut sources = Sources::default();
        let none = Env::from_pairs(Vec::<(String, String)>::new());
        assert_eq!(
            resolve(file(None, None), &none, &mut sources).unwrap().kind,
            RuntimeKind::Docker
        );
        let swarm_file = resolve(file(Some(RuntimeKind::Swarm), None), &none, &mut sources);
        assert_eq!(swarm_file.unwrap().kind, RuntimeKind::Swarm);
        let env = Env::from_pairs([("AIMA_RUNTIME", "Docker")]);
        let settings = resolve(file(Some(RuntimeKind::Swarm), None), &env, &mut sources).unwrap();
        assert_eq!(settings.kind, RuntimeKind::Docker);
    }

    #[test]
    fn a_bad_kind_or_constraint_is_refused_with_where_it_came_from() {
        let mut sources = Sources::default();
        let env = Env::from_pairs([("AIMA_RUNTIME", "kubernetes")]);
        let err = resolve(file(None, None), &env, &mut sources).unwrap_err();
        assert!(err.to_string().contains("AIMA_RUNTIME"), "{err}");
        let none = Env::from_pairs(Vec::<(String, String)>::new());
        let bad = file(None, Some(vec!["node.labels.gpu==true", "gpu"]));
        let err = resolve(bad, &none, &mut sources).unwrap_err();
        assert!(err.to_string().contains("\"gpu\""), "{err}");
        let good = file(None, Some(vec!["node.role!=manager"]));
        let settings = resolve(good, &none, &mut sources).unwrap();
        assert_eq!(settings.constraints, ["node.role!=manager"]);
    }
}
