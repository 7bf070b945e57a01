//! Privacy and robustness in real headless Chromium: Do Not Track and Global Privacy Control,
//! consent, invalid ids, storage that throws, prerendered pages, a page whose policy forbids
//! compiling wasm, and a browser that compiles it only asynchronously.

mod browser_support;

use browser_support::*;
use dtpixel_tests::browser::Options;
use serde_json::json;

#[test]
fn do_not_track_and_global_privacy_control_fire_nothing_unless_told_to_ignore_them() {
    let env = Env::new();
    env.page(
        "/p",
        "{ mode: 'bust' }",
        "",
        "<button id=b data-dt-event=add_to_cart>Add</button>",
    );
    env.page("/ignore", "{ mode: 'bust', respectPrivacy: false }", "", "");
    // Chromium's "Send a Do Not Track request" setting.
    let browser = env.browser_with(Options::default().pref("enable_do_not_track", true));
    open(&browser, &env.shop.url(&format!("/p?dt_pixel_id={SEED}")));
    assert_eq!(js(&browser, "return navigator.doNotTrack"), json!("1"));
    browser.click("#b").unwrap();
    js(&browser, "tracker.track('add_to_cart')");
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(js(&browser, "return sessionStorage.length"), json!(0));
    open(
        &browser,
        &env.shop.url(&format!("/ignore?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(1);
    drop(browser);

    // Global Privacy Control, as browsers that send it expose it (set before any page script).
    let browser = env.browser_with_gpc();
    open(&browser, &env.shop.url(&format!("/p?dt_pixel_id={SEED}")));
    assert_eq!(
        js(&browser, "return navigator.globalPrivacyControl"),
        json!(true)
    );
    browser.click("#b").unwrap();
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    open(
        &browser,
        &env.shop.url(&format!("/ignore?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(2);
    assert_eq!(page_errors(&browser), json!([]));
}

#[test]
fn consent_false_stops_firing_and_forgets_the_id_consent_true_resumes() {
    let env = Env::new();
    let body = "<button id=b data-dt-event=add_to_cart>Add</button>";
    env.page("/c", "{ mode: 'bust' }", "", body);
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/c?dt_pixel_id={SEED}")));
    env.wait_pixels(1);
    assert!(js(&browser, "return sessionStorage.getItem('dtpixel_id')")
        .as_str()
        .unwrap()
        .starts_with(SEED));
    js(&browser, "tracker.consent(false)");
    browser.click("#b").unwrap();
    js(&browser, "tracker.track('add_to_cart')");
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(
        js(
            &browser,
            "return [sessionStorage.getItem('dtpixel_id'), tracker.pixelId()]"
        ),
        json!([null, null])
    );
    // consent(true): the id is read again from the landing URL and firing resumes.
    js(&browser, "tracker.consent(true)");
    browser.click("#b").unwrap();
    let hits = env.wait_pixels(2);
    assert!(hits[1].target.contains("event_type=add_to_cart"));
    assert_eq!(page_errors(&browser), json!([]));
}

#[test]
fn invalid_ids_fire_nothing_and_warn_only_in_debug() {
    let env = Env::new();
    env.page("/d", "{ debug: true }", "", "");
    env.page("/q", "{}", "", "");
    env.page("/custom", "{ param: 'creator' }", "", "");
    let browser = env.browser();
    for bad in [
        "not-a-uuid",
        "784e6454-8c63-44c5-89db-6dcd33abcdeg",
        "784e6454x8c63-44c5-89db-6dcd33abcdef",
        "%3Cscript%3Ealert(1)%3C/script%3E",
        "",
    ] {
        open(&browser, &env.shop.url(&format!("/d?dt_pixel_id={bad}")));
        let warnings = js(&browser, "return window.warnings").to_string();
        assert!(
            warnings.contains("ignoring invalid dt_pixel_id"),
            "{bad}: {warnings}"
        );
        open(&browser, &env.shop.url(&format!("/q?dt_pixel_id={bad}")));
        assert_eq!(js(&browser, "return window.warnings"), json!([]));
        assert_eq!(page_errors(&browser), json!([]));
    }
    // Upper case is the same id; the pixel gets the canonical lowercase form.
    open(
        &browser,
        &env.shop.url(&format!("/custom?dt_pixel_id={SEED}")),
    );
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    open(
        &browser,
        &env.shop
            .url(&format!("/custom?creator={}", SEED.to_uppercase())),
    );
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    assert_eq!(env.tracker.pixels().len(), 1);
}

#[test]
fn storage_that_throws_degrades_to_memory_without_an_exception() {
    let env = Env::new();
    let body = "<button id=b data-dt-event=add_to_cart>Add</button>";
    env.page("/s", "{ mode: 'bust', debug: true }", "", body);
    env.page("/s2", "{ mode: 'bust', persist: 'local' }", "", body);
    // Chromium with cookies blocked: touching localStorage or sessionStorage throws.
    let blocked = Options::default().pref("profile.default_content_setting_values.cookies", 2);
    let browser = env.browser_with(blocked);
    open(&browser, &env.shop.url(&format!("/s?dt_pixel_id={SEED}")));
    assert!(js(
        &browser,
        "try { sessionStorage.length; return false } catch (e) { return true }"
    )
    .as_bool()
    .unwrap());
    env.wait_pixels(1);
    browser.click("#b").unwrap();
    let hits = env.wait_pixels(2);
    assert!(hits[1].target.contains("event_type=add_to_cart"));
    let warnings = js(&browser, "return window.warnings").to_string();
    assert!(warnings.contains("storage unavailable"), "{warnings}");
    open(&browser, &env.shop.url(&format!("/s2?dt_pixel_id={SEED}")));
    env.wait_pixels(3);
    assert_eq!(page_errors(&browser), json!([]));
    // Without storage the id lives only as long as the page.
    open(&browser, &env.shop.url("/s"));
    browser.click("#b").unwrap();
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    drop(browser);

    // Storage whose writes throw (quota exceeded, Safari's old private mode).
    let pre = "Storage.prototype.setItem = () => { throw new DOMException('full', 'QuotaExceededError') };";
    env.page("/full", "{ mode: 'bust' }", pre, body);
    let browser = env.browser();
    open(
        &browser,
        &env.shop.url(&format!("/full?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(4);
    browser.click("#b").unwrap();
    env.wait_pixels(5);
    assert_eq!(page_errors(&browser), json!([]));
}

#[test]
fn a_prerendered_page_fires_only_once_it_is_shown() {
    let env = Env::new();
    let landing = format!("/landing?dt_pixel_id={SEED}");
    env.page("/landing", "{}", "", "<h1>Landing</h1>");
    env.shop.page(
        "/start",
        &format!(
            r#"<!doctype html><title>start</title>
<script type="speculationrules">{{"prerender": [{{"source": "list", "urls": ["{landing}"]}}]}}</script>
<a id="go" href="{landing}">to the shop</a>"#
        ),
    );
    let browser = env.browser();
    browser.goto(&env.shop.url("/start")).unwrap();
    let prerender = env.shop.wait_for_path("/landing", ARRIVE).unwrap();
    assert!(
        prerender
            .header("sec-purpose")
            .unwrap_or("")
            .contains("prerender"),
        "{:?}",
        prerender.headers
    );
    // The prerendered page has loaded the bundle (the wasm core is in it) and started, but
    // sends nothing.
    env.shop.wait_for_path("/pkg/dtpixel.js", ARRIVE).unwrap();
    assert!(env.tracker.pixels_after(QUIET * 2).is_empty());
    browser.click("#go").unwrap();
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    wait_started(&browser);
    assert_eq!(
        js(
            &browser,
            "return [document.prerendering, performance.getEntriesByType('navigation')[0].activationStart > 0]"
        ),
        json!([false, true])
    );
    assert!(env.tracker.pixels_after(QUIET).is_empty());
}

#[test]
fn a_page_that_forbids_compiling_wasm_fires_nothing_and_throws_nothing() {
    let env = Env::new();
    let base = env.base();
    // A Content-Security-Policy without 'wasm-unsafe-eval': the embedded core cannot compile.
    // With it (what the package README tells such pages to add), the tracker works.
    for (path, policy) in [
        ("/w", "script-src 'self' 'unsafe-inline'"),
        (
            "/ok",
            "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'",
        ),
    ] {
        env.shop.page(
            path,
            &format!(
                r#"<!doctype html><meta charset="utf-8"><title>shop</title>
<meta http-equiv="Content-Security-Policy" content="{policy}">
<script>
{COLLECT}
</script>
<script type="module">
import {{ start }} from "/pkg/dtpixel.js";
window.tracker = await start({{ base: "{base}", debug: true }});
window.started = true;
</script>
<button id=b data-dt-event=add_to_cart>Add</button>"#
            ),
        );
    }
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/w?dt_pixel_id={SEED}")));
    browser.click("#b").unwrap();
    js(
        &browser,
        "tracker.track('add_to_cart'); tracker.consent(false)",
    );
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(page_errors(&browser), json!([]));
    let warnings = js(&browser, "return window.warnings").to_string();
    assert!(warnings.contains("did not load"), "{warnings}");

    open(&browser, &env.shop.url(&format!("/ok?dt_pixel_id={SEED}")));
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    assert_eq!(page_errors(&browser), json!([]));
}

#[test]
fn a_browser_that_compiles_wasm_only_asynchronously_still_fires() {
    let env = Env::new();
    // Chromium before its 8 MB limit refused to compile more than 4 KB synchronously on the
    // main thread; this page's WebAssembly.Module refuses everything, as that did.
    let refuse = "WebAssembly.Module = function () { throw new RangeError('WebAssembly.Compile is \
                  disallowed on the main thread, if the buffer size is larger than 4KB'); };";
    env.page(
        "/a",
        "{ mode: 'bust' }",
        refuse,
        "<button id=b data-dt-event=add_to_cart>Add</button>",
    );
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/a?dt_pixel_id={SEED}")));
    let hits = env.wait_pixels(1);
    assert!(hits[0]
        .target
        .starts_with(&format!("{}&cb=", seed_target(SEED, "page_load"))));
    browser.click("#b").unwrap();
    let hits = env.wait_pixels(2);
    assert!(hits[1].target.contains("event_type=add_to_cart&cb="));
    assert_eq!(js(&browser, "return tracker.pixelId()"), json!(SEED));
    assert_eq!(page_errors(&browser), json!([]));
}
