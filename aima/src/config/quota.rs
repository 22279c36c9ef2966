//! `[quota.user.NAME]` and `[quota.group.NAME]`: what one person may hold at once. File only;
//! an unknown table or key, or a bad value, is a config error naming the file, the line, the
//! table and the key.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::{ConfigError, Result};
use crate::domain::{MIN_MEMORY, PortRange, Quota, Quotas, parse_size};
use crate::error::Detail;

/// `[quota]` as the file has it: kind (`user`, `group`) → name → key → value, each with its
/// place in the file.
pub(super) type FileQuota = BTreeMap<String, Spanned<BTreeMap<String, Spanned<FileTable>>>>;
type FileTable = BTreeMap<String, Spanned<toml::Value>>;

/// The keys a table takes, and what each takes, for messages.
const KEYS: [(&str, &str); 4] = [
    ("max_running", "a whole number of services from 0 to 10000"),
    ("gpus", "a whole number of GPU devices from 0 to 1024"),
    ("memory", "a size such as \"64g\" (k, m or g), at least 6m"),
    ("ports", "a port range \"FIRST-LAST\" such as \"8100-8199\""),
];

/// The tables of `file`; `path` and `text` are the file's, to say where a bad value is.
pub(super) fn load(file: &FileQuota, path: &Path, text: &str) -> Result<Quotas> {
    let malformed = |at: usize, detail: String| ConfigError::Malformed {
        path: path.to_owned(),
        at: format!(" at line {}", text[..at.min(text.len())].matches('\n').count() + 1),
        detail: Detail(detail),
    };
    let mut quotas = Quotas::default();
    for (kind, tables) in file {
        let into = match kind.as_str() {
            "user" => &mut quotas.users,
            "group" => &mut quotas.groups,
            other => {
                return Err(malformed(
                    tables.span().start,
                    format!("unknown table [quota.{other}]; quotas are [quota.user.NAME] and [quota.group.NAME]"),
                ));
            }
        };
        for (name, table) in tables.get_ref() {
            let at = format!("[quota.{kind}.{name}]");
            let mut quota = Quota::default();
            for (key, value) in table.get_ref() {
                read_key(&mut quota, key, value.get_ref())
                    .map_err(|why| malformed(value.span().start, format!("{at} {why}")))?;
            }
            into.insert(name.clone(), quota);
        }
    }
    Ok(quotas)
}

/// One `key = value` onto `quota`; the error says what is wrong with it.
fn read_key(quota: &mut Quota, key: &str, value: &toml::Value) -> Result<(), String> {
    let Some((_, takes)) = KEYS.iter().find(|(k, _)| *k == key) else {
        let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        return Err(format!(
            "has an unknown key `{key}`; known are {}",
            known.join(", ")
        ));
    };
    let bad = || format!("{key} must be {takes}, not {value}");
    let whole = |max: i64| {
        value
            .as_integer()
            .filter(|n| (0..=max).contains(n))
            .map(|n| n as u32)
    };
    match key {
        "max_running" => quota.max_running = Some(whole(10_000).ok_or_else(bad)?),
        "gpus" => quota.gpus = Some(whole(1024).ok_or_else(bad)?),
        "memory" => {
            let bytes = value
                .as_str()
                .and_then(parse_size)
                .filter(|b| *b >= MIN_MEMORY);
            quota.memory = Some(bytes.ok_or_else(bad)?);
        }
        _ => {
            let text = value.as_str().ok_or_else(bad)?;
            quota.ports = Some(PortRange::parse(text).map_err(|_| bad())?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Quotas> {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            quota: FileQuota,
        }
        let file: File = toml::from_str(text).unwrap();
        load(&file.quota, Path::new("/d/config.toml"), text)
    }

    #[test]
    fn user_and_group_tables_are_read() {
        let q = load_text(
            "[quota.user.bob]\nmax_running = 2\nmemory = \"64g\"\nports = \"8100-8199\"\n\
             [quota.group.ml]\ngpus = 4\n",
        )
        .unwrap();
        let bob = &q.users["bob"];
        assert_eq!(bob.max_running, Some(2));
        assert_eq!(bob.memory, Some(64 << 30));
        assert_eq!(bob.ports.unwrap().to_string(), "8100-8199");
        assert_eq!(bob.gpus, None);
        assert_eq!(q.groups["ml"].gpus, Some(4));
        assert_eq!(load_text("").unwrap(), Quotas::default());
    }

    #[test]
    fn bad_tables_keys_and_values_name_file_line_table_and_key() {
        for (text, line, says) in [
            ("[quota.team.x]\nmax_running = 1\n", 1, "unknown table [quota.team]"),
            ("[quota.user.bob]\nmax_runing = 1\n", 2, "[quota.user.bob] has an unknown key `max_runing`; known are max_running, gpus, memory, ports"),
            ("[quota.user.bob]\n\nmax_running = -1\n", 3, "[quota.user.bob] max_running must be a whole number of services from 0 to 10000, not -1"),
            ("[quota.group.ml]\ngpus = \"two\"\n", 2, "[quota.group.ml] gpus must be"),
            ("[quota.group.ml]\nmemory = \"lots\"\n", 2, "memory must be a size such as \"64g\""),
            ("[quota.group.ml]\nmemory = \"1k\"\n", 2, "at least 6m, not \"1k\""),
            ("[quota.user.bob]\nports = \"8199-8100\"\n", 2, "[quota.user.bob] ports must be a port range"),
            ("[quota.user.bob]\nports = 8100\n", 2, "not 8100"),
        ] {
            let err = crate::error::Error::from(load_text(text).unwrap_err()).render();
            assert!(err.contains(&format!("/d/config.toml is malformed at line {line}")), "{text}: {err}");
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
