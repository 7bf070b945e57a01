//! The hidden `<img>` tag that fires a pixel, HTML-escaped, and its `<noscript>` variant.

use core::fmt;

use crate::buffer::WriteTo;

/// `<img height="1" width="1" style="display:none" src="URL"/>` for any URL, with the URL
/// HTML-escaped as an attribute value.
///
/// ```
/// use dtpixel::{EventType, ImgTag, PixelId, PixelUrl};
///
/// let id = PixelId::parse("784e6454-8c63-44c5-89db-6dcd33abcdef")?;
/// let url = PixelUrl::new(id, EventType::ADD_TO_CART);
/// assert_eq!(
///     ImgTag::new(&url).to_string(),
///     r#"<img height="1" width="1" style="display:none" src="https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart"/>"#
/// );
/// assert!(ImgTag::new(&url).noscript().to_string().starts_with("<noscript><img "));
/// # Ok::<(), dtpixel::PixelIdError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ImgTag<'u, U: ?Sized> {
    url: &'u U,
    noscript: bool,
}

impl<'u, U: WriteTo + ?Sized> ImgTag<'u, U> {
    /// The tag for `url`.
    pub fn new(url: &'u U) -> Self {
        ImgTag {
            url,
            noscript: false,
        }
    }

    /// Wraps the tag in `<noscript>…</noscript>`, for pages that fire pixels from JavaScript and
    /// still want to count visitors without it.
    pub fn noscript(mut self) -> Self {
        self.noscript = true;
        self
    }
}

impl<U: WriteTo + ?Sized> WriteTo for ImgTag<'_, U> {
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        if self.noscript {
            w.write_str("<noscript>")?;
        }
        w.write_str(r#"<img height="1" width="1" style="display:none" src=""#)?;
        self.url.write_to(&mut HtmlEscaper(w))?;
        w.write_str(r#""/>"#)?;
        if self.noscript {
            w.write_str("</noscript>")?;
        }
        Ok(())
    }
}

impl<U: WriteTo + ?Sized> fmt::Display for ImgTag<'_, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

/// A [`fmt::Write`] adapter that HTML-escapes everything written through it:
/// `&` `<` `>` `"` `'` become `&amp;` `&lt;` `&gt;` `&quot;` `&#39;`.
#[derive(Debug)]
pub struct HtmlEscaper<'w, W: ?Sized>(pub &'w mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for HtmlEscaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let escaped = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            self.0.write_str(s.get(start..i).unwrap_or(""))?;
            self.0.write_str(escaped)?;
            start = i + 1;
        }
        self.0.write_str(s.get(start..).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventType, PixelId, PixelUrl};
    use std::format;
    use std::prelude::rust_2021::*;

    #[test]
    fn escapes_the_attribute_value() {
        let tag = ImgTag::new("https://x.example/?a=1&b=\"<'>\"");
        assert_eq!(
            tag.to_string(),
            r#"<img height="1" width="1" style="display:none" src="https://x.example/?a=1&amp;b=&quot;&lt;&#39;&gt;&quot;"/>"#
        );
    }

    #[test]
    fn noscript_wraps_the_same_tag() {
        let id = PixelId::parse("784e6454-8c63-44c5-89db-6dcd33abcdef").unwrap();
        let url = PixelUrl::new(id, EventType::PAGE_LOAD).cache_bust("1");
        let plain = ImgTag::new(&url).to_string();
        assert!(plain.contains("event_type=page_load&amp;cb=1"));
        assert_eq!(
            ImgTag::new(&url).noscript().to_string(),
            format!("<noscript>{plain}</noscript>")
        );
    }
}
