//! [`PixelUrl`]: builds `{base}/pixel/{pixel_id}/event.gif?event_type=…` without allocating.

use core::fmt;

use crate::buffer::WriteTo;
use crate::urlencoded::serialize_into;
use crate::{BaseUrl, EventType, PixelId};

/// The query parameter naming the event.
pub const EVENT_TYPE_PARAM: &str = "event_type";
/// The query parameter carrying a cache-buster.
pub const CACHE_BUST_PARAM: &str = "cb";

/// A pixel URL: base, pixel id, event type, an optional cache-buster and optional extra
/// parameters. It writes itself into any [`fmt::Write`] or a caller's buffer with no heap allocation.
///
/// ```
/// use dtpixel::{EventType, PixelId, PixelUrl, WriteTo};
///
/// let id = PixelId::parse("784e6454-8c63-44c5-89db-6dcd33abcdef")?;
/// let url = PixelUrl::new(id, EventType::ADD_TO_CART);
/// assert_eq!(
///     url.to_string(),
///     "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart"
/// );
///
/// // Into a stack buffer, with a cache-buster and an extra parameter.
/// let extra = [("utm_source", "creator mail")];
/// let url = url.cache_bust("1700000000").params(&extra)?;
/// let mut buf = [0u8; 256];
/// assert_eq!(
///     url.encode(&mut buf)?,
///     "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif\
///      ?event_type=add_to_cart&cb=1700000000&utm_source=creator+mail"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PixelUrl<'a> {
    base: BaseUrl<'a>,
    pixel_id: PixelId,
    event_type: EventType,
    cache_bust: Option<CacheBust<'a>>,
    params: &'a [(&'a str, &'a str)],
}

/// A cache-buster: makes the URL unique so that every load is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheBust<'a>(CacheBustInner<'a>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CacheBustInner<'a> {
    Token(&'a str),
    Random([u8; 16]),
}

impl<'a> CacheBust<'a> {
    /// The caller's token (any text; it is percent-encoded in the URL).
    pub const fn token(token: &'a str) -> Self {
        CacheBust(CacheBustInner::Token(token))
    }

    /// A random token: 16 lowercase hex digits from 64 random bits supplied by the caller
    /// (for example from `getrandom`, or `crypto.getRandomValues` in a browser).
    pub const fn random(bits: u64) -> CacheBust<'static> {
        let hex = b"0123456789abcdef";
        let mut out = [0u8; 16];
        let mut i = 0;
        while i < 16 {
            out[i] = hex[((bits >> (60 - 4 * i)) & 0xf) as usize];
            i += 1;
        }
        CacheBust(CacheBustInner::Random(out))
    }

    /// A random token drawn from a caller-supplied source of random `u64`s.
    pub fn random_from(mut source: impl FnMut() -> u64) -> CacheBust<'static> {
        CacheBust::random(source())
    }

    /// The token text, before percent-encoding.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            CacheBustInner::Token(t) => t,
            // Only ASCII hex digits are stored.
            CacheBustInner::Random(hex) => crate::ascii::ascii_str(hex),
        }
    }
}

impl<'a> From<&'a str> for CacheBust<'a> {
    fn from(token: &'a str) -> Self {
        CacheBust::token(token)
    }
}

/// An extra parameter would collide with one the URL sets itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservedParam {
    /// The colliding name (`event_type` or `cb`).
    pub name: &'static str,
}

impl fmt::Display for ReservedParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("extra parameter '")?;
        f.write_str(self.name)?;
        f.write_str("' is reserved: it is set by the pixel URL itself")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ReservedParam {}

impl<'a> PixelUrl<'a> {
    /// A URL on the default base (`https://dttrk.com`), without cache-buster or extra parameters.
    pub const fn new(pixel_id: PixelId, event_type: EventType) -> Self {
        PixelUrl {
            base: BaseUrl::DEFAULT,
            pixel_id,
            event_type,
            cache_bust: None,
            params: &[],
        }
    }

    /// Sets the base URL.
    pub const fn base(mut self, base: BaseUrl<'a>) -> Self {
        self.base = base;
        self
    }

    /// Adds a cache-buster (`cb` parameter): every load of the URL is counted.
    pub fn cache_bust(mut self, cache_bust: impl Into<CacheBust<'a>>) -> Self {
        self.cache_bust = Some(cache_bust.into());
        self
    }

    /// Removes or sets the cache-buster.
    pub fn with_cache_bust(mut self, cache_bust: Option<CacheBust<'a>>) -> Self {
        self.cache_bust = cache_bust;
        self
    }

