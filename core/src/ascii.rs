//! Text from bytes that are ASCII, without `core::str::from_utf8`'s general UTF-8 validation
//! (which is large in a wasm bundle).

/// `bytes` as text, or `""` if they are not all ASCII. The crate calls it only on bytes it
/// wrote or validated as ASCII; the check keeps it sound whatever it is given.
#[allow(unsafe_code)]
pub(crate) fn ascii_str(bytes: &[u8]) -> &str {
    if bytes.is_ascii() {
        // SAFETY: every ASCII byte sequence is valid UTF-8, and the bytes were just checked.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_only() {
        assert_eq!(ascii_str(b"add_to_cart"), "add_to_cart");
        assert_eq!(ascii_str("é".as_bytes()), "");
        assert_eq!(ascii_str(b""), "");
    }
}
