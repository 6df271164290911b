//! Byte offsets into scenario text turned into the `file:line:column`
//! prefix every scenario error carries, so an editor can jump to the spot.

use std::ops::Range;

/// A problem found at one place in the scenario text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diag {
    /// Byte range of the offending key or value.
    pub span: Range<usize>,
    /// What is wrong and how to fix it, key path included.
    pub message: String,
}

impl Diag {
    /// A problem at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Diag {
        Diag {
            span,
            message: message.into(),
        }
    }

    /// The message prefixed with `origin:line:column`.
    pub fn render(&self, origin: &str, text: &str) -> String {
        let (line, column) = line_column(text, self.span.start);
        format!("{origin}:{line}:{column}: {}", self.message)
    }
}

/// One-based line and column of byte `offset`; the column counts
/// characters, not bytes, because that is what editors show.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];

    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

// A span from the parser always lands on a boundary, but a clamped offset
// at the end of a multi-byte character must not make slicing panic.
fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_columns_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 6));
    }

    #[test]
    fn counts_columns_in_characters() {
        let text = "é = \"ü\"";
        assert_eq!(line_column(text, text.find('=').unwrap()), (1, 3));
    }

    #[test]
    fn clamps_offsets_past_the_end() {
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    #[test]
    fn renders_origin_line_and_column() {
        let diag = Diag::new(4..5, "bad value");
        assert_eq!(diag.render("x.toml", "a = \n1"), "x.toml:1:5: bad value");
    }
}
