//! Just enough Markdown for the doc tests: the files, their fenced blocks, a section under a
//! heading, and the rows of a table.

use std::path::{Path, PathBuf};

/// The repository's root, where README.md and docs/ live.
pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// README.md and every hand-written docs/*.md (docs/bench/ holds a generated report).
pub fn files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let listed = std::fs::read_dir(root().join("docs")).expect("read docs/");
    let mut docs: Vec<PathBuf> = listed
        .map(|entry| entry.expect("read docs/").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The text of `rel` (relative to the repository's root).
pub fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A fenced block: the line of its opening fence (1-based) and its body.
pub struct Block {
    pub line: usize,
    pub body: Vec<String>,
}

/// Every block fenced with ```` ```info ````, in order.
pub fn blocks(text: &str, info: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    let mut in_other = false;
    for (at, line) in text.lines().enumerate() {
        // As in CommonMark, a backtick fence's info string holds no backtick, so prose that
        // begins with an inline ```` ```console ```` is no fence.
        let fence = line
            .trim_start()
            .strip_prefix("```")
            .filter(|rest| !rest.contains('`'));
        match (fence, open.as_mut()) {
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some(rest), None) if !in_other && rest.trim() == info => {
                open = Some(Block {
                    line: at + 1,
                    body: Vec::new(),
                });
            }
            (Some(_), None) => in_other = !in_other,
            (None, Some(block)) => block.body.push(line.to_owned()),
            (None, None) => {}
        }
    }
    out
}

/// The text under the heading `title` (any level), up to the next heading of that level or
/// higher; panics when there is no such heading.
pub fn section<'a>(text: &'a str, title: &str) -> &'a str {
    let level_of = |line: &str| line.chars().take_while(|&c| c == '#').count();
    let mut start = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let level = level_of(line);
        let is_heading = level > 0 && line[level..].starts_with(' ');
        match start {
            None if is_heading && line[level..].trim() == title => start = Some((offset, level)),
            Some((from, at)) if is_heading && level <= at => return &text[from..offset],
            _ => {}
        }
        offset += line.len();
    }
    match start {
        Some((from, _)) => &text[from..],
        None => panic!("no heading {title:?}"),
    }
}

/// The cells of every row of the first table in `text`, header and separator left out.
pub fn table_rows(text: &str) -> Vec<Vec<String>> {
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let inner = l.trim().trim_start_matches('|').trim_end_matches('|');
            inner.split(" | ").map(|c| c.trim().to_owned()).collect()
        })
        .collect();
    rows.into_iter().skip(2).collect()
}

/// The `code` spans of a cell (`` `AIMA_LOG`, `NO_COLOR` `` gives both names).
pub fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}
