//! `application/x-www-form-urlencoded`, exactly as the WHATWG URL standard defines it: a
//! serializer that writes into any [`fmt::Write`], and a parser whose pairs decode lazily, so
//! reading a query allocates nothing.
//!
//! ```
//! use dtpixel::urlencoded::{parse, Serialized};
//!
//! let pairs: Vec<(String, String)> = parse("a=b+c&%61=%E2%80%A0&bad=%zz")
//!     .map(|(name, value)| (name.decode().into_owned(), value.decode().into_owned()))
//!     .collect();
//! assert_eq!(pairs, [("a".into(), "b c".into()), ("a".into(), "†".into()), ("bad".into(), "%zz".into())]);
//!
//! assert_eq!(Serialized("a b&c=†").to_string(), "a+b%26c%3D%E2%80%A0");
//! ```

use core::fmt;

#[cfg(feature = "alloc")]
use alloc::{borrow::Cow, string::String};

/// Writes `s` to `w` with the `application/x-www-form-urlencoded` byte serializer:
/// ASCII alphanumerics and `*-._` as they are, space as `+`, every other byte as `%XX`.
pub fn serialize_into<W: fmt::Write + ?Sized>(w: &mut W, s: &str) -> fmt::Result {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        i = next_reserved(bytes, i);
        let Some(&b) = bytes.get(i) else { break };
        // A non-empty run is unreserved ASCII that follows an encoded byte or the start, so both
        // of its ends are character boundaries.
        if i > start {
            w.write_str(s.get(start..i).unwrap_or(""))?;
        }
        if b == b' ' {
            w.write_str("+")?;
        } else {
            write_percent(w, b)?;
        }
        i += 1;
        start = i;
    }
    match s.get(start..) {
        Some(rest) if !rest.is_empty() => w.write_str(rest),
        _ => Ok(()),
    }
}

/// The length of `s` once serialized, in bytes.
pub fn serialized_len(s: &str) -> usize {
    s.bytes()
        .map(|b| if unreserved(b) || b == b' ' { 1 } else { 3 })
        .sum()
}

/// Displays a string serialized for a query (see [`serialize_into`]).
#[derive(Clone, Copy, Debug)]
pub struct Serialized<'a>(pub &'a str);

impl fmt::Display for Serialized<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        serialize_into(f, self.0)
    }
}

const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// [`is_unreserved`] for every byte, so that the serializer's loop is one load per byte.
#[cfg(not(target_arch = "wasm32"))]
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_unreserved(b as u8);
        b += 1;
    }
    table
};

/// The index of the first byte at or after `i` that the serializer encodes, or `bytes.len()`.
/// Natively eight bytes at a time (SWAR range checks), then byte by byte.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
fn next_reserved(bytes: &[u8], mut i: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let reserved = reserved_bytes(u64::from_le_bytes(word));
        if reserved != 0 {
            return i + (reserved.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if !unreserved(b) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// The high bit of every byte of `w` that [`is_unreserved`] refuses. Exact for every byte:
/// each sum below stays within its byte (no carries), because the bytes are first cut to 7 bits.
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn reserved_bytes(w: u64) -> u64 {
    use crate::swar::{HIGHS, ONES};
    let x = w & !HIGHS;
    // High bit set where the byte is at least n.
    let at_least = |n: u8| (x + ONES * (0x80 - n as u64)) & HIGHS;
    let between = |lo: u8, hi: u8| at_least(lo) & !at_least(hi + 1);
    // High bit set where the byte is c.
    let is = |c: u8| !((x ^ (ONES * c as u64)) + ONES * 0x7f) & HIGHS;
    let ok = between(b'0', b'9')
        | between(b'A', b'Z')
        | between(b'a', b'z')
        | is(b'*')
        | is(b'-')
        | is(b'.')
        | is(b'_');
    // Non-ASCII bytes (high bit set in `w`) are always encoded.
    (!ok | w) & HIGHS
}

/// Whether the serializer writes `b` as it is: a table lookup natively, the compares in wasm
/// (where the 256-byte table would cost every page more than it saves).
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
fn unreserved(b: u8) -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    return UNRESERVED[b as usize];
    #[cfg(target_arch = "wasm32")]
    return is_unreserved(b);
}

/// `%XX` for `b`, uppercase, written as one piece (no table, no formatting).
fn write_percent<W: fmt::Write + ?Sized>(w: &mut W, b: u8) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let triplet = [b'%', HEX[(b >> 4) as usize], HEX[(b & 0x0f) as usize]];
    w.write_str(crate::ascii::ascii_str(&triplet))
}

/// Parses a query string (without its leading `?`) into name/value pairs.
///
/// Empty sequences between `&` are skipped; a sequence without `=` is a name with an empty value.
pub fn parse(query: &str) -> Pairs<'_> {
    Pairs { query, position: 0 }
}

