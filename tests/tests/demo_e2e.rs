//! End to end in real headless Chromium (issue 4): a shopper lands on the demo shop through a
//! creator's link, continues to the cart, adds to cart, reloads in cached and in cache-busting
//! mode, and `/api/report` shows exactly the expected counts and visitors. A screenshot of
//! `/report` is saved as `target/e2e/report.png`.
//!
//! Needs the browser package (`cargo xtask pkg`; `cargo xtask test` builds it first) and
//! Chromium with chromedriver; without them the test fails, it does not pass.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dtpixel_tests::browser::{require_browser, Browser, Options};
use dtpixel_tests::collector::{counts, Collector};
use dtpixel_tests::recording_server::require_pkg;
use serde_json::Value;

/// The first demo creator (examples/server/src/demo.rs).
const AVA: &str = "3f2b6c1e-8a4d-4f5e-9b7a-1c2d3e4f5a6b";
const LEO: &str = "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

/// Waits until Ava's `(page_load, add_to_cart)` counts are `expected`, then checks that they
/// stay so (no late extra hit).
fn expect(c: &Collector, expected: [(u64, u64); 2], step: &str) -> Value {
    let read = || {
        let report = c.report("");
        let now = [
            counts(&report, AVA, "page_load").unwrap_or_default(),
            counts(&report, AVA, "add_to_cart").unwrap_or_default(),
        ];
        (report, now)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, now) = read();
        if now == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: expected (page_load, add_to_cart) = {expected:?}, found {now:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(700));
    let (report, now) = read();
    assert_eq!(now, expected, "{step}: a late extra hit");
    report
}

/// Waits for the page to have loaded and the bundle to have started.
fn settle(browser: &Browser) {
    browser
        .wait_for(Duration::from_secs(20), "the page and the bundle", || {
            let v = browser.execute(
                "return document.readyState == 'complete' && !!(window.dtpixel && window.dtpixel.pixelId)",
                &[],
            )?;
            Ok(v.as_bool().unwrap_or(false).then_some(()))
        })
        .expect("the bundle started (is pkg/ built?)");
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

#[test]
fn demo_shop_to_report_in_headless_chromium() {
    require_browser().expect("a browser");
    let pkg = require_pkg().expect("the browser package");
    let pkg = pkg.to_str().unwrap();
    // HeadlessChrome is on the bot list: count it, as a shopper would be.
    let c = Collector::start(&["--demo", "--pkg-dir", pkg, "--count-bot", "headlesschrome"]);
    let origin = c.origin();
    let browser = Browser::launch_with(Options::default().arg("--window-size=1200,1700"))
        .expect("headless Chromium");

    // The creators page lists tracking links; the shopper clicks Ava's.
    browser
        .goto(&format!("{origin}/demo/creators.html"))
        .unwrap();
    let link = browser.find("a.track").unwrap();
    let href = link.attribute("href").unwrap().unwrap();
    assert_eq!(href, format!("/demo/?dt_pixel_id={AVA}"));
    link.click().unwrap();
    browser
        .wait_for(Duration::from_secs(10), "the product page", || {
            Ok(browser.current_url()?.contains("dt_pixel_id").then_some(()))
        })
        .unwrap();
    settle(&browser);
    assert_eq!(
        browser
            .execute("return window.dtpixel.pixelId()", &[])
            .unwrap(),
        AVA
    );
    expect(&c, [(1, 1), (0, 0)], "landing (cached page_load)");

    // On to the cart: the page-load pixel is the same URL, so the browser's cache answers it.
    browser.click("#go-to-cart").unwrap();
    browser
        .wait_for(Duration::from_secs(10), "the cart page", || {
            Ok(browser
                .current_url()?
                .contains("/demo/cart.html")
                .then_some(()))
        })
        .unwrap();
    settle(&browser);
    expect(&c, [(1, 1), (0, 0)], "the cart page in cached mode");
    browser.click("#add-to-cart").unwrap();
    let status = browser.find("#status").unwrap().text().unwrap();
    assert!(status.contains("Added"), "{status}");
    expect(&c, [(1, 1), (1, 1)], "add to cart (cached)");

    // Reload in cached mode: nothing new is counted.
    browser.refresh().unwrap();
    settle(&browser);
    expect(&c, [(1, 1), (1, 1)], "reload in cached mode");

    // Cache-busting mode counts every load and every click.
    browser
        .goto(&format!("{origin}/demo/cart.html?mode=bust"))
        .unwrap();
    settle(&browser);
    expect(&c, [(2, 1), (1, 1)], "the cart page in bust mode");
    browser.refresh().unwrap();
    settle(&browser);
    expect(&c, [(3, 1), (1, 1)], "reload in bust mode");
    browser.click("#add-to-cart").unwrap();
    let report = expect(&c, [(3, 1), (2, 1)], "add to cart (bust)");

    // Exactly: one person, three page loads, two cart adds; nobody else's numbers moved.
    let ava = report["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pixel_id"] == AVA)
        .unwrap();
    assert_eq!(
        ava,
        &serde_json::json!({
            "pixel_id": AVA,
            "events": {"page_load": {"count": 3, "visitors": 1}, "add_to_cart": {"count": 2, "visitors": 1}},
            "conversion": 1.0
        })
    );
    assert_eq!(counts(&report, LEO, "page_load"), Some((0, 0)));
    assert_eq!(
        report["pixels"][0]["pixel_id"], AVA,
        "the busiest creator first"
    );

    // The report page, as a brand manager sees it.
    browser.goto(&format!("{origin}/report")).unwrap();
    let heading = browser.find("h1").unwrap().text().unwrap();
    assert_eq!(heading, "Creator report");
    let page = browser
        .execute("return document.body.innerText", &[])
        .unwrap();
    let page = page.as_str().unwrap();
    assert!(
        page.contains("Ava Stone") && page.contains("100.0%"),
        "{page}"
    );
    let dir = target_dir().join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("report.png");
    browser.save_screenshot(&shot).unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    eprintln!("screenshot of /report: {}", shot.display());
}
