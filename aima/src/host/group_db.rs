//! Group names and ids as `/etc/group` records them, read without libc (the crate has no
//! `unsafe`): enough for a group the operator names in `config.toml`. Groups that only a
//! directory service (LDAP, sssd) knows are not found; the error says to use a local group.

use std::path::Path;

/// The system's group file.
pub const GROUP_FILE: &str = "/etc/group";

/// The id of group `name` in `/etc/group`, if it has one.
pub fn group_id(name: &str) -> Option<u32> {
    group_id_in(Path::new(GROUP_FILE), name)
}

/// The id of group `name` in the group file at `path`.
pub fn group_id_in(path: &Path, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_group_id(&text, name)
}

/// `name:password:gid:members` lines; the first line naming `name` wins, as for getgrnam.
fn parse_group_id(text: &str, name: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        fields.nth(1)?.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_group_by_exact_name_and_ignores_broken_lines() {
        let text = "root:x:0:\n# comment\nbroken\naima-users:x:not-a-number:\naima:x:997:alice,bob\naimax:x:5:\n";
        assert_eq!(parse_group_id(text, "aima"), Some(997));
        assert_eq!(parse_group_id(text, "root"), Some(0));
        assert_eq!(parse_group_id(text, "aim"), None);
        assert_eq!(parse_group_id(text, "aima-users"), None);
        assert_eq!(parse_group_id(text, "nobody-here"), None);
    }

    #[test]
    fn reads_the_system_file() {
        // Every Linux system names group 0 `root`.
        assert_eq!(group_id("root"), Some(0));
    }
}