/// The pairs of a query, in order; see [`parse`].
#[derive(Clone, Debug)]
pub struct Pairs<'a> {
    query: &'a str,
    /// Byte index of the next sequence in `query`.
    position: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (Component<'a>, Component<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.query.as_bytes();
        loop {
            let start = self.position;
            if start >= bytes.len() {
                return None;
            }
            let seq = &bytes[start..];
            let end = start + seq.iter().position(|&b| b == b'&').unwrap_or(seq.len());
            let equals = bytes[start..end]
                .iter()
                .position(|&b| b == b'=')
                .map(|i| start + i);
            self.position = end + 1;
            if end == start {
                continue;
            }
            // '&' and '=' are ASCII, so every index here is a character boundary.
            let (name_end, value_start) = match equals {
                Some(i) => (i, i + 1),
                None => (end, end),
            };
            let name = self.query.get(start..name_end).unwrap_or("");
            let value = self.query.get(value_start..end).unwrap_or("");
            return Some((Component::new(name), Component::new(value)));
        }
    }
}

impl core::iter::FusedIterator for Pairs<'_> {}

/// One name or value of a query, still encoded; it decodes on demand, without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Component<'a> {
    raw: &'a str,
}

impl<'a> Component<'a> {
    /// A component from its encoded text.
    pub const fn new(raw: &'a str) -> Self {
        Component { raw }
    }

    /// The encoded text, as it stands in the query.
    pub const fn raw(&self) -> &'a str {
        self.raw
    }

    /// The decoded text when decoding changes nothing (no `+` and no `%`): zero-cost access.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.raw.bytes().any(|b| b == b'+' || b == b'%') {
            None
        } else {
            Some(self.raw)
        }
    }

    /// The decoded characters: `+` becomes a space, `%XX` a byte (a `%` not followed by two hex
    /// digits stays as it is), and the bytes are read as UTF-8 with U+FFFD for invalid sequences.
    pub fn chars(&self) -> DecodedChars<'a> {
        DecodedChars {
            bytes: DecodedBytes {
                raw: self.raw.as_bytes(),
            },
            pending: None,
        }
    }

    /// The decoded bytes, before UTF-8 decoding.
    pub fn bytes(&self) -> DecodedBytes<'a> {
        DecodedBytes {
            raw: self.raw.as_bytes(),
        }
    }

    /// Whether the decoded text equals `s`, without allocating.
    pub fn decodes_to(&self, s: &str) -> bool {
        // Decoding never lengthens: a `%XX` (3 bytes) gives at most one U+FFFD (3 bytes).
        if self.raw.len() < s.len() {
            return false;
        }
        match self.as_str() {
            Some(plain) => plain == s,
            None => self.chars().eq(s.chars()),
        }
    }

    /// The decoded text, borrowed when nothing needed decoding.
    #[cfg(feature = "alloc")]
    pub fn decode(&self) -> Cow<'a, str> {
        match self.as_str() {
            Some(plain) => Cow::Borrowed(plain),
            None => Cow::Owned(self.chars().collect::<String>()),
        }
    }
}

impl fmt::Display for Component<'_> {
    /// Writes the decoded text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        match self.as_str() {
            Some(plain) => f.write_str(plain),
            None => self.chars().try_for_each(|c| f.write_char(c)),
        }
    }
}

/// The percent-decoded bytes of a [`Component`].
#[derive(Clone, Debug)]
pub struct DecodedBytes<'a> {
    raw: &'a [u8],
}

impl Iterator for DecodedBytes<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.raw.split_first()?;
        self.raw = rest;
        match b {
            b'+' => Some(b' '),
            b'%' => {
                if let [h, l, rest @ ..] = self.raw {
                    if let (Some(h), Some(l)) = (hex_value(*h), hex_value(*l)) {
                        self.raw = rest;
                        return Some(h << 4 | l);
                    }
                }
                Some(b'%')
            }
            _ => Some(b),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.len().div_ceil(3), Some(self.raw.len()))
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The decoded characters of a [`Component`]: the WHATWG UTF-8 decoder (with replacement) over
/// [`DecodedBytes`], which replaces each maximal invalid subsequence with one U+FFFD exactly as
/// `String::from_utf8_lossy` does.
#[derive(Clone, Debug)]
pub struct DecodedChars<'a> {
    bytes: DecodedBytes<'a>,
    /// A byte read ahead that ended an invalid sequence and must be decoded again.
    pending: Option<u8>,
}

