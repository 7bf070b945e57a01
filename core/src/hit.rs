//! [`PixelHit`] and [`HitParser`]: an incoming pixel request, parsed and typed.

use core::fmt;

use crate::gif::CacheMode;
use crate::query_scan::{self, EventValue};
use crate::urlencoded::{self, Component, Pairs};
use crate::{BaseUrl, BaseUrlError, EventType, EventTypeError, PixelId, PixelIdError};

#[cfg(feature = "alloc")]
use alloc::string::String;

/// One pixel hit: which creator's pixel, which event, the cache-buster and every query pair.
///
/// Parsing borrows the input and allocates nothing; names and values decode lazily.
///
/// ```
/// use dtpixel::{EventType, PixelHit};
///
/// let hit = PixelHit::parse("/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart&utm_source=mail")?;
/// assert_eq!(hit.pixel_id().to_string(), "784e6454-8c63-44c5-89db-6dcd33abcdef");
/// assert_eq!(hit.event_type(), EventType::ADD_TO_CART);
/// assert!(hit.cache_bust().is_none());
/// let names: Vec<_> = hit.query_pairs().map(|(name, _)| name.raw()).collect();
/// assert_eq!(names, ["event_type", "utm_source"]);
///
/// // No event_type means a page load; full URLs work too.
/// let hit = PixelHit::parse("https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif")?;
/// assert_eq!(hit.event_type(), EventType::PAGE_LOAD);
/// # Ok::<(), dtpixel::HitError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PixelHit<'a> {
    pixel_id: PixelId,
    /// Where the (already validated) `event_type` value is in `query`; `None` for a page load.
    /// The hit keeps this small record, not the 65-byte [`EventType`], which
    /// [`PixelHit::event_type`] builds on demand.
    event: Option<EventValue>,
    /// Byte range of the raw `cb` value inside `query`.
    cache_bust: Option<(usize, usize)>,
    query: QueryText<'a>,
}

#[derive(Clone, Debug)]
enum QueryText<'a> {
    Borrowed(&'a str),
    #[cfg(feature = "alloc")]
    Owned(String),
}

impl PartialEq for QueryText<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for QueryText<'_> {}

impl QueryText<'_> {
    fn as_str(&self) -> &str {
        match self {
            QueryText::Borrowed(s) => s,
            #[cfg(feature = "alloc")]
            QueryText::Owned(s) => s,
        }
    }
}

/// Why a request is not a valid pixel hit. `Copy`, cheap, and precise; `Display` gives a
/// one-line reason fit for a `400 Bad Request` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitError {
    /// The input is longer than the parser's limit.
    TooLong {
        /// The input's length, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// Neither a request target starting with `/` nor an `http(s)://` URL.
    BadTarget,
    /// The path is not under `{prefix}/pixel/`: not a pixel request at all (a 404, not a 400).
    NotPixelPath,
    /// Under `{prefix}/pixel/` but not `{prefix}/pixel/{pixel_id}/event.gif`.
    BadPath,
    /// The pixel id segment is not a valid id.
    BadPixelId(PixelIdError),
    /// The `event_type` value is not a valid event name.
    BadEventType(EventTypeError),
    /// `event_type` appears more than once.
    RepeatedEventType,
    /// `cb` appears more than once.
    RepeatedCacheBust,
}

