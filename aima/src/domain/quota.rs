//! Quotas: how much one person may hold at once on a shared server — services starting or
//! running, GPU devices, the sum of memory limits, a range of host ports — and which of the
//! `[quota.user.NAME]` / `[quota.group.NAME]` tables applies to whom. Plain data: the
//! configuration reads the tables, [`super::quota_use`] measures use against them.

use std::collections::BTreeMap;
use std::fmt;

use super::{HostPort, size_text};

/// A range of host ports, both ends included (`8100-8199`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: HostPort,
    pub last: HostPort,
}

impl PortRange {
    /// Reads `A-B` with `1 <= A <= B <= 65535`; the error says what is taken.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("a port range \"FIRST-LAST\" such as \"8100-8199\", not {text:?}");
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let port = |s: &str| s.trim().parse::<u16>().ok().and_then(HostPort::new);
        match (port(a), port(b)) {
            (Some(first), Some(last)) if first <= last => Ok(PortRange { first, last }),
            _ => Err(bad()),
        }
    }

    pub fn contains(self, port: HostPort) -> bool {
        (self.first..=self.last).contains(&port)
    }

    /// How many ports it holds.
    pub fn size(self) -> u32 {
        u32::from(self.last.get()) - u32::from(self.first.get()) + 1
    }

    /// Its ports, `from` first when it lies inside, then the rest in order.
    pub fn from_preferring(self, from: HostPort) -> impl Iterator<Item = HostPort> {
        let start = if self.contains(from) { from } else { self.first };
        let all = std::iter::successors(Some(self.first), move |p| {
            p.next().filter(|n| *n <= self.last)
        });
        let tail = all.clone().skip_while(move |p| *p < start);
        tail.chain(all.take_while(move |p| *p < start))
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// One table's limits; a limit left out does not limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quota {
    /// Services starting or running at once.
    pub max_running: Option<u32>,
    /// GPU devices in use at once.
    pub gpus: Option<u32>,
    /// The sum of the memory limits of the services starting or running, in bytes.
    pub memory: Option<u64>,
    /// The host ports the person's services may publish on.
    pub ports: Option<PortRange>,
}

/// Which table a limit comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Table {
    User(String),
    Group(String),
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Table::User(name) => write!(f, "[quota.user.{name}]"),
            Table::Group(name) => write!(f, "[quota.group.{name}]"),
        }
    }
}

/// Every quota table of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quotas {
    pub users: BTreeMap<String, Quota>,
    pub groups: BTreeMap<String, Quota>,
}

/// Whom a quota is looked up for.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    pub name: &'a str,
    pub groups: &'a [String],
    pub admin: bool,
}

/// One limit in force and the table that sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit<T> {
    pub value: T,
    pub table: Table,
}

impl<T: Copy> Limit<T> {
    fn of(value: Option<T>, table: &Table) -> Option<Self> {
        value.map(|value| Limit {
            value,
            table: table.clone(),
        })
    }
}

/// The limits in force for one person, each with the table it comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub max_running: Option<Limit<u32>>,
    pub gpus: Option<Limit<u32>>,
    pub memory: Option<Limit<u64>>,
    pub ports: Option<Limit<PortRange>>,
}

impl Applied {
    /// Whether any limit applies at all.
    pub fn is_empty(&self) -> bool {
        *self == Applied::default()
    }

    fn from_table(quota: &Quota, table: &Table) -> Self {
        Applied {
            max_running: Limit::of(quota.max_running, table),
            gpus: Limit::of(quota.gpus, table),
            memory: Limit::of(quota.memory, table),
            ports: Limit::of(quota.ports, table),
        }
    }
}

impl Quotas {
    /// The limits for `who`. Their own `[quota.user.NAME]` table, when there is one, is all
    /// that applies (the whole table wins, also over the fields it leaves out). Otherwise, for
    /// a person who is not an admin, the tables of their groups: per field the most generous
    /// value among the tables that set it (the widest port range), so belonging to one more
    /// group never takes anything away. Admins are bound only by a table of their own name.
    pub fn for_person(&self, who: Person<'_>) -> Applied {
        if let Some(own) = self.users.get(who.name) {
            return Applied::from_table(own, &Table::User(who.name.to_owned()));
        }
        if who.admin {
            return Applied::default();
        }
        let mut applied = Applied::default();
        // In name order, so that of two equal values the same table is named every time.
        let mut mine: Vec<&String> = who
            .groups
            .iter()
            .filter(|g| self.groups.contains_key(*g))
            .collect();
        mine.sort();
        mine.dedup();
        for group in mine {
            let table = Table::Group(group.clone());
            let theirs = Applied::from_table(&self.groups[group], &table);
            applied.max_running = more(applied.max_running, theirs.max_running, |n| *n);
            applied.gpus = more(applied.gpus, theirs.gpus, |n| *n);
            applied.memory = more(applied.memory, theirs.memory, |n| *n);
            applied.ports = more(applied.ports, theirs.ports, |r| r.size());
        }
        applied
    }
}

