//! [`PixelId`]: the UUID that identifies one creator's pixel.

use core::fmt;
use core::str::FromStr;

/// A creator's pixel id: a UUID, parsed from its hyphenated form and shown in canonical lowercase.
///
/// Parsing is case-insensitive, never allocates and is usable in `const` contexts.
///
/// ```
/// use dtpixel::PixelId;
///
/// let id: PixelId = "784E6454-8C63-44C5-89DB-6DCD33ABCDEF".parse()?;
/// assert_eq!(id.to_string(), "784e6454-8c63-44c5-89db-6dcd33abcdef");
///
/// const SEED: PixelId = PixelId::from_bytes([
///     0x78, 0x4e, 0x64, 0x54, 0x8c, 0x63, 0x44, 0xc5, 0x89, 0xdb, 0x6d, 0xcd, 0x33, 0xab, 0xcd, 0xef,
/// ]);
/// assert_eq!(id, SEED);
/// # Ok::<(), dtpixel::PixelIdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct PixelId([u8; 16]);

/// Why a string is not a pixel id. Cheap to create and `Copy`; its `Display` says what is wrong and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelIdError {
    /// The input is not 36 bytes long (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
    Length {
        /// The length that was found, in bytes.
        len: usize,
    },
    /// A byte that should be a hexadecimal digit is not one.
    BadChar {
        /// The byte found (the first byte of the character when it is not ASCII).
        byte: u8,
        /// Its 0-based byte index in the input.
        index: usize,
    },
    /// A hyphen is missing at one of the positions 8, 13, 18, 23, or stands elsewhere.
    Hyphen {
        /// The 0-based byte index where a hyphen was expected, or where a stray one stands.
        index: usize,
    },
}

