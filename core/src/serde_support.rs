//! The `serde` feature: ids and event types as their strings; hits as
//! `{"pixel_id", "event_type", "cache_bust", "query": [[name, value], …]}` with decoded text.

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::urlencoded::Component;
use crate::{EventType, PixelHit, PixelId};

impl Serialize for PixelId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; PixelId::LENGTH];
        serializer.serialize_str(self.encode_lower(&mut buf))
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Deserializes a type from a string with its `parse`.
struct ParseVisitor<T, E>(fn(&str) -> Result<T, E>, &'static str);

impl<'de, T, E: fmt::Display> Visitor<'de> for ParseVisitor<T, E> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<Er: de::Error>(self, s: &str) -> Result<T, Er> {
        (self.0)(s).map_err(Er::custom)
    }
}

impl<'de> Deserialize<'de> for PixelId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseVisitor(PixelId::parse, "a pixel id (hyphenated UUID)"))
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseVisitor(EventType::parse, "an event type name"))
    }
}

/// A query component serialized as its decoded text.
struct Decoded<'a>(Component<'a>);

impl Serialize for Decoded<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_str() {
            Some(plain) => serializer.serialize_str(plain),
            None => serializer.collect_str(&self.0),
        }
    }
}

struct QueryPairs<'h, 'a>(&'h PixelHit<'a>);

impl Serialize for QueryPairs<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .query_pairs()
                .map(|(name, value)| (Decoded(name), Decoded(value))),
        )
    }
}

impl Serialize for PixelHit<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("PixelHit", 4)?;
        s.serialize_field("pixel_id", &self.pixel_id())?;
        s.serialize_field("event_type", &self.event_type())?;
        s.serialize_field("cache_bust", &self.cache_bust().map(Decoded))?;
        s.serialize_field("query", &QueryPairs(self))?;
        s.end()
    }
}

#[cfg(feature = "alloc")]
mod owned {
    use alloc::string::String;
    use alloc::vec::Vec;

    use serde::de::{self, Deserialize, Deserializer};

    use crate::{EventType, PixelHit, PixelId};

    #[derive(serde::Deserialize)]
    #[serde(rename = "PixelHit", deny_unknown_fields)]
    struct HitRepr {
        pixel_id: PixelId,
        #[serde(default)]
        event_type: Option<EventType>,
        #[serde(default)]
        cache_bust: Option<String>,
        #[serde(default)]
        query: Vec<(String, String)>,
    }

    /// Reads the form `Serialize` writes. `event_type` and `cache_bust`, when given, must agree
    /// with what the query says.
    impl<'de> Deserialize<'de> for PixelHit<'static> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let repr = HitRepr::deserialize(deserializer)?;
            let hit = PixelHit::from_pairs(repr.pixel_id, repr.query).map_err(de::Error::custom)?;
            if let Some(event_type) = repr.event_type {
                if event_type != hit.event_type() {
                    return Err(de::Error::custom(
                        "event_type does not match the event_type in the query",
                    ));
                }
            }
            if let Some(cb) = repr.cache_bust {
                if !hit.cache_bust().is_some_and(|c| c.decodes_to(&cb)) {
                    return Err(de::Error::custom(
                        "cache_bust does not match the cb in the query",
                    ));
                }
            }
            Ok(hit)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{EventType, PixelHit, PixelId};
    use std::prelude::rust_2021::*;

    #[test]
    fn ids_and_events_are_strings() {
        let id = PixelId::parse("784e6454-8c63-44c5-89db-6dcd33abcdef").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"784e6454-8c63-44c5-89db-6dcd33abcdef\""
        );
        let back: PixelId =
            serde_json::from_str("\"784E6454-8C63-44C5-89DB-6DCD33ABCDEF\"").unwrap();
        assert_eq!(back, id);
        let err = serde_json::from_str::<PixelId>("\"nope\"").unwrap_err();
        assert!(err.to_string().contains("expected 36 characters"), "{err}");
        let event: EventType = serde_json::from_str("\"add_to_cart\"").unwrap();
        assert_eq!(event, EventType::ADD_TO_CART);
        assert!(serde_json::from_str::<EventType>("\"Add\"").is_err());
    }

    #[test]
    fn hits_round_trip_through_json() {
        let hit = PixelHit::parse(
            "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart&cb=a+b&q=%E2%80%A0",
        )
        .unwrap();
        let json = serde_json::to_string(&hit).unwrap();
        assert_eq!(
            json,
            r#"{"pixel_id":"784e6454-8c63-44c5-89db-6dcd33abcdef","event_type":"add_to_cart","cache_bust":"a b","query":[["event_type","add_to_cart"],["cb","a b"],["q","†"]]}"#
        );
        let back: PixelHit<'static> = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        let lying = json.replace(
            r#""event_type":"add_to_cart","cache"#,
            r#""event_type":"page_load","cache"#,
        );
        assert!(serde_json::from_str::<PixelHit<'static>>(&lying).is_err());
    }
}
