//! Set-up through the CLI, as the reference scenario types it: its model, vLLM services, and
//! reading the records back.

use serde_json::Value;

use super::aima::Aima;

/// `model create` of the reference scenario's `port-test-model`.
pub const CREATE_REFERENCE_MODEL: [&str; 8] = [
    "model",
    "create",
    "--name",
    "port-test-model",
    "--source",
    "ollama",
    "--repo",
    "tinyllama",
];

/// `model create --name NAME --source SOURCE --repo REPO EXTRA…`.
pub fn create_model_args<'a>(
    name: &'a str,
    source: &'a str,
    repo: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "model", "create", "--name", name, "--source", source, "--repo", repo,
    ];
    args.extend_from_slice(extra);
    args
}

/// `service create --model-id MODEL --engine-type ENGINE EXTRA…`.
pub fn create_service_args<'a>(model: &'a str, engine: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "service",
        "create",
        "--model-id",
        model,
        "--engine-type",
        engine,
    ];
    args.extend_from_slice(extra);
    args
}

impl Aima {
    /// The reference scenario's set-up: registers `port-test-model`, returns its id.
    pub fn create_model(&self) -> String {
        self.run(&CREATE_REFERENCE_MODEL).success();
        let list = self
            .run(&["model", "list", "--output", "json"])
            .success()
            .json();
        string_at(&list, "/items/-1/id")
    }

    /// `service create --model-id MODEL --engine-type vllm EXTRA…`, returns the new id.
    pub fn create_service(&self, model: &str, extra: &[&str]) -> String {
        let created = self
            .run(&create_service_args(model, "vllm", extra))
            .success();
        let id = string_at(&created.json_or_detail(), "/id");
        assert!(id.starts_with("svc-"), "{created}");
        id
    }
}

/// Reading the store back.
impl Aima {
    /// The service as `service list --output json` shows it (the list refreshes stale states).
    pub fn listed_service(&self, id: &str) -> Value {
        let list = self
            .run(&["service", "list", "--output", "json"])
            .success()
            .json();
        list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|s| s["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not in the list: {list:#}"))
    }

    /// [`Aima::listed_service`], which must be `failed` after exactly `attempts` attempts.
    #[track_caller]
    pub fn listed_failed(&self, id: &str, attempts: usize) -> Value {
        let listed = self.listed_service(id);
        assert_eq!(listed["status"], "failed", "{listed:#}");
        assert_eq!(
            listed["attempts"].as_array().map(Vec::len),
            Some(attempts),
            "{listed:#}"
        );
        listed
    }

    /// Everything the store holds, as the JSON lists show it: to prove a command changed nothing.
    pub fn store_contents(&self) -> (Value, Value) {
        let models = self.run(&["model", "list", "-o", "json"]).success().json();
        let services = self
            .run(&["service", "list", "-o", "json"])
            .success()
            .json();
        (models, services)
    }

    /// An `aima` holding the reference model and one default vLLM service: (aima, model, service).
    pub fn seeded() -> (Aima, String, String) {
        let aima = Aima::new();
        let model = aima.create_model();
        let service = aima.create_service(&model, &[]);
        (aima, model, service)
    }
}

/// `value[pointer]` as a string; `-1` as the last index, as jq's `.items[-1]`.
pub fn string_at(value: &Value, pointer: &str) -> String {
    let mut cur = value;
    for part in pointer.split('/').skip(1) {
        cur = match (part, cur) {
            ("-1", Value::Array(items)) => items.last().unwrap_or(&Value::Null),
            (key, Value::Array(items)) => key
                .parse()
                .ok()
                .and_then(|i: usize| items.get(i))
                .unwrap_or(&Value::Null),
            (key, obj) => &obj[key],
        };
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("no string at {pointer} in {value:#}"))
        .to_owned()
}
