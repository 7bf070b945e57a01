//! Fuzzes the hit parser and everything a collector does with a hit: it must never panic, and
//! what it accepts must survive a build → parse round trip.
#![no_main]

use dtpixel::{urlencoded, BaseUrl, EventType, HitParser, PixelHit, PixelId, PixelUrl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        let _ = PixelId::parse_bytes(data);
        return;
    };
    let _ = EventType::parse(input);
    let _ = BaseUrl::parse(input);
    for parser in [
        HitParser::new(),
        HitParser::new().with_prefix("/t").unwrap(),
    ] {
        let Ok(hit) = parser.parse(input) else {
            continue;
        };
        let pairs: Vec<(String, String)> = hit
            .query_pairs()
            .map(|(n, v)| (n.decode().into_owned(), v.decode().into_owned()))
            .collect();
        let _ = serde_json::to_string(&hit).unwrap();

        // Rebuilding the hit from its decoded pairs gives the same hit.
        let rebuilt =
            PixelHit::from_pairs(hit.pixel_id(), pairs.iter().map(|(n, v)| (n, v))).unwrap();
        assert_eq!(rebuilt.event_type(), hit.event_type());
        assert_eq!(
            rebuilt.cache_bust().map(|c| c.decode().into_owned()),
            hit.cache_bust().map(|c| c.decode().into_owned())
        );

        // A URL built from the hit's parts parses back to them.
        let extra: Vec<(&str, &str)> = pairs
            .iter()
            .filter(|(n, _)| n != "event_type" && n != "cb")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let cb = hit.cache_bust().map(|c| c.decode().into_owned());
        let url = PixelUrl::new(hit.pixel_id(), hit.event_type())
            .with_cache_bust(cb.as_deref().map(dtpixel::CacheBust::token))
            .params(&extra)
            .unwrap()
            .to_string();
        let again = HitParser::new()
            .with_max_len(usize::MAX)
            .parse(&url)
            .unwrap();
        assert_eq!(again.pixel_id(), hit.pixel_id());
        assert_eq!(again.event_type(), hit.event_type());
    }
    for (n, v) in urlencoded::parse(input) {
        let _ = (n.chars().count(), v.bytes().count(), n.decodes_to("cb"));
    }
});
