//! The core's inline tag (`dtpixel::InlineTag`) in real headless Chromium: it fires the
//! landing's `page_load` itself, exactly as `auto.js` would (same ids, same URL, same holds),
//! even when `auto.js` never arrives, and `auto.js` then does the rest without counting twice.

mod browser_support;

use browser_support::*;
use dtpixel::{BaseUrl, EventType, InlineTag, PixelId, PixelUrl};
use dtpixel_tests::browser::Browser;
use serde_json::{json, Value};

/// Serves at `path` a page with the inline tag in its head (base: the tracker; auto.js from
/// `src` on the shop), after a classic script running `pre`, with `body` below.
fn inline_page(env: &Env, path: &str, src: &str, options: &[(&str, &str)], pre: &str, body: &str) {
    let base = env.base();
    let src = env.shop.url(src);
    let mut all = vec![("base", base.as_str())];
    all.extend_from_slice(options);
    let tag = InlineTag::new(&src, &all).unwrap();
    env.shop_page(path, pre, &tag.to_string(), body);
}

/// Waits until auto.js, loaded by the inline tag, has started (the queue became the tracker).
fn wait_auto(browser: &Browser) {
    browser
        .wait_for(ARRIVE, "auto.js to start", || {
            let ready =
                browser.execute("return !!(window.dtpixel && window.dtpixel.pixelId)", &[])?;
            Ok((ready == json!(true)).then_some(()))
        })
        .unwrap();
}

const ADD: &str = "<button id=add data-dt-event=add_to_cart>Add</button>";

#[test]
fn the_inline_tag_fires_the_landing_by_itself_and_auto_js_does_the_rest_without_repeating_it() {
    let env = Env::new();
    inline_page(&env, "/shop", "/pkg/auto.js", &[], "", ADD);
    // auto.js blocked or down: the landing still counts, and nothing throws into the page.
    inline_page(&env, "/blocked", "/missing/auto.js", &[], "", ADD);
    let browser = env.browser();
    browser
        .goto(&env.shop.url(&format!("/blocked?dt_pixel_id={SEED}")))
        .unwrap();
    assert_eq!(env.wait_pixels(1)[0].target, seed_target(SEED, "page_load"));
    assert_eq!(page_errors(&browser), json!([]));

    env.tracker.clear();
    browser
        .goto(&env.shop.url(&format!("/shop?dt_pixel_id={OTHER}")))
        .unwrap();
    assert_eq!(
        env.wait_pixels(1)[0].target,
        seed_target(OTHER, "page_load")
    );
    wait_auto(&browser);
    assert_eq!(js(&browser, "return dtpixel.pixelId()"), json!(OTHER));
    // auto.js knows the page_load went out: it does not send its own.
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    browser.click("#add").unwrap();
    assert_eq!(
        env.wait_pixels(2)[1].target,
        seed_target(OTHER, "add_to_cart")
    );
    // auto.js stored the landing's id: a later page without the parameter is attributed.
    browser.goto(&env.shop.url("/shop")).unwrap();
    wait_auto(&browser);
    assert_eq!(js(&browser, "return dtpixel.pixelId()"), json!(OTHER));
    // (Its add_to_cart URL is the one already sent, which the browser's cache answers: an
    // event counts once per person in cached mode. Another event goes out.)
    env.tracker.pixels_after(QUIET);
    env.tracker.clear();
    js(&browser, "dtpixel.push(['track', 'checkout'])");
    assert_eq!(env.wait_pixels(1)[0].target, seed_target(OTHER, "checkout"));
    assert_eq!(page_errors(&browser), json!([]));
}

/// Strings next to a valid id: every one-character change at every position, other lengths,
/// and the other UUID spellings, which the core refuses.
fn near_ids() -> Vec<String> {
    let mut all = vec![SEED.to_string(), SEED.to_uppercase(), OTHER.to_string()];
    for i in 0..SEED.len() {
        for c in ['g', 'G', '-', 'F', '0', ' ', '\u{ff10}', '%'] {
            let mut s = SEED.to_string();
            s.replace_range(i..i + 1, &c.to_string());
            all.push(s);
        }
        all.push(format!("{}{}", &SEED[..i], &SEED[i + 1..]));
    }
    let simple = SEED.replace('-', "");
    all.extend([
        format!("{SEED}a"),
        format!("{SEED}\n"),
        format!(" {SEED}"),
        format!("{{{SEED}}}"),
        format!("urn:uuid:{SEED}"),
        simple.clone(),
        format!("{simple}0000"),
        String::new(),
    ]);
    all
}

