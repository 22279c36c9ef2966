//! Scenario 26's steps: the accounts and the daemon with its socket group and quota, then each
//! person's commands through the socket (`runuser -u USER -- aima --host unix://…`), root's
//! through the same socket, and bob's named token over TCP.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::exec::{CommandRecord, Invocation};
use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::QUICK;
use crate::scenario::context::RunContext;

use super::accounts::{Accounts, missing_tool};

/// How long a start through the socket may take (the simulator answers within seconds).
const START: Duration = Duration::from_secs(120);

/// What the steps saw; `None`: the step did not run.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    /// Why nothing ran: the harness is not root.
    pub not_root: Option<String>,
    pub alice: String,
    pub bob: String,
    pub alice_service: String,
    /// Setup facts for the evidence: the binary the accounts run, the data dir's and the
    /// socket's group and mode, the quota's fate.
    pub setup: Vec<String>,
    /// Problems of the setup that a criterion depends on (the socket's group).
    pub socket_problems: Vec<String>,
    /// The daemon refused the quota table and runs without it.
    pub quota_refused: Option<String>,
    pub alice_start: Option<CommandRecord>,
    pub alice_get: Option<CommandRecord>,
    pub bob_stop: Option<CommandRecord>,
    pub after_bob: Option<CommandRecord>,
    pub token_create: Option<CommandRecord>,
    pub token_stop: Option<Result<HttpReply, String>>,
    pub after_token: Option<CommandRecord>,
    pub bob_first: Option<CommandRecord>,
    pub bob_second: Option<CommandRecord>,
    /// Containers of bob's second service after its refused start.
    pub bob_second_containers: Option<Vec<String>>,
    pub root_stop: Option<CommandRecord>,
    pub after_root: Option<CommandRecord>,
    pub events: Option<CommandRecord>,
    /// What removing the accounts did.
    pub cleanup: Vec<String>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    let euid = rustix::process::geteuid();
    if !euid.is_root() {
        return Observations {
            not_root: Some(format!(
                "scenario 26 creates accounts and a group (useradd, groupadd) and runs commands as them, which needs root; the harness runs as uid {}",
                euid.as_raw()
            )),
            ..Observations::default()
        };
    }
    if let Some(tool) = missing_tool() {
        return Observations {
            missing: vec![format!("{tool} is not installed (scenario 26 needs it)")],
            ..Observations::default()
        };
    }
    let mut accounts = None;
    let mut obs = ctx.observe(Observations::default(), |ctx, obs| {
        let made = accounts.insert(Accounts::create(&tag(&ctx.run_id))?);
        steps(ctx, obs, made)
    });
    // The daemon goes before its data dir and the accounts that used it.
    ctx.signal_daemon("TERM", Duration::from_secs(20));
    if let Some(mut made) = accounts {
        obs.cleanup = made.remove();
        for line in &obs.cleanup {
            ctx.say(&format!("clean-up: {line}"));
        }
    }
    obs
}

/// Six lowercase hex digits unique to the run, for account and group names.
fn tag(run_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{run_id}/{nanos}/{}", std::process::id()).as_bytes());
    digest.iter().take(3).map(|b| format!("{b:02x}")).collect()
}

/// Who runs a command through the socket.
#[derive(Debug, Clone, Copy)]
enum Who<'a> {
    Root,
    User(&'a str),
}

/// The socket and the binary every command of the steps uses.
struct Client {
    aima: PathBuf,
    host: String,
    /// The daemon's data dir, given to root's commands (`AIMA_DATA_DIR`): a command that runs
    /// in-process (its owner's way) works on the daemon's store, not on root's own.
    data_dir: String,
}

impl Client {
    /// `aima --host unix://… ARGS` as `who`.
    fn run(
        &self,
        ctx: &mut RunContext,
        step: &str,
        who: Who<'_>,
        args: &[&str],
        deadline: Duration,
    ) -> CommandRecord {
        let mut full: Vec<String> = Vec::new();
        let mut env = Vec::new();
        let (label, program) = match who {
            Who::Root => {
                env.push(("AIMA_DATA_DIR".to_owned(), self.data_dir.clone()));
                ("aima".to_owned(), self.aima.clone())
            }
            Who::User(user) => {
                full.extend(["-u".into(), user.into(), "--".into()]);
                full.push(self.aima.display().to_string());
                ("runuser".to_owned(), PathBuf::from("runuser"))
            }
        };
        full.extend(["--host".into(), self.host.clone()]);
        full.extend(args.iter().map(|a| a.to_string()));
        let invocation = Invocation {
            label,
            program,
            args: full,
            base_env: env,
            overrides: Vec::new(),
            deadline,
        };
        ctx.run(step, &invocation)
    }
}

