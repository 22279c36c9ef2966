//! A service's own engine settings — image, engine arguments, environment, `/dev/shm` size —
//! which override its engine's for that service only, and the rules they must follow so they
//! never break what aima owns (the engine's listen address, the model mount) or reach Docker
//! malformed.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::engine::{EngineSpec, EngineType, MAX_SIZE};

/// Most engine arguments a service may carry.
pub const MAX_ARGS: usize = 256;
/// Most bytes its arguments and environment may take together.
pub const MAX_SETTINGS_BYTES: usize = 64 * 1024;
/// What a secret value is shown as, everywhere.
pub const MASK: &str = "***";

/// The settings a service chose for itself; what it leaves out, its engine's settings decide.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceSettings {
    /// The engine image, replacing the engine's `image`.
    pub image: Option<String>,
    /// Arguments after the ones aima gives (model, port); they replace the engine's
    /// `extra_args`. `None`: the engine's.
    pub args: Option<Vec<String>>,
    /// Environment added to the engine's; a key the engine also sets takes this value.
    pub env: Vec<EnvVar>,
    /// Size of the container's `/dev/shm` in bytes, replacing the engine's `shm_size`.
    pub shm_bytes: Option<u64>,
}

impl ServiceSettings {
    pub fn is_empty(&self) -> bool {
        *self == ServiceSettings::default()
    }

    /// The environment as `KEY=VALUE` lines for the container (secrets included).
    pub fn env_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.env.iter().map(|v| format!("{}={}", v.key, v.value))
    }

    /// The engine's settings with these laid over them: the image, the arguments (replacing
    /// the engine's `extra_args`) and the `/dev/shm` size.
    pub fn apply_to(&self, spec: &mut EngineSpec) {
        if let Some(image) = &self.image {
            spec.image = image.clone();
        }
        if let Some(args) = &self.args {
            spec.extra_args = args.clone();
        }
        if let Some(bytes) = self.shm_bytes {
            spec.shm_bytes = Some(bytes);
        }
    }

    /// The container environment of `spec` with these variables laid over it: a key the
    /// engine sets takes the service's value.
    pub fn container_env(&self, spec: &EngineSpec) -> Vec<String> {
        let mut env: Vec<String> = spec
            .container_env()
            .into_iter()
            .filter(|line| {
                let key = line.split_once('=').map_or(line.as_str(), |(k, _)| k);
                !self.env.iter().any(|v| v.key == key)
            })
            .collect();
        env.extend(self.env_lines());
        env
    }
}

/// One environment variable of a service. A secret's value is never serialised or shown.
/// Read back (from the API) with its value as shown: a secret's is `***`.
#[derive(Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct EnvVar {
    pub key: String,
    #[schema(value_type = String, example = "***")]
    pub value: String,
    /// Shown as `***`: its key names a secret, or it came from an env file.
    pub secret: bool,
}

impl EnvVar {
    /// A variable given as `KEY=VALUE`; secret when its key says so.
    pub fn new(key: String, value: String) -> Self {
        let secret = is_secret_key(&key);
        EnvVar { key, value, secret }
    }

    /// The value as people may see it.
    pub fn shown(&self) -> &str {
        if self.secret { MASK } else { &self.value }
    }
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.shown())
    }
}

impl Serialize for EnvVar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("EnvVar", 3)?;
        st.serialize_field("key", &self.key)?;
        st.serialize_field("value", self.shown())?;
        st.serialize_field("secret", &self.secret)?;
        st.end()
    }
}

/// Keys whose values are secrets: they contain TOKEN, KEY, SECRET or PASSWORD (any case).
pub fn is_secret_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    ["TOKEN", "KEY", "SECRET", "PASSWORD"]
        .iter()
        .any(|word| upper.contains(word))
}

/// The settings as the store keeps them: values in clear (the store is private to the data
/// dir's owner, mode 0600).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StoredSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    env: Vec<(String, String, bool)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shm_bytes: Option<u64>,
}

