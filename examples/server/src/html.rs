//! HTML escaping for the report and demo pages (the core's [`HtmlEscaper`]).

use std::fmt::Write;

use dtpixel::HtmlEscaper;

/// `s` with `&`, `<`, `>`, `"` and `'` escaped, safe in text and in quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let _ = HtmlEscaper(&mut out).write_str(s);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::esc(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
