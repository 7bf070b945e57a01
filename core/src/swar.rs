//! Finding the first of a few bytes eight bytes at a time (SWAR: "SIMD within a register"),
//! with plain integer operations that work on every target, `no_std` and wasm included.

/// Every byte 0x01.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// Every byte 0x80.
pub(crate) const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `word` that is zero (exact for the lowest such byte, which is all
/// [`find_any`] uses: borrows only ever flag bytes above a zero byte).
const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The index of the first byte at or after `start` that is one of `needles`, or `bytes.len()`.
/// Reads eight bytes at a time, then finishes byte by byte.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
pub(crate) fn find_any<const N: usize>(bytes: &[u8], start: usize, needles: &[u8; N]) -> usize {
    let mut i = start;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let mut found = 0;
        for &needle in needles {
            found |= zero_bytes(w ^ (ONES * needle as u64));
        }
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        // Not `contains`: for bytes that is a call to memchr, where a few compares do.
        #[allow(clippy::manual_contains)]
        if needles.iter().any(|&needle| needle == b) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_needle_at_every_offset() {
        let needles = b"&=#";
        for len in 0..40 {
            for at in 0..=len {
                // Bytes that differ from the needles by one bit, or share their high bits.
                let mut bytes = [0u8; 40];
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = [b'\'', b'<', b'"', 0xa6, 0, b'%'][i % 6];
                }
                if at < len {
                    bytes[at] = needles[at % 3];
                }
                for start in 0..=len {
                    let expected = if start <= at && at < len { at } else { len };
                    assert_eq!(find_any(&bytes[..len], start, needles), expected);
                }
            }
        }
        assert_eq!(find_any(b"abc", 7, needles), 3);
    }
}
