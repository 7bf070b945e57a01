//! Property tests: whatever the builder writes, the parser reads back exactly.

use dtpixel::urlencoded::{self, Serialized};
use dtpixel::{BaseUrl, CacheBust, EventType, HitParser, ImgTag, PixelId, PixelUrl, WriteTo};
use proptest::prelude::*;

fn event_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("page_load".to_string()),
        Just("add_to_cart".to_string()),
        "[a-z][a-z0-9_]{0,63}",
    ]
}

fn prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "(/[A-Za-z0-9._~-]{0,4}[A-Za-z0-9]){1,3}"
    ]
}

fn param_name() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("reserved", |n| n != "event_type" && n != "cb")
}

/// Undoes the tag's attribute escaping.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn ids_round_trip_in_any_case(bytes in any::<[u8; 16]>(), upper in any::<bool>()) {
        let id = PixelId::from_bytes(bytes);
        let text = id.to_string();
        prop_assert_eq!(text.len(), PixelId::LENGTH);
        let input = if upper { text.to_ascii_uppercase() } else { text.clone() };
        prop_assert_eq!(PixelId::parse(&input), Ok(id));
        prop_assert_eq!(uuid::Uuid::from_bytes(bytes).hyphenated().to_string(), text);
    }

    #[test]
    fn build_then_parse_round_trips(
        bytes in any::<[u8; 16]>(),
        event in event_name(),
        token in proptest::option::of(any::<String>()),
        params in proptest::collection::vec((param_name(), any::<String>()), 0..6),
        prefix in prefix(),
    ) {
        let id = PixelId::from_bytes(bytes);
        let event_type = EventType::parse(&event).unwrap();
        let base_text = format!("https://shop.example{prefix}");
        let base = BaseUrl::parse(&base_text).unwrap();
        let param_refs: Vec<(&str, &str)> =
            params.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let url = PixelUrl::new(id, event_type)
            .base(base)
            .with_cache_bust(token.as_deref().map(CacheBust::token))
            .params(&param_refs)
            .unwrap();
        let text = url.to_string();
        prop_assert_eq!(url.encoded_len(), text.len());
        let mut buf = vec![0u8; text.len()];
        prop_assert_eq!(url.encode(&mut buf).unwrap(), text.as_str());

        let parser = HitParser::for_base(&base).with_max_len(usize::MAX);
        let hit = parser.parse(&text).unwrap();
        prop_assert_eq!(hit.pixel_id(), id);
        prop_assert_eq!(hit.event_type(), event_type);
        prop_assert_eq!(hit.cache_bust().map(|c| c.to_string()), token.clone());

        let mut expected = vec![("event_type".to_string(), event.clone())];
        if let Some(t) = &token {
            expected.push(("cb".to_string(), t.clone()));
        }
        expected.extend(params.iter().cloned());
        let got: Vec<(String, String)> = hit
            .query_pairs()
            .map(|(n, v)| (n.decode().into_owned(), v.decode().into_owned()))
            .collect();
        prop_assert_eq!(got, expected);

        // The request target alone parses the same way.
        let target = &text["https://shop.example".len()..];
        prop_assert_eq!(parser.parse(target).unwrap(), hit);

        // The tag carries the same URL, escaped.
        let tag = ImgTag::new(&url).to_string();
        let src = tag
            .strip_prefix(r#"<img height="1" width="1" style="display:none" src=""#)
            .and_then(|t| t.strip_suffix(r#""/>"#))
            .unwrap();
        prop_assert!(!src.contains('"') && !src.contains('<'));
        prop_assert_eq!(unescape(src), text);
    }

    #[test]
    fn random_cache_busters_round_trip(bits in any::<u64>()) {
        let cb = CacheBust::random(bits);
        prop_assert_eq!(u64::from_str_radix(cb.as_str(), 16), Ok(bits));
    }

    #[test]
    fn serialize_then_parse_is_identity(s in any::<String>()) {
        let encoded = Serialized(&s).to_string();
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b)));
        prop_assert_eq!(urlencoded::serialized_len(&s), encoded.len());
        let component = urlencoded::Component::new(&encoded);
        prop_assert_eq!(component.decode(), s.as_str());
        prop_assert!(component.decodes_to(&s));
    }

    #[test]
    fn decoding_matches_percent_decode_then_lossy_utf8(raw in any::<Vec<u8>>()) {
        // Percent-encode arbitrary bytes (half of them), then decode: the result must be
        // from_utf8_lossy of the bytes, as the WHATWG parser specifies.
        let mut encoded = String::new();
        for (i, b) in raw.iter().enumerate() {
            if b.is_ascii_alphanumeric() && i % 2 == 0 {
                encoded.push(*b as char);
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        let component = urlencoded::Component::new(&encoded);
        prop_assert_eq!(component.bytes().collect::<Vec<u8>>(), raw.clone());
        prop_assert_eq!(component.decode(), String::from_utf8_lossy(&raw));
    }

    #[test]
    fn valid_event_names_parse_and_invalid_ones_fail(name in any::<String>()) {
        let valid = !name.is_empty()
            && name.len() <= EventType::MAX_LEN
            && name.as_bytes()[0].is_ascii_lowercase()
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        let parsed = EventType::parse(&name);
        prop_assert_eq!(parsed.is_ok(), valid);
        if let Ok(e) = parsed {
            prop_assert_eq!(e.as_str(), name.as_str());
        }
        prop_assert_eq!(EventType::from_chars(name.chars()), parsed);
    }

    #[test]
    fn hit_fields_match_a_plain_walk_over_the_pairs(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("event_type=add_to_cart".to_string()),
                Just("event%5Ftype=page%5Fload".to_string()),
                Just("cb=1".to_string()),
                Just("c%62=x+y".to_string()),
                Just("cb".to_string()),
                Just("event_type=".to_string()),
                Just("event_type=Bad".to_string()),
                Just("#".to_string()),
                Just("&".to_string()),
                Just("=".to_string()),
                "[a-z%+=&#0-9]{0,12}",
            ],
            0..8,
        )
    ) {
        // What the query scan must find, computed the slow way from the WHATWG pairs.
        let query = pieces.join("&");
        let until_fragment = query.split('#').next().unwrap();
        let mut event = None;
        let mut cb = None;
        let mut expected = Ok(());
        for (name, value) in urlencoded::parse(until_fragment) {
            let name = name.decode();
            if name == "event_type" {
                if event.is_some() {
                    expected = Err(dtpixel::HitError::RepeatedEventType);
                    break;
                }
                match EventType::parse(&value.decode()) {
                    Ok(e) => event = Some(e),
                    Err(e) => {
                        expected = Err(dtpixel::HitError::BadEventType(e));
                        break;
                    }
                }
            } else if name == "cb" {
                if cb.is_some() {
                    expected = Err(dtpixel::HitError::RepeatedCacheBust);
                    break;
                }
                cb = Some(value.raw().to_string());
            }
        }
        let target = format!("/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?{query}");
        match (HitParser::new().with_max_len(usize::MAX).parse(&target), expected) {
            (Ok(hit), Ok(())) => {
                prop_assert_eq!(hit.query(), until_fragment);
                prop_assert_eq!(hit.event_type(), event.unwrap_or(EventType::PAGE_LOAD));
                prop_assert_eq!(hit.cache_bust().map(|c| c.raw().to_string()), cb);
            }
            (Err(got), Err(want)) => prop_assert_eq!(got, want),
            (got, want) => prop_assert!(false, "query {:?}: got {:?}, want {:?}", query, got, want),
        }
    }
}
