//! [`EventType`]: what happened (`page_load`, `add_to_cart`, or a custom name).

use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

/// The kind of event a pixel hit records, modelled on `http::Method`: the known events are
/// constants and any other valid name is an extension, stored inline (no allocation, ever).
///
/// A valid name is 1 to [`EventType::MAX_LEN`] bytes of lowercase ASCII letters, digits and `_`,
/// starting with a letter.
///
/// ```
/// use dtpixel::EventType;
///
/// assert_eq!(EventType::parse("add_to_cart")?, EventType::ADD_TO_CART);
/// let signup: EventType = "newsletter_signup".parse()?;
/// assert_eq!(signup.as_str(), "newsletter_signup");
/// assert!(!signup.is_known());
/// assert!(EventType::parse("Add-To-Cart").is_err());
///
/// // Extensions can be constants too.
/// const SIGNUP: EventType = match EventType::parse("newsletter_signup") {
///     Ok(event) => event,
///     Err(_) => panic!("not an event name"),
/// };
/// assert_eq!(SIGNUP, signup);
/// # Ok::<(), dtpixel::EventTypeError>(())
/// ```
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub struct EventType {
    /// The name is `bytes[..len]`, validated ASCII. Every event type, known or not, is stored
    /// the same way and in full (the unused bytes zero), and the name is first and 8-aligned:
    /// copies then move whole aligned words, each read back from one earlier write, which keeps
    /// store-to-load forwarding fast on the parser's hot path (a 1-byte `len` first split the
    /// name into odd-sized overlapping pieces that stalled every copy). `len` is a whole word
    /// for the same reason: no padding bytes to copy piecemeal.
    bytes: [u8; EventType::MAX_LEN],
    len: u64,
}

/// Why a string is not an event type name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventTypeError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`EventType::MAX_LEN`] bytes.
    TooLong {
        /// The length found, in bytes.
        len: usize,
    },
    /// The name does not start with a lowercase ASCII letter.
    BadStart {
        /// The first byte.
        byte: u8,
    },
    /// A byte other than a lowercase ASCII letter, a digit or `_`.
    BadChar {
        /// The byte found (the first byte of the character when it is not ASCII).
        byte: u8,
        /// Its 0-based byte index in the name.
        index: usize,
    },
}

impl fmt::Display for EventTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EventTypeError::Empty => f.write_str("invalid event type: the name is empty"),
            EventTypeError::TooLong { len } => write!(
                f,
                "invalid event type: {len} bytes is longer than the maximum of {}",
                EventType::MAX_LEN
            ),
            EventTypeError::BadStart { byte } if byte.is_ascii_graphic() => write!(
                f,
                "invalid event type: must start with a lowercase letter, not '{}'",
                byte as char
            ),
            EventTypeError::BadStart { byte } => write!(
                f,
                "invalid event type: must start with a lowercase letter, not byte 0x{byte:02x}"
            ),
            EventTypeError::BadChar { byte, index } if byte.is_ascii_graphic() => write!(
                f,
                "invalid event type: '{}' at index {index} is not a lowercase letter, digit or '_'",
                byte as char
            ),
            EventTypeError::BadChar { byte, index } => write!(
                f,
                "invalid event type: byte 0x{byte:02x} at index {index} is not a lowercase letter, digit or '_'"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EventTypeError {}

impl EventType {
    /// A page was loaded; also what a hit without `event_type` means.
    pub const PAGE_LOAD: EventType = EventType::from_valid(b"page_load");
    /// A product was added to the shopping cart.
    pub const ADD_TO_CART: EventType = EventType::from_valid(b"add_to_cart");
    /// The longest valid name, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses an event name. Known names give the constants; others are stored inline.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
    pub const fn parse(name: &str) -> Result<Self, EventTypeError> {
        let b = name.as_bytes();
        // The known names first: they are most hits, and need no further checks.
        match b {
            b"page_load" => return Ok(Self::PAGE_LOAD),
            b"add_to_cart" => return Ok(Self::ADD_TO_CART),
            _ => {}
        }
        if let Err(e) = validate(b) {
            return Err(e);
        }
        Ok(Self::from_valid(b))
    }

    /// An event type from a name already validated (at most `MAX_LEN` bytes are kept).
    const fn from_valid(name: &[u8]) -> Self {
        let mut bytes = [0u8; Self::MAX_LEN];
        let mut i = 0;
        while i < name.len() && i < Self::MAX_LEN {
            bytes[i] = name[i];
            i += 1;
        }
        EventType {
            bytes,
            len: i as u64,
        }
    }

    /// Parses an event name from a stream of characters (for example a percent-decoded query value),
    /// without allocating. Gives exactly the result [`EventType::parse`] gives for the same text.
    pub fn from_chars(chars: impl IntoIterator<Item = char>) -> Result<Self, EventTypeError> {
        let mut buf = [0u8; Self::MAX_LEN];
        let mut len = 0;
        let mut first_error = None;
        for c in chars {
            let (byte, width) = first_utf8_byte(c);
            if first_error.is_none() {
                let valid = if len == 0 {
                    byte.is_ascii_lowercase()
                } else {
                    byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_'
                };
                if !valid {
                    first_error = Some(if len == 0 {
                        EventTypeError::BadStart { byte }
                    } else {
                        EventTypeError::BadChar { byte, index: len }
                    });
                } else if let Some(slot) = buf.get_mut(len) {
                    *slot = byte;
                }
            }
            len += width;
        }
        if len == 0 {
            return Err(EventTypeError::Empty);
        }
        if len > Self::MAX_LEN {
            return Err(EventTypeError::TooLong { len });
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        Self::parse(buf.get(..len).map_or("", crate::ascii::ascii_str))
    }

    /// The event name.
    pub fn as_str(&self) -> &str {
        crate::ascii::ascii_str(self.as_bytes())
    }

    const fn as_bytes(&self) -> &[u8] {
        match self.bytes.split_at_checked(self.len as usize) {
            Some((name, _)) => name,
            None => &self.bytes,
        }
    }

    /// Whether this is one of the constants ([`EventType::PAGE_LOAD`], [`EventType::ADD_TO_CART`]).
    pub const fn is_known(&self) -> bool {
        matches!(self.as_bytes(), b"page_load" | b"add_to_cart")
    }
}

/// The first byte of `c`'s UTF-8 encoding and the encoding's length (without `encode_utf8`,
/// whose buffer check is a panic path).
const fn first_utf8_byte(c: char) -> (u8, usize) {
    let code = c as u32;
    match c.len_utf8() {
        1 => (code as u8, 1),
        2 => (0xc0 | (code >> 6) as u8, 2),
        3 => (0xe0 | (code >> 12) as u8, 3),
        _ => (0xf0 | (code >> 18) as u8, 4),
    }
}

const fn validate(b: &[u8]) -> Result<(), EventTypeError> {
    if b.is_empty() {
        return Err(EventTypeError::Empty);
    }
    if b.len() > EventType::MAX_LEN {
        return Err(EventTypeError::TooLong { len: b.len() });
    }
    if !b[0].is_ascii_lowercase() {
        return Err(EventTypeError::BadStart { byte: b[0] });
    }
    let mut i = 1;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_') {
            return Err(EventTypeError::BadChar { byte: c, index: i });
        }
        i += 1;
    }
    Ok(())
}

