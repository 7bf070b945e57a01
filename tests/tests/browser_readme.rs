//! The README's JavaScript quick starts are true: its one-tag `html` example and its ESM `js`
//! example run as they are written in real headless Chromium (only the CDN address and the
//! pixel base are pointed at loopback servers), and fire `page_load` on landing and
//! `add_to_cart` on the click they show.

mod browser_support;

use browser_support::*;

const README: &str = include_str!("../../README.md");
const CDN: &str = "https://cdn.example/dtpixel/auto.js";
const BASE: &str = "https://dttrk.com";

/// The body of the first fenced block of `lang` in the README's "shop" quick start.
fn readme_block(lang: &str) -> String {
    let section = README
        .split("## Quick start: a shop")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has a quick start for shops");
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).expect("a fenced block") + fence.len();
    let len = section[start..].find("```").expect("a closed block");
    section[start..start + len].to_string()
}

/// `text` with `from` replaced, insisting that `from` is there (so a README edit that changes
/// the example cannot silently leave this test checking nothing).
fn point(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the README example no longer has {from:?}:\n{text}"
    );
    text.replace(from, to)
}

#[test]
fn the_one_tag_example_counts_a_landing_and_a_cart_click() {
    let env = Env::new();
    let html = point(&readme_block("html"), CDN, "/pkg/auto.js");
    let html = point(&html, BASE, &env.base());
    env.shop.page(
        "/tag",
        &format!("<!doctype html><title>shop</title>\n{html}"),
    );
    let browser = env.browser();
    browser
        .goto(&env.shop.url(&format!("/tag?dt_pixel_id={SEED}")))
        .unwrap();
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    browser.click("[data-dt-event=add_to_cart]").unwrap();
    let hits = env.wait_pixels(2);
    assert_eq!(hits[1].target, seed_target(SEED, "add_to_cart"));
}

#[test]
fn the_esm_example_counts_a_landing_and_a_buy_click() {
    let env = Env::new();
    let js_code = point(&readme_block("js"), BASE, &env.base());
    assert!(js_code.contains(r#"from "dtpixel""#), "{js_code}");
    env.shop.page(
        "/esm",
        &format!(
            r#"<!doctype html><title>shop</title>
<script type="importmap">{{"imports": {{"dtpixel": "/pkg/dtpixel.js"}}}}</script>
<button id="buy">Buy</button>
<script type="module">
{js_code}
window.started = true;
</script>"#
        ),
    );
    let browser = env.browser();
    open(&browser, &env.shop.url(&format!("/esm?dt_pixel_id={SEED}")));
    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    browser.click("#buy").unwrap();
    let hits = env.wait_pixels(2);
    assert_eq!(hits[1].target, seed_target(SEED, "add_to_cart"));
    // `persist: "local"` kept the id first-party for later pages.
    let stored = js(&browser, "return JSON.stringify(localStorage)");
    assert!(stored.as_str().unwrap().contains(SEED), "{stored}");
}
