//! Events in real headless Chromium: declarative `data-dt-event` clicks, `track()`, keepalive
//! delivery across a navigation, the pre-load queue, SPA page views and the one-tag `auto.js`.

mod browser_support;

use std::time::Duration;

use browser_support::*;
use serde_json::json;

#[test]
fn data_dt_event_clicks_fire_and_cached_mode_never_repeats_a_url_in_a_page() {
    let env = Env::new();
    let body = r#"
<button id="cart" data-dt-event="add_to_cart"><b id="inner">Add</b></button>
<a id="signup" href="javascript:void 0" data-dt-event="newsletter_signup">Sign up</a>
<button id="bad" data-dt-event="Bad-Name">Bad</button>
<button id="plain">No event</button>"#;
    env.page("/c", "{ autoPageLoad: false, debug: true }", "", body);
    env.page("/b", "{ autoPageLoad: false, mode: 'bust' }", "", body);
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/c?dt_pixel_id={SEED}")));
    browser.click("#inner").unwrap();
    browser.click("#signup").unwrap();
    let hits = env.wait_pixels(2);
    assert_eq!(hits[0].target, seed_target(SEED, "add_to_cart"));
    assert_eq!(hits[1].target, seed_target(SEED, "newsletter_signup"));
    // Cached mode: the same URL again in this page is not requested again; an invalid event
    // name and a plain button fire nothing, and the page sees no error.
    browser.click("#cart").unwrap();
    browser.click("#bad").unwrap();
    browser.click("#plain").unwrap();
    js(
        &browser,
        "tracker.track('add_to_cart'); tracker.track(42); tracker.track()",
    );
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    let warnings = js(&browser, "return window.warnings").to_string();
    assert!(warnings.contains("invalid event type"), "{warnings}");
    assert_eq!(page_errors(&browser), json!([]));

    // Bust mode: every click counts.
    open(&browser, &env.shop.url(&format!("/b?dt_pixel_id={SEED}")));
    browser.click("#cart").unwrap();
    browser.click("#cart").unwrap();
    let hits = env.wait_pixels(4);
    assert_ne!(hits[2].param("cb"), hits[3].param("cb"));
    assert!(hits[3].target.contains("event_type=add_to_cart&cb="));
}

#[test]
fn keepalive_delivers_an_add_to_cart_clicked_right_before_a_navigation() {
    let env = Env::new();
    // The pixel answers slowly, so the request is still in flight when the page goes away.
    env.tracker.set_pixel_delay(Duration::from_millis(800));
    let link = r#"<a id="buy" href="/next" data-dt-event="add_to_cart">Buy now</a>"#;
    env.page(
        "/k",
        "{ transport: 'keepalive', autoPageLoad: false }",
        "",
        link,
    );
    env.shop.page("/next", "<!doctype html><title>next</title>");
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/k?dt_pixel_id={SEED}")));
    browser.click("#buy").unwrap();
    env.shop.wait_for_path("/next", ARRIVE).unwrap();
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "add_to_cart"));
    // A fetch, not an image: same URL, no-cors.
    assert_eq!(hits[0].header("sec-fetch-mode"), Some("no-cors"));
    assert_eq!(hits[0].header("sec-fetch-dest"), Some("empty"));
    browser
        .wait_for(ARRIVE, "the next page", || {
            Ok((browser.title()? == "next").then_some(()))
        })
        .unwrap();
}