impl Default for EventType {
    /// [`EventType::PAGE_LOAD`], what a hit without `event_type` means.
    fn default() -> Self {
        Self::PAGE_LOAD
    }
}

impl PartialEq for EventType {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for EventType {}

impl PartialEq<str> for EventType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EventType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Hash for EventType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for EventType {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EventType {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl AsRef<str> for EventType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventType({})", self.as_str())
    }
}

impl FromStr for EventType {
    type Err = EventTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for EventType {
    type Error = EventTypeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn known_names_are_the_constants() {
        assert!(EventType::parse("page_load").unwrap().is_known());
        assert_eq!(
            EventType::parse("add_to_cart").unwrap(),
            EventType::ADD_TO_CART
        );
        assert_eq!(EventType::default(), EventType::PAGE_LOAD);
        assert_eq!(EventType::PAGE_LOAD.to_string(), "page_load");
    }

    #[test]
    fn custom_names_up_to_64_bytes() {
        let max = "a".repeat(64);
        assert_eq!(EventType::parse(&max).unwrap().as_str(), max);
        assert_eq!(
            EventType::parse(&"a".repeat(65)),
            Err(EventTypeError::TooLong { len: 65 })
        );
        let e = EventType::parse("checkout_step_2").unwrap();
        assert_eq!(e, "checkout_step_2");
        assert!(!e.is_known());
    }

    #[test]
    fn malformed_names_say_why() {
        assert_eq!(EventType::parse(""), Err(EventTypeError::Empty));
        assert_eq!(
            EventType::parse("2fast"),
            Err(EventTypeError::BadStart { byte: b'2' })
        );
        assert_eq!(
            EventType::parse("_x"),
            Err(EventTypeError::BadStart { byte: b'_' })
        );
        assert_eq!(
            EventType::parse("addToCart").unwrap_err().to_string(),
            "invalid event type: 'T' at index 3 is not a lowercase letter, digit or '_'"
        );
        assert_eq!(
            EventType::parse("add to cart"),
            Err(EventTypeError::BadChar {
                byte: b' ',
                index: 3
            })
        );
    }

    #[test]
    fn from_chars_matches_parse() {
        for name in ["page_load", "add_to_cart", "x1", "", "Bad", "a-b", "é"] {
            assert_eq!(
                EventType::from_chars(name.chars()),
                EventType::parse(name),
                "{name}"
            );
        }
        let long = "a".repeat(1000);
        assert_eq!(
            EventType::from_chars(long.chars()),
            Err(EventTypeError::TooLong { len: 1000 })
        );
    }
}