impl fmt::Display for HitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HitError::TooLong { len, max } => {
                write!(
                    f,
                    "request target too long: {len} bytes, the limit is {max}"
                )
            }
            HitError::BadTarget => f.write_str(
                "not a request target: expected a path starting with '/' or an http(s) URL",
            ),
            HitError::NotPixelPath => {
                f.write_str("not a pixel path: expected /pixel/{pixel_id}/event.gif")
            }
            HitError::BadPath => {
                f.write_str("bad pixel path: expected /pixel/{pixel_id}/event.gif")
            }
            HitError::BadPixelId(e) => fmt::Display::fmt(e, f),
            HitError::BadEventType(e) => fmt::Display::fmt(e, f),
            HitError::RepeatedEventType => f.write_str("event_type is given more than once"),
            HitError::RepeatedCacheBust => f.write_str("cb is given more than once"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HitError::BadPixelId(e) => Some(e),
            HitError::BadEventType(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PixelIdError> for HitError {
    fn from(e: PixelIdError) -> Self {
        HitError::BadPixelId(e)
    }
}

impl From<EventTypeError> for HitError {
    fn from(e: EventTypeError) -> Self {
        HitError::BadEventType(e)
    }
}

/// Parses pixel hits, with a configured path prefix and length limit.
///
/// ```
/// use dtpixel::{HitError, HitParser};
///
/// let parser = HitParser::new().with_prefix("/t")?;
/// let hit = parser.parse("/t/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?cb=42")?;
/// assert_eq!(hit.cache_bust().map(|cb| cb.raw()), Some("42"));
/// assert_eq!(
///     parser.parse("/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif").unwrap_err(),
///     HitError::NotPixelPath
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HitParser<'p> {
    prefix: &'p str,
    max_len: usize,
}

impl Default for HitParser<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'p> HitParser<'p> {
    /// The default limit on the input's length, in bytes.
    pub const DEFAULT_MAX_LEN: usize = 4096;

    /// A parser with no prefix and the default length limit.
    pub const fn new() -> Self {
        HitParser {
            prefix: "",
            max_len: Self::DEFAULT_MAX_LEN,
        }
    }

    /// Routes under a path prefix such as `/t` (a trailing `/` is ignored).
    pub fn with_prefix(mut self, prefix: &'p str) -> Result<Self, BaseUrlError> {
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        if !prefix.is_empty() {
            if !prefix.starts_with('/') {
                return Err(BaseUrlError::BadPath);
            }
            if let Some(index) = prefix
                .bytes()
                .position(|b| !b.is_ascii_graphic() || b == b'?' || b == b'#')
            {
                return Err(BaseUrlError::BadChar {
                    byte: prefix.as_bytes()[index],
                    index,
                });
            }
            if prefix[1..]
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
            {
                return Err(BaseUrlError::BadPath);
            }
        }
        self.prefix = prefix;
        Ok(self)
    }

    /// The parser for hits on URLs built from `base` (its path prefix).
    pub fn for_base(base: &BaseUrl<'p>) -> Self {
        HitParser {
            prefix: base.prefix(),
            max_len: Self::DEFAULT_MAX_LEN,
        }
    }

    /// Sets the limit on the input's length, in bytes.
    pub const fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// The path prefix.
    pub const fn prefix(&self) -> &'p str {
        self.prefix
    }

    /// The length limit, in bytes.
    pub const fn max_len(&self) -> usize {
        self.max_len
    }

    /// Parses a full URL (`https://dttrk.com/pixel/…`) or a request target (`/pixel/…?…`).
    pub fn parse<'a>(&self, input: &'a str) -> Result<PixelHit<'a>, HitError> {
        if input.len() > self.max_len {
            return Err(HitError::TooLong {
                len: input.len(),
                max: self.max_len,
            });
        }
        let target = if input.starts_with('/') {
            input
        } else {
            let after_scheme = strip_scheme(input).ok_or(HitError::BadTarget)?;
            let authority_len = crate::swar::find_any(after_scheme.as_bytes(), 0, b"/?#");
            after_scheme.get(authority_len..).unwrap_or("")
        };
        let (pixel_id, path_len) = self.parse_path(target)?;
        // After the path: the end, a fragment, or the query (which a fragment ends).
        let query = match target.as_bytes().get(path_len) {
            Some(b'?') => &target[path_len + 1..],
            _ => "",
        };
        let scan = query_scan::scan(query)?;
        Ok(PixelHit {
            pixel_id,
            event: scan.event_type,
            cache_bust: scan.cache_bust,
            query: QueryText::Borrowed(&query[..scan.len]),
        })
    }

    /// Checks `{prefix}/pixel/{pixel_id}/event.gif` at the start of `target`; returns the id and
    /// the path's length.
    fn parse_path(&self, target: &str) -> Result<(PixelId, usize), HitError> {
        const PIXEL: &[u8; 7] = b"/pixel/";
        const FILE: &[u8; 10] = b"/event.gif";
        // Compared as fixed-size arrays, so the compiler emits integer compares rather than
        // calls to memcmp; the (usually empty) prefix is compared only when there is one.
        let after_prefix = if self.prefix.is_empty() {
            Some(target.as_bytes())
        } else {
            target.as_bytes().strip_prefix(self.prefix.as_bytes())
        };
        let bytes = after_prefix
            .and_then(|t| match t.split_first_chunk::<{ PIXEL.len() }>() {
                Some((pixel, rest)) if pixel == PIXEL => Some(rest),
                _ => None,
            })
            .ok_or(HitError::NotPixelPath)?;
        let consumed = target.len() - bytes.len();
        let path_len = PixelId::LENGTH + FILE.len();
        // Fast path: the id and file name at their fixed offsets, no searching.
        if let Some((id, after_id)) = bytes.split_first_chunk::<{ PixelId::LENGTH }>() {
            if let Some((file, after)) = after_id.split_first_chunk::<{ FILE.len() }>() {
                if file == FILE && matches!(after.first(), None | Some(b'?' | b'#')) {
                    let id = match crate::pixel_id::parse_words(id) {
                        Some(id) => id,
                        None => PixelId::parse_bytes(id)?,
                    };
                    return Ok((id, consumed + path_len));
                }
            }
        }
        // Anything else is an error; find which.
        let end = bytes
            .iter()
            .position(|&b| b == b'?' || b == b'#')
            .unwrap_or(bytes.len());
        let path = target.get(consumed..consumed + end).unwrap_or("");
        let (id, file) = path.split_once('/').ok_or(HitError::BadPath)?;
        if file != "event.gif" {
            return Err(HitError::BadPath);
        }
        Ok((PixelId::parse(id)?, consumed + end))
    }
}

