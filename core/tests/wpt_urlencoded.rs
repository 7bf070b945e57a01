//! The web-platform-tests `application/x-www-form-urlencoded` parser vectors
//! (`data/wpt/urlencoded-parser-data.json`, see `data/wpt/SOURCE.md`), run against both the
//! query parser and the hit parser's `query_pairs`.

use dtpixel::urlencoded;
use dtpixel::PixelHit;

#[derive(serde::Deserialize)]
struct Case {
    input: String,
    output: Vec<(String, String)>,
}

fn cases() -> Vec<Case> {
    let json = include_str!("data/wpt/urlencoded-parser-data.json");
    serde_json::from_str(json).expect("the vendored WPT file is valid JSON")
}

#[test]
fn every_wpt_case_parses_as_url_search_params_does() {
    let cases = cases();
    assert!(cases.len() >= 35, "the WPT file has 35 cases");
    for case in &cases {
        let decoded: Vec<(String, String)> = urlencoded::parse(&case.input)
            .map(|(n, v)| (n.decode().into_owned(), v.decode().into_owned()))
            .collect();
        assert_eq!(decoded, case.output, "input {:?}", case.input);
        // The allocation-free paths agree with `decode`.
        for ((name, value), (want_name, want_value)) in
            urlencoded::parse(&case.input).zip(&case.output)
        {
            assert!(name.decodes_to(want_name), "{:?}", case.input);
            assert!(value.decodes_to(want_value), "{:?}", case.input);
            assert_eq!(name.chars().collect::<String>(), *want_name);
            assert_eq!(&value.to_string(), want_value);
        }
    }
}

#[test]
fn hit_query_pairs_follow_the_same_rules() {
    for case in cases() {
        // A query containing '#' would end at the fragment; none of the WPT inputs has one.
        assert!(!case.input.contains('#'));
        let target = format!(
            "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?{}",
            case.input
        );
        let hit = PixelHit::parse(&target).expect("WPT inputs name no event_type or cb");
        let pairs: Vec<(String, String)> = hit
            .query_pairs()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, case.output, "input {:?}", case.input);
    }
}