/// Of two limits of one field, the more generous by `size`; the first on a tie.
fn more<T, K: Ord>(
    a: Option<Limit<T>>,
    b: Option<Limit<T>>,
    size: impl Fn(&T) -> K,
) -> Option<Limit<T>> {
    match (a, b) {
        (Some(a), Some(b)) if size(&b.value) > size(&a.value) => Some(b),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
}

/// A limit as the file writes it, for messages: `max_running = 2`, `memory = "64g"`.
pub fn written(key: &str, value: &dyn fmt::Display) -> String {
    match key {
        "memory" | "ports" => format!("{key} = \"{value}\""),
        _ => format!("{key} = {value}"),
    }
}

/// A memory amount as the file writes it.
pub fn memory_text(bytes: u64) -> String {
    size_text(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(max_running: Option<u32>, gpus: Option<u32>, ports: Option<&str>) -> Quota {
        Quota {
            max_running,
            gpus,
            memory: None,
            ports: ports.map(|p| PortRange::parse(p).unwrap()),
        }
    }

    fn quotas() -> Quotas {
        let mut q = Quotas::default();
        q.users
            .insert("bob".into(), quota(Some(5), None, Some("9000-9009")));
        q.groups
            .insert("ml".into(), quota(Some(2), Some(1), Some("8100-8199")));
        q.groups
            .insert("staff".into(), quota(Some(3), None, Some("8200-8209")));
        q
    }

    fn person<'a>(name: &'a str, groups: &'a [String], admin: bool) -> Person<'a> {
        Person {
            name,
            groups,
            admin,
        }
    }

    #[test]
    fn port_ranges_read_as_written_and_refuse_the_rest() {
        let r = PortRange::parse("8100-8199").unwrap();
        assert_eq!((r.first.get(), r.last.get(), r.size()), (8100, 8199, 100));
        assert_eq!(r.to_string(), "8100-8199");
        assert!(r.contains(HostPort::from(8150)) && !r.contains(HostPort::from(8200)));
        for bad in ["8100", "8199-8100", "0-10", "a-b", "8100-70000", ""] {
            let err = PortRange::parse(bad).unwrap_err();
            assert!(err.contains("\"8100-8199\""), "{bad}: {err}");
        }
    }

    #[test]
    fn a_range_offers_the_preferred_port_first_and_wraps_around() {
        let r = PortRange::parse("8100-8103").unwrap();
        let order: Vec<u16> = r.from_preferring(HostPort::from(8102)).map(|p| p.get()).collect();
        assert_eq!(order, [8102, 8103, 8100, 8101]);
        let order: Vec<u16> = r.from_preferring(HostPort::from(11434)).map(|p| p.get()).collect();
        assert_eq!(order, [8100, 8101, 8102, 8103]);
    }

    #[test]
    fn the_users_own_table_wins_over_their_groups_as_a_whole() {
        let groups = vec!["ml".to_owned()];
        let applied = quotas().for_person(person("bob", &groups, false));
        assert_eq!(applied.max_running.unwrap().table, Table::User("bob".into()));
        // The group's gpus limit does not reach into bob's own table.
        assert_eq!(applied.gpus, None);
        assert_eq!(applied.ports.unwrap().value.to_string(), "9000-9009");
    }

    #[test]
    fn several_groups_give_the_most_generous_value_of_each_field() {
        let groups = vec!["staff".to_owned(), "ml".to_owned(), "nobody".to_owned()];
        let applied = quotas().for_person(person("carol", &groups, false));
        let running = applied.max_running.unwrap();
        assert_eq!((running.value, running.table), (3, Table::Group("staff".into())));
        // Only ml sets gpus: it applies.
        assert_eq!(applied.gpus.unwrap().value, 1);
        // ml's range is the wider one.
        assert_eq!(applied.ports.unwrap().table, Table::Group("ml".into()));
        assert_eq!(applied.memory, None);
    }

    #[test]
    fn people_without_a_table_and_admins_without_their_own_are_not_limited() {
        let groups = vec!["ml".to_owned()];
        assert!(quotas().for_person(person("dave", &[], false)).is_empty());
        assert!(quotas().for_person(person("root", &groups, true)).is_empty());
        assert!(!quotas().for_person(person("bob", &groups, true)).is_empty());
    }

    #[test]
    fn limits_are_written_as_in_the_file() {
        assert_eq!(written("max_running", &2), "max_running = 2");
        assert_eq!(written("memory", &memory_text(64 << 30)), "memory = \"64g\"");
    }
}
