//! The two views as markup: every service at a glance, and one service with its start attempts
//! and recent changes. Pure functions of the records, so tests can feed them hostile text.

use std::collections::HashMap;
use std::fmt::Write;

use super::html::text;
use super::layout::Html;
use crate::clock::{ago, rfc3339, span, until};
use crate::config::Config;
use crate::domain::{ContainerId, Model, ModelId, Service, Status};
use crate::ops::settings::{effective, effective_lines};

/// What both views read: the records, the engines' settings and the time "now" is.
pub(super) struct View<'a> {
    pub(super) models: &'a HashMap<ModelId, Model>,
    pub(super) config: &'a Config,
    pub(super) now: i64,
}

impl View<'_> {
    fn model(&self, svc: &Service) -> String {
        match self.models.get(&svc.model_id) {
            Some(m) => format!(
                "{} <span class=\"dim\">{}</span>",
                text(&m.name),
                text(&m.repo)
            ),
            None => format!("<span class=\"dim\">{}</span>", text(svc.model_id.as_str())),
        }
    }

    /// The service's memory limit: its own, the engine's, or the default share of the host.
    fn memory(&self, svc: &Service) -> String {
        let limit = svc
            .memory_bytes
            .or(self.config.engine(svc.engine_type).limits.memory_bytes);
        match limit {
            Some(bytes) => crate::domain::size_text(bytes),
            None => "3/4 of host".to_owned(),
        }
    }

    /// The service's GPUs as `--gpus` writes them.
    fn gpu(&self, svc: &Service) -> String {
        crate::lifecycle::gpus::of(svc, self.config).to_string()
    }

    /// The supervisor's restarts in a row, and while in `backoff` when the next one is due.
    fn restarts(&self, svc: &Service) -> String {
        let mut out = svc.restarts.to_string();
        if let (Status::Backoff, Some(at)) = (svc.status, svc.next_restart_at) {
            out.push_str(&format!(", next {}", self.due(at)));
        }
        out
    }

    /// "in 8s", or "due now" once its time has come.
    fn due(&self, at: i64) -> String {
        until(at, self.now)
    }

    /// "up 3m" for a running service; when it entered its status otherwise.
    fn since(&self, svc: &Service) -> String {
        if svc.status == Status::Running {
            format!("up {}", span((self.now - svc.updated_at) / 1000))
        } else {
            ago(svc.updated_at, self.now)
        }
    }
}

fn status_badge(status: Status) -> String {
    format!(
        "<span class=\"status status-{s}\" data-status=\"{s}\">{s}</span>",
        s = status.as_str()
    )
}

/// Where the engine answers, from this host.
fn endpoint(svc: &Service) -> String {
    format!("http://{}", svc.local_address())
}

fn counts(services: &[Service]) -> String {
    let mut out = String::from("<p class=\"counts\">");
    let noun = if services.len() == 1 {
        "service"
    } else {
        "services"
    };
    let _ = write!(out, "{} {noun}", services.len());
    for status in Status::ALL {
        let n = services.iter().filter(|s| s.status == status).count();
        if n > 0 {
            let _ = write!(out, " · {n} {}", status.as_str());
        }
    }
    out.push_str("</p>");
    out
}

pub(super) fn overview(view: &View<'_>, services: &[Service]) -> Html {
    let mut out = String::from("<h1>Services</h1>");
    out.push_str(&counts(services));
    if services.is_empty() {
        out.push_str(
            "<p class=\"empty\">No services yet: <code>aima service create</code> makes one.</p>",
        );
        return Html(out);
    }
    out.push_str(
        "<table class=\"services\"><thead><tr><th>Name</th><th>Status</th><th>Desired</th>\
         <th>Restarts</th><th>Endpoint</th><th>Engine</th><th>Model</th><th>GPU</th><th>Memory</th><th>Since</th><th>Last error</th></tr></thead><tbody>",
    );
    for svc in services {
        let _ = write!(
            out,
            "<tr id=\"{id}\" data-status=\"{status}\">\
             <td><a href=\"/services/{id}\">{name}</a><div class=\"dim\">{id}</div></td>\
             <td>{badge}</td><td class=\"desired\">{desired}</td>\
             <td class=\"restarts\">{restarts}</td><td class=\"endpoint\">{endpoint}</td><td>{engine}</td>\
             <td>{model}</td><td>{gpu}</td><td>{memory}</td><td>{since}</td><td class=\"error\">{error}</td></tr>",
            id = text(svc.id.as_str()),
            status = svc.status.as_str(),
            name = text(&svc.name),
            badge = status_badge(svc.status),
            desired = svc.desired.as_str(),
            restarts = text(&view.restarts(svc)),
            endpoint = text(&endpoint(svc)),
            engine = svc.engine_type.as_str(),
            model = view.model(svc),
            gpu = view.gpu(svc),
            memory = text(&view.memory(svc)),
            since = text(&view.since(svc)),
            error = text(svc.last_error.as_deref().unwrap_or("")),
        );
    }
    out.push_str("</tbody></table>");
    Html(out)
}