impl DecodedChars<'_> {
    fn next_byte(&mut self) -> Option<u8> {
        self.pending.take().or_else(|| self.bytes.next())
    }
}

impl Iterator for DecodedChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let first = self.next_byte()?;
        let (needed, mut code, mut lower, mut upper) = match first {
            0x00..=0x7f => return Some(first as char),
            0xc2..=0xdf => (1, (first & 0x1f) as u32, 0x80, 0xbf),
            0xe0 => (2, (first & 0x0f) as u32, 0xa0, 0xbf),
            0xe1..=0xec | 0xee..=0xef => (2, (first & 0x0f) as u32, 0x80, 0xbf),
            0xed => (2, (first & 0x0f) as u32, 0x80, 0x9f),
            0xf0 => (3, (first & 0x07) as u32, 0x90, 0xbf),
            0xf1..=0xf3 => (3, (first & 0x07) as u32, 0x80, 0xbf),
            0xf4 => (3, (first & 0x07) as u32, 0x80, 0x8f),
            _ => return Some(char::REPLACEMENT_CHARACTER),
        };
        for _ in 0..needed {
            let Some(b) = self.next_byte() else {
                return Some(char::REPLACEMENT_CHARACTER);
            };
            if b < lower || b > upper {
                self.pending = Some(b);
                return Some(char::REPLACEMENT_CHARACTER);
            }
            lower = 0x80;
            upper = 0xbf;
            code = (code << 6) | (b & 0x3f) as u32;
        }
        Some(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER))
    }
}

impl core::iter::FusedIterator for DecodedChars<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn eight_byte_check_agrees_with_the_byte_check() {
        // Every byte value at every position, among neighbours that are all unreserved, all
        // reserved, or mixed (each byte is checked on its own, so this covers every word).
        for filler in [*b"aZ09*-._", *b" %/\x7f\x80\xff:@", *b"a\x00z{`/Z["] {
            for pos in 0..8 {
                for b in 0..=255u8 {
                    let mut word = filler;
                    word[pos] = b;
                    let mask = reserved_bytes(u64::from_le_bytes(word));
                    for (k, &byte) in word.iter().enumerate() {
                        let flagged = mask >> (8 * k + 7) & 1 == 1;
                        assert_eq!(flagged, !is_unreserved(byte), "byte {byte:#04x} at {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn serializer_matches_url_search_params() {
        assert_eq!(Serialized("").to_string(), "");
        assert_eq!(Serialized("aZ09*-._").to_string(), "aZ09*-._");
        assert_eq!(Serialized(" ").to_string(), "+");
        assert_eq!(Serialized("~!'()").to_string(), "%7E%21%27%28%29");
        assert_eq!(Serialized("é").to_string(), "%C3%A9");
        assert_eq!(serialized_len("a é+"), Serialized("a é+").to_string().len());
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn plain_components_borrow() {
        use alloc::borrow::Cow;
        let (name, value) = parse("event_type=add_to_cart").next().unwrap();
        assert_eq!(name.as_str(), Some("event_type"));
        assert!(matches!(value.decode(), Cow::Borrowed("add_to_cart")));
        assert!(Component::new("a+b").as_str().is_none());
    }

    #[test]
    fn lossy_utf8_matches_std() {
        let samples: &[&[u8]] = &[
            b"\xf0\x9f\x98",
            b"\xe0\x80\x80",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"a\xc3(b",
            b"\xff\xfe\xfd",
            b"\xf0\x9f\x98\x80\xc3",
            b"\xc0\xaf",
        ];
        for raw in samples {
            let mut encoded = String::new();
            for b in *raw {
                write_percent(&mut encoded, *b).unwrap();
            }
            let ours: String = Component::new(&encoded).chars().collect();
            assert_eq!(ours, String::from_utf8_lossy(raw), "{raw:?}");
        }
    }

    #[test]
    fn decodes_to_compares_without_decoding_twice() {
        assert!(Component::new("add%5Fto%5fcart").decodes_to("add_to_cart"));
        assert!(!Component::new("add%5Fto").decodes_to("add_to_cart"));
        let bytes: Vec<u8> = Component::new("%4").bytes().collect();
        assert_eq!(bytes, b"%4");
    }
}