#[test]
fn the_pre_load_queue_is_drained_in_order_and_later_pushes_run_at_once() {
    let env = Env::new();
    let pre = r#"window.dtpixel = window.dtpixel || [];
dtpixel.push(["track", "add_to_cart"]);
dtpixel.push(["track", "newsletter_signup"]);
dtpixel.push(["nonsense"]);"#;
    env.page("/q", "{ mode: 'bust' }", pre, "");
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/q?dt_pixel_id={SEED}")));
    env.wait_pixels(3);
    // Fired in queue order (the images in the page), all received (arrival order may differ).
    let fired =
        "return [...document.images].map(i => new URL(i.src).searchParams.get('event_type'))";
    let order = json!(["add_to_cart", "newsletter_signup", "page_load"]);
    assert_eq!(js(&browser, fired), order);
    let mut received = env.events();
    received.sort();
    assert_eq!(received, ["add_to_cart", "newsletter_signup", "page_load"]);
    js(&browser, "dtpixel.push(['track', 'checkout'])");
    env.wait_pixels(4);
    js(&browser, "dtpixel.track('wishlist')");
    env.wait_pixels(5);
    assert_eq!(env.events()[3..], ["checkout", "wishlist"]);
    assert_eq!(page_errors(&browser), json!([]));

    // A consent(false) queued before load holds the page_load back until consent(true).
    let pre = r#"window.dtpixel = window.dtpixel || []; dtpixel.push(["consent", false]);"#;
    env.page("/q2", "{ mode: 'bust' }", pre, "");
    open(&browser, &env.shop.url(&format!("/q2?dt_pixel_id={SEED}")));
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    // Nor is the landing's id stored (the write that follows the page_load respects consent).
    let stored = "return sessionStorage.getItem('dtpixel_id')";
    assert_eq!(js(&browser, stored), json!(null));
    js(&browser, "dtpixel.push(['consent', true])");
    env.wait_pixels(6);
    assert_eq!(env.events()[5], "page_load");
    assert_eq!(js(&browser, stored), json!(format!("{SEED}|0")));
}

