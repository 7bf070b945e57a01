//! The 43-byte transparent 1×1 GIF every pixel answers with, and its response headers.

use core::fmt;

use crate::buffer::WriteTo;

/// A transparent 1×1 GIF89a, 43 bytes: the smallest image every browser renders.
pub const GIF: [u8; 43] = [
    b'G', b'I', b'F', b'8', b'9', b'a', // header
    0x01, 0x00, 0x01, 0x00, // 1 × 1
    0xf0, 0x00, 0x00, // global colour table of 2 entries, background 0, no aspect ratio
    0xff, 0xff, 0xff, 0x00, 0x00, 0x00, // white, black
    0x21, 0xf9, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00, // graphic control: colour 0 transparent
    0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image descriptor
    0x02, 0x02, 0x44, 0x01, 0x00, // LZW minimum code size 2, one data block
    0x3b, // trailer
];

/// The `Content-Type` of [`GIF`].
pub const CONTENT_TYPE: &str = "image/gif";

/// How a pixel response may be cached, which decides how often an event counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheMode {
    /// Stable URL: the person's browser keeps the image, so the event counts once per person,
    /// pixel and event type while it stays cached. `private` keeps shared caches (proxies, CDNs,
    /// image proxies) from collapsing many people into one.
    Cached {
        /// `max-age`, in seconds.
        max_age: u32,
    },
    /// Cache-busted URL or a direct call: counted every time, stored by no cache.
    NoStore,
}

impl CacheMode {
    /// One year, in seconds: the default `max-age` of [`CacheMode::Cached`].
    pub const DEFAULT_MAX_AGE: u32 = 31_536_000;

    /// [`CacheMode::Cached`] with [`CacheMode::DEFAULT_MAX_AGE`].
    pub const DEFAULT_CACHED: CacheMode = CacheMode::Cached {
        max_age: Self::DEFAULT_MAX_AGE,
    };

    /// The `Cache-Control` value: `private, max-age=N` or `no-store`.
    pub fn cache_control(&self) -> CacheControl {
        CacheControl(*self)
    }

    /// All headers of the pixel response, in order, as `(name, value)` pairs.
    ///
    /// ```
    /// use dtpixel::CacheMode;
    ///
    /// let headers = CacheMode::NoStore.headers();
    /// let pairs: Vec<(&str, &str)> = headers.iter().collect();
    /// assert!(pairs.contains(&("cache-control", "no-store")));
    /// assert!(pairs.contains(&("content-length", "43")));
    /// ```
    pub fn headers(&self) -> ResponseHeaders {
        let mut value = [0u8; CACHE_CONTROL_MAX];
        let len = self.cache_control().encode(&mut value).map_or(0, str::len);
        ResponseHeaders {
            cache_control: value,
            cache_control_len: len as u8,
        }
    }
}

const CACHE_CONTROL_MAX: usize = "private, max-age=4294967295".len();

/// The `Cache-Control` header value of a [`CacheMode`]; `Display` writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheControl(CacheMode);

impl WriteTo for CacheControl {
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        match self.0 {
            CacheMode::NoStore => w.write_str("no-store"),
            CacheMode::Cached { max_age } => {
                w.write_str("private, max-age=")?;
                let mut digits = [0u8; 10];
                w.write_str(u32_decimal(max_age, &mut digits))
            }
        }
    }
}

impl fmt::Display for CacheControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

fn u32_decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(i..).map_or("0", crate::ascii::ascii_str)
}

/// The headers of a pixel response; [`ResponseHeaders::iter`] lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHeaders {
    cache_control: [u8; CACHE_CONTROL_MAX],
    cache_control_len: u8,
}

impl ResponseHeaders {
    /// The `Cache-Control` value.
    pub fn cache_control(&self) -> &str {
        self.cache_control
            .get(..self.cache_control_len as usize)
            .map_or("", crate::ascii::ascii_str)
    }

    /// `(name, value)` pairs, names in lowercase:
    /// `content-type`, `content-length`, `cache-control`, `x-content-type-options`,
    /// `cross-origin-resource-policy` (so pages with COEP can load the pixel) and
    /// `timing-allow-origin` (so shops can measure it with Resource Timing).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        [
            ("content-type", CONTENT_TYPE),
            ("content-length", "43"),
            ("cache-control", self.cache_control()),
            ("x-content-type-options", "nosniff"),
            ("cross-origin-resource-policy", "cross-origin"),
            ("timing-allow-origin", "*"),
        ]
        .into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn gif_is_43_bytes_and_matches_the_classic_pixel() {
        // The pixel Snowplow and others serve, base64 R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw==
        assert_eq!(&GIF[10..13], &[0xf0, 0x00, 0x00]);
        assert_eq!(GIF.len(), 43);
        assert_eq!(&GIF[..6], b"GIF89a");
        assert_eq!(GIF[42], 0x3b);
        assert_eq!(
            GIF.len().to_string(),
            CacheMode::NoStore
                .headers()
                .iter()
                .find(|(n, _)| *n == "content-length")
                .unwrap()
                .1
        );
    }

    #[test]
    fn cache_control_per_mode() {
        assert_eq!(CacheMode::NoStore.cache_control().to_string(), "no-store");
        assert_eq!(
            CacheMode::DEFAULT_CACHED.headers().cache_control(),
            "private, max-age=31536000"
        );
        assert_eq!(
            CacheMode::Cached { max_age: u32::MAX }
                .headers()
                .cache_control(),
            "private, max-age=4294967295"
        );
        assert_eq!(
            CacheMode::Cached { max_age: 0 }.cache_control().to_string(),
            "private, max-age=0"
        );
    }
}