impl fmt::Display for PixelIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PixelIdError::Length { len } => write!(
                f,
                "invalid pixel id: expected 36 characters (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), found {len}"
            ),
            PixelIdError::BadChar { byte, index } if byte.is_ascii_graphic() => write!(
                f,
                "invalid pixel id: '{}' at index {index} is not a hexadecimal digit",
                byte as char
            ),
            PixelIdError::BadChar { byte, index } => write!(
                f,
                "invalid pixel id: byte 0x{byte:02x} at index {index} is not a hexadecimal digit"
            ),
            PixelIdError::Hyphen { index } if HYPHENS.contains(&index) => {
                write!(f, "invalid pixel id: expected '-' at index {index}")
            }
            PixelIdError::Hyphen { index } => {
                write!(f, "invalid pixel id: unexpected '-' at index {index}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PixelIdError {}

/// Byte positions of the four hyphens in the hyphenated form.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// The value of each ASCII hex digit, or `0xff` (high bit set) for any other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

use crate::swar::{HIGHS, ONES};

/// The high bit of each byte of `w` (all below 0x80) that is at least `n`: adding `0x80 - n`
/// sets it exactly then, with no carry into the next byte.
#[inline(always)]
fn at_least(w: u64, n: u8) -> u64 {
    w.wrapping_add(ONES * (0x80 - n as u64)) & HIGHS
}

/// Eight ASCII hex digits at once (SWAR): the four bytes they spell, or `None`.
#[inline(always)]
fn hex8(w: u64) -> Option<u32> {
    let lower = w | (ONES * 0x20);
    let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
    let letter = at_least(lower, b'a') & !at_least(lower, b'f' + 1);
    if w & HIGHS != 0 || digit | letter != HIGHS {
        return None;
    }
    let nibbles = (w & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Lane 2k holds the high nibble of byte k and lane 2k + 1 its low nibble.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let packed = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    Some((packed | (packed >> 16)) as u32)
}

/// The runtime fast path of [`PixelId::parse_bytes`]: whole words loaded and converted at once.
/// `None` means "not a valid id"; the exact error then comes from the byte-wise parser.
#[inline(always)]
pub(crate) fn parse_words(s: &[u8; PixelId::LENGTH]) -> Option<PixelId> {
    let word = |i: usize| -> u64 {
        let mut w = [0u8; 8];
        if let Some(src) = s.get(i..i + 8) {
            w.copy_from_slice(src);
        }
        u64::from_le_bytes(w)
    };
    let half = |i: usize| -> u64 {
        let mut w = [0u8; 4];
        if let Some(src) = s.get(i..i + 4) {
            w.copy_from_slice(src);
        }
        u32::from_le_bytes(w) as u64
    };
    if s[8] != b'-' || s[13] != b'-' || s[18] != b'-' || s[23] != b'-' {
        return None;
    }
    let a = hex8(word(0))?;
    let b = hex8(half(9) | (half(14) << 32))?;
    let c = hex8(half(19) | (half(24) << 32))?;
    let d = hex8(word(28))?;
    let value = a as u128 | (b as u128) << 32 | (c as u128) << 64 | (d as u128) << 96;
    Some(PixelId(value.to_le_bytes()))
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

impl PixelId {
    /// Length of the hyphenated form, in bytes.
    pub const LENGTH: usize = 36;

    /// A pixel id from its 16 bytes (big-endian, as printed).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        PixelId(bytes)
    }

    /// A random (version 4) pixel id made from 16 random bytes supplied by the caller,
    /// with the version and variant bits set as RFC 9562 requires.
    pub const fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        PixelId(bytes)
    }

    /// The 16 bytes of the id.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the hyphenated form (`784e6454-8c63-44c5-89db-6dcd33abcdef`), in any letter case.
    pub const fn parse(s: &str) -> Result<Self, PixelIdError> {
        Self::parse_bytes(s.as_bytes())
    }

    /// Parses the hyphenated form from bytes; see [`PixelId::parse`].
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
    pub const fn parse_bytes(s: &[u8]) -> Result<Self, PixelIdError> {
        // The length first: `first_chunk` alone would accept any longer input that starts with
        // a valid id.
        if s.len() != Self::LENGTH {
            return Err(PixelIdError::Length { len: s.len() });
        }
        let Some(s) = s.first_chunk::<{ Self::LENGTH }>() else {
            return Err(PixelIdError::Length { len: s.len() });
        };
        // Fast path without a branch per digit: invalid digits map to 0xff, so any invalid digit
        // sets the high bit of `invalid`; the slow path then says exactly what is wrong.
        const DIGITS: [u8; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
        let mut out = [0u8; 16];
        let mut invalid = 0u8;
        let mut k = 0;
        while k < 16 {
            let i = DIGITS[k] as usize;
            let hi = HEX_VALUE[s[i] as usize];
            let lo = HEX_VALUE[s[i + 1] as usize];
            invalid |= hi | lo;
            out[k] = (hi << 4) | lo;
            k += 1;
        }
        if invalid & 0x80 == 0 && s[8] == b'-' && s[13] == b'-' && s[18] == b'-' && s[23] == b'-' {
            return Ok(PixelId(out));
        }
        Err(Self::first_error(s))
    }

    /// The first problem in a 36-byte input that is not a valid id, scanning left to right.
    const fn first_error(s: &[u8; Self::LENGTH]) -> PixelIdError {
        let mut i = 0;
        while i < Self::LENGTH {
            let hyphen_here = i == 8 || i == 13 || i == 18 || i == 23;
            if hyphen_here {
                if s[i] != b'-' {
                    return PixelIdError::Hyphen { index: i };
                }
            } else if HEX_VALUE[s[i] as usize] == 0xff {
                return Self::bad_char(s[i], i);
            }
            i += 1;
        }
        // Not reached for an invalid input; kept total rather than panicking.
        PixelIdError::Length { len: Self::LENGTH }
    }

    const fn bad_char(byte: u8, index: usize) -> PixelIdError {
        if byte == b'-' {
            PixelIdError::Hyphen { index }
        } else {
            PixelIdError::BadChar { byte, index }
        }
    }

    /// Writes the canonical lowercase hyphenated form into `buf` and returns it as a `&str`.
    ///
    /// ```
    /// let id = dtpixel::PixelId::parse("784e6454-8c63-44c5-89db-6dcd33abcdef").unwrap();
    /// let mut buf = [0u8; dtpixel::PixelId::LENGTH];
    /// assert_eq!(id.encode_lower(&mut buf), "784e6454-8c63-44c5-89db-6dcd33abcdef");
    /// ```
    pub fn encode_lower<'b>(&self, buf: &'b mut [u8; Self::LENGTH]) -> &'b str {
        let mut out = buf.iter_mut();
        let mut put = |b: u8| {
            if let Some(slot) = out.next() {
                *slot = b;
            }
        };
        for (i, &byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                put(b'-');
            }
            put(HEX_LOWER[(byte >> 4) as usize]);
            put(HEX_LOWER[(byte & 0x0f) as usize]);
        }
        crate::ascii::ascii_str(buf)
    }
}

