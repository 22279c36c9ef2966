//! Hints for common slips on the command line, added under clap's own message: a service verb
//! given at the top level (`aima start svc-…`, `aima stop svc-…`, `aima list`).

use clap::error::ErrorKind;

/// Verbs that exist under `service` (and some under `model`) but not at the top level.
const SERVICE_VERBS: [&str; 5] = ["stop", "get", "list", "delete", "create"];
const MODEL_VERBS: [&str; 4] = ["create", "list", "get", "delete"];

/// What the person probably meant, for a command line clap refused with `kind`. Global
/// options may come anywhere (`aima -o json stop svc-…`): they are set aside first.
pub(crate) fn slip(args: &[&str], kind: ErrorKind) -> Option<String> {
    let (args, globals) = &split_globals(args);
    let first = *args.get(1)?;
    let rest = args.get(2..).unwrap_or_default();
    let id = rest.iter().find(|a| !a.starts_with('-')).copied();
    // The global options go last, where they read naturally after any verb.
    let as_typed = |group: &str| {
        let mut line = format!("aima {group}");
        for a in args[1..].iter().chain(globals) {
            line.push(' ');
            line.push_str(a);
        }
        format!("`{line}`")
    };
    // `aima start` runs the daemon; with a service id it was meant as `service start`.
    if first == "start" && kind == ErrorKind::UnknownArgument && id.is_some_and(is_service_id) {
        return Some(format!(
            "`aima start` runs the daemon; to start a service, did you mean {}?",
            as_typed("service")
        ));
    }
    if kind != ErrorKind::InvalidSubcommand {
        return None;
    }
    let service = SERVICE_VERBS.contains(&first) || first == "start";
    let model = MODEL_VERBS.contains(&first);
    match id {
        Some(id) if is_service_id(id) && service => {
            Some(format!("did you mean {}?", as_typed("service")))
        }
        Some(id) if id.starts_with("model-") && model => {
            Some(format!("did you mean {}?", as_typed("model")))
        }
        _ if service && model => Some(format!(
            "did you mean {} or {}?",
            as_typed("service"),
            as_typed("model")
        )),
        _ if service => Some(format!("did you mean {}?", as_typed("service"))),
        _ => None,
    }
}

/// The arguments apart from the global options and their values (`-o json`, `--output=json`,
/// `-ojson`, `--data-dir DIR`, `--data-dir=DIR`), and those options.
fn split_globals<'a>(args: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    let (mut rest, mut globals) = (Vec::with_capacity(args.len()), Vec::new());
    let mut words = args.iter().copied();
    while let Some(word) = words.next() {
        match word {
            "-o" | "--output" | "--data-dir" => {
                globals.push(word);
                globals.extend(words.next());
            }
            _ if word.starts_with("--output=")
                || word.starts_with("--data-dir=")
                || (word.starts_with("-o") && !word.starts_with("--")) =>
            {
                globals.push(word);
            }
            _ => rest.push(word),
        }
    }
    (rest, globals)
}

fn is_service_id(arg: &str) -> bool {
    arg.starts_with("svc-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(line: &str, kind: ErrorKind) -> Option<String> {
        let args: Vec<&str> = line.split(' ').collect();
        slip(&args, kind)
    }

    #[test]
    fn service_verbs_at_the_top_level_point_to_service() {
        assert_eq!(
            hint("aima start svc-12345678", ErrorKind::UnknownArgument).unwrap(),
            "`aima start` runs the daemon; to start a service, did you mean \
             `aima service start svc-12345678`?"
        );
        assert_eq!(
            hint(
                "aima stop svc-12345678 --force",
                ErrorKind::InvalidSubcommand
            )
            .unwrap(),
            "did you mean `aima service stop svc-12345678 --force`?"
        );
        assert_eq!(
            hint("aima get model-12345678", ErrorKind::InvalidSubcommand).unwrap(),
            "did you mean `aima model get model-12345678`?"
        );
        assert_eq!(
            hint("aima list", ErrorKind::InvalidSubcommand).unwrap(),
            "did you mean `aima service list` or `aima model list`?"
        );
    }

    #[test]
    fn global_options_before_the_verb_do_not_hide_the_slip() {
        for (line, globals) in [
            ("aima -o json stop svc-12345678", "-o json"),
            (
                "aima --output=json --data-dir /tmp/d stop svc-12345678",
                "--output=json --data-dir /tmp/d",
            ),
            ("aima -ojson stop svc-12345678", "-ojson"),
        ] {
            assert_eq!(
                hint(line, ErrorKind::InvalidSubcommand).unwrap(),
                format!("did you mean `aima service stop svc-12345678 {globals}`?"),
                "{line}"
            );
        }
    }

    #[test]
    fn other_mistakes_get_no_guess() {
        assert_eq!(
            hint("aima start --port 1", ErrorKind::UnknownArgument),
            None
        );
        assert_eq!(hint("aima frobnicate", ErrorKind::InvalidSubcommand), None);
        assert_eq!(hint("aima", ErrorKind::MissingSubcommand), None);
    }
}
