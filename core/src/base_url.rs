//! [`BaseUrl`]: where pixel URLs point (`https://dttrk.com`, or a first-party proxy path).

use core::fmt;

/// A validated base for pixel URLs: an `https` origin with an optional path prefix, such as
/// `https://dttrk.com` (the default) or `https://shop.example/t` for first-party proxying.
///
/// Plain `http` is accepted only for the loopback hosts `127.0.0.1`, `localhost` and `[::1]`, for
/// development. Credentials, a query, a fragment, spaces, control characters and characters that
/// would need escaping (`"<>\^`{|}`) are refused. One trailing `/` is dropped.
///
/// ```
/// use dtpixel::BaseUrl;
///
/// let proxy = BaseUrl::parse("https://shop.example/t/")?;
/// assert_eq!(proxy.as_str(), "https://shop.example/t");
/// assert_eq!(proxy.prefix(), "/t");
/// assert!(BaseUrl::parse("http://shop.example").is_err());
/// assert!(BaseUrl::parse("http://127.0.0.1:8080").is_ok());
/// # Ok::<(), dtpixel::BaseUrlError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BaseUrl<'a> {
    url: &'a str,
    /// Byte index where the path prefix starts (`url.len()` when there is none).
    path_start: usize,
}

/// Why a string cannot be a base URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseUrlError {
    /// Neither `https://` nor (for a loopback host) `http://`.
    Scheme,
    /// `http://` with a host that is not loopback: pixels must travel over https.
    InsecureHost,
    /// No host after the scheme.
    MissingHost,
    /// The host is not a DNS name, IPv4 address or bracketed IPv6 address.
    BadHost,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// The URL has a user name or password (`user@host`).
    Credentials,
    /// The URL has a query (`?`).
    Query,
    /// The URL has a fragment (`#`).
    Fragment,
    /// A character that may not appear in a base URL.
    BadChar {
        /// The byte found (the first byte of the character when it is not ASCII).
        byte: u8,
        /// Its 0-based byte index.
        index: usize,
    },
    /// The path prefix has an empty segment (`//`) or a `.`/`..` segment.
    BadPath,
}

impl fmt::Display for BaseUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid base URL: ")?;
        match *self {
            BaseUrlError::Scheme => {
                f.write_str("must start with https:// (or http:// for a loopback host)")
            }
            BaseUrlError::InsecureHost => f.write_str(
                "http:// is allowed only for 127.0.0.1, localhost and [::1]; use https://",
            ),
            BaseUrlError::MissingHost => f.write_str("no host"),
            BaseUrlError::BadHost => f.write_str("the host is not a valid name or address"),
            BaseUrlError::BadPort => f.write_str("the port must be a number from 1 to 65535"),
            BaseUrlError::Credentials => f.write_str("credentials (user@host) are not allowed"),
            BaseUrlError::Query => f.write_str("a query (?) is not allowed"),
            BaseUrlError::Fragment => f.write_str("a fragment (#) is not allowed"),
            BaseUrlError::BadChar { byte, index } if byte.is_ascii_graphic() => {
                write!(f, "'{}' at index {index} is not allowed", byte as char)
            }
            BaseUrlError::BadChar { byte, index } => {
                write!(f, "byte 0x{byte:02x} at index {index} is not allowed")
            }
            BaseUrlError::BadPath => f.write_str("the path has an empty, '.' or '..' segment"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BaseUrlError {}

impl Default for BaseUrl<'static> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<'a> BaseUrl<'a> {
    /// `https://dttrk.com`.
    pub const DEFAULT: BaseUrl<'static> = BaseUrl {
        url: "https://dttrk.com",
        path_start: 17,
    };

    /// Validates a base URL.
    // `iter().any` rather than `contains`: on bytes, `contains` calls memchr, which costs
    // hundreds of bytes in the browser bundle for strings this short.
    #[allow(clippy::manual_contains)]
    pub fn parse(url: &'a str) -> Result<Self, BaseUrlError> {
        // Byte by byte, panic-free and without memchr: this runs in every shopper's browser,
        // where each panic path would pull formatting code into the wasm.
        let bytes = url.as_bytes();
        for (index, &byte) in bytes.iter().enumerate() {
            let forbidden = matches!(
                byte,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            );
            if !byte.is_ascii_graphic() || forbidden {
                return Err(BaseUrlError::BadChar { byte, index });
            }
        }
        if bytes.iter().any(|&b| b == b'#') {
            return Err(BaseUrlError::Fragment);
        }
        if bytes.iter().any(|&b| b == b'?') {
            return Err(BaseUrlError::Query);
        }
        let (secure, after_scheme) = if starts_with_ignore_case(bytes, b"https://") {
            (true, 8)
        } else if starts_with_ignore_case(bytes, b"http://") {
            (false, 7)
        } else {
            return Err(BaseUrlError::Scheme);
        };
        let mut end = bytes.len();
        if end > after_scheme && bytes.last() == Some(&b'/') {
            end -= 1;
        }
        let rest = bytes.get(after_scheme..end).unwrap_or(&[]);
        let authority_len = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at_checked(authority_len).unwrap_or((rest, &[]));
        if authority.iter().any(|&b| b == b'@') {
            return Err(BaseUrlError::Credentials);
        }
        let host = split_port(authority)?;
        if host.is_empty() {
            return Err(BaseUrlError::MissingHost);
        }
        if !valid_host(host) {
            return Err(BaseUrlError::BadHost);
        }
        if !secure && !is_loopback(host) {
            return Err(BaseUrlError::InsecureHost);
        }
        if let Some((_, segments)) = path.split_first() {
            let bad_segment = |s: &[u8]| s.is_empty() || s == b"." || s == b"..";
            if segments.split(|&b| b == b'/').any(bad_segment) {
                return Err(BaseUrlError::BadPath);
            }
        }
        Ok(BaseUrl {
            url: url.get(..end).unwrap_or(url),
            path_start: after_scheme + authority_len,
        })
    }

    /// The whole base, without a trailing `/`.
    pub const fn as_str(&self) -> &'a str {
        self.url
    }

    /// The path prefix (`""` or `/t`): where the collector's routes are mounted.
    pub fn prefix(&self) -> &'a str {
        self.url.get(self.path_start..).unwrap_or("")
    }

    /// The scheme and authority (`https://dttrk.com`).
    pub fn origin(&self) -> &'a str {
        self.url.get(..self.path_start).unwrap_or(self.url)
    }
}

