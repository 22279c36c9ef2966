//! Examples of the main verbs: shown under their `--help` (clap's `after_help`) and as the
//! EXAMPLES section of their man pages, from these same texts.

pub(crate) const SERVICE_CREATE: &str = "\
Examples:
  aima service create --model-id tiny --engine-type ollama
  aima service create --model-id model-1a2b3c4d --engine-type vllm --port 8001 --gpus 0,1 --memory 32g
  aima service create --model-id qwen --engine-type llamacpp --name qwen-cpu --gpus none -o json
  aima service create --model-id qwen --engine-type llamacpp --name qwen-long -- --ctx-size 8192
  aima service create --model-id qwen --engine-type vllm --env HF_TOKEN=hf_xxx --image vllm/vllm-openai:v0.6.3";

pub(crate) const SERVICE_UPDATE: &str = "\
Examples:
  aima service update qwen-long --arg --ctx-size --arg 16384
  aima service update qwen-vllm --port 8001 --apply-now
  aima service update qwen-vllm --unset image --unset env.HF_TOKEN";

pub(crate) const SERVICE_START: &str = "\
Examples:
  aima service start tiny-ollama-1a2b --wait
  aima service start svc-1a2b3c4d --wait --timeout 900 --pull always
  aima service start 1a2b        (an id prefix works too)";

pub(crate) const MODEL_CREATE: &str = "\
Examples:
  aima model create --name tiny --source ollama --repo tinyllama
  aima model create --name qwen --source huggingface --repo Qwen/Qwen2-0.5B-Instruct
  aima model create --name local --source local --repo qwen --path /models/qwen2.gguf";

pub(crate) const APPLY: &str = "\
Examples:
  aima apply -f fleet.toml --dry-run
  aima apply -f fleet.toml --wait
  aima export | aima apply -f - --dry-run        (no change)";

pub(crate) const START: &str = "\
Examples:
  aima start                              (127.0.0.1:9090, or [api] listen in config.toml)
  aima start --listen 0.0.0.0:9090        (needs the API token; see `aima info`)
  AIMA_LOG=debug aima start";

/// The examples of the command named `path` (`aima service create`), if it has some.
pub(crate) fn of(path: &str) -> Option<&'static str> {
    match path {
        "aima service create" => Some(SERVICE_CREATE),
        "aima service start" => Some(SERVICE_START),
        "aima service update" => Some(SERVICE_UPDATE),
        "aima model create" => Some(MODEL_CREATE),
        "aima start" => Some(START),
        "aima apply" => Some(APPLY),
        _ => None,
    }
}
