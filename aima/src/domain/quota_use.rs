//! A person's use against their quota: whether one more start fits, the words of the refusal
//! when it does not, and the rows `aima quota` shows. Plain data in, plain data out: which
//! services count and how much each holds is worked out by the caller.

use super::quota::{Applied, Limit, memory_text, written};
use super::{HostPort, size_text};

/// One service as a quota sees it: what it holds while starting or running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub id: String,
    pub name: String,
    pub gpus: u32,
    /// Its memory limit in bytes.
    pub memory: u64,
    pub port: HostPort,
}

/// Why a start does not fit: the sentence to show and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

/// Whether `user` may start `wanted` while `held` (their other services starting or running)
/// keep running. The port is checked first, then the count, the GPUs and the memory.
pub fn check(
    user: &str,
    applied: &Applied,
    wanted: &Holding,
    held: &[Holding],
) -> Result<(), Refusal> {
    let held: Vec<&Holding> = held.iter().filter(|h| h.id != wanted.id).collect();
    if let Some(ports) = &applied.ports {
        check_port(user, ports, wanted)?;
    }
    if let Some(limit) = &applied.max_running
        && held.len() as u64 >= u64::from(limit.value)
    {
        return Err(Refusal {
            message: format!(
                "quota exceeded: user {user} may run {} ({}); running now: {}",
                count(limit.value, "service", "services"),
                source(limit, "max_running", &limit.value),
                names(&held, |_| None),
            ),
            help: stop_one(&held, "to make room"),
        });
    }
    if let Some(limit) = &applied.gpus {
        let used: u64 = held.iter().map(|h| u64::from(h.gpus)).sum();
        if wanted.gpus > 0 && used + u64::from(wanted.gpus) > u64::from(limit.value) {
            let users: Vec<&Holding> = held.iter().copied().filter(|h| h.gpus > 0).collect();
            return Err(Refusal {
                message: format!(
                    "quota exceeded: user {user} may use {} ({}); in use now: {used}{}; {} wants {}",
                    count(limit.value, "GPU", "GPUs"),
                    source(limit, "gpus", &limit.value),
                    by(&users, |h| Some(h.gpus.to_string())),
                    wanted.name,
                    wanted.gpus,
                ),
                help: stop_one(&users, "or create this service with fewer GPUs (--gpus)"),
            });
        }
    }
    if let Some(limit) = &applied.memory {
        let used: u64 = held.iter().map(|h| h.memory).sum();
        if used.saturating_add(wanted.memory) > limit.value {
            return Err(Refusal {
                message: format!(
                    "quota exceeded: user {user} may hold {} of memory limits ({}); held now: {}{}; {} wants {}",
                    memory_text(limit.value),
                    source(limit, "memory", &memory_text(limit.value)),
                    size_text(used),
                    by(&held, |h| Some(size_text(h.memory))),
                    wanted.name,
                    size_text(wanted.memory),
                ),
                help: stop_one(&held, "or give this service a smaller --memory (aima service update)"),
            });
        }
    }
    Ok(())
}

/// Whether `wanted`'s port lies in the range `user` may publish on.
pub fn check_port(
    user: &str,
    ports: &Limit<super::PortRange>,
    wanted: &Holding,
) -> Result<(), Refusal> {
    if ports.value.contains(wanted.port) {
        return Ok(());
    }
    Err(Refusal {
        message: format!(
            "quota exceeded: user {user} may publish on ports {} ({}); {} is on port {}",
            ports.value,
            source(ports, "ports", &ports.value),
            wanted.name,
            wanted.port,
        ),
        help: format!(
            "use a port of {}: create the service without --port (one of the range is picked) or with one inside it",
            ports.value
        ),
    })
}

/// One row of `aima quota`: a limit, the use of it, and the services using it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct UseRow {
    /// The key: `max_running`, `gpus`, `memory` or `ports`.
    pub quota: String,
    /// The limit as the file writes it (`2`, `64g`, `8100-8199`).
    pub limit: String,
    /// The table it comes from (`[quota.user.bob]`).
    pub table: String,
    /// The use now, in the limit's terms; for `ports`, the ports in use.
    pub used: String,
    /// The services using it, by name.
    pub services: Vec<String>,
}

