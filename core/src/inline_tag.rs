//! [`InlineTag`]: the inline `<script>` a shop pastes into its pages' `<head>`. It fires the
//! landing's `page_load` as soon as the HTML parser reaches it, with nothing to download first,
//! and loads `auto.js` asynchronously for everything else (storing the id, `add_to_cart`, the
//! queue, consent, SPA views).

use core::fmt;

use crate::buffer::WriteTo;
use crate::{BaseUrl, BaseUrlError, EventType, PixelId, PixelUrl};

/// The start() options an inline tag passes on to `auto.js` (as its `data-` attributes), with
/// the values each accepts (`None`: any non-empty text).
const OPTIONS: &[(&str, Option<&[&str]>)] = &[
    ("base", None),
    ("mode", Some(&["cached", "bust"])),
    ("transport", Some(&["img", "keepalive"])),
    ("persist", Some(&["session", "local", "none"])),
    ("ttlDays", None),
    ("param", None),
    ("autoPageLoad", Some(BOOL)),
    ("spa", Some(BOOL)),
    ("respectPrivacy", Some(BOOL)),
    ("debug", Some(BOOL)),
];
const BOOL: &[&str] = &["true", "false"];

/// The script, minified by hand; each `@NAME@` is replaced by a JavaScript value when written.
///
/// In order: the call queue (`window.dtpixel`), whose last `consent` command is honoured; the
/// id from the URL, validated exactly as [`PixelId::parse`] does (the hyphenated form in
/// any letter case, checked against the core in a browser test) and lowercased as the core
/// writes it; nothing fires when another copy of the tracker already runs (`pixelId` on the
/// queue), while the page is prerendered, or under Global Privacy Control / Do Not Track (unless
/// `respectPrivacy` is off): `auto.js` then decides, as it does alone. The URL is the core's,
/// written around the id ([`PixelUrl`]'s prefix and suffix); in bust mode it gets the core's
/// random cache-buster shape (16 lowercase hex digits). `queue.pageLoad` tells the tracker
/// (`auto.js`, or the page's own `start()`) that the page's `page_load` went out. Any exception
/// is swallowed; `auto.js` still loads.
const SCRIPT: &str = concat!(
    r#"<script>(function(w,d){var q=w.dtpixel=w.dtpixel||[],n=w.navigator||{},c=1,k,v,u,i,a,s;"#,
    r#"try{for(k=0;k<q.length;k++)if(q[k]&&q[k][0]=="consent")c=q[k][1]!==false;"#,
    r#"v=new URLSearchParams(w.location.search).get(@PARAM@);"#,
    r#"if(@PAGE_LOAD@&&c&&v&&!q.pixelId&&!d.prerendering&&!(@PRIVACY@&&(n.globalPrivacyControl===true||n.doNotTrack=="1"||w.doNotTrack=="1"))"#,
    r#"&&/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)){"#,
    r#"u=@PREFIX@+v.toLowerCase()+@SUFFIX@;"#,
    r#"if(@BUST@){a=crypto.getRandomValues(new Uint32Array(2));u+="&cb="+(a[0]+4294967296).toString(16).slice(1)+(a[1]+4294967296).toString(16).slice(1)}"#,
    r#"if(@KEEPALIVE@&&w.fetch)fetch(u,{keepalive:true,mode:"no-cors",credentials:"include"}).catch(function(){});"#,
    r#"else{i=d.createElement("img");i.setAttribute("height","1");i.setAttribute("width","1");i.setAttribute("style","display:none");i.src=u;(d.body||d.documentElement).appendChild(i)}"#,
    r#"q.pageLoad=u}}catch(e){}"#,
    r#"@LOAD@})(window,document)</script>"#,
);

/// Why an [`InlineTag`] could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InlineTagError {
    /// The URL of `auto.js` is not an https URL (or http on a loopback host) without query.
    Src(BaseUrlError),
    /// The `base` option is not a valid base URL.
    Base(BaseUrlError),
    /// The option at this index of the list is not a start() option.
    UnknownOption {
        /// Its 0-based index in the options given.
        index: usize,
    },
    /// This option's value is not one it accepts.
    BadValue {
        /// The option's name.
        option: &'static str,
    },
}

