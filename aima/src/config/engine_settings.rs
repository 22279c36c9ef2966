//! Every engine setting, once: its key under `[engines.X]` in `config.toml`, its environment
//! variable, what it takes, where it lands in the [`EngineSpec`] and how `aima info` shows it.
//! The file, the environment, `aima info` and the documentation's table all read [`ALL`], so
//! a setting cannot be known to one of them and missing from another.

use serde_json::{Value, json};

use crate::domain::{
    EngineSpec, EngineType, Gpus, HostPort, MIN_MEMORY, PullPolicy, RESTART_TAKES, RestartPolicy,
    Secret, parse_size,
};

/// Where a setting's environment variable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// `AIMA_<ENGINE>_<suffix>`, one per engine.
    Engine(&'static str),
    /// One variable for every engine (`HF_TOKEN`, as the Hugging Face tools read it).
    Shared(&'static str),
    /// `config.toml` only.
    None,
}

impl Var {
    /// The variable's name for `engine`, when there is one.
    pub fn name(self, engine: EngineType) -> Option<String> {
        match self {
            Var::Engine(suffix) => Some(format!("{}_{suffix}", engine.env_prefix())),
            Var::Shared(name) => Some(name.to_owned()),
            Var::None => None,
        }
    }
}

/// A value as given: a TOML value from the file, or an environment variable's text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'a> {
    File(&'a toml::Value),
    Env(&'a str),
}

impl Raw<'_> {
    fn text(self) -> Option<String> {
        match self {
            Raw::File(toml::Value::String(s)) => Some(s.clone()),
            Raw::Env(s) => Some(s.to_owned()),
            Raw::File(_) => None,
        }
    }

    fn boolean(self) -> Option<bool> {
        match self {
            Raw::File(toml::Value::Boolean(b)) => Some(*b),
            Raw::Env(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            Raw::File(_) => None,
        }
    }

    fn whole<T: TryFrom<i64>>(self) -> Option<T> {
        let n = match self {
            Raw::File(toml::Value::Integer(n)) => *n,
            Raw::Env(s) => s.trim().parse().ok()?,
            Raw::File(_) => return None,
        };
        T::try_from(n).ok()
    }

    fn size(self) -> Option<u64> {
        parse_size(&self.text()?)
    }

    fn list(self) -> Option<Vec<String>> {
        match self {
            Raw::File(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        }
    }
}

/// One engine setting.
pub struct EngineSetting {
    /// The key under `[engines.X]`, and in `aima info`.
    pub key: &'static str,
    pub var: Var,
    /// What a value must be: said when one is refused, and in the documentation.
    pub takes: &'static str,
    /// Sets the value on the spec; `None` when it is not one the setting takes.
    apply: fn(&mut EngineSpec, Raw<'_>) -> Option<()>,
    /// The effective value as `aima info` shows it (secrets as set or not, never their value).
    pub show: fn(&EngineSpec) -> Value,
}

impl EngineSetting {
    pub(crate) fn apply(&self, spec: &mut EngineSpec, raw: Raw<'_>) -> Option<()> {
        (self.apply)(spec, raw)
    }
}

const SIZE: &str = "a size such as 16g, 512m or 1048576 (at most 9223372036854775807 bytes)";
const COUNT: &str = "a whole number above 0";

fn set_or_not(secret: &Option<Secret>) -> Value {
    json!(if secret.is_some() { "set" } else { "not set" })
}

/// Every engine setting, in the order `aima info` and the docs list them.
pub const ALL: &[EngineSetting] = &[
    EngineSetting {
        key: "image",
        var: Var::Engine("IMAGE"),
        takes: "an image reference",
        apply: |s, r| r.text().map(|v| s.image = v),
        show: |s| json!(s.image),
    },
    EngineSetting {
        key: "pull",
        var: Var::Engine("PULL"),
        takes: "missing, always or never",
        apply: |s, r| PullPolicy::parse(&r.text()?).map(|v| s.pull = v),
        show: |s| json!(s.pull.as_str()),
    },
    EngineSetting {
        key: "gpu",
        var: Var::Engine("GPU"),
        takes: "true or false",
        apply: |s, r| r.boolean().map(|v| s.gpu = v),
        show: |s| json!(s.gpu),
    },
    EngineSetting {
        key: "gpus",
        var: Var::Engine("GPUS"),
        takes: "all, none, count=N, or device indexes or UUIDs separated by commas",
        apply: |s, r| Gpus::parse(&r.text()?).ok().map(|v| s.gpus = Some(v)),
        // What new services get without --gpus; follows `gpu` unless `gpus` is set.
        show: |s| json!(s.default_gpus().to_string()),
    },
    EngineSetting {
        key: "gpu_memory",
        var: Var::Engine("GPU_MEMORY"),
        takes: SIZE,
        apply: |s, r| r.size().map(|v| s.gpu_memory_bytes = Some(v)),
        show: |s| s.gpu_memory_bytes.map_or_else(|| json!("not checked"), |b| json!(b)),
    },
    EngineSetting {
        key: "port",
        var: Var::Engine("PORT"),
        takes: "a port between 1 and 65535",
        apply: |s, r| r.whole::<u16>().and_then(HostPort::new).map(|v| s.default_port = v),
        show: |s| json!(s.default_port),
    },
    EngineSetting {
        key: "bind",
        var: Var::Engine("BIND"),
        takes: "an IP address such as 127.0.0.1 or 0.0.0.0",
        apply: |s, r| r.text()?.parse().ok().map(|v| s.bind = v),
        show: |s| json!(s.bind.to_string()),
    },
    EngineSetting {
        key: "api_key",
        var: Var::Engine("API_KEY"),
        takes: "the key clients must send",
        apply: |s, r| r.text().map(|v| s.api_key = Some(Secret::new(v))),
        show: |s| set_or_not(&s.api_key),
    },
    EngineSetting {
        key: "hf_token",
        var: Var::Shared("HF_TOKEN"),
        takes: "a Hugging Face token",
        apply: |s, r| r.text().map(|v| s.hf_token = Some(Secret::new(v))),
        show: |s| set_or_not(&s.hf_token),
    },
    EngineSetting {
        key: "shm_size",
        var: Var::Engine("SHM_SIZE"),
        takes: SIZE,
        apply: |s, r| r.size().map(|v| s.shm_bytes = Some(v)),
        show: |s| s.shm_bytes.map_or_else(|| json!("Docker's default (64 MiB)"), |b| json!(b)),
    },
    EngineSetting {
        key: "memory",
        var: Var::Engine("MEMORY"),
        takes: "a size such as 8g, at least 6m (Docker's smallest container memory limit)",
        apply: |s, r| {
            let bytes = r.size().filter(|b| *b >= MIN_MEMORY);
            bytes.map(|v| s.limits.memory_bytes = Some(v))
        },
        show: |s| {
            s.limits
                .memory_bytes
                .map_or_else(|| json!("3/4 of the Docker host's memory"), |b| json!(b))
        },
    },
    EngineSetting {
        key: "pids_limit",
        var: Var::Engine("PIDS_LIMIT"),
        takes: COUNT,
        apply: |s, r| r.whole::<u32>().filter(|n| *n > 0).map(|v| s.limits.pids = v),
        show: |s| json!(s.limits.pids),
    },
    EngineSetting {
        key: "log_max_size",
        var: Var::Engine("LOG_MAX_SIZE"),
        takes: SIZE,
        apply: |s, r| r.size().map(|v| s.limits.log_max_bytes = v),
        show: |s| json!(s.limits.log_max_bytes),
    },
    EngineSetting {
        key: "log_max_files",
        var: Var::Engine("LOG_MAX_FILES"),
        takes: COUNT,
        apply: |s, r| r.whole::<u32>().filter(|n| *n > 0).map(|v| s.limits.log_max_files = v),
        show: |s| json!(s.limits.log_max_files),
    },
    EngineSetting {
        key: "restart",
        var: Var::Engine("RESTART"),
        takes: RESTART_TAKES,
        apply: |s, r| RestartPolicy::parse(&r.text()?).map(|v| s.restart = v),
        show: |s| json!(s.restart.text()),
    },
    EngineSetting {
        key: "liveness_secs",
        var: Var::Engine("LIVENESS_SECS"),
        takes: "whole seconds from 0 to 86400 (0: running engines are not probed)",
        apply: |s, r| r.whole::<u32>().filter(|n| *n <= 86_400).map(|v| s.liveness_secs = v),
        show: |s| json!(s.liveness_secs),
    },
    EngineSetting {
        key: "liveness_failures",
        var: Var::Engine("LIVENESS_FAILURES"),
        takes: "a whole number from 1 to 100",
        apply: |s, r| {
            let n = r.whole::<u32>().filter(|n| (1..=100).contains(n));
            n.map(|v| s.liveness_failures = v)
        },
        show: |s| json!(s.liveness_failures),
    },
    EngineSetting {
        key: "health_path",
        var: Var::None,
        takes: "a path such as /health",
        apply: |s, r| r.text().map(|v| s.health_path = v),
        show: |s| json!(s.health_path),
    },
    EngineSetting {
        key: "start_attempts",
        var: Var::None,
        takes: "a whole number (kept within 1 to 10)",
        apply: |s, r| r.whole::<u32>().map(|v| s.start_attempts = v.clamp(1, 10)),
        show: |s| json!(s.start_attempts),
    },
    EngineSetting {
        key: "backoff_ms",
        var: Var::None,
        takes: "milliseconds, a whole number",
        apply: |s, r| r.whole::<u64>().map(|v| s.backoff_ms = v),
        show: |s| json!(s.backoff_ms),
    },
    EngineSetting {
        key: "stop_secs",
        var: Var::None,
        takes: "whole seconds from 0 to 65535",
        apply: |s, r| r.whole::<u16>().map(|v| s.stop_secs = v.into()),
        show: |s| json!(s.stop_secs),
    },
    EngineSetting {
        key: "extra_args",
        var: Var::None,
        takes: "a list of strings",
        apply: |s, r| r.list().map(|v| s.extra_args = v),
        show: |s| json!(s.extra_args),
    },
];

/// The setting under `key`, if there is one.
pub(crate) fn find(key: &str) -> Option<&'static EngineSetting> {
    ALL.iter().find(|s| s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_variables_are_unique() {
        let mut keys: Vec<_> = ALL.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ALL.len());
        let mut vars: Vec<_> = ALL
            .iter()
            .filter_map(|s| s.var.name(EngineType::Vllm))
            .collect();
        vars.sort_unstable();
        vars.dedup();
        assert_eq!(vars.len(), ALL.iter().filter(|s| s.var != Var::None).count());
    }

    #[test]
    fn each_setting_takes_what_it_says_and_refuses_the_rest() {
        let mut spec = EngineSpec::builtin(EngineType::Vllm);
        let good = [
            ("image", Raw::Env("x:1")),
            ("gpu", Raw::Env("no")),
            ("port", Raw::Env("8080")),
            ("memory", Raw::Env("6m")),
            ("stop_secs", Raw::File(&toml::Value::Integer(3))),
            ("liveness_secs", Raw::Env("0")),
            ("liveness_failures", Raw::File(&toml::Value::Integer(5))),
        ];
        for (key, raw) in good {
            assert!(find(key).unwrap().apply(&mut spec, raw).is_some(), "{key}");
        }
        assert_eq!((spec.image.as_str(), spec.gpu, spec.default_port.get()), ("x:1", false, 8080));
        assert_eq!((spec.liveness_secs, spec.liveness_failures), (0, 5));
        let bad = [
            ("gpu", Raw::Env("maybe")),
            ("port", Raw::Env("0")),
            ("port", Raw::Env("70000")),
            ("memory", Raw::Env("5m")),
            ("memory", Raw::Env("18446744073709551615")),
            ("stop_secs", Raw::File(&toml::Value::Integer(-1))),
            ("start_attempts", Raw::File(&toml::Value::Integer(-1))),
            ("image", Raw::File(&toml::Value::Integer(1))),
            ("restart", Raw::Env("sometimes")),
            ("restart", Raw::Env("on-failure:0")),
            ("liveness_secs", Raw::Env("-1")),
            ("liveness_secs", Raw::Env("86401")),
            ("liveness_failures", Raw::Env("0")),
            ("liveness_failures", Raw::File(&toml::Value::String("3".into()))),
        ];
        for (key, raw) in bad {
            assert!(find(key).unwrap().apply(&mut spec, raw).is_none(), "{key} {raw:?}");
        }
    }
}