/// One change of the service's status, as the service page lists it.
pub(super) struct Change {
    pub(super) at: i64,
    pub(super) from: Option<String>,
    pub(super) to: String,
    /// The supervisor's step, for its events ("restart 2 begun").
    pub(super) step: Option<String>,
    pub(super) detail: Option<String>,
}

pub(super) fn service(view: &View<'_>, svc: &Service, changes: &[Change]) -> Html {
    let mut out = String::new();
    let _ = write!(
        out,
        "<p class=\"crumbs\"><a href=\"/\">All services</a></p>\
         <h1>{name} {badge}</h1>\
         <dl class=\"facts\" id=\"facts\" data-status=\"{status}\">\
         <dt>Id</dt><dd>{id}</dd>\
         <dt>Status</dt><dd class=\"status-text\">{status} <span class=\"dim\">({since})</span></dd>\
         <dt>Desired</dt><dd id=\"desired\">{desired}</dd>\
         <dt>Restart policy</dt><dd>{policy}</dd>\
         <dt>Restarts in a row</dt><dd id=\"restarts\">{restarts}</dd>{next}\
         <dt>Endpoint</dt><dd class=\"endpoint\">{endpoint}</dd>\
         <dt>Port</dt><dd>{port}</dd>\
         <dt>Engine</dt><dd>{engine} <span class=\"dim\">{image}</span></dd>\
         <dt>Model</dt><dd>{model}</dd>\
         <dt>GPU</dt><dd>{gpu}</dd>\
         <dt>Memory limit</dt><dd>{memory}</dd>\
         <dt>Container</dt><dd>{container}</dd>\
         <dt>Created</dt><dd>{created}</dd>\
         <dt>Last error</dt><dd class=\"error\" id=\"last-error\">{error}</dd></dl>",
        name = text(&svc.name),
        badge = status_badge(svc.status),
        status = svc.status.as_str(),
        id = text(svc.id.as_str()),
        since = text(&view.since(svc)),
        desired = svc.desired.as_str(),
        policy = text(&svc.restart.text()),
        restarts = svc.restarts,
        next = next_restart(view, svc),
        endpoint = text(&endpoint(svc)),
        port = svc.port,
        engine = svc.engine_type.as_str(),
        image = text(svc.settings.image.as_ref().unwrap_or(&view.config.engine(svc.engine_type).image)),
        model = view.model(svc),
        gpu = view.gpu(svc),
        memory = text(&view.memory(svc)),
        container = text(svc.container_id.as_ref().map_or("none", ContainerId::short)),
        created = text(&rfc3339(svc.created_at)),
        error = text(svc.last_error.as_deref().unwrap_or("none")),
    );
    out.push_str(&settings(view, svc));
    out.push_str(&attempts(svc));
    out.push_str(&recent(view, changes));
    Html(out)
}

/// The engine settings its next start uses, each with its source; secrets read `***`.
fn settings(view: &View<'_>, svc: &Service) -> String {
    let rows = effective(view.config, svc.engine_type, &svc.settings);
    let mut out = "<h2>Settings</h2><dl class=\"facts\" id=\"settings\">".to_owned();
    for (key, value) in effective_lines(&rows) {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", text(&key), text(&value));
    }
    out.push_str("</dl>");
    out
}

