//! Scenario 2's steps. Its inputs come from the environment `ci/real-engine.sh` prepares: the
//! llama.cpp server image, the tiny GGUF, and a Python with the `openai` package. Without them
//! the scenario fails with a setup problem that names the script.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::fixtures::port_check::{check_port, free_port};
use crate::scenario::aima_ops::{
    Engine, answer_text, create_json, create_service_on, engine_health, start_wait_on,
};
use crate::scenario::context::RunContext;

use super::contexts::{self, Sized};

/// The llama.cpp server image to run (`ci/llama-image.sh` prints its tag).
pub const IMAGE_ENV: &str = "HARNESS_LLAMA_IMAGE";
/// A small valid GGUF model file (`ci/tiny_gguf.py` writes one).
pub const GGUF_ENV: &str = "HARNESS_TINY_GGUF";
/// A Python interpreter that can `import openai`.
pub const OPENAI_PYTHON_ENV: &str = "HARNESS_OPENAI_PYTHON";

const QUICK: Duration = Duration::from_secs(30);
const START_TIMEOUT: u64 = 120;
const MESSAGE: &str = "Say hello to aima.";
/// A Hugging Face repository id that does not exist: the engine tries to fetch it through `-hf`
/// and fails whether or not the machine can reach Hugging Face; nothing is downloaded.
pub const HF_REPO: &str = "aima-ci/no-such-model-GGUF";

/// One service of the run: how it started, was checked, asked and stopped.
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub label: String,
    pub create: Option<CommandRecord>,
    pub start: Option<CommandRecord>,
    pub status: Option<String>,
    pub health: Option<Result<u16, String>>,
    pub chat: Option<CommandRecord>,
    pub chat_answer: Option<Value>,
    pub openai: Option<CommandRecord>,
    pub stop: Option<CommandRecord>,
    /// This service's containers still present after the stop.
    pub left_after_stop: Vec<String>,
    pub port: u16,
    pub port_free_after_stop: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    pub image: String,
    pub model_dir: Option<CommandRecord>,
    pub model_file: Option<CommandRecord>,
    pub served: Vec<Served>,
    /// The invalid model's start, its record read back, and its containers afterwards.
    pub bad_start: Option<CommandRecord>,
    pub bad_record: Option<Value>,
    pub bad_left: Vec<String>,
    /// A llama.cpp service of a repository id that is not `owner/name`: its `service create`.
    pub repo_refused: Option<CommandRecord>,
    /// A llama.cpp service of a Hugging Face repository (`-hf`): create, start, record, leftovers.
    pub hf_create: Option<CommandRecord>,
    pub hf_start: Option<CommandRecord>,
    pub hf_record: Option<Value>,
    pub hf_left: Vec<String>,
    /// Two services of one model side by side, each with its own `--ctx-size`.
    pub contexts: Vec<Sized>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn input(var: &str) -> anyhow::Result<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty()).ok_or_else(|| {
        anyhow::anyhow!(
            "{var} is not set: run `bash ci/real-engine.sh` (it builds or reuses the llama.cpp image, writes the tiny GGUF and prepares the OpenAI client, then runs this scenario)"
        )
    })
}

/// The run's model root: the tiny model as a directory, as a file, and an invalid GGUF.
struct Models {
    root: PathBuf,
    dir: PathBuf,
    file: PathBuf,
    bad: PathBuf,
}

