//! Untrusted text into HTML: service names, errors and engine log lines are written by whoever
//! created the service or by the engine, so every one of them goes through [`text`].

use std::fmt::Write;

/// `s` as HTML text, safe both between tags and inside a quoted attribute: the five markup
/// characters become entities; control characters (terminal escape sequences among them) and
/// the invisible direction overrides that could make a line read differently are shown as
/// visible escapes (`\u{1b}`, `\n`, `\u{202e}`, as the CLI's tables show them) instead of being
/// passed to the browser.
pub(super) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() || is_direction_control(c) => {
                let _ = write!(out, "{}", c.escape_default());
            }
            c => out.push(c),
        }
    }
    out
}

/// Bidirectional embeddings, overrides, isolates and marks (the "Trojan Source" characters).
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn markup_becomes_entities() {
        assert_eq!(
            text(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn escape_sequences_and_direction_overrides_are_shown_not_obeyed() {
        assert_eq!(text("\u{1b}[31mred\u{7}"), "\\u{1b}[31mred\\u{7}");
        assert_eq!(text("a\u{202e}b\u{2066}c"), "a\\u{202e}b\\u{2066}c");
        assert_eq!(text("line\none\tx"), "line\\none\\tx");
        assert_eq!(text("ünïcode ok"), "ünïcode ok");
    }
}