impl fmt::Display for InlineTagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InlineTagError::Src(e) => write!(f, "the auto.js URL: {e}"),
            InlineTagError::Base(e) => write!(f, "the base option: {e}"),
            InlineTagError::UnknownOption { index } => write!(
                f,
                "option {index} is not a start() option (base, mode, transport, persist, ttlDays, \
                 param, autoPageLoad, spa, respectPrivacy, debug)"
            ),
            InlineTagError::BadValue { option } => {
                f.write_str("invalid value for the ")?;
                f.write_str(option)?;
                f.write_str(" option")?;
                if let Some((_, Some(values))) = OPTIONS.iter().find(|(n, _)| n == option) {
                    f.write_str(" (one of")?;
                    for v in *values {
                        f.write_str(" ")?;
                        f.write_str(v)?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InlineTagError {}

/// The inline tag: `page_load` fired by the HTML parser, then `auto.js` loaded for the rest.
///
/// `options` are `auto.js`'s, by their start() names (`mode`, `respectPrivacy`, …), passed on to
/// it as `data-` attributes; the ones the inline part needs (`base`, `mode`, `param`,
/// `transport`, `autoPageLoad`, `respectPrivacy`) it reads from the same list, so both halves
/// always agree. Values are checked, and written as escaped JavaScript strings.
///
/// ```
/// use dtpixel::InlineTag;
///
/// let tag = InlineTag::new(
///     "https://cdn.example/dtpixel@0.1.0/auto.js",
///     &[("base", "https://dttrk.com"), ("mode", "cached")],
/// )?;
/// let html = tag.to_string();
/// assert!(html.starts_with("<script>") && html.ends_with("</script>"));
/// assert!(html.contains(r#"u="https://dttrk.com/pixel/"+v.toLowerCase()+"/event.gif?event_type=page_load";"#));
/// assert!(html.contains(r#"s.src="https://cdn.example/dtpixel@0.1.0/auto.js";"#));
/// assert!(html.contains(r#"s.setAttribute("data-mode","cached");"#));
/// # Ok::<(), dtpixel::InlineTagError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct InlineTag<'a> {
    src: Option<&'a str>,
    options: &'a [(&'a str, &'a str)],
    base: BaseUrl<'a>,
    param: &'a str,
    bust: bool,
    keepalive: bool,
    page_load: bool,
    privacy: bool,
}

impl<'a> InlineTag<'a> {
    /// The tag loading `auto.js` from `src` with `options`; see [`InlineTag`].
    pub fn new(src: &'a str, options: &'a [(&'a str, &'a str)]) -> Result<Self, InlineTagError> {
        let src = BaseUrl::parse(src).map_err(InlineTagError::Src)?.as_str();
        Self::with_src(Some(src), options)
    }

    /// The tag for a page that starts the tracker itself (`import { start } from "dtpixel"` in
    /// its own code, with the same options): it fires the landing's `page_load` and loads
    /// nothing; `start()` then finds that `page_load` sent.
    pub fn without_auto_js(options: &'a [(&'a str, &'a str)]) -> Result<Self, InlineTagError> {
        Self::with_src(None, options)
    }

    fn with_src(
        src: Option<&'a str>,
        options: &'a [(&'a str, &'a str)],
    ) -> Result<Self, InlineTagError> {
        let mut tag = InlineTag {
            src,
            options,
            base: BaseUrl::DEFAULT,
            param: "dt_pixel_id",
            bust: false,
            keepalive: false,
            page_load: true,
            privacy: true,
        };
        for (index, &(name, value)) in options.iter().enumerate() {
            let Some(&(option, values)) = OPTIONS.iter().find(|(n, _)| *n == name) else {
                return Err(InlineTagError::UnknownOption { index });
            };
            let accepted = match values {
                Some(values) => values.contains(&value),
                None => !value.is_empty(),
            };
            if !accepted || (option == "ttlDays" && !value.bytes().all(|b| b.is_ascii_digit())) {
                return Err(InlineTagError::BadValue { option });
            }
            match option {
                "base" => tag.base = BaseUrl::parse(value).map_err(InlineTagError::Base)?,
                "param" => tag.param = value,
                "mode" => tag.bust = value == "bust",
                "transport" => tag.keepalive = value == "keepalive",
                "autoPageLoad" => tag.page_load = value == "true",
                "respectPrivacy" => tag.privacy = value == "true",
                _ => {}
            }
        }
        Ok(tag)
    }

    fn write_value<W: fmt::Write + ?Sized>(&self, name: &str, w: &mut W) -> fmt::Result {
        let flag = |on: bool| if on { "1" } else { "0" };
        match name {
            "PARAM" => js_string(w, self.param),
            "PAGE_LOAD" => w.write_str(flag(self.page_load)),
            "PRIVACY" => w.write_str(flag(self.privacy)),
            "BUST" => w.write_str(flag(self.bust)),
            "KEEPALIVE" => w.write_str(flag(self.keepalive)),
            "PREFIX" => js_string(w, &Piece(self.base, Part::Prefix)),
            "SUFFIX" => js_string(w, &Piece(self.base, Part::Suffix)),
            "LOAD" => {
                let Some(src) = self.src else { return Ok(()) };
                w.write_str(r#"s=d.createElement("script");s.async=true;s.src="#)?;
                js_string(w, src)?;
                w.write_str(";")?;
                for (name, value) in self.options {
                    w.write_str("s.setAttribute(\"data-")?;
                    for c in name.chars() {
                        if c.is_ascii_uppercase() {
                            w.write_char('-')?;
                        }
                        w.write_char(c.to_ascii_lowercase())?;
                    }
                    w.write_str("\",")?;
                    js_string(w, *value)?;
                    w.write_str(");")?;
                }
                w.write_str("(d.head||d.documentElement).appendChild(s)")
            }
            _ => Err(fmt::Error),
        }
    }
}

impl WriteTo for InlineTag<'_> {
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        // Even pieces of the template are code, odd ones the names of values.
        for (i, piece) in SCRIPT.split('@').enumerate() {
            if i % 2 == 0 {
                w.write_str(piece)?;
            } else {
                self.write_value(piece, w)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for InlineTag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

#[derive(Clone, Copy)]
enum Part {
    Prefix,
    Suffix,
}

/// The text of the core's `page_load` URL before or after the pixel id.
struct Piece<'a>(BaseUrl<'a>, Part);

impl WriteTo for Piece<'_> {
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        let url = PixelUrl::new(PixelId::from_bytes([0; 16]), EventType::PAGE_LOAD).base(self.0);
        match self.1 {
            Part::Prefix => url.write_before_id(w),
            Part::Suffix => url.write_after_id(w),
        }
    }
}

/// Writes `value` as a double-quoted JavaScript string that is also safe inside an HTML
/// `<script>` element: `"` and `\` are escaped, `<` becomes `\x3c` (no `</script>` or `<!--`),
/// and control characters and U+2028/U+2029 become escapes.
fn js_string<W: fmt::Write + ?Sized, V: WriteTo + ?Sized>(w: &mut W, value: &V) -> fmt::Result {
    w.write_char('"')?;
    value.write_to(&mut JsEscaper(w))?;
    w.write_char('"')
}

struct JsEscaper<'w, W: ?Sized>(&'w mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for JsEscaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                '<' => self.0.write_str("\\x3c")?,
                '\u{2028}' => self.0.write_str("\\u2028")?,
                '\u{2029}' => self.0.write_str("\\u2029")?,
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let b = c as u8;
                    self.0.write_str("\\x")?;
                    self.0.write_char(HEX[usize::from(b >> 4)] as char)?;
                    self.0.write_char(HEX[usize::from(b & 15)] as char)?;
                }
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;
    use std::string::ToString;

    fn tag(options: &[(&str, &str)]) -> Result<String, InlineTagError> {
        InlineTag::new("https://cdn.example/dtpixel/auto.js", options).map(|t| t.to_string())
    }

    #[test]
    fn the_url_is_the_cores_around_the_id() {
        let html = tag(&[("base", "https://t.example/p/")]).unwrap();
        assert!(html.contains(
            r#"u="https://t.example/p/pixel/"+v.toLowerCase()+"/event.gif?event_type=page_load";"#
        ));
        // The default base, and every flag off or on as the options say.
        let html = tag(&[]).unwrap();
        assert!(html.contains(r#"u="https://dttrk.com/pixel/"+"#));
        assert!(html.contains("if(1&&c&&v&&") && html.contains("!(1&&(n.global"));
        assert!(html.contains("if(0){a=crypto") && html.contains("if(0&&w.fetch)"));
        let html = tag(&[
            ("mode", "bust"),
            ("transport", "keepalive"),
            ("autoPageLoad", "false"),
            ("respectPrivacy", "false"),
        ])
        .unwrap();
        assert!(html.contains("if(0&&c&&v&&") && html.contains("!(0&&(n.global"));
        assert!(html.contains("if(1){a=crypto") && html.contains("if(1&&w.fetch)"));
    }

    #[test]
    fn options_become_data_attributes_of_auto_js() {
        let html = tag(&[
            ("ttlDays", "7"),
            ("respectPrivacy", "false"),
            ("param", "c"),
        ])
        .unwrap();
        assert!(html.contains(
            r#"s.setAttribute("data-ttl-days","7");s.setAttribute("data-respect-privacy","false");s.setAttribute("data-param","c");(d.head"#
        ));
        assert!(html.contains(r#".get("c");"#));
        assert!(!html.contains("@"));
    }

    #[test]
    fn without_auto_js_it_loads_nothing() {
        let html = InlineTag::without_auto_js(&[("mode", "bust")])
            .unwrap()
            .to_string();
        assert!(html.contains("if(1){a=crypto") && html.contains("q.pageLoad=u"));
        assert!(!html.contains("createElement(\"script\")") && !html.contains("data-mode"));
        assert!(
            html.ends_with("catch(e){}})(window,document)</script>"),
            "{html}"
        );
    }

    #[test]
    fn bad_options_are_refused() {
        assert_eq!(
            tag(&[("mode", "x")]),
            Err(InlineTagError::BadValue { option: "mode" })
        );
        assert_eq!(
            tag(&[("ttlDays", "7d")]),
            Err(InlineTagError::BadValue { option: "ttlDays" })
        );
        assert_eq!(
            tag(&[("param", "")]),
            Err(InlineTagError::BadValue { option: "param" })
        );
        assert_eq!(
            tag(&[("mode", "bust"), ("onload", "alert(1)")]),
            Err(InlineTagError::UnknownOption { index: 1 })
        );
        assert_eq!(
            tag(&[("base", "http://dttrk.com")]),
            Err(InlineTagError::Base(BaseUrlError::InsecureHost))
        );
        assert_eq!(
            InlineTag::new("javascript:alert(1)", &[]).map(|_| ()),
            Err(InlineTagError::Src(BaseUrlError::Scheme))
        );
        assert!(InlineTag::new("http://127.0.0.1:8080/auto.js", &[]).is_ok());
        assert_eq!(
            tag(&[("mode", "x")]).unwrap_err().to_string(),
            "invalid value for the mode option (one of cached bust)"
        );
    }

    #[test]
    fn hostile_values_stay_inside_their_string() {
        let html = tag(&[("param", "</script><script>alert(1)//\"\\\u{2028}\n")]).unwrap();
        assert!(html.contains(r#""\x3c/script>\x3cscript>alert(1)//\"\\\u2028\x0a""#));
        assert_eq!(html.matches("</script>").count(), 1);
        assert!(html.ends_with("</script>"));
    }
}