/// `input` after its `https://` or `http://` (in any case).
fn strip_scheme(input: &str) -> Option<&str> {
    // One eight-byte compare, the letters lowercased by setting bit 5 of their bytes only
    // (a mask over ':' or '/' would let control bytes such as 0x1a pass for them).
    const HTTPS: u64 = u64::from_le_bytes(*b"https://");
    const HTTP: u64 = u64::from_le_bytes(*b"http://\0");
    const HTTPS_CASE: u64 = u64::from_le_bytes([0x20, 0x20, 0x20, 0x20, 0x20, 0, 0, 0]);
    const HTTP_CASE: u64 = u64::from_le_bytes([0x20, 0x20, 0x20, 0x20, 0, 0, 0, 0]);
    const SEVEN: u64 = u64::MAX >> 8;
    let bytes = input.as_bytes();
    let len = match bytes.first_chunk::<8>() {
        Some(word) => {
            let w = u64::from_le_bytes(*word);
            if w | HTTPS_CASE == HTTPS {
                8
            } else if (w | HTTP_CASE) & SEVEN == HTTP {
                7
            } else {
                return None;
            }
        }
        // Only `http://` itself is shorter than eight bytes and has a scheme.
        None if bytes.eq_ignore_ascii_case(b"http://") => 7,
        None => return None,
    };
    input.get(len..)
}

impl<'a> PixelHit<'a> {
    /// Parses with the default [`HitParser`] (no prefix).
    pub fn parse(input: &'a str) -> Result<Self, HitError> {
        HitParser::new().parse(input)
    }

    /// The pixel id.
    pub fn pixel_id(&self) -> PixelId {
        self.pixel_id
    }

    /// The event type (`page_load` when the request had no `event_type`).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
    pub fn event_type(&self) -> EventType {
        match self.event {
            Some(event) => event.event_type(self.query.as_str()),
            None => EventType::PAGE_LOAD,
        }
    }