/// The `id` of the record a `create … --output json` printed.
fn created_id(record: &CommandRecord, what: &str) -> anyhow::Result<String> {
    if !record.succeeded() {
        bail!(
            "{what} failed ({}): {}",
            record.outcome(),
            record.stderr.trim()
        );
    }
    json_field(&record.stdout, "id").with_context(|| format!("{what} printed no JSON id"))
}

/// A string field of the JSON object on stdout.
pub fn json_field(stdout: &str, key: &str) -> Option<String> {
    let value: Value = serde_json::from_str(stdout.trim()).ok()?;
    value[key].as_str().map(str::to_owned)
}

fn steps(ctx: &mut RunContext, obs: &mut Observations, made: &Accounts) -> anyhow::Result<()> {
    obs.alice = made.alice.clone();
    obs.bob = made.bob.clone();
    let (aima, reach) = made.reachable_binary(&ctx.bins.aima)?;
    obs.setup.push(reach);
    let data_dir = made.scratch.join("data");
    // The data dir as the harness knows data dirs (private, with the run's instance id), so
    // the run's census and clean-up count this daemon's containers.
    ctx.instance = crate::reaper::instance_of(&data_dir);
    let data = data_dir.display().to_string();
    start_daemon(ctx, obs, made, &data_dir)?;
    look_at_socket(obs, made, &data_dir);
    let client = Client {
        aima,
        host: format!("unix://{data}/aima.sock"),
        data_dir: data.clone(),
    };
    let alice = Who::User(&made.alice);
    let bob = Who::User(&made.bob);

    // alice: a model, a service, its start.
    let model_create = client.run(
        ctx,
        "alice registers a model",
        alice,
        &[
            "model",
            "create",
            "--name",
            "shared-model",
            "--source",
            "ollama",
            "--repo",
            "tinyllama",
            "--output",
            "json",
        ],
        QUICK,
    );
    let model = created_id(&model_create, "alice's model create")?;
    let service = create_service(ctx, &client, alice, "alice creates a service", &model)?;
    obs.alice_service = service.clone();
    obs.alice_start = Some(client.run(
        ctx,
        "alice starts her service",
        alice,
        &["service", "start", &service],
        START,
    ));
    let get = ["service", "get", service.as_str(), "--output", "json"];
    obs.alice_get = Some(client.run(ctx, "alice's service after her start", alice, &get, QUICK));

    // bob tries to stop it; then his named token tries over TCP.
    obs.bob_stop = Some(client.run(
        ctx,
        "bob stops alice's service",
        bob,
        &["service", "stop", &service],
        QUICK,
    ));
    obs.after_bob = Some(client.run(
        ctx,
        "alice's service after bob's stop",
        Who::Root,
        &get,
        QUICK,
    ));
    token_stop(ctx, obs, &client, &made.bob, &service);

    // bob's quota: one running service.
    let first = create_service(ctx, &client, bob, "bob creates his first service", &model)?;
    let second = create_service(ctx, &client, bob, "bob creates his second service", &model)?;
    obs.bob_first = Some(client.run(
        ctx,
        "bob starts his first service",
        bob,
        &["service", "start", &first],
        START,
    ));
    obs.bob_second = Some(client.run(
        ctx,
        "bob starts his second service (over quota)",
        bob,
        &["service", "start", &second],
        START,
    ));
    let census = ctx.census("after bob's second start")?;
    obs.bob_second_containers = Some(
        census
            .counted
            .iter()
            .filter(|c| c.labels.get("aima.service") == Some(&second))
            .map(|c| format!("{} ({})", c.name, c.state))
            .collect(),
    );

    // root, an admin over the socket, stops alice's service; then the log of events.
    obs.root_stop = Some(client.run(
        ctx,
        "root stops alice's service",
        Who::Root,
        &["service", "stop", &service],
        QUICK,
    ));
    obs.after_root = Some(client.run(
        ctx,
        "alice's service after root's stop",
        Who::Root,
        &get,
        QUICK,
    ));
    obs.events = Some(client.run(
        ctx,
        "the events of alice's service",
        Who::Root,
        &["events", "--service", &service, "--output", "json"],
        QUICK,
    ));
    Ok(())
}

