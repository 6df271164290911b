//! The frame of the page: document head with its inline style sheet,
//! sections, figures, and escaping. Nothing here loads anything from
//! elsewhere, so the file reads the same offline.

use std::fmt::Write;

/// The style sheet, inline: a report must open with no network.
const STYLE: &str = "
:root { --ink: #1d2430; --muted: #5d6778; --line: #dfe3ea; --band: #f5f7fa;
  --good: #2e8c56; --bad: #c42c34; --accent: #1f68b2; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f5; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 24px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin-top: 20px; }
section h2 { margin: 0 0 12px; font-size: 18px; }
section h3 { margin: 16px 0 6px; font-size: 15px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
  gap: 12px; margin-top: 20px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.tile b { display: block; font-size: 22px; }
.tile span { color: var(--muted); font-size: 12px; text-transform: uppercase; }
.tile.bad b, td.bad, .verdict.bad { color: var(--bad); }
.tile.good b, .verdict.good { color: var(--good); }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin: 0 0 4px; }
figcaption small { font-weight: 400; color: var(--muted); }
svg { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
th { background: var(--band); font-weight: 600; font-size: 12px; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; }
tbody tr:hover { background: var(--band); }
pre { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
  padding: 12px; overflow: auto; font-size: 12px; }
.note { color: var(--muted); }
.warnings li { color: #8a5a00; }
.verdict { font-weight: 700; }
.banner { margin: 16px 0 0; padding: 10px 14px; border-radius: 8px; font-weight: 600;
  background: #fbeaea; border: 1px solid var(--bad); color: var(--bad); }
";

/// The whole document around `body`.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         </body>\n</html>\n",
        escape(title)
    )
}

/// A titled section.
pub fn section(title: &str, inner: &str) -> String {
    format!("<section>\n<h2>{}</h2>\n{inner}</section>\n", escape(title))
}

/// A chart under its caption; `note` is a short muted aside.
pub fn figure(caption: &str, note: &str, svg: &str) -> String {
    let mut html = format!("<figure>\n<figcaption>{}", escape(caption));
    if !note.is_empty() {
        let _ = write!(html, " <small>{}</small>", escape(note));
    }
    html.push_str("</figcaption>\n");
    html.push_str(svg);
    html.push_str("\n</figure>\n");
    html
}

/// Pieces set two to a row.
pub fn grid(pieces: &[String]) -> String {
    format!("<div class=\"grid\">\n{}</div>\n", pieces.concat())
}

/// A muted paragraph.
pub fn note(text: &str) -> String {
    format!("<p class=\"note\">{}</p>\n", escape(text))
}

/// `text` made safe as element content and as a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(
            escape("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
        let page = document("x</title><script>", "");
        assert!(!page.contains("<script>"), "{page}");
    }

    #[test]
    fn a_figure_holds_its_caption_and_chart() {
        let html = figure("p99", "ms", "<svg></svg>");
        assert!(html.contains("<figcaption>p99 <small>ms</small></figcaption>"));
        assert!(html.contains("<svg></svg>"));
    }
}