impl fmt::Display for PixelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; Self::LENGTH];
        f.pad(self.encode_lower(&mut buf))
    }
}

impl fmt::Debug for PixelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PixelId({self})")
    }
}

impl FromStr for PixelId {
    type Err = PixelIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for PixelId {
    type Error = PixelIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<[u8; 16]> for PixelId {
    fn from(bytes: [u8; 16]) -> Self {
        PixelId(bytes)
    }
}

impl From<PixelId> for [u8; 16] {
    fn from(id: PixelId) -> Self {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::prelude::rust_2021::*;

    const SEED: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";

    #[test]
    fn parses_and_displays_canonical_lowercase() {
        let upper = PixelId::parse(&SEED.to_ascii_uppercase()).unwrap();
        assert_eq!(upper, PixelId::parse(SEED).unwrap());
        assert_eq!(upper.to_string(), SEED);
        assert_eq!(format!("{upper:?}"), format!("PixelId({SEED})"));
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(PixelId::parse(""), Err(PixelIdError::Length { len: 0 }));
        assert_eq!(
            PixelId::parse(&SEED[..35]),
            Err(PixelIdError::Length { len: 35 })
        );
        // A valid id followed by anything is not an id.
        for tail in ["a", "\n", "-0000"] {
            let long = std::format!("{SEED}{tail}");
            assert_eq!(
                PixelId::parse(&long),
                Err(PixelIdError::Length { len: long.len() })
            );
        }
        let bad = "784e6454-8c63-44c5-89db-6dcd33abcdeg";
        assert_eq!(
            PixelId::parse(bad),
            Err(PixelIdError::BadChar {
                byte: b'g',
                index: 35
            })
        );
        assert_eq!(
            PixelId::parse(bad).unwrap_err().to_string(),
            "invalid pixel id: 'g' at index 35 is not a hexadecimal digit"
        );
        let moved = "784e645-48c63-44c5-89db-6dcd33abcdef";
        assert_eq!(
            PixelId::parse(moved),
            Err(PixelIdError::Hyphen { index: 7 })
        );
        assert_eq!(
            PixelId::parse(moved).unwrap_err().to_string(),
            "invalid pixel id: unexpected '-' at index 7"
        );
        let missing = "784e6454x8c63-44c5-89db-6dcd33abcdef";
        assert_eq!(
            PixelId::parse(missing).unwrap_err().to_string(),
            "invalid pixel id: expected '-' at index 8"
        );
        // A multi-byte character: reported by its first byte, never a panic on a char boundary.
        let unicode = "784e6454-8c63-44c5-89db-6dcd33abcdé";
        assert_eq!(unicode.len(), 36);
        assert_eq!(
            PixelId::parse(unicode),
            Err(PixelIdError::BadChar {
                byte: 0xc3,
                index: 34
            })
        );
    }

    #[test]
    fn random_ids_are_version_4() {
        let id = PixelId::from_random_bytes([0xff; 16]);
        let s = id.to_string();
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(PixelId::parse(&s).unwrap(), id);
    }

    #[test]
    fn the_word_parser_agrees_with_the_byte_parser_on_every_one_byte_change() {
        for base in [
            SEED,
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let base: [u8; 36] = base.as_bytes().try_into().unwrap();
            for index in 0..36 {
                for byte in 0..=255u8 {
                    let mut s = base;
                    s[index] = byte;
                    assert_eq!(
                        parse_words(&s),
                        PixelId::parse_bytes(&s).ok(),
                        "{:?}",
                        String::from_utf8_lossy(&s)
                    );
                }
            }
        }
    }

    #[test]
    fn matches_the_uuid_crate() {
        let ours = PixelId::parse(SEED).unwrap();
        let theirs = uuid::Uuid::parse_str(SEED).unwrap();
        assert_eq!(ours.as_bytes(), theirs.as_bytes());
        assert_eq!(ours.to_string(), theirs.hyphenated().to_string());
    }
}
