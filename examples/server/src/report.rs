//! The per-creator report: counted hits and distinct visitors per event type, cart conversion,
//! names and filtered hits; shared by `/api/report`, `/report` and `dtpixel report`.

use std::collections::{BTreeMap, BTreeSet};

use dtpixel::{EventType, PixelId};
use rusqlite::Connection;
use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

use crate::store::{self, DayRange};

/// Hits and distinct visitors of one event type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStats {
    /// Recorded (counted) hits.
    pub count: u64,
    /// Distinct visitor keys.
    pub visitors: u64,
}

/// One creator's line.
#[derive(Debug, Clone)]
pub struct PixelReport {
    /// The pixel id, canonical.
    pub pixel_id: String,
    /// The creator's name, where known.
    pub name: Option<String>,
    /// Every configured event type, in configuration order.
    pub events: Vec<(String, EventStats)>,
    /// Add-to-cart visitors ÷ page-load visitors, 0 when there are none.
    pub conversion: f64,
    /// Hits answered but not counted, per reason (`bot`, `prefetch`, `head`).
    pub filtered: BTreeMap<String, u64>,
}

impl PixelReport {
    /// The stats of `event` (zero when it is not configured).
    pub fn event(&self, event: &str) -> EventStats {
        self.events
            .iter()
            .find(|(name, _)| name == event)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }

    /// All filtered hits.
    pub fn filtered_total(&self) -> u64 {
        self.filtered.values().sum()
    }

    /// The name, or the pixel id when there is none.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.pixel_id)
    }
}

/// The report over a range of days.
#[derive(Debug, Clone)]
pub struct Report {
    /// The configured event types, in order.
    pub events: Vec<String>,
    /// One line per creator: most page-load visitors first.
    pub pixels: Vec<PixelReport>,
}

/// `a ÷ b`, 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Builds the report: every named creator and every pixel with hits in `range` (or only
/// `pixel`), with every configured event type.
pub fn build(
    conn: &Connection,
    events: &[EventType],
    range: &DayRange,
    pixel: Option<PixelId>,
) -> rusqlite::Result<Report> {
    let pixel_text = pixel.map(|p| p.to_string());
    let counts = store::counts(conn, range, pixel_text.as_deref())?;
    let filtered = store::filtered(conn, range, pixel_text.as_deref())?;
    let names: BTreeMap<String, String> = store::pixels(conn)?.into_iter().collect();
    let event_names: Vec<String> = events.iter().map(|e| e.as_str().to_owned()).collect();

    let mut ids: BTreeSet<String> = BTreeSet::new();
    match &pixel_text {
        Some(id) => {
            ids.insert(id.clone());
        }
        None => {
            ids.extend(names.keys().cloned());
            ids.extend(
                counts
                    .keys()
                    .filter(|(_, event)| event_names.contains(event))
                    .map(|(id, _)| id.clone()),
            );
            ids.extend(filtered.keys().map(|(id, _)| id.clone()));
        }
    }
    let mut pixels: Vec<PixelReport> = ids
        .into_iter()
        .map(|id| {
            let events: Vec<(String, EventStats)> = event_names
                .iter()
                .map(|event| {
                    let (count, visitors) = counts
                        .get(&(id.clone(), event.clone()))
                        .copied()
                        .unwrap_or((0, 0));
                    (event.clone(), EventStats { count, visitors })
                })
                .collect();
            let stats = |name: &str| {
                events
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, s)| s.visitors)
                    .unwrap_or(0)
            };
            let conversion = ratio(
                stats(EventType::ADD_TO_CART.as_str()),
                stats(EventType::PAGE_LOAD.as_str()),
            );
            let filtered = filtered
                .iter()
                .filter(|((pid, _), _)| *pid == id)
                .map(|((_, reason), n)| (reason.clone(), *n))
                .collect();
            PixelReport {
                name: names.get(&id).cloned(),
                pixel_id: id,
                events,
                conversion,
                filtered,
            }
        })
        .collect();
    let lead = event_names.first().cloned().unwrap_or_default();
    pixels.sort_by(|a, b| {
        let (va, vb) = (a.event(&lead), b.event(&lead));
        vb.visitors
            .cmp(&va.visitors)
            .then(vb.count.cmp(&va.count))
            .then(a.pixel_id.cmp(&b.pixel_id))
    });
    Ok(Report {
        events: event_names,
        pixels,
    })
}

/// One day of one creator.
#[derive(Debug, Clone)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Every configured event type, in order.
    pub events: Vec<(String, EventStats)>,
}

/// A creator's days with counted hits in `range`, oldest first.
pub fn daily(
    conn: &Connection,
    events: &[EventType],
    range: &DayRange,
    pixel: PixelId,
) -> rusqlite::Result<Vec<Day>> {
    let counts = store::daily(conn, range, &pixel.to_string())?;
    let days: BTreeSet<&String> = counts.keys().map(|(day, _)| day).collect();
    Ok(days
        .into_iter()
        .map(|day| Day {
            day: day.clone(),
            events: events
                .iter()
                .map(|e| {
                    let (count, visitors) = counts
                        .get(&(day.clone(), e.as_str().to_owned()))
                        .copied()
                        .unwrap_or((0, 0));
                    (e.as_str().to_owned(), EventStats { count, visitors })
                })
                .collect(),
        })
        .collect())
}

// The JSON of `/api/report`, exactly:
// {"pixels":[{"pixel_id":"…","events":{"page_load":{"count":N,"visitors":V},…},"conversion":0.0}]}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Report", 1)?;
        s.serialize_field("pixels", &self.pixels)?;
        s.end()
    }
}

impl Serialize for PixelReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("PixelReport", 3)?;
        s.serialize_field("pixel_id", &self.pixel_id)?;
        s.serialize_field("events", &Events(&self.events))?;
        s.serialize_field("conversion", &self.conversion)?;
        s.end()
    }
}

struct Events<'a>(&'a [(String, EventStats)]);

impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, stats) in self.0 {
            map.serialize_entry(name, stats)?;
        }
        map.end()
    }
}

impl Serialize for EventStats {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("EventStats", 2)?;
        s.serialize_field("count", &self.count)?;
        s.serialize_field("visitors", &self.visitors)?;
        s.end()
    }
}

/// The JSON of `/api/filtered`: `{"pixels":[{"pixel_id":"…","filtered":{"bot":N,…}}]}`.
pub fn filtered_json(report: &Report) -> serde_json::Value {
    let pixels: Vec<serde_json::Value> = report
        .pixels
        .iter()
        .map(|p| serde_json::json!({ "pixel_id": p.pixel_id, "filtered": p.filtered }))
        .collect();
    serde_json::json!({ "pixels": pixels })
}