fn lay_out_models(run_dir: &Path, gguf: &Path) -> anyhow::Result<Models> {
    let root = run_dir.join("models");
    let dir = root.join("tiny-dir");
    let file_dir = root.join("tiny-file");
    let bad_dir = root.join("bad");
    for d in [&dir, &file_dir, &bad_dir] {
        std::fs::create_dir_all(d)?;
    }
    std::fs::copy(gguf, dir.join("tiny.gguf"))?;
    std::fs::write(dir.join("README.md"), "a tiny random-weight model\n")?;
    let file = file_dir.join("tiny.gguf");
    std::fs::copy(gguf, &file)?;
    let bad = bad_dir.join("broken.gguf");
    std::fs::write(&bad, b"this is not a GGUF file at all\n")?;
    Ok(Models {
        root: root.canonicalize()?,
        dir: dir.canonicalize()?,
        file: file.canonicalize()?,
        bad: bad.canonicalize()?,
    })
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let image = input(IMAGE_ENV)?;
    let gguf = PathBuf::from(input(GGUF_ENV)?);
    let python = input(OPENAI_PYTHON_ENV)?;
    obs.image = image.clone();
    let models = lay_out_models(&ctx.run_dir.clone(), &gguf)?;
    let env = [
        ("AIMA_LLAMACPP_IMAGE".to_owned(), image),
        (
            "AIMA_MODEL_ROOTS".to_owned(),
            models.root.display().to_string(),
        ),
    ];
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    // 1. Register the model as a directory and as the file itself.
    let (dir_model, record) = register(ctx, &envs, "tiny-dir", &models.dir)?;
    obs.model_dir = Some(record);
    let (file_model, record) = register(ctx, &envs, "tiny-file", &models.file)?;
    obs.model_file = Some(record);

    // 2-5. Serve each, check health, chat through aima and an OpenAI client, stop.
    let ports = [ctx.port, free_port()?];
    for ((label, model), port) in [("directory", &dir_model), ("file", &file_model)]
        .into_iter()
        .zip(ports)
    {
        let served = serve(ctx, &envs, &python, label, model, port);
        obs.served.push(served);
    }

    // 8 (run here, while the model is fresh). Two services of one model, each with its own
    // engine arguments, side by side.
    obs.contexts = contexts::side_by_side(
        ctx,
        &envs,
        |ctx, step, port, extra| {
            create_service_on(ctx, llamacpp(&envs), step, &dir_model, port, extra)
        },
        |ctx, step, id| start_wait(ctx, &envs, step, id),
        containers_of,
    );

    // 6. The failure half: an invalid GGUF.
    let (bad_model, _) = register(ctx, &envs, "broken", &models.bad)?;
    let port = free_port()?;
    let service = create_service(
        ctx,
        &envs,
        "invalid model: service create",
        &bad_model,
        port,
    )?
    .0;
    let start = start_wait(ctx, &envs, "invalid model: service start --wait", &service);
    obs.bad_start = Some(start);
    let get = ctx.aima(
        "invalid model: service get",
        &["service", "get", &service, "--output", "json"],
        &envs,
        QUICK,
    );
    obs.bad_record = serde_json::from_str(&get.stdout).ok();
    obs.bad_left = containers_of(ctx, &service)?;
    ctx.aima(
        "cleanup: stop the failed service",
        &["service", "stop", &service],
        &envs,
        QUICK,
    );

    // 7. Repository ids: refused at create unless `owner/name`, which the engine gets as `-hf`.
    repositories(ctx, &envs, obs)
}

fn repositories(
    ctx: &mut RunContext,
    envs: &[(&str, &str)],
    obs: &mut Observations,
) -> anyhow::Result<()> {
    let (plain, _) = register_repo(ctx, envs, "tinyllama")?;
    let port = free_port()?.to_string();
    let args = [
        "service",
        "create",
        "--model-id",
        &plain,
        "--engine-type",
        "llamacpp",
        "--port",
        &port,
    ];
    obs.repo_refused = Some(ctx.aima(
        "repository tinyllama: service create (refused)",
        &args,
        envs,
        QUICK,
    ));

    let (hf, _) = register_repo(ctx, envs, HF_REPO)?;
    let (service, create) = create_service(
        ctx,
        envs,
        &format!("repository {HF_REPO}: service create"),
        &hf,
        free_port()?,
    )?;
    obs.hf_create = Some(create);
    // Plain progress lines (not JSON), so the note about the network is in the record.
    obs.hf_start = Some(start_wait(
        ctx,
        envs,
        &format!("repository {HF_REPO}: service start --wait"),
        &service,
    ));
    let get = ctx.aima(
        &format!("repository {HF_REPO}: service get"),
        &["service", "get", &service, "--output", "json"],
        envs,
        QUICK,
    );
    obs.hf_record = serde_json::from_str(&get.stdout).ok();
    obs.hf_left = containers_of(ctx, &service)?;
    ctx.aima(
        "cleanup: stop the repository service",
        &["service", "stop", &service],
        envs,
        QUICK,
    );
    Ok(())
}

fn register_repo(
    ctx: &mut RunContext,
    envs: &[(&str, &str)],
    repo: &str,
) -> anyhow::Result<(String, CommandRecord)> {
    let args = [
        "model",
        "create",
        "--name",
        repo,
        "--source",
        "huggingface",
        "--repo",
        repo,
        "--output",
        "json",
    ];
    let step = format!("register repository {repo}");
    let what = format!("model create of repository {repo}");
    create_json(ctx, &step, &args, envs, &what)
}

fn register(
    ctx: &mut RunContext,
    envs: &[(&str, &str)],
    name: &str,
    path: &Path,
) -> anyhow::Result<(String, CommandRecord)> {
    let path = path.display().to_string();
    let args = [
        "model", "create", "--name", name, "--source", "local", "--repo", name, "--path", &path,
        "--output", "json",
    ];
    let step = format!("register {name} from {path}");
    create_json(ctx, &step, &args, envs, &format!("model create of {path}"))
}

/// The llama.cpp engine on the run's image and model roots.
fn llamacpp<'a>(envs: &'a [(&'a str, &'a str)]) -> Engine<'a> {
    Engine {
        kind: "llamacpp",
        env: envs,
    }
}

