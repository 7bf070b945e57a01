//! The seed's flow in real headless Chromium: a creator's link with `?dt_pixel_id=…` lands on a
//! shop page, the bundle fires the hidden `<img>` with exactly the seed's URL shape, the browser
//! cache decides how often it counts (cached vs bust, across reloads on the same profile), and
//! the id follows the shopper to the cart page.

mod browser_support;

use browser_support::*;
use dtpixel::{EventType, ImgTag, PixelHit, PixelId, PixelUrl};
use dtpixel_tests::browser::{Options, Profile};
use serde_json::json;

#[test]
fn landing_fires_page_load_with_the_exact_seed_url_and_tag() {
    let env = Env::new();
    env.page("/product", "{}", "", "<h1>Product</h1>");
    let browser = env.browser();
    open(
        &browser,
        &env.shop.url(&format!("/product?dt_pixel_id={SEED}")),
    );

    let hits = env.wait_pixels(1);
    assert_eq!(hits[0].method, "GET");
    assert_eq!(hits[0].target, seed_target(SEED, "page_load"));
    // The Rust side reads the hit back; the image request carries the landing page as referrer.
    let hit = PixelHit::parse(&hits[0].target).unwrap();
    assert_eq!(hit.pixel_id(), PixelId::parse(SEED).unwrap());
    assert_eq!(hit.event_type(), EventType::PAGE_LOAD);
    assert_eq!(hits[0].header("sec-fetch-dest"), Some("image"));
    assert_eq!(hits[0].header("referer"), Some(env.shop.url("/").as_str()));

    // The element in the page is the seed's tag, as the core writes it.
    let id = PixelId::parse(SEED).unwrap();
    let origin = env.base();
    let base = dtpixel::BaseUrl::parse(&origin).unwrap();
    let url = PixelUrl::new(id, EventType::PAGE_LOAD).base(base);
    let expected = ImgTag::new(&url).to_string().replace("\"/>", "\">");
    assert_eq!(
        js(&browser, "return document.querySelector('img').outerHTML"),
        json!(expected)
    );
    assert_eq!(
        js(
            &browser,
            "return document.querySelector('img').naturalWidth"
        ),
        json!(1)
    );
    // Hidden: it takes no space, so it cannot shift the layout.
    assert_eq!(
        js(
            &browser,
            "const r = document.querySelector('img').getBoundingClientRect(); return [r.width, r.height]"
        ),
        json!([0, 0])
    );
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(page_errors(&browser), json!([]));
    assert_eq!(js(&browser, "return tracker.pixelId()"), json!(SEED));
}