/// The next restart's time, while the service waits in `backoff` for it.
fn next_restart(view: &View<'_>, svc: &Service) -> String {
    match (svc.status, svc.next_restart_at) {
        (Status::Backoff, Some(at)) => format!(
            "<dt>Next restart</dt><dd id=\"next-restart\">{} <span class=\"dim\">({})</span></dd>",
            text(&rfc3339(at)),
            text(&view.due(at))
        ),
        _ => String::new(),
    }
}

fn attempts(svc: &Service) -> String {
    let mut out = String::from("<h2>Start attempts</h2>");
    if svc.attempts.is_empty() {
        out.push_str("<p class=\"empty\">No failed start attempts are recorded.</p>");
        return out;
    }
    out.push_str(
        "<table class=\"attempts\"><thead><tr><th>#</th><th>Phase</th><th>Elapsed</th>\
         <th>Reason</th></tr></thead><tbody>",
    );
    let total = svc.attempts.len();
    for a in &svc.attempts {
        let _ = write!(
            out,
            "<tr><td>{}/{total}</td><td>{}</td><td>{} ms</td><td class=\"error\">{}",
            a.number,
            a.phase.as_str(),
            a.elapsed_ms,
            text(&a.reason)
        );
        if let Some(code) = &a.code {
            let _ = write!(out, " <span class=\"dim\">{}</span>", text(code));
        }
        if !a.log_tail.is_empty() {
            out.push_str("<pre class=\"log\">");
            for line in &a.log_tail {
                out.push_str(&text(line));
                out.push('\n');
            }
            out.push_str("</pre>");
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn recent(view: &View<'_>, changes: &[Change]) -> String {
    let mut out = String::from("<h2>Recent changes</h2>");
    if changes.is_empty() {
        out.push_str("<p class=\"empty\">No changes recorded.</p>");
        return out;
    }
    out.push_str("<ol class=\"changes\">");
    for c in changes {
        let _ = write!(
            out,
            "<li><time title=\"{at}\">{ago}</time> {from}<b>{to}</b>",
            at = text(&rfc3339(c.at)),
            ago = text(&ago(c.at, view.now)),
            from = c
                .from
                .as_deref()
                .map(|f| format!("{} → ", text(f)))
                .unwrap_or_default(),
            to = text(&c.to),
        );
        if let Some(step) = &c.step {
            let _ = write!(out, " <span class=\"step\">{}</span>", text(step));
        }
        if let Some(detail) = &c.detail {
            let _ = write!(out, " <span class=\"error\">{}</span>", text(detail));
        }
        out.push_str("</li>");
    }
    out.push_str("</ol>");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{Change, View, overview, service};
    use crate::domain::HostPort;
    use crate::config::{Config, Env};
    use crate::domain::{Attempt, EngineType, ModelId, Phase, Service, ServiceId, Status};

    const HOSTILE: &str = "<img src=x onerror=alert(1)>\u{1b}[2J\u{202e}";

    fn failed_service() -> Service {
        Service {
            id: ServiceId::generate(),
            name: HOSTILE.to_owned(),
            model_id: ModelId::generate(),
            engine_type: EngineType::Vllm,
            port: HostPort::from(8123),
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            endpoint: "http://127.0.0.1:8123".to_owned(),
            gpus: None,
            memory_bytes: None,
            settings: Default::default(),
            desired: crate::domain::Desired::Stopped,
            restart: crate::domain::RestartPolicy::No,
            restarts: 0,
            next_restart_at: None,
            status: Status::Failed,
            last_error: Some(format!("engine said {HOSTILE}")),
            attempts: vec![Attempt {
                number: 1,
                phase: Phase::Start,
                elapsed_ms: 950,
                reason: format!("exited: {HOSTILE}"),
                code: Some("engine_crashed".to_owned()),
                log_tail: vec![format!("</pre><script>alert(2)</script>{HOSTILE}")],
            }],
            container_id: None,
            owner: None,
            created_by: None,
            started_by: None,
            created_at: 1_000,
            updated_at: 61_000,
        }
    }

    #[test]
    fn names_errors_and_engine_logs_render_as_inert_text() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(dir.path(), Env::default()).unwrap();
        let models = HashMap::new();
        let view = View {
            models: &models,
            config: &config,
            now: 121_000,
        };
        let svc = failed_service();
        let change = Change {
            at: 61_000,
            from: Some("starting".to_owned()),
            to: "failed".to_owned(),
            step: None,
            detail: Some(HOSTILE.to_owned()),
        };
        for html in [
            overview(&view, std::slice::from_ref(&svc)).0,
            service(&view, &svc, &[change]).0,
        ] {
            assert!(
                !html.contains("<img") && !html.contains("<script"),
                "{html}"
            );
            assert!(
                !html.contains('\u{1b}') && !html.contains('\u{202e}'),
                "{html}"
            );
            assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;\\u{1b}[2J\\u{202e}"));
        }
        let page = service(&view, &svc, &[]).0;
        assert!(
            page.contains("&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;"),
            "{page}"
        );
        assert!(
            page.contains("<td>1/1</td><td>start</td><td>950 ms</td>"),
            "{page}"
        );
        assert!(page.contains("(1m ago)"), "{page}");
    }

    /// A supervised service in backoff: its desired state, restarts in a row and when the
    /// next restart is due, on both views; the supervisor's steps in its recent changes.
    #[test]
    fn a_service_in_backoff_shows_desired_restarts_and_next_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(dir.path(), Env::default()).unwrap();
        let models = HashMap::new();
        let view = View {
            models: &models,
            config: &config,
            now: 121_000,
        };
        let mut svc = failed_service();
        svc.status = Status::Backoff;
        svc.desired = crate::domain::Desired::Running;
        svc.restart = crate::domain::RestartPolicy::OnFailure(Some(5));
        svc.restarts = 3;
        svc.next_restart_at = Some(129_000);

        let list = overview(&view, std::slice::from_ref(&svc)).0;
        assert!(list.contains("<th>Desired</th><th>Restarts</th>"), "{list}");
        assert!(
            list.contains("<td class=\"desired\">running</td><td class=\"restarts\">3, next in 8s</td>"),
            "{list}"
        );
        let restarting = Change {
            at: 130_000,
            from: Some("backoff".to_owned()),
            to: "starting".to_owned(),
            step: Some("restart 3 begun".to_owned()),
            detail: None,
        };
        let page = service(&view, &svc, &[restarting]).0;
        assert!(page.contains("<dt>Desired</dt><dd id=\"desired\">running</dd>"), "{page}");
        assert!(page.contains("<dd>on-failure:5</dd>"), "{page}");
        assert!(page.contains("<dd id=\"restarts\">3</dd>"), "{page}");
        assert!(
            page.contains("<dd id=\"next-restart\">1970-01-01T00:02:09.000Z <span class=\"dim\">(in 8s)</span></dd>"),
            "{page}"
        );
        assert!(page.contains("<span class=\"step\">restart 3 begun</span>"), "{page}");

        // Not in backoff: no next restart; a past due time reads "due now".
        svc.status = Status::Failed;
        assert!(!service(&view, &svc, &[]).0.contains("next-restart"));
        svc.status = Status::Backoff;
        svc.next_restart_at = Some(100_000);
        assert!(overview(&view, &[svc]).0.contains("3, next due now"));
    }

    /// The service page lists the settings its next start uses, with their sources, and
    /// never a secret's value.
    #[test]
    fn the_service_page_shows_effective_settings_and_hides_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(dir.path(), Env::default()).unwrap();
        let models = HashMap::new();
        let view = View {
            models: &models,
            config: &config,
            now: 121_000,
        };
        let mut svc = failed_service();
        svc.settings.args = Some(vec!["--max-model-len".to_owned(), "8192".to_owned()]);
        svc.settings.env = vec![
            crate::domain::EnvVar::new("HF_TOKEN".to_owned(), "hf_s3cr3t".to_owned()),
            crate::domain::EnvVar::new("LOG_LEVEL".to_owned(), "info".to_owned()),
        ];

        let page = service(&view, &svc, &[]).0;

        assert!(page.contains("<h2>Settings</h2>"), "{page}");
        assert!(page.contains("<dd>--max-model-len 8192 (service)</dd>"), "{page}");
        assert!(page.contains("<dt>env.HF_TOKEN</dt><dd>*** (service)</dd>"), "{page}");
        assert!(page.contains("<dt>env.LOG_LEVEL</dt><dd>info (service)</dd>"), "{page}");
        assert!(page.contains("(default)"), "the image's source: {page}");
        assert!(!page.contains("hf_s3cr3t"), "{page}");
    }
}