fn create_service(
    ctx: &mut RunContext,
    envs: &[(&str, &str)],
    step: &str,
    model: &str,
    port: u16,
) -> anyhow::Result<(String, CommandRecord)> {
    create_service_on(ctx, llamacpp(envs), step, model, port, &[])
}

fn start_wait(
    ctx: &mut RunContext,
    envs: &[(&str, &str)],
    step: &str,
    service: &str,
) -> CommandRecord {
    start_wait_on(ctx, llamacpp(envs), step, service, START_TIMEOUT)
}

fn serve(
    ctx: &mut RunContext,
    envs: &[(&str, &str)],
    python: &str,
    label: &str,
    model: &str,
    port: u16,
) -> Served {
    let mut s = Served {
        label: label.to_owned(),
        port,
        ..Served::default()
    };
    let service = match create_service(ctx, envs, &format!("{label}: service create"), model, port)
    {
        Ok((id, record)) => {
            s.create = Some(record);
            id
        }
        Err(e) => {
            ctx.say(&format!("{label}: {e:#}"));
            return s;
        }
    };
    s.start = Some(start_wait(
        ctx,
        envs,
        &format!("{label}: service start --wait"),
        &service,
    ));
    let get = ctx.aima(
        &format!("{label}: service get"),
        &["service", "get", &service, "--output", "json"],
        envs,
        QUICK,
    );
    s.status = serde_json::from_str::<Value>(&get.stdout)
        .ok()
        .and_then(|v| v["status"].as_str().map(str::to_owned));
    let health = engine_health(port);
    ctx.say(&format!("{label}: GET /health -> {}", answer_text(&health)));
    s.health = Some(health);
    let chat = ctx.aima(
        &format!("{label}: inference chat"),
        &[
            "inference",
            "chat",
            &service,
            MESSAGE,
            "--max-tokens",
            "16",
            "--output",
            "json",
        ],
        envs,
        Duration::from_secs(120),
    );
    s.chat_answer = serde_json::from_str(&chat.stdout).ok();
    s.chat = Some(chat);
    s.openai = Some(openai_client(ctx, python, label, port));
    s.stop = Some(ctx.aima(
        &format!("{label}: service stop"),
        &["service", "stop", &service],
        envs,
        QUICK,
    ));
    s.left_after_stop =
        containers_of(ctx, &service).unwrap_or_else(|e| vec![format!("census failed: {e:#}")]);
    s.port_free_after_stop = Some(port_free_within(port, Duration::from_secs(10)));
    s
}

/// The OpenAI client, whole and streamed, as a separate process; prints one JSON line.
const OPENAI_SCRIPT: &str = r#"
import json, sys, time
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key="unused")
t = time.monotonic()
whole = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": sys.argv[2]}], max_tokens=16)
whole_ms = int((time.monotonic() - t) * 1000)
pieces = []
for chunk in client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": sys.argv[2]}], max_tokens=16, stream=True):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
print(json.dumps({"whole": whole.choices[0].message.content, "finish_reason": whole.choices[0].finish_reason, "whole_ms": whole_ms, "stream_chunks": len(pieces), "streamed": "".join(pieces)}))
"#;

fn openai_client(ctx: &mut RunContext, python: &str, label: &str, port: u16) -> CommandRecord {
    let base = format!("http://127.0.0.1:{port}/v1");
    let invocation = crate::exec::Invocation {
        label: "openai-client".into(),
        program: PathBuf::from(python),
        args: vec!["-c".into(), OPENAI_SCRIPT.into(), base, MESSAGE.into()],
        base_env: Vec::new(),
        overrides: Vec::new(),
        deadline: Duration::from_secs(120),
    };
    let record = invocation.run(
        ctx.commands.len() + 1,
        &format!("{label}: OpenAI client"),
        ctx.timeline.start(),
        &ctx.run_dir,
    );
    ctx.say(&format!("{label}: OpenAI client -> {}", record.outcome()));
    ctx.commands.push(record.clone());
    record
}

/// Names of the run's containers of `service` (by its `aima.service` label).
fn containers_of(ctx: &mut RunContext, service: &str) -> anyhow::Result<Vec<String>> {
    let census = ctx.census(&format!("containers of {service}"))?;
    Ok(census
        .counted
        .iter()
        .filter(|c| c.labels.get("aima.service").map(String::as_str) == Some(service))
        .map(|c| format!("{} ({})", c.name, c.state))
        .collect())
}

/// `free` once the port can be bound, else what holds it after `bound`.
fn port_free_within(port: u16, bound: Duration) -> String {
    let began = Instant::now();
    loop {
        let check = check_port(port);
        if check.is_free() {
            return "free".to_owned();
        }
        if began.elapsed() >= bound {
            return check.describe();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