#[test]
fn the_inline_tag_accepts_exactly_the_ids_the_core_accepts_and_sends_the_cores_url() {
    let env = Env::new();
    inline_page(&env, "/shop", "/pkg/auto.js", &[], "", "");
    let browser = env.browser();
    browser.goto(&env.shop.url("/shop")).unwrap();
    // The tag's own check, run in the browser on each string, against the core's parser.
    let html = InlineTag::new("https://cdn.example/auto.js", &[])
        .unwrap()
        .to_string();
    let start = html.find("&&/^").unwrap() + 3;
    let end = start + html[start..].find("$/i.test(v)").unwrap() + 1;
    let pattern = &html[start..end];
    let ids = near_ids();
    let verdicts = browser
        .execute(
            "const re = new RegExp(arguments[0], 'i'); return arguments[1].map(s => re.test(s));",
            &[json!(pattern), json!(ids)],
        )
        .unwrap();
    let verdicts = verdicts.as_array().unwrap();
    assert_eq!(verdicts.len(), ids.len());
    let differ: Vec<(&String, &Value)> = ids
        .iter()
        .zip(verdicts)
        .filter(|(s, v)| **v != json!(PixelId::parse(s).is_ok()))
        .collect();
    assert!(
        differ.is_empty(),
        "the tag and the core disagree on {differ:?}"
    );
    // Not vacuous: the ids are taken, the other spellings of a UUID refused.
    assert!(verdicts[..3].iter().all(|v| *v == json!(true)));
    assert!(verdicts[verdicts.len() - 8..]
        .iter()
        .all(|v| *v == json!(false)));

    // An id in capitals is sent as the core writes it.
    browser
        .goto(
            &env.shop
                .url(&format!("/shop?dt_pixel_id={}", SEED.to_uppercase())),
        )
        .unwrap();
    let hit = &env.wait_pixels(1)[0];
    let base = env.base();
    let expected = PixelUrl::new(PixelId::parse(SEED).unwrap(), EventType::PAGE_LOAD)
        .base(BaseUrl::parse(&base).unwrap())
        .to_string();
    assert_eq!(format!("{base}{}", hit.target), expected);
    wait_auto(&browser);
    assert!(env.tracker.pixels_after(QUIET).is_empty());
}

#[test]
fn the_inline_tag_holds_back_what_auto_js_holds_back() {
    let env = Env::new();
    inline_page(&env, "/shop", "/pkg/auto.js", &[], "", "");
    inline_page(
        &env,
        "/later",
        "/pkg/auto.js",
        &[],
        r#"window.dtpixel = window.dtpixel || []; dtpixel.push(["consent", false]);"#,
        "",
    );
    inline_page(
        &env,
        "/ignore",
        "/pkg/auto.js",
        &[("respectPrivacy", "false")],
        "",
        "",
    );
    let browser = env.browser();
    // An invalid id: nothing, from the tag or from auto.js.
    let bad = SEED.replace('d', "x");
    browser
        .goto(&env.shop.url(&format!("/shop?dt_pixel_id={bad}")))
        .unwrap();
    wait_auto(&browser);
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    // A consent(false) queued before the tag: nothing until consent(true), then one page_load.
    browser
        .goto(&env.shop.url(&format!("/later?dt_pixel_id={SEED}")))
        .unwrap();
    wait_auto(&browser);
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    js(&browser, "dtpixel.push(['consent', true])");
    assert_eq!(env.wait_pixels(1)[0].target, seed_target(SEED, "page_load"));
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(page_errors(&browser), json!([]));
    drop(browser);

    // Global Privacy Control: nothing, unless respectPrivacy is off.
    env.tracker.clear();
    let browser = env.browser_with_gpc();
    browser
        .goto(&env.shop.url(&format!("/shop?dt_pixel_id={SEED}")))
        .unwrap();
    wait_auto(&browser);
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    browser
        .goto(&env.shop.url(&format!("/ignore?dt_pixel_id={SEED}")))
        .unwrap();
    assert_eq!(env.wait_pixels(1)[0].target, seed_target(SEED, "page_load"));
    wait_auto(&browser);
    assert!(env.tracker.pixels_after(QUIET).is_empty());
}

