//! The hit parser's single pass over a query: where it ends (at `#`), its `event_type` and
//! its `cb`, with repeats refused. Equivalent to walking [`crate::urlencoded::parse`]'s pairs,
//! but it reads each byte once and decodes nothing unless a name or value is encoded.

use crate::pixel_url::{CACHE_BUST_PARAM, EVENT_TYPE_PARAM};
use crate::swar::find_any;
use crate::urlencoded::Component;
use crate::{EventType, HitError};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EventValue {
    start: usize,
    end: usize,
    encoded: bool,
}

impl EventValue {
    /// The event type, from the query the scan checked it in (so it always parses; a query it
    /// was not found in gives `page_load` rather than a panic).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
    pub fn event_type(&self, query: &str) -> EventType {
        self.parse(query).unwrap_or(EventType::PAGE_LOAD)
    }

    /// Parses the value: the scan's check, and [`EventValue::event_type`].
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
    fn parse(&self, query: &str) -> Result<EventType, HitError> {
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
///
/// Each sequence is read in two phases, each a search for the few bytes that can matter there:
/// the name up to the first `=` (or `&`, `#`), then the value up to `&` or `#` (where a further
/// `=` is plain text). `%` and `+` only mark the part they are in as needing decoding.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
pub(crate) fn scan(query: &str) -> Result<QueryScan, HitError> {
    let bytes = query.as_bytes();
    let mut found = QueryScan {
        len: bytes.len(),
        event_type: None,
        cache_bust: None,
    };
    let mut start = 0;
    loop {
        let mut i = start;
        let mut name_encoded = false;
        let equals = loop {
            i = find_any(bytes, i, b"=&#%+");
            match bytes.get(i) {
                Some(b'=') => break Some(i),
                Some(b'%' | b'+') => {
                    name_encoded = true;
                    i += 1;
                }
                _ => break None,
            }
        };
        let mut value_encoded = false;
        if equals.is_some() {
            i += 1;
            loop {
                i = find_any(bytes, i, b"&#%+");
                match bytes.get(i) {
                    Some(b'%' | b'+') => {
                        value_encoded = true;
                        i += 1;
                    }
                    _ => break,
                }
            }
        }
        if i > start {
            let seq = Sequence {
                start,
                equals,
                end: i,
                name_encoded,
                value_encoded,
            };
            sequence(query, &seq, &mut found)?;
        }
        match bytes.get(i) {
            Some(b'&') => start = i + 1,
            // `#` or the end.
            _ => {
                found.len = i.min(bytes.len());
                return Ok(found);
            }
        }
    }
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