impl From<&ServiceSettings> for StoredSettings {
    fn from(s: &ServiceSettings) -> Self {
        StoredSettings {
            image: s.image.clone(),
            args: s.args.clone(),
            env: s
                .env
                .iter()
                .map(|v| (v.key.clone(), v.value.clone(), v.secret))
                .collect(),
            shm_bytes: s.shm_bytes,
        }
    }
}

impl From<StoredSettings> for ServiceSettings {
    fn from(s: StoredSettings) -> Self {
        ServiceSettings {
            image: s.image,
            args: s.args,
            env: s
                .env
                .into_iter()
                .map(|(key, value, secret)| EnvVar { key, value, secret })
                .collect(),
            shm_bytes: s.shm_bytes.filter(|b| *b <= MAX_SIZE),
        }
    }
}

/// Why a setting is refused; each names the argument and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSetting {
    #[error("--image {0:?} is not an image reference: {1}")]
    Image(String, &'static str),
    #[error(
        "--arg {arg:?} sets the engine's {what}, which aima owns: it publishes the service on its port and bind address"
    )]
    ListenArg { arg: String, what: &'static str },
    #[error("--arg {0:?} sets the model, which aima gives the engine from the service's model")]
    ModelArg(String),
    #[error("--arg {0:?} names {1}, where aima mounts the model read-only")]
    MountPath(String, &'static str),
    #[error("--env {0} sets the engine's listen address, which aima owns")]
    ListenEnv(String),
    #[error(
        "--env name {0:?} is not a variable name: use letters, digits and _, not starting with a digit"
    )]
    EnvName(String),
    #[error("{0} contains a NUL byte, which no argument or environment variable can carry")]
    Nul(&'static str),
    #[error("{0} arguments are more than the {MAX_ARGS} a service may have")]
    TooManyArgs(usize),
    #[error(
        "arguments and environment take {0} bytes, more than the {MAX_SETTINGS_BYTES} a service may have"
    )]
    TooLarge(usize),
}

impl BadSetting {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            BadSetting::Image(..) => {
                "give a reference such as registry.example:5000/org/engine:tag or name@sha256:<64 hex digits>"
            }
            BadSetting::ListenArg { .. } | BadSetting::ListenEnv(_) => {
                "choose the service's host port with --port and its address with --bind"
            }
            BadSetting::ModelArg(_) | BadSetting::MountPath(..) => {
                "register the model with `aima model create` and create the service with --model-id"
            }
            BadSetting::EnvName(_) => "write each variable as KEY=VALUE",
            BadSetting::Nul(_) => "remove the NUL byte",
            BadSetting::TooManyArgs(_) | BadSetting::TooLarge(_) => {
                "put long configuration in a file in the model directory and point the engine at it"
            }
        }
    }
}

/// Checks `settings` for a service of `engine`; `mount` is where aima mounts models.
pub fn check(
    engine: EngineType,
    settings: &ServiceSettings,
    mount: &str,
) -> Result<(), BadSetting> {
    if let Some(image) = &settings.image {
        if image.contains('\0') {
            return Err(BadSetting::Nul("--image"));
        }
        check_image(image).map_err(|why| BadSetting::Image(image.clone(), why))?;
    }
    let args = settings.args.as_deref().unwrap_or_default();
    if args.len() > MAX_ARGS {
        return Err(BadSetting::TooManyArgs(args.len()));
    }
    for arg in args {
        check_arg(engine, arg, mount)?;
    }
    for var in &settings.env {
        if var.key.contains('\0') {
            return Err(BadSetting::Nul("an --env name"));
        }
        if var.value.contains('\0') {
            return Err(BadSetting::Nul("an --env value"));
        }
        if !is_env_name(&var.key) {
            return Err(BadSetting::EnvName(var.key.clone()));
        }
        if owned_env(engine, &var.key) {
            return Err(BadSetting::ListenEnv(var.key.clone()));
        }
    }
    let bytes: usize = args.iter().map(|a| a.len() + 1).sum::<usize>()
        + settings
            .env
            .iter()
            .map(|v| v.key.len() + v.value.len() + 2)
            .sum::<usize>();
    if bytes > MAX_SETTINGS_BYTES {
        return Err(BadSetting::TooLarge(bytes));
    }
    Ok(())
}