impl fmt::Display for BaseUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url)
    }
}

fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// Strips and checks a `:port`, returning the host.
fn split_port(authority: &[u8]) -> Result<&[u8], BaseUrlError> {
    let port_sep = if authority.first() == Some(&b'[') {
        let Some(close) = authority.iter().position(|&b| b == b']') else {
            return Err(BaseUrlError::BadHost);
        };
        match authority.get(close + 1) {
            None => None,
            Some(b':') => Some(close + 1),
            Some(_) => return Err(BaseUrlError::BadHost),
        }
    } else {
        authority.iter().position(|&b| b == b':')
    };
    let Some(sep) = port_sep else {
        return Ok(authority);
    };
    let (host, port) = authority.split_at_checked(sep).unwrap_or((authority, &[]));
    let digits = port.get(1..).unwrap_or(&[]);
    let mut value = 0u32;
    for &d in digits {
        if !d.is_ascii_digit() || value > 65535 {
            return Err(BaseUrlError::BadPort);
        }
        value = value * 10 + (d - b'0') as u32;
    }
    if digits.is_empty() || !(1..=65535).contains(&value) {
        return Err(BaseUrlError::BadPort);
    }
    Ok(host)
}

#[allow(clippy::manual_contains)] // see `BaseUrl::parse`
fn valid_host(host: &[u8]) -> bool {
    if host.first() == Some(&b'[') {
        if host.last() != Some(&b']') || host.len() < 2 {
            return false;
        }
        let inner = host.get(1..host.len() - 1).unwrap_or(&[]);
        return !inner.is_empty()
            && inner.iter().any(|&b| b == b':')
            && inner
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    }
    host.len() <= 253
        && host.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.first() != Some(&b'-')
                && label.last() != Some(&b'-')
                && label
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn is_loopback(host: &[u8]) -> bool {
    host == b"127.0.0.1" || host.eq_ignore_ascii_case(b"localhost") || host == b"[::1]"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        let b = BaseUrl::parse("https://dttrk.com").unwrap();
        assert_eq!(b, BaseUrl::DEFAULT);
        assert_eq!(b.prefix(), "");
        assert_eq!(b.origin(), "https://dttrk.com");
        for ok in [
            "https://dttrk.com/",
            "https://shop.example:8443/t/px",
            "http://localhost:3000",
            "http://127.0.0.1",
            "http://[::1]:8080/t",
            "https://[2001:db8::1]",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            BaseUrl::parse("https://shop.example:8443/t/px")
                .unwrap()
                .prefix(),
            "/t/px"
        );
    }

    #[test]
    fn refuses_what_a_base_may_not_have() {
        let cases = [
            ("http://dttrk.com", BaseUrlError::InsecureHost),
            ("http://127.0.0.2", BaseUrlError::InsecureHost),
            ("ftp://dttrk.com", BaseUrlError::Scheme),
            ("javascript:alert(1)", BaseUrlError::Scheme),
            ("dttrk.com", BaseUrlError::Scheme),
            ("https://", BaseUrlError::MissingHost),
            ("https://user:pw@dttrk.com", BaseUrlError::Credentials),
            ("https://dttrk.com/?a=b", BaseUrlError::Query),
            ("https://dttrk.com/#x", BaseUrlError::Fragment),
            (
                "https://dttrk.com/a b",
                BaseUrlError::BadChar {
                    byte: b' ',
                    index: 19,
                },
            ),
            (
                "https://dttrk.com/\n",
                BaseUrlError::BadChar {
                    byte: b'\n',
                    index: 18,
                },
            ),
            (
                "https://dttrk.com/\"><script>",
                BaseUrlError::BadChar {
                    byte: b'"',
                    index: 18,
                },
            ),
            ("https://dttrk.com:0", BaseUrlError::BadPort),
            ("https://dttrk.com:99999", BaseUrlError::BadPort),
            ("https://dttrk.com:", BaseUrlError::BadPort),
            ("https://dt_trk.com", BaseUrlError::BadHost),
            ("https://dttrk.com//t", BaseUrlError::BadPath),
            ("https://dttrk.com/t/../x", BaseUrlError::BadPath),
        ];
        for (input, expected) in cases {
            assert_eq!(BaseUrl::parse(input), Err(expected), "{input}");
        }
    }
}
