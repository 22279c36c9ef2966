//! Text from outside aima — names, repos, engine log lines, a port holder's command line — made
//! safe to print on a terminal: control characters (escape sequences that could recolour,
//! retitle or rewrite the screen, carriage returns that hide text) and Unicode direction
//! overrides are shown escaped (`\u{1b}`) instead of acting. JSON output needs none of this:
//! its encoder escapes control characters already.

use std::borrow::Cow;

/// For one table cell or detail value: every control character is escaped, line breaks too, so
/// a value cannot forge rows.
pub(crate) fn cell(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// For whole blocks of output: as [`cell`], but line breaks and tabs stay as they are.
pub(crate) fn block(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| !keep(c) && (c.is_control() || is_direction_override(c));
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Bidirectional embeddings, overrides and isolates: they reorder what is displayed.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        assert_eq!(cell("\x1b[31mred\x1b[0m"), "\\u{1b}[31mred\\u{1b}[0m");
        assert_eq!(cell("title\x1b]0;pwned\x07"), "title\\u{1b}]0;pwned\\u{7}");
        assert_eq!(cell("hidden\rshown"), "hidden\\rshown");
        assert_eq!(cell("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
    }

    #[test]
    fn cells_cannot_forge_rows_but_blocks_keep_their_lines() {
        assert_eq!(cell("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(block("a\nb\tc\x1b"), "a\nb\tc\\u{1b}");
    }

    #[test]
    fn plain_text_is_untouched_and_not_copied() {
        assert!(matches!(cell("tinyllama-vllm-1a2b ✓"), Cow::Borrowed(_)));
    }
}
