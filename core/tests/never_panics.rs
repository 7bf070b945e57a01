//! The core never panics, whatever it is given: arbitrary text and bytes into every parser.
//! (The fuzz target in `core/fuzz` explores the same entry points with coverage guidance.)

use dtpixel::{urlencoded, BaseUrl, EventType, HitParser, InlineTag, InlineTagError, PixelId};
use proptest::prelude::*;

/// Pieces that steer random input toward the parser's interesting paths.
fn hostile_target() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/pixel/".to_string()),
        Just("784e6454-8c63-44c5-89db-6dcd33abcdef".to_string()),
        Just("/event.gif".to_string()),
        Just("?".to_string()),
        Just("&".to_string()),
        Just("=".to_string()),
        Just("#".to_string()),
        Just("event_type".to_string()),
        Just("cb".to_string()),
        Just("%".to_string()),
        Just("%E2%80".to_string()),
        Just("%C3".to_string()),
        Just("+".to_string()),
        Just("https://".to_string()),
        Just("/t".to_string()),
        any::<String>(),
        "[a-z_]{0,70}",
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn exercise(input: &str) {
    for parser in [
        HitParser::new(),
        HitParser::new().with_prefix("/t").unwrap(),
        HitParser::new().with_max_len(16),
    ] {
        match parser.parse(input) {
            Ok(hit) => {
                let _ = hit.cache_bust().map(|c| c.to_string());
                for (n, v) in hit.query_pairs() {
                    let _ = (n.decode(), v.decode(), n.decodes_to("event_type"));
                }
                let _ = serde_json::to_string(&hit).unwrap();
                let _ = hit.clone().into_owned();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    let _ = PixelId::parse(input).map_err(|e| e.to_string());
    let _ = EventType::parse(input).map_err(|e| e.to_string());
    let _ = EventType::from_chars(input.chars());
    let _ = BaseUrl::parse(input).map_err(|e| e.to_string());
    let _ = HitParser::new().with_prefix(input);
    for (n, v) in urlencoded::parse(input) {
        let _ = (n.decode(), v.chars().count(), v.bytes().count());
    }
    inline_tag(input);
}

/// Any text as the auto.js URL, or as any option's name or value: a clear error, or a tag in
/// which the text cannot end the `<script>` element or open an HTML comment.
fn inline_tag(input: &str) {
    const SRC: &str = "https://cdn.example/dtpixel/auto.js";
    let check = |tag: Result<InlineTag<'_>, InlineTagError>| match tag {
        Ok(t) => {
            let html = t.to_string();
            assert_eq!(html.matches("</script").count(), 1, "{html}");
            assert!(
                html.ends_with("</script>") && !html.contains("<!--"),
                "{html}"
            );
        }
        Err(e) => drop(e.to_string()),
    };
    check(InlineTag::new(input, &[]));
    check(InlineTag::new(SRC, &[(input, "true")]));
    for name in ["base", "mode", "param", "ttlDays", "spa", "debug"] {
        check(InlineTag::new(SRC, &[(name, input)]));
        check(InlineTag::without_auto_js(&[(name, input)]));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        exercise(&s);
    }

    #[test]
    fn hostile_targets_never_panic(s in hostile_target()) {
        exercise(&s);
        exercise(&format!("/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?{s}"));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in any::<Vec<u8>>()) {
        exercise(&String::from_utf8_lossy(&bytes));
        let _ = PixelId::parse_bytes(&bytes);
    }
}