#[test]
fn spa_page_views_follow_path_changes_only() {
    let env = Env::new();
    env.page("/app", "{ spa: true, mode: 'bust' }", "", "");
    env.page("/plain", "{ mode: 'bust' }", "", "");
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/app?dt_pixel_id={SEED}")));
    env.wait_pixels(1);
    js(&browser, "history.pushState({}, '', '/app/products')");
    env.wait_pixels(2);
    // Same path, other query or hash: no page view.
    js(&browser, "history.pushState({}, '', '/app/products?sort=price'); history.replaceState({}, '', '/app/products#top')");
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    js(&browser, "history.replaceState({}, '', '/app/cart')");
    env.wait_pixels(3);
    browser.back().unwrap(); // popstate back to /app/products
    env.wait_pixels(4);
    assert_eq!(env.events(), ["page_load"; 4]);

    // Without `spa`, history changes fire nothing.
    open(
        &browser,
        &env.shop.url(&format!("/plain?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(5);
    js(&browser, "history.pushState({}, '', '/elsewhere')");
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(page_errors(&browser), json!([]));
}

#[test]
fn auto_js_starts_from_its_data_attributes() {
    let env = Env::new();
    let base = env.base();
    env.shop.page(
        "/auto",
        &format!(
            r#"<!doctype html><title>auto</title>
<script async src="/pkg/auto.js" data-base="{base}" data-mode="bust"
        data-param="creator" data-persist="none" data-respect-privacy="false"></script>
<button id="add" data-dt-event="add_to_cart">Add</button>"#
        ),
    );
    let browser = env.browser();
    browser
        .goto(&env.shop.url(&format!("/auto?creator={SEED}")))
        .unwrap();
    let hits = env.wait_pixels(1);
    assert!(hits[0]
        .target
        .starts_with(&format!("{}&cb=", seed_target(SEED, "page_load"))));
    // The one tag is one request: auto.js carries the tracker and its wasm core.
    assert_eq!(env.package_requests(), ["/pkg/auto.js"]);
    browser.click("#add").unwrap();
    let hits = env.wait_pixels(2);
    assert!(hits[1].target.contains("event_type=add_to_cart&cb="));
    assert_eq!(
        js(
            &browser,
            "return sessionStorage.length + localStorage.length"
        ),
        json!(0)
    );
}

#[test]
fn auto_js_fires_on_a_page_in_another_encoding_from_a_server_that_names_no_charset() {
    // A classic script is decoded in the page's encoding unless its response names one; auto.js
    // starts with a byte order mark, so that its embedded wasm is still read as UTF-8.
    let env = Env::new();
    let base = env.base();
    let pkg = dtpixel_tests::recording_server::require_pkg().unwrap();
    let auto = std::fs::read(pkg.join("auto.js")).unwrap();
    env.shop
        .file("/cdn/auto.js", "application/javascript", &auto);
    env.shop.file(
        "/latin",
        "text/html; charset=windows-1252",
        format!(
            r#"<!doctype html><title>caf\xe9</title>
<script async src="/cdn/auto.js" data-base="{base}" data-mode="cached"></script>"#
        )
        .as_bytes(),
    );
    let browser = env.browser();
    browser
        .goto(&env.shop.url(&format!("/latin?dt_pixel_id={SEED}")))
        .unwrap();
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    assert_eq!(
        js(&browser, "return document.characterSet"),
        json!("windows-1252")
    );
}

#[test]
fn the_esm_bundle_is_one_file_that_fires_with_nothing_else_served() {
    let env = Env::new();
    // Only dtpixel.js, as a CDN or a bundler that copies just the entry would serve it.
    let solo = dtpixel_tests::browser::temp_dir("dtpixel-solo").unwrap();
    let pkg = dtpixel_tests::recording_server::require_pkg().unwrap();
    std::fs::copy(pkg.join("dtpixel.js"), solo.join("dtpixel.js")).unwrap();
    env.shop.serve_dir("/solo/", &solo);
    env.page_from("/solo/dtpixel.js", "/s", "{}", "", "");
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/s?dt_pixel_id={SEED}")));
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    let fetched: Vec<String> = env
        .shop
        .requests()
        .iter()
        .filter(|r| r.path().starts_with("/solo/"))
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(fetched, ["/solo/dtpixel.js"]);
    assert_eq!(page_errors(&browser), json!([]));
    let _ = std::fs::remove_dir_all(solo);
}

#[test]
fn auto_js_beside_an_imported_bundle_counts_each_event_once_whichever_starts_first() {
    let env = Env::new();
    let base = env.base();
    // Two copies of the tracker in one page: the one tag, and the ESM bundle imported by the
    // page's own code. Bust mode, so that every request the copies made would be counted.
    let tag = format!(
        r#"s = document.createElement("script"); s.type = "module"; s.src = "/pkg/auto.js";
s.dataset.base = "{base}"; s.dataset.mode = "bust"; document.head.appendChild(s);"#
    );
    let esm = format!(
        r#"const {{ start, track }} = await import("/pkg/dtpixel.js");
window.tracker = await start({{ base: "{base}", mode: "bust" }});
window.esmTrack = track;
window.started = true;"#
    );
    // auto.js first (the import waits for the load event, which waits for auto.js), or the
    // import first (auto.js is added once it has started).
    let orders = [
        (
            "/auto-first",
            format!("let s; {tag}\naddEventListener('load', async () => {{ {esm} }});"),
        ),
        (
            "/esm-first",
            format!("let s; (async () => {{ {esm}\n{tag} }})();"),
        ),
    ];
    for (path, script) in &orders {
        env.shop.page(
            path,
            &format!(
                r#"<!doctype html><title>both</title>
<script>window.errors = []; window.addEventListener("error", e => window.errors.push(String(e.message)));</script>
<script>{script}</script>
<button id="add" data-dt-event="add_to_cart">Add</button>"#
            ),
        );
    }
    let browser = env.browser();
    for (path, _) in &orders {
        env.tracker.clear();
        env.shop.clear();
        open(
            &browser,
            &env.shop.url(&format!("{path}?dt_pixel_id={SEED}")),
        );
        env.shop.wait_for_path("/pkg/auto.js", ARRIVE).unwrap();
        env.wait_pixels(1);
        assert!(env.tracker.pixels_after(QUIET).is_empty(), "{path}");
        assert_eq!(env.events(), ["page_load"], "{path}");
        // A click, the ESM export and the queue's object each count once.
        browser.click("#add").unwrap();
        env.wait_pixels(2);
        js(&browser, "esmTrack('add_to_cart')");
        env.wait_pixels(3);
        js(&browser, "dtpixel.push(['track', 'add_to_cart'])");
        env.wait_pixels(4);
        assert!(env.tracker.pixels_after(QUIET).is_empty(), "{path}");
        assert_eq!(
            env.events(),
            ["page_load", "add_to_cart", "add_to_cart", "add_to_cart"],
            "{path}"
        );
        assert_eq!(js(&browser, "return tracker.pixelId()"), json!(SEED));
        // Consent through either copy stops both.
        js(&browser, "tracker.consent(false)");
        browser.click("#add").unwrap();
        js(&browser, "dtpixel.track('add_to_cart')");
        assert!(env.tracker.pixels_after(QUIET).is_empty(), "{path}");
        assert_eq!(page_errors(&browser), json!([]));
        js(&browser, "sessionStorage.clear()");
    }
}
