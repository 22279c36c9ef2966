//! The free text a person gives a record (model names, repositories, service names, model
//! types): printable and bounded, so a record never carries a NUL, an escape sequence or a
//! megabyte into the store, a terminal, a log or a Docker label.

/// The longest name or repository aima stores, in bytes (UTF-8).
pub const MAX_TEXT_BYTES: usize = 256;

/// Why a piece of text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadText {
    #[error("it is {len} bytes long; at most {MAX_TEXT_BYTES} are allowed")]
    TooLong { len: usize },
    #[error("it contains the control character {ch:?} at byte {at}")]
    Control { ch: char, at: usize },
}

/// `text` as a name or repository may be: at most [`MAX_TEXT_BYTES`] bytes, and no control
/// character (C0, DEL or C1: NUL, newline, tab, escape, ...).
pub fn check_text(text: &str) -> Result<(), BadText> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(BadText::TooLong { len: text.len() });
    }
    match text.char_indices().find(|(_, ch)| ch.is_control()) {
        Some((at, ch)) => Err(BadText::Control { ch, at }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_up_to_the_bound_passes() {
        for ok in ["tiny", "Qwen/Qwen2.5-0.5B-Instruct", "llama 3 ünïcode", ""] {
            assert_eq!(check_text(ok), Ok(()), "{ok:?}");
        }
        assert_eq!(check_text(&"a".repeat(MAX_TEXT_BYTES)), Ok(()));
    }

    #[test]
    fn control_characters_and_long_text_are_refused() {
        assert_eq!(
            check_text("a\0b"),
            Err(BadText::Control { ch: '\0', at: 1 })
        );
        for bad in ["x\n", "\u{1b}[31mred", "tab\there", "del\u{7f}", "c1\u{85}"] {
            assert!(
                matches!(check_text(bad), Err(BadText::Control { .. })),
                "{bad:?}"
            );
        }
        let long = "é".repeat(MAX_TEXT_BYTES / 2 + 1);
        assert_eq!(
            check_text(&long),
            Err(BadText::TooLong {
                len: MAX_TEXT_BYTES + 2
            })
        );
    }
}