    /// Sets extra parameters, appended in order after `event_type` and `cb`, percent-encoded.
    /// `event_type` and `cb` are refused: the URL sets them itself.
    pub fn params(mut self, params: &'a [(&'a str, &'a str)]) -> Result<Self, ReservedParam> {
        for (name, _) in params {
            for reserved in [EVENT_TYPE_PARAM, CACHE_BUST_PARAM] {
                if *name == reserved {
                    return Err(ReservedParam { name: reserved });
                }
            }
        }
        self.params = params;
        Ok(self)
    }

    /// The base URL.
    pub const fn base_url(&self) -> &BaseUrl<'a> {
        &self.base
    }

    /// The pixel id.
    pub const fn pixel_id(&self) -> PixelId {
        self.pixel_id
    }

    /// The event type.
    pub const fn event_type(&self) -> &EventType {
        &self.event_type
    }

    /// The cache-buster, if any.
    pub const fn cache_buster(&self) -> Option<&CacheBust<'a>> {
        self.cache_bust.as_ref()
    }

    /// The extra parameters.
    pub const fn extra_params(&self) -> &'a [(&'a str, &'a str)] {
        self.params
    }
}

impl PixelUrl<'_> {
    /// Writes what comes before the pixel id: the base and `/pixel/`.
    pub(crate) fn write_before_id<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        w.write_str(self.base.as_str())?;
        w.write_str("/pixel/")
    }

    /// Writes what comes after the pixel id: the file name and the query.
    pub(crate) fn write_after_id<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        w.write_str("/event.gif?event_type=")?;
        w.write_str(self.event_type.as_str())?;
        if let Some(cb) = &self.cache_bust {
            w.write_str("&cb=")?;
            serialize_into(w, cb.as_str())?;
        }
        for (name, value) in self.params {
            w.write_str("&")?;
            serialize_into(w, name)?;
            w.write_str("=")?;
            serialize_into(w, value)?;
        }
        Ok(())
    }
}

impl WriteTo for PixelUrl<'_> {
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        let mut id = [0u8; PixelId::LENGTH];
        self.write_before_id(w)?;
        w.write_str(self.pixel_id.encode_lower(&mut id))?;
        self.write_after_id(w)
    }

    fn encoded_len(&self) -> usize {
        use crate::urlencoded::serialized_len;
        let fixed = "/pixel/".len() + PixelId::LENGTH + "/event.gif?event_type=".len();
        let cb = self
            .cache_bust
            .as_ref()
            .map_or(0, |cb| "&cb=".len() + serialized_len(cb.as_str()));
        let params: usize = self
            .params
            .iter()
            .map(|(n, v)| 2 + serialized_len(n) + serialized_len(v))
            .sum();
        self.base.as_str().len() + fixed + self.event_type.as_str().len() + cb + params
    }
}

impl fmt::Display for PixelUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    const SEED_ID: PixelId = match PixelId::parse("784e6454-8c63-44c5-89db-6dcd33abcdef") {
        Ok(id) => id,
        Err(_) => core::panic!(),
    };

    #[test]
    fn seed_urls_exactly() {
        assert_eq!(
            PixelUrl::new(SEED_ID, EventType::ADD_TO_CART).to_string(),
            "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart"
        );
        assert_eq!(
            PixelUrl::new(SEED_ID, EventType::PAGE_LOAD).to_string(),
            "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=page_load"
        );
    }

    #[test]
    fn prefix_base_and_random_cache_bust() {
        let base = BaseUrl::parse("https://shop.example/t").unwrap();
        let url = PixelUrl::new(SEED_ID, EventType::PAGE_LOAD)
            .base(base)
            .cache_bust(CacheBust::random(0x0123_4567_89ab_cdef));
        assert_eq!(
            url.to_string(),
            "https://shop.example/t/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=page_load&cb=0123456789abcdef"
        );
        assert_eq!(url.encoded_len(), url.to_string().len());
    }

    #[test]
    fn reserved_params_are_refused() {
        let url = PixelUrl::new(SEED_ID, EventType::PAGE_LOAD);
        assert_eq!(
            url.params(&[("event_type", "x")]).unwrap_err(),
            ReservedParam { name: "event_type" }
        );
        assert!(url.params(&[("cb", "x")]).is_err());
        assert!(url.params(&[("cb2", "x")]).is_ok());
    }

    #[test]
    fn small_buffer_says_how_much_is_needed() {
        let url = PixelUrl::new(SEED_ID, EventType::ADD_TO_CART);
        let mut buf = [0u8; 20];
        let err = url.encode(&mut buf).unwrap_err();
        assert_eq!(err.needed, url.to_string().len());
        assert_eq!(err.capacity, 20);
    }
}
