//! Hand-drawn SVG, shared by the run's timeline (`report`) and the bench's plots (`bench`): the
//! document frame, the palette, scales from values to pixels, and text made safe to embed. The
//! pictures are boxes, lines and text, so no plotting crate: each plot writes its own elements
//! into a `String` with these.

/// Every picture's width in pixels.
pub(crate) const WIDTH: f64 = 1100.0;

// The palette: one meaning, one colour, in every picture.
/// A pass; a command that exited 0.
pub(crate) const PASS: &str = "#2e7d32";
/// A failed criterion.
pub(crate) const FAIL: &str = "#c62828";
/// A skip; axis labels and footnotes.
pub(crate) const MUTED: &str = "#757575";
/// A command killed or ended by a signal.
pub(crate) const KILLED: &str = "#6a1b9a";
/// A warning; a command that exited with another code.
pub(crate) const WARN: &str = "#ef6c00";
/// A fault in force.
pub(crate) const FAULT: &str = "#e53935";
/// An observation.
pub(crate) const MARK: &str = "#1565c0";
/// aima's side of a bench figure.
pub(crate) const AIMA: &str = "#1f77b4";
/// The baseline's side of a bench figure.
pub(crate) const BASELINE: &str = "#ff7f0e";

/// The white background every picture is drawn on.
pub(crate) const BACKGROUND: &str = r#"<rect width="100%" height="100%" fill="white"/>"#;

/// The opening `<svg>` element: [`WIDTH`] wide, `height` high (whole pixels), sans-serif at
/// `font_size` when given (else the viewer's default). The caller closes it with `</svg>`.
pub(crate) fn open(height: f64, font_size: Option<u32>) -> String {
    let size = font_size
        .map(|size| format!(r#" font-size="{size}""#))
        .unwrap_or_default();
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="sans-serif"{size}>"#
    )
}

/// A picture's bold title at (`x`, `y`).
pub(crate) fn title(x: f64, y: f64, font_size: u32, text: &str) -> String {
    format!(
        r#"<text x="{x}" y="{y}" font-size="{font_size}" font-weight="bold">{}</text>"#,
        escape(text)
    )
}

/// Text made safe for an SVG text node or attribute value.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `text` cut to at most `max` characters, with `…` where it was cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Maps values onto pixels: a value at the domain's start lands on `from`, one at its end on
/// `to` (which may be smaller, for a y axis that grows upwards).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    domain: (f64, f64),
    from: f64,
    to: f64,
    /// `Some(lowest exponent)`: values are placed by their decimal logarithm.
    decades_from: Option<i32>,
}

impl Scale {
    /// A linear scale from `lo..hi` onto `from..to`.
    pub(crate) fn linear(lo: f64, hi: f64, from: f64, to: f64) -> Self {
        Self {
            domain: (lo, hi),
            from,
            to,
            decades_from: None,
        }
    }

    /// A logarithmic scale over whole decades, 10^`lo_exp` to 10^`hi_exp`, onto `from..to`;
    /// smaller values sit at the start.
    pub(crate) fn decades(lo_exp: i32, hi_exp: i32, from: f64, to: f64) -> Self {
        Self {
            domain: (f64::from(lo_exp), f64::from(hi_exp)),
            from,
            to,
            decades_from: Some(lo_exp),
        }
    }

    /// The pixel of `value`.
    pub(crate) fn at(&self, value: f64) -> f64 {
        let (lo, hi) = self.domain;
        let value = match self.decades_from {
            Some(exp) => value.max(10f64.powi(exp)).log10(),
            None => value,
        };
        self.from + (value - lo) * (self.to - self.from) / (hi - lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_the_domain_onto_the_pixels() {
        let x = Scale::linear(0.0, 10.0, 100.0, 200.0);
        assert_eq!((x.at(0.0), x.at(5.0), x.at(10.0)), (100.0, 150.0, 200.0));
        let y = Scale::linear(0.0, 10.0, 200.0, 100.0);
        assert_eq!(y.at(10.0), 100.0);
        let log = Scale::decades(0, 2, 0.0, 100.0);
        assert_eq!(
            (log.at(0.5), log.at(10.0), log.at(100.0)),
            (0.0, 50.0, 100.0)
        );
    }

    #[test]
    fn text_is_escaped_and_shortened() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