/// The rows for `applied` given what `held` holds (the person's services starting or running).
pub fn rows(applied: &Applied, held: &[Holding]) -> Vec<UseRow> {
    let row = |quota: &str, limit: String, table: &super::Table, used: String, by: &dyn Fn(&Holding) -> bool| UseRow {
        quota: quota.to_owned(),
        limit,
        table: table.to_string(),
        used,
        services: held.iter().filter(|h| by(h)).map(|h| h.name.clone()).collect(),
    };
    let mut rows = Vec::new();
    if let Some(l) = &applied.max_running {
        rows.push(row("max_running", l.value.to_string(), &l.table, held.len().to_string(), &|_| true));
    }
    if let Some(l) = &applied.gpus {
        let used: u64 = held.iter().map(|h| u64::from(h.gpus)).sum();
        rows.push(row("gpus", l.value.to_string(), &l.table, used.to_string(), &|h| h.gpus > 0));
    }
    if let Some(l) = &applied.memory {
        let used = size_text(held.iter().map(|h| h.memory).sum());
        rows.push(row("memory", memory_text(l.value), &l.table, used, &|_| true));
    }
    if let Some(l) = &applied.ports {
        let ports: Vec<String> = held.iter().map(|h| h.port.to_string()).collect();
        rows.push(row("ports", l.value.to_string(), &l.table, ports.join(","), &|_| true));
    }
    rows
}