/// Writes `config.toml` and starts the daemon on `data_dir`: with the socket group and bob's
/// quota, or, when the daemon refuses the quota table, without it (noted for S26.C4).
fn start_daemon(
    ctx: &mut RunContext,
    obs: &mut Observations,
    made: &Accounts,
    data_dir: &Path,
) -> anyhow::Result<()> {
    let api = format!("[api]\nsocket_group = \"{}\"\n", made.group);
    let quota = format!("\n[quota.user.{}]\nmax_running = 1\n", made.bob);
    let data = data_dir.display().to_string();
    write_config(data_dir, &format!("{api}{quota}"))?;
    match ctx.start_daemon(&[("AIMA_DATA_DIR", &data)]) {
        Ok(_) => Ok(()),
        Err(err) => {
            obs.quota_refused = Some(format!("{err:#}"));
            write_config(data_dir, &api)?;
            ctx.start_daemon(&[("AIMA_DATA_DIR", &data)])
                .context("the daemon did not start even without the quota table")?;
            Ok(())
        }
    }
}

fn write_config(data_dir: &Path, text: &str) -> anyhow::Result<()> {
    let path = data_dir.join("config.toml");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// Reads the data dir's and the socket's group and mode after the daemon started.
fn look_at_socket(obs: &mut Observations, made: &Accounts, data_dir: &Path) {
    let gid = group_id(&made.group);
    for (what, path, want) in [
        ("data dir", data_dir.to_owned(), 0o750),
        ("socket", data_dir.join("aima.sock"), 0o660),
    ] {
        match std::fs::metadata(&path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                obs.setup.push(format!(
                    "{what} {}: mode {mode:04o}, gid {} (group {} is gid {})",
                    path.display(),
                    meta.gid(),
                    made.group,
                    gid.map_or("unknown".to_owned(), |g| g.to_string())
                ));
                if Some(meta.gid()) != gid || mode != want {
                    obs.socket_problems.push(format!(
                        "the {what} is mode {mode:04o} gid {}, expected {want:04o} with group {}",
                        meta.gid(),
                        made.group
                    ));
                }
            }
            Err(err) => obs
                .socket_problems
                .push(format!("the {what} {}: {err}", path.display())),
        }
    }
}

/// The id of `group` in `/etc/group`.
fn group_id(group: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == group).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

/// `service create` of `model` on a free port as `who`; returns the service's id.
fn create_service(
    ctx: &mut RunContext,
    client: &Client,
    who: Who<'_>,
    step: &str,
    model: &str,
) -> anyhow::Result<String> {
    let port = free_port()?.to_string();
    let args = [
        "service",
        "create",
        "--model-id",
        model,
        "--engine-type",
        "vllm",
        "--port",
        &port,
        "--output",
        "json",
    ];
    let record = client.run(ctx, step, who, &args, QUICK);
    created_id(&record, step)
}

/// Root creates a token named after bob; the token asks the daemon over TCP to stop alice's
/// service; root reads the service back.
fn token_stop(
    ctx: &mut RunContext,
    obs: &mut Observations,
    client: &Client,
    bob: &str,
    service: &str,
) {
    let create = client.run(
        ctx,
        "root creates a token for bob",
        Who::Root,
        &["token", "create", bob, "--output", "json"],
        QUICK,
    );
    let token = token_in(&create.stdout);
    obs.token_create = Some(create);
    let Some(token) = token else {
        return;
    };
    let request = HttpRequest::new("POST", &format!("/api/v2/services/{service}/stop"))
        .bearer(&token)
        .json("{}");
    obs.token_stop = Some(
        ctx.http("bob's token stops alice's service", request)
            .map_err(|e| format!("{e:#}")),
    );
    let get = ["service", "get", service, "--output", "json"];
    obs.after_token = Some(client.run(
        ctx,
        "alice's service after the token's stop",
        Who::Root,
        &get,
        QUICK,
    ));
}

/// The token `token create` printed: the JSON `token` field, or the last word of its output.
pub fn token_in(stdout: &str) -> Option<String> {
    if let Some(token) = json_field(stdout, "token") {
        return Some(token);
    }
    let word = stdout.split_whitespace().last()?;
    (word.len() >= 16 && !word.contains(['{', '}', '"'])).then(|| word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_json_or_a_plain_line() {
        assert_eq!(
            token_in(r#"{"name":"bob","token":"abc"}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_in("token for bob (shown once):\n0123456789abcdef0123\n").as_deref(),
            Some("0123456789abcdef0123")
        );
        assert_eq!(token_in("error\n"), None);
    }
}