    /// The cache-buster (`cb`), still encoded; [`Component`] decodes it on demand.
    pub fn cache_bust(&self) -> Option<Component<'_>> {
        self.cache_bust
            .map(|(start, end)| Component::new(self.query.as_str().get(start..end).unwrap_or("")))
    }

    /// How the response must be cached: a hit with a cache-buster is counted every time
    /// (`no-store`); one without is cached by the person's browser.
    pub fn cache_mode(&self) -> CacheMode {
        if self.cache_bust.is_some() {
            CacheMode::NoStore
        } else {
            CacheMode::DEFAULT_CACHED
        }
    }

    /// The raw query string, without `?`.
    pub fn query(&self) -> &str {
        self.query.as_str()
    }

    /// Every query pair in order (including `event_type` and `cb`), decoded on demand exactly as
    /// the WHATWG `application/x-www-form-urlencoded` parser does.
    pub fn query_pairs(&self) -> Pairs<'_> {
        urlencoded::parse(self.query.as_str())
    }

    /// A hit that owns its query, detached from the input's lifetime.
    #[cfg(feature = "alloc")]
    pub fn into_owned(self) -> PixelHit<'static> {
        PixelHit {
            pixel_id: self.pixel_id,
            event: self.event,
            cache_bust: self.cache_bust,
            query: QueryText::Owned(String::from(self.query.as_str())),
        }
    }

    /// A hit from its parts: the query is serialized from decoded `pairs`, and `event_type` and
    /// `cb` are read back from them exactly as when parsing (so repeats are refused).
    #[cfg(feature = "alloc")]
    pub fn from_pairs<N, V>(
        pixel_id: PixelId,
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Result<PixelHit<'static>, HitError>
    where
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = String::new();
        for (name, value) in pairs {
            if !query.is_empty() {
                query.push('&');
            }
            // Writing into a String cannot fail.
            let _ = urlencoded::serialize_into(&mut query, name.as_ref());
            query.push('=');
            let _ = urlencoded::serialize_into(&mut query, value.as_ref());
        }
        let scan = query_scan::scan(&query)?;
        Ok(PixelHit {
            pixel_id,
            event: scan.event_type,
            cache_bust: scan.cache_bust,
            query: QueryText::Owned(query),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::prelude::rust_2021::*;

    const T: &str = "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif";

    fn target(query: &str) -> String {
        format!("{T}?{query}")
    }

    #[test]
    fn seed_urls_parse() {
        let hit = PixelHit::parse(
            "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart",
        )
        .unwrap();
        assert_eq!(
            hit.pixel_id().to_string(),
            "784e6454-8c63-44c5-89db-6dcd33abcdef"
        );
        assert_eq!(hit.event_type(), EventType::ADD_TO_CART);
        assert_eq!(hit.cache_mode(), CacheMode::DEFAULT_CACHED);
        assert_eq!(
            PixelHit::parse(T).unwrap().event_type(),
            EventType::PAGE_LOAD
        );
        assert_eq!(
            PixelHit::parse(&target("event_type=page_load"))
                .unwrap()
                .event_type(),
            EventType::PAGE_LOAD
        );
    }

    #[test]
    fn encoded_names_and_values_count() {
        let input = target("event%5Ftype=add%5fto_cart&%63b=x%20y");
        let hit = PixelHit::parse(&input).unwrap();
        assert_eq!(hit.event_type(), EventType::ADD_TO_CART);
        assert_eq!(hit.cache_bust().unwrap().to_string(), "x y");
        assert_eq!(hit.cache_mode(), CacheMode::NoStore);
    }

    #[test]
    fn precise_errors() {
        let cases: &[(&str, HitError)] = &[
            ("", HitError::BadTarget),
            ("pixel/x", HitError::BadTarget),
            ("/", HitError::NotPixelPath),
            ("/favicon.ico", HitError::NotPixelPath),
            (
                "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef",
                HitError::BadPath,
            ),
            (
                "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.png",
                HitError::BadPath,
            ),
            (
                "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif/x",
                HitError::BadPath,
            ),
            (
                "/pixel/not-an-id/event.gif",
                HitError::BadPixelId(PixelIdError::Length { len: 9 }),
            ),
            // An id with anything after it is not an id (nor counted as the id it starts with).
            (
                "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdefx/event.gif",
                HitError::BadPixelId(PixelIdError::Length { len: 37 }),
            ),
            ("https://dttrk.com", HitError::NotPixelPath),
        ];
        for (input, expected) in cases {
            assert_eq!(PixelHit::parse(input).unwrap_err(), *expected, "{input}");
        }
        assert_eq!(
            PixelHit::parse(&target("event_type=add_to_cart&event_type=add_to_cart")).unwrap_err(),
            HitError::RepeatedEventType
        );
        assert_eq!(
            PixelHit::parse(&target("cb=1&cb=2")).unwrap_err(),
            HitError::RepeatedCacheBust
        );
        assert_eq!(
            PixelHit::parse(&target("event_type=")).unwrap_err(),
            HitError::BadEventType(EventTypeError::Empty)
        );
        assert_eq!(
            PixelHit::parse(&target("event_type=Add"))
                .unwrap_err()
                .to_string(),
            "invalid event type: must start with a lowercase letter, not 'A'"
        );
        let long = target(&"a".repeat(5000));
        assert_eq!(
            PixelHit::parse(&long).unwrap_err(),
            HitError::TooLong {
                len: long.len(),
                max: 4096
            }
        );
    }

    #[test]
    fn schemes_are_http_or_https_in_any_case() {
        let path = "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif";
        for scheme in ["https://", "http://", "HTTPS://", "Http://", "hTtPs://"] {
            let input = format!("{scheme}dttrk.com{path}?cb=1");
            let hit = PixelHit::parse(&input).unwrap();
            assert_eq!(hit.cache_bust().unwrap().raw(), "1", "{scheme}");
        }
        for scheme in [
            "ftp://",
            "https:/",
            "https:",
            "http:\x1a/",
            "http\x1a//",
            "httpz://",
            "https:::",
            "h",
        ] {
            assert_eq!(
                PixelHit::parse(&format!("{scheme}dttrk.com{path}")).unwrap_err(),
                HitError::BadTarget,
                "{scheme:?}"
            );
        }
        // Scheme and authority only: not a pixel path.
        for input in ["http://", "https://", "HTTP://x", "https://dttrk.com?x#y"] {
            assert_eq!(
                PixelHit::parse(input).unwrap_err(),
                HitError::NotPixelPath,
                "{input}"
            );
        }
    }

    #[test]
    fn fragment_is_not_query() {
        let input = target("a=1#event_type=x");
        let hit = PixelHit::parse(&input).unwrap();
        assert_eq!(hit.query(), "a=1");
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn owned_hits_round_trip_pairs() {
        let input = target("event_type=add_to_cart&cb=a+b&x=%E2%80%A0");
        let hit = PixelHit::parse(&input).unwrap();
        let pairs: Vec<(String, String)> = hit
            .query_pairs()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let rebuilt = PixelHit::from_pairs(hit.pixel_id(), pairs).unwrap();
        assert_eq!(rebuilt.event_type(), hit.event_type());
        assert_eq!(rebuilt.cache_bust().unwrap().to_string(), "a b");
        assert_eq!(hit.clone().into_owned(), hit);
    }
}