fn check_arg(engine: EngineType, arg: &str, mount: &str) -> Result<(), BadSetting> {
    if arg.contains('\0') {
        return Err(BadSetting::Nul("an --arg"));
    }
    let flag = arg.split_once('=').map_or(arg, |(flag, _)| flag);
    let listen = match engine {
        EngineType::Vllm | EngineType::Llamacpp => match flag {
            "--port" => Some("listen port"),
            "--host" => Some("listen host"),
            _ => None,
        },
        EngineType::Ollama => None,
    };
    if let Some(what) = listen {
        return Err(BadSetting::ListenArg {
            arg: arg.to_owned(),
            what,
        });
    }
    let model_flags: &[&str] = match engine {
        EngineType::Vllm => &["--model"],
        EngineType::Llamacpp => &["--model", "-m", "-hf", "--hf-repo", "-mu", "--model-url"],
        EngineType::Ollama => &[],
    };
    if model_flags.contains(&flag) {
        return Err(BadSetting::ModelArg(arg.to_owned()));
    }
    let value = arg.split_once('=').map_or(arg, |(_, v)| v);
    if value == mount || value.starts_with(&format!("{mount}/")) {
        return Err(BadSetting::MountPath(arg.to_owned(), "the model mount"));
    }
    Ok(())
}

/// Environment variables through which an engine would listen elsewhere than aima publishes.
fn owned_env(engine: EngineType, key: &str) -> bool {
    match engine {
        EngineType::Ollama => key == "OLLAMA_HOST",
        EngineType::Llamacpp => matches!(key, "LLAMA_ARG_PORT" | "LLAMA_ARG_HOST"),
        EngineType::Vllm => matches!(key, "VLLM_PORT" | "VLLM_HOST_IP"),
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`, as POSIX shells name variables.
pub fn is_env_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A Docker image reference: `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`, with lower-case path
/// components, as the distribution spec's grammar allows.
pub fn check_image(image: &str) -> Result<(), &'static str> {
    if image.is_empty() {
        return Err("it is empty");
    }
    if image.len() > 4096 {
        return Err("it is longer than 4096 bytes");
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let Some((algo, hex)) = digest.split_once(':') else {
            return Err("a digest reads ALGORITHM:HEX");
        };
        let hex_ok = hex.len() >= 32 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
        if algo.is_empty() || !algo.chars().all(|c| c.is_ascii_alphanumeric()) || !hex_ok {
            return Err("a digest reads ALGORITHM:HEX, such as sha256:<64 hex digits>");
        }
    }
    // A tag follows the last `:` after the last `/` (a `:` before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let first_ok = tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let rest_ok = tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !first_ok || !rest_ok || tag.len() > 128 {
            return Err("a tag is 1-128 letters, digits, _, . or -, not starting with . or -");
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // A first part with a `.` or `:`, or `localhost`, is a registry host.
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let host = parts.remove(0);
        let (h, port) = host.split_once(':').unwrap_or((host, "1"));
        let host_ok = !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        if !host_ok || port.parse::<u16>().is_err() {
            return Err("its registry host is not HOST or HOST:PORT");
        }
    }
    for part in parts {
        if !path_component(part) {
            return Err(
                "each path component is lower-case letters and digits, separated by ., _, __ or -",
            );
        }
    }
    Ok(())
}

fn path_component(part: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = part.as_bytes();
    if part.is_empty() || !alnum(bytes[0] as char) || !alnum(bytes[bytes.len() - 1] as char) {
        return false;
    }
    let mut seps = String::new();
    for c in part.chars() {
        if alnum(c) {
            if !(seps.is_empty() || seps == "." || seps == "_" || seps == "__" || seps.chars().all(|s| s == '-')) {
                return false;
            }
            seps.clear();
        } else if matches!(c, '.' | '_' | '-') {
            seps.push(c);
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
