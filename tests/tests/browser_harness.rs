//! The browser harness itself, against a plain page (no bundle): navigation, scripts, clicks,
//! screenshots, and a profile whose HTTP cache survives a browser restart.

use std::time::Duration;

use dtpixel_tests::browser::{Browser, Options, Profile};
use dtpixel_tests::recording_server::RecordingServer;
use serde_json::json;

const ID: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";

#[test]
fn drives_a_real_page_and_the_cache_survives_a_restart_on_the_same_profile() {
    let server = RecordingServer::start().unwrap();
    let pixel = format!("/pixel/{ID}/event.gif?event_type=page_load");
    server.page(
        "/",
        &format!(
            "<!doctype html><title>harness</title>\
             <button id=b onclick=\"document.title='clicked'\">go</button><input id=q name=query>\
             <img height=\"1\" width=\"1\" style=\"display:none\" src=\"{pixel}\"/>"
        ),
    );
    let profile = Profile::new().unwrap();
    let browser = Browser::launch_with(Options::default().profile(&profile)).unwrap();
    browser.goto(&server.url("/")).unwrap();
    let hits = server.wait_for_pixels(1, Duration::from_secs(10)).unwrap();
    assert_eq!(hits[0].target, pixel);
    assert!(hits[0].header("user-agent").unwrap().contains("Chrome"));

    assert_eq!(browser.title().unwrap(), "harness");
    browser.click("#b").unwrap();
    assert_eq!(browser.title().unwrap(), "clicked");
    let input = browser.find("#q").unwrap();
    input.send_keys("socks").unwrap();
    assert_eq!(
        browser
            .execute("return document.getElementById('q').value", &[])
            .unwrap(),
        json!("socks")
    );
    input.clear().unwrap();
    assert_eq!(browser.find_all("button, input").unwrap().len(), 2);
    assert_eq!(browser.find("#b").unwrap().text().unwrap(), "go");
    assert_eq!(
        browser
            .find("#q")
            .unwrap()
            .attribute("name")
            .unwrap()
            .as_deref(),
        Some("query")
    );
    assert!(browser.page_source().unwrap().contains("id=\"b\""));
    assert_eq!(
        browser
            .execute("return arguments[0] + 1", &[json!(41)])
            .unwrap(),
        json!(42)
    );
    assert_eq!(browser.eval_await("Promise.resolve(7)").unwrap(), json!(7));
    assert!(browser
        .eval_await("Promise.reject(new Error('no'))")
        .is_err());
    let png = browser.screenshot_png().unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // A reload and a restart on the same profile take the stable pixel from the HTTP cache.
    browser.refresh().unwrap();
    browser.quit().unwrap();
    let browser = Browser::launch_with(Options::default().profile(&profile)).unwrap();
    browser.goto(&server.url("/")).unwrap();
    browser
        .wait_for(Duration::from_secs(5), "the page's image", || {
            let done = browser.execute(
                "return document.images[0].complete && document.images[0].naturalWidth",
                &[],
            )?;
            Ok((done == json!(1)).then_some(()))
        })
        .unwrap();
    assert_eq!(server.pixels().len(), 1, "{:?}", server.pixels());

    // A fresh profile has an empty cache.
    let fresh = Browser::launch().unwrap();
    fresh.goto(&server.url("/")).unwrap();
    server.wait_for_pixels(2, Duration::from_secs(10)).unwrap();
}