/// `2 services`, `1 GPU`.
fn count(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `[quota.user.bob] max_running = 2`.
fn source<T>(limit: &Limit<T>, key: &str, value: &dyn std::fmt::Display) -> String {
    format!("{} {}", limit.table, written(key, value))
}

/// `svc-a, svc-b`, each followed by ` (what)` when `what` says something; `none` for none.
fn names(held: &[&Holding], what: impl Fn(&Holding) -> Option<String>) -> String {
    if held.is_empty() {
        return "none".to_owned();
    }
    let each: Vec<String> = held
        .iter()
        .map(|h| match what(h) {
            Some(w) => format!("{} ({w})", h.name),
            None => h.name.clone(),
        })
        .collect();
    each.join(", ")
}

/// ` by svc-a (2), svc-b (1)`, or nothing when no service holds any.
fn by(held: &[&Holding], what: impl Fn(&Holding) -> Option<String>) -> String {
    if held.is_empty() {
        String::new()
    } else {
        format!(" by {}", names(held, what))
    }
}

/// What to do: stop one of `held` (named by id), `then`; or ask an admin.
fn stop_one(held: &[&Holding], then: &str) -> String {
    match held.first() {
        Some(h) => format!(
            "stop one of them first (`aima service stop {}`) {then}, or ask an admin to raise the quota in config.toml",
            h.id
        ),
        None => format!("ask an admin to raise the quota in config.toml, {then}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PortRange, Table};

    fn holding(name: &str, gpus: u32, memory: u64, port: u16) -> Holding {
        Holding {
            id: format!("svc_{name}"),
            name: name.to_owned(),
            gpus,
            memory,
            port: HostPort::from(port),
        }
    }

    fn limit<T>(value: T) -> Option<Limit<T>> {
        Some(Limit {
            value,
            table: Table::User("bob".into()),
        })
    }

    #[test]
    fn the_start_past_max_running_is_refused_naming_the_quota_and_the_running() {
        let applied = Applied {
            max_running: limit(2),
            ..Applied::default()
        };
        let held = [holding("svc-a", 0, 1 << 30, 8100), holding("svc-b", 0, 1 << 30, 8101)];
        let wanted = holding("svc-c", 0, 1 << 30, 8102);
        let refusal = check("bob", &applied, &wanted, &held).unwrap_err();
        assert_eq!(
            refusal.message,
            "quota exceeded: user bob may run 2 services ([quota.user.bob] max_running = 2); running now: svc-a, svc-b"
        );
        assert!(refusal.help.contains("aima service stop svc_svc-a"), "{}", refusal.help);
        // One fewer running: it fits. The service itself in `held` never counts twice.
        assert_eq!(check("bob", &applied, &wanted, &held[..1]), Ok(()));
        let again = [held[0].clone(), wanted.clone()];
        assert_eq!(check("bob", &applied, &wanted, &again), Ok(()));
    }

    #[test]
    fn a_quota_of_zero_refuses_every_start() {
        let applied = Applied {
            max_running: limit(0),
            ..Applied::default()
        };
        let refusal = check("bob", &applied, &holding("a", 0, 1, 8100), &[]).unwrap_err();
        assert!(refusal.message.contains("may run 0 services") && refusal.message.ends_with("running now: none"), "{}", refusal.message);
    }

    #[test]
    fn gpus_add_up_and_a_service_without_any_always_fits() {
        let applied = Applied {
            gpus: limit(2),
            ..Applied::default()
        };
        let held = [holding("svc-a", 1, 0, 8100), holding("cpu", 0, 0, 8101)];
        assert_eq!(check("bob", &applied, &holding("one", 1, 0, 8102), &held), Ok(()));
        assert_eq!(check("bob", &applied, &holding("none", 0, 0, 8102), &held), Ok(()));
        let refusal = check("bob", &applied, &holding("two", 2, 0, 8102), &held).unwrap_err();
        assert_eq!(
            refusal.message,
            "quota exceeded: user bob may use 2 GPUs ([quota.user.bob] gpus = 2); in use now: 1 by svc-a (1); two wants 2"
        );
    }

    #[test]
    fn memory_limits_add_up() {
        let applied = Applied {
            memory: limit(8 << 30),
            ..Applied::default()
        };
        let held = [holding("svc-a", 0, 6 << 30, 8100)];
        assert_eq!(check("bob", &applied, &holding("b", 0, 2 << 30, 8101), &held), Ok(()));
        let refusal = check("bob", &applied, &holding("b", 0, 3 << 30, 8101), &held).unwrap_err();
        assert_eq!(
            refusal.message,
            "quota exceeded: user bob may hold 8g of memory limits ([quota.user.bob] memory = \"8g\"); held now: 6g by svc-a (6g); b wants 3g"
        );
    }

    #[test]
    fn a_port_outside_the_range_is_refused_first() {
        let applied = Applied {
            max_running: limit(0),
            ports: limit(PortRange::parse("8100-8199").unwrap()),
            ..Applied::default()
        };
        let refusal = check("bob", &applied, &holding("a", 0, 0, 8000), &[]).unwrap_err();
        assert_eq!(
            refusal.message,
            "quota exceeded: user bob may publish on ports 8100-8199 ([quota.user.bob] ports = \"8100-8199\"); a is on port 8000"
        );
    }

    #[test]
    fn rows_show_each_limit_with_its_use_and_users() {
        let applied = Applied {
            max_running: limit(2),
            gpus: limit(4),
            memory: limit(64 << 30),
            ports: limit(PortRange::parse("8100-8199").unwrap()),
        };
        let held = [holding("a", 1, 16 << 30, 8100), holding("b", 0, 512 << 20, 8101)];
        let rows = rows(&applied, &held);
        let shown: Vec<(&str, &str, &str, Vec<String>)> = rows
            .iter()
            .map(|r| (r.quota.as_str(), r.limit.as_str(), r.used.as_str(), r.services.clone()))
            .collect();
        let ab = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            shown,
            [
                ("max_running", "2", "2", ab.clone()),
                ("gpus", "4", "1", vec!["a".to_owned()]),
                ("memory", "64g", "16896m", ab.clone()),
                ("ports", "8100-8199", "8100,8101", ab),
            ]
        );
        assert!(rows.iter().all(|r| r.table == "[quota.user.bob]"));
        assert!(super::rows(&Applied::default(), &held).is_empty());
    }
}