#[test]
fn cached_mode_counts_once_per_profile_and_bust_mode_counts_every_load() {
    let env = Env::new();
    env.page("/cached", "{ mode: 'cached' }", "", "");
    env.page("/bust", "{ mode: 'bust' }", "", "");
    let profile = Profile::new().unwrap();
    let browser = env.browser_with(Options::default().profile(&profile));
    let image_loaded =
        "const i = document.querySelector('img'); return !!i && i.complete && i.naturalWidth == 1";

    // Cached: the first visit requests the stable URL, reloads and revisits take it from cache.
    open(
        &browser,
        &env.shop.url(&format!("/cached?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(1);
    for _ in 0..2 {
        browser.refresh().unwrap();
        wait_started(&browser);
        browser
            .wait_for(ARRIVE, "the cached pixel", || {
                Ok((browser.execute(image_loaded, &[])? == json!(true)).then_some(()))
            })
            .unwrap();
    }
    open(
        &browser,
        &env.shop.url(&format!("/cached?dt_pixel_id={SEED}")),
    );
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(env.tracker.pixels().len(), 1);
    let cached = &env.tracker.pixels()[0];
    assert_eq!(cached.param("cb"), None);

    // The same profile after a browser restart still has it cached.
    browser.quit().unwrap();
    let browser = env.browser_with(Options::default().profile(&profile));
    open(
        &browser,
        &env.shop.url(&format!("/cached?dt_pixel_id={SEED}")),
    );
    assert!(env.tracker.pixels_after(QUIET).is_empty());

    // Bust: every load requests a new URL (a fresh random cb), reloads included.
    open(
        &browser,
        &env.shop.url(&format!("/bust?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(2);
    browser.refresh().unwrap();
    env.wait_pixels(3);
    open(
        &browser,
        &env.shop.url(&format!("/bust?dt_pixel_id={SEED}")),
    );
    let hits = env.wait_pixels(4);
    let cbs: Vec<&str> = hits[1..].iter().map(|r| r.param("cb").unwrap()).collect();
    for (hit, cb) in hits[1..].iter().zip(&cbs) {
        assert_eq!(
            hit.target,
            format!("{}&cb={cb}", seed_target(SEED, "page_load"))
        );
        assert_eq!(cb.len(), 16);
        assert!(cb.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert!(cbs[0] != cbs[1] && cbs[1] != cbs[2] && cbs[0] != cbs[2]);
    assert_eq!(page_errors(&browser), json!([]));
}

#[test]
fn the_id_follows_the_shopper_to_a_second_page_and_a_new_link_replaces_it() {
    let env = Env::new();
    let cart = r#"<button id="add" data-dt-event="add_to_cart"><span>Add to cart</span></button>"#;
    // Session persistence (the default).
    env.page("/landing", "{}", "", "");
    // The cart pages fire only the click.
    env.page("/cart", "{ autoPageLoad: false }", "", cart);
    // Local persistence with a TTL, and none (in bust mode: the cached URLs above would be
    // served from the browser cache, without a request).
    let local = "{ persist: 'local', ttlDays: 7, mode: 'bust' }";
    let local_cart = "{ persist: 'local', ttlDays: 7, mode: 'bust', autoPageLoad: false }";
    env.page("/l/landing", local, "", "");
    env.page("/l/cart", local_cart, "", cart);
    env.page("/n/landing", "{ persist: 'none', mode: 'bust' }", "", "");
    let none_cart = "{ persist: 'none', mode: 'bust', autoPageLoad: false }";
    env.page("/n/cart", none_cart, "", cart);
    let browser = env.browser();

    open(
        &browser,
        &env.shop.url(&format!("/landing?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(1);
    open(&browser, &env.shop.url("/cart"));
    browser.click("#add span").unwrap();
    let hits = env.wait_pixels(2);
    assert_eq!(hits[1].target, seed_target(SEED, "add_to_cart"));

    // A new creator's link replaces the remembered id.
    open(
        &browser,
        &env.shop.url(&format!("/landing?dt_pixel_id={OTHER}")),
    );
    env.wait_pixels(3);
    open(&browser, &env.shop.url("/cart"));
    browser.click("#add").unwrap();
    let hits = env.wait_pixels(4);
    assert_eq!(hits[3].target, seed_target(OTHER, "add_to_cart"));

    // local: stored with an expiry; an expired entry is dropped and fires nothing.
    open(
        &browser,
        &env.shop.url(&format!("/l/landing?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(5);
    let stored = js(&browser, "return localStorage.getItem('dtpixel_id')");
    let (id, expiry) = stored.as_str().unwrap().split_once('|').unwrap();
    assert_eq!(id, SEED);
    let now = js(&browser, "return Date.now()").as_f64().unwrap();
    let days = (expiry.parse::<f64>().unwrap() - now) / 86_400_000.0;
    assert!((6.99..=7.0).contains(&days), "{days}");
    open(&browser, &env.shop.url("/l/cart"));
    browser.click("#add").unwrap();
    let hits = env.wait_pixels(6);
    assert!(hits[5]
        .target
        .starts_with(&format!("{}&cb=", seed_target(SEED, "add_to_cart"))));
    js(
        &browser,
        &format!("localStorage.setItem('dtpixel_id', '{SEED}|' + (Date.now() - 1000))"),
    );
    open(&browser, &env.shop.url("/l/cart"));
    browser.click("#add").unwrap();
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(
        js(&browser, "return localStorage.getItem('dtpixel_id')"),
        json!(null)
    );

    // none: nothing is stored, so the cart page has no id.
    js(&browser, "sessionStorage.clear(); localStorage.clear()");
    open(
        &browser,
        &env.shop.url(&format!("/n/landing?dt_pixel_id={SEED}")),
    );
    env.wait_pixels(7);
    open(&browser, &env.shop.url("/n/cart"));
    browser.click("#add").unwrap();
    assert!(env.tracker.pixels_after(QUIET).is_empty());
    assert_eq!(page_errors(&browser), json!([]));
}