#[test]
fn in_bust_mode_the_inline_tag_counts_every_load_once_with_the_cores_cache_buster_shape() {
    let env = Env::new();
    inline_page(&env, "/shop", "/pkg/auto.js", &[("mode", "bust")], "", "");
    let browser = env.browser();
    for _ in 0..2 {
        browser
            .goto(&env.shop.url(&format!("/shop?dt_pixel_id={SEED}")))
            .unwrap();
        wait_auto(&browser);
    }
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    let hits = env.tracker.pixels();
    assert_eq!(hits.len(), 2);
    let tokens: Vec<&str> = hits.iter().map(|h| h.param("cb").unwrap()).collect();
    for (hit, cb) in hits.iter().zip(&tokens) {
        assert!(hit
            .target
            .starts_with(&format!("{}&cb=", seed_target(SEED, "page_load"))));
        // The core's random cache-buster: 16 lowercase hex digits.
        assert!(
            cb.len() == 16
                && cb
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{cb}"
        );
    }
    assert_ne!(tokens[0], tokens[1]);
}

#[test]
fn under_a_content_security_policy_the_hash_dtpixel_prints_lets_the_tag_run() {
    let env = Env::new();
    let src = env.shop.url("/pkg/auto.js");
    let base = env.base();
    let cli = |extra: &[&str]| {
        let out = dtpixel_tests::collector::dtpixel()
            .args([
                "inline-tag",
                "--src",
                &src,
                "--option",
                &format!("base={base}"),
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string()
    };
    let tag = cli(&[]);
    let hash = cli(&["--csp-hash"]);
    let other = cli(&["--option", "mode=bust", "--csp-hash"]);
    // No 'unsafe-inline': only the script with that hash runs, and auto.js from the shop.
    for (path, allowed) in [("/csp", &hash), ("/wrong", &other)] {
        let policy = format!(
            "script-src {allowed} {} 'wasm-unsafe-eval'",
            env.shop.origin()
        );
        env.shop.page(
            path,
            &format!(
                r#"<!doctype html><meta charset="utf-8"><title>shop</title>
<meta http-equiv="Content-Security-Policy" content="{policy}">
{tag}"#
            ),
        );
    }
    let browser = env.browser();
    browser
        .goto(&env.shop.url(&format!("/csp?dt_pixel_id={SEED}")))
        .unwrap();
    assert_eq!(env.wait_pixels(1)[0].target, seed_target(SEED, "page_load"));
    wait_auto(&browser);
    // Another tag's hash does not allow this one: nothing runs, nothing fires.
    browser
        .goto(&env.shop.url(&format!("/wrong?dt_pixel_id={OTHER}")))
        .unwrap();
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(
        js(&browser, "return typeof window.dtpixel"),
        json!("undefined")
    );
}

#[test]
fn without_auto_js_the_tag_fires_the_landing_and_the_pages_own_start_does_the_rest() {
    let env = Env::new();
    let base = env.base();
    let options = [("base", base.as_str()), ("mode", "bust")];
    let tag = InlineTag::without_auto_js(&options).unwrap().to_string();
    // The tag's script runs first, then the page's own module imports dtpixel and starts it.
    let script = tag
        .strip_prefix("<script>")
        .and_then(|t| t.strip_suffix("</script>"));
    env.page("/app", "{ mode: 'bust' }", script.unwrap(), ADD);
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/app?dt_pixel_id={SEED}")));
    // Bust mode: a second page_load from start() would be a second request.
    assert!(env.wait_pixels(1)[0]
        .target
        .starts_with(&format!("{}&cb=", seed_target(SEED, "page_load"))));
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(js(&browser, "return tracker.pixelId()"), json!(SEED));
    browser.click("#add").unwrap();
    assert!(env.wait_pixels(2)[1]
        .target
        .contains("event_type=add_to_cart&cb="));
    // Nothing but the page's own import came from the package.
    assert_eq!(env.package_requests(), ["/pkg/dtpixel.js"]);
    assert_eq!(page_errors(&browser), json!([]));
}

#[test]
fn with_transport_keepalive_the_landing_goes_by_fetch_as_auto_js_would_send_it() {
    let env = Env::new();
    inline_page(
        &env,
        "/shop",
        "/pkg/auto.js",
        &[("transport", "keepalive")],
        "",
        ADD,
    );
    let browser = env.browser();
    browser
        .goto(&env.shop.url(&format!("/shop?dt_pixel_id={SEED}")))
        .unwrap();
    let hit = &env.wait_pixels(1)[0];
    assert_eq!(hit.target, seed_target(SEED, "page_load"));
    // A fetch, not an image: no <img> in the page, and the browser says so.
    assert_eq!(hit.header("sec-fetch-dest"), Some("empty"));
    wait_auto(&browser);
    assert_eq!(js(&browser, "return document.images.length"), json!(0));
    browser.click("#add").unwrap();
    let hits = env.wait_pixels(2);
    assert_eq!(hits[1].target, seed_target(SEED, "add_to_cart"));
    assert_eq!(hits[1].header("sec-fetch-dest"), Some("empty"));
}
