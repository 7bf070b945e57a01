//! The hit parser's single pass over a query: where it ends (at `#`), its `event_type` and
//! its `cb`, with repeats refused. Equivalent to walking [`crate::urlencoded::parse`]'s pairs,
//! but it reads each byte once and decodes nothing unless a name or value is encoded.

use crate::pixel_url::{CACHE_BUST_PARAM, EVENT_TYPE_PARAM};
use crate::urlencoded::Component;
use crate::{EventType, HitError};

/// A byte that needs no attention.
const PLAIN: u8 = 0;
/// `&`: ends a sequence.
const AMP: u8 = 1;
/// `=`: the first one splits name from value.
const EQUALS: u8 = 2;
/// `%` or `+`: the name or value needs decoding.
const ENCODED: u8 = 3;
/// `#`: ends the query (the fragment is not part of it).
const HASH: u8 = 4;

const CLASS: [u8; 256] = {
    let mut class = [PLAIN; 256];
    class[b'&' as usize] = AMP;
    class[b'=' as usize] = EQUALS;
    class[b'%' as usize] = ENCODED;
    class[b'+' as usize] = ENCODED;
    class[b'#' as usize] = HASH;
    class
};

/// What the hit parser needs from a query.
#[derive(Debug)]
pub(crate) struct QueryScan {
    /// Bytes before the first `#` (or all of them).
    pub len: usize,
    /// Where `event_type`'s value is, if the query has one (already checked to be valid).
    pub event_type: Option<EventValue>,
    /// Byte range of `cb`'s raw value, if the query has one.
    pub cache_bust: Option<(usize, usize)>,
}

/// Where a valid `event_type` value stands in the query. The scan keeps this small record
/// rather than the [`EventType`] itself (65 bytes), which would be copied at every step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EventValue {
    start: usize,
    end: usize,
    encoded: bool,
}

impl EventValue {
    /// The event type (the scan already checked it parses).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
    pub fn parse(&self, query: &str) -> Result<EventType, HitError> {
        let value = query.get(self.start..self.end).unwrap_or("");
        Ok(if self.encoded {
            EventType::from_chars(Component::new(value).chars())?
        } else {
            EventType::parse(value)?
        })
    }
}

/// One `name[=value]` sequence of the query.
struct Sequence {
    start: usize,
    /// Index of the first `=`, if any.
    equals: Option<usize>,
    end: usize,
    name_encoded: bool,
    value_encoded: bool,
}

/// Scans `query` (without its `?`) up to its first `#`.
pub(crate) fn scan(query: &str) -> Result<QueryScan, HitError> {
    let bytes = query.as_bytes();
    let mut found = QueryScan {
        len: bytes.len(),
        event_type: None,
        cache_bust: None,
    };
    let mut seq = Sequence {
        start: 0,
        equals: None,
        end: 0,
        name_encoded: false,
        value_encoded: false,
    };
    let mut i = 0;
    loop {
        i = next_special(bytes, i);
        let class = match bytes.get(i) {
            Some(&b) => CLASS[b as usize],
            None => HASH,
        };
        match class {
            EQUALS => {
                if seq.equals.is_none() {
                    seq.equals = Some(i);
                }
            }
            ENCODED => {
                if seq.equals.is_none() {
                    seq.name_encoded = true;
                } else {
                    seq.value_encoded = true;
                }
            }
            _ => {
                seq.end = i;
                if seq.end > seq.start {
                    sequence(query, &seq, &mut found)?;
                }
                if class == HASH {
                    found.len = i.min(bytes.len());
                    return Ok(found);
                }
                seq = Sequence {
                    start: i + 1,
                    equals: None,
                    end: 0,
                    name_encoded: false,
                    value_encoded: false,
                };
            }
        }
        i += 1;
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `word` that is zero (exact for the lowest such byte, which is all
/// `next_special` uses: borrows only ever flag bytes above a zero byte).
const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The index of the first byte at or after `i` that is not [`PLAIN`], or `bytes.len()`.
/// Reads eight bytes at a time (SWAR), then finishes byte by byte.
fn next_special(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let found = zero_bytes(w ^ (ONES * b'&' as u64))
            | zero_bytes(w ^ (ONES * b'=' as u64))
            | zero_bytes(w ^ (ONES * b'%' as u64))
            | zero_bytes(w ^ (ONES * b'+' as u64))
            | zero_bytes(w ^ (ONES * b'#' as u64));
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if CLASS[b as usize] != PLAIN {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

fn sequence(query: &str, seq: &Sequence, found: &mut QueryScan) -> Result<(), HitError> {
    let (name_end, value_start) = match seq.equals {
        Some(e) => (e, e + 1),
        None => (seq.end, seq.end),
    };
    // Every boundary is at an ASCII byte (`&`, `=`, `#`) or an end, so `get` always succeeds.
    let name = query.get(seq.start..name_end).unwrap_or("");
    // Against fixed-size arrays, so plain names compare with integer instructions, not memcmp.
    let (is_event_type, is_cache_bust) = if seq.name_encoded {
        let name = Component::new(name);
        (
            name.decodes_to(EVENT_TYPE_PARAM),
            name.decodes_to(CACHE_BUST_PARAM),
        )
    } else {
        (name.as_bytes() == b"event_type", name.as_bytes() == b"cb")
    };
    if is_event_type {
        if found.event_type.is_some() {
            return Err(HitError::RepeatedEventType);
        }
        let event = EventValue {
            start: value_start,
            end: seq.end,
            encoded: seq.value_encoded,
        };
        // Checked now, so that the first problem in the query is the one reported.
        event.parse(query)?;
        found.event_type = Some(event);
    } else if is_cache_bust {
        if found.cache_bust.is_some() {
            return Err(HitError::RepeatedCacheBust);
        }
        found.cache_bust = Some((value_start, seq.end));
    }
    Ok(())
}
