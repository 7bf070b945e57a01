//! Shared set-up of the page-level tests of the browser bundle: a shop server serving test pages
//! and the built `pkg/`, a separate tracker server (another origin) recording pixel GETs, and
//! pages that load the bundle.

#![allow(dead_code)] // each test file uses its own subset

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use dtpixel_tests::browser::{Browser, Options};
use dtpixel_tests::recording_server::{RecordingServer, Request};
use serde_json::{json, Value};

/// The seed's pixel id.
pub const SEED: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";
/// Another valid pixel id.
pub const OTHER: &str = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

/// How long to wait for a request that should come.
pub const ARRIVE: Duration = Duration::from_secs(10);
/// How long to watch for requests that should not come.
pub const QUIET: Duration = Duration::from_millis(700);

static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A page script that collects `console.warn` messages in `window.warnings`, and uncaught
/// errors and rejections in `window.errors` (what [`page_errors`] reads).
pub const COLLECT: &str = r#"window.warnings = []; window.errors = [];
const warn = console.warn.bind(console);
console.warn = (...a) => { window.warnings.push(a.join(" ")); warn(...a); };
window.addEventListener("error", e => window.errors.push(String(e.message)));
window.addEventListener("unhandledrejection", e => window.errors.push(String(e.reason)));"#;

/// A shop, a tracker and the bundle; the tests of one binary run one at a time (shared machine).
pub struct Env {
    pub shop: RecordingServer,
    pub tracker: RecordingServer,
    _serial: MutexGuard<'static, ()>,
}

impl Env {
    /// Fails (does not skip) when `pkg/` or Chromium is missing.
    pub fn new() -> Env {
        let serial = ONE_BROWSER_AT_A_TIME
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        dtpixel_tests::browser::require_browser().unwrap();
        let shop = RecordingServer::start().unwrap();
        shop.serve_pkg().unwrap();
        Env {
            shop,
            tracker: RecordingServer::start().unwrap(),
            _serial: serial,
        }
    }

    /// The tracker's origin, as the `base` option.
    pub fn base(&self) -> String {
        self.tracker.origin()
    }

    /// Serves at `path` a page that runs `pre` (a classic script) and then starts the bundle
    /// with `options` (a JS object literal; `base` defaults to the tracker), with `body` below.
    /// The page sets `window.started` once `start` resolved, and collects warnings and errors.
    pub fn page(&self, path: &str, options: &str, pre: &str, body: &str) {
        self.page_from("/pkg/dtpixel.js", path, options, pre, body);
    }

    /// [`Env::page`] with the bundle imported from `module` instead of `/pkg/dtpixel.js`.
    pub fn page_from(&self, module: &str, path: &str, options: &str, pre: &str, body: &str) {
        let base = self.base();
        self.shop_page(
            path,
            pre,
            &format!(
                r#"<script type="module">
import {{ start }} from "{module}";
window.tracker = await start(Object.assign({{ base: "{base}" }}, {options}));
window.started = true;
</script>"#
            ),
            body,
        );
    }

    /// Serves at `path` a shop page: a classic script that collects warnings and errors
    /// ([`COLLECT`]) and then runs `pre`, then `head` (the tags under test), with `body` below.
    pub fn shop_page(&self, path: &str, pre: &str, head: &str, body: &str) {
        self.shop.page(
            path,
            &format!(
                r#"<!doctype html><meta charset="utf-8"><title>shop</title>
<script>
{COLLECT}
{pre}
</script>
{head}
<body>{body}</body>"#
            ),
        );
    }

    /// Launches Chromium on a fresh profile.
    pub fn browser(&self) -> Browser {
        Browser::launch().unwrap()
    }

    /// Launches Chromium exposing Global Privacy Control, as browsers that send it do
    /// (`navigator.globalPrivacyControl`, set before any page script).
    pub fn browser_with_gpc(&self) -> Browser {
        let browser = self.browser();
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })" }),
            )
            .unwrap();
        browser
    }

    /// The paths the pages requested from the package (`/pkg/…`), in order.
    pub fn package_requests(&self) -> Vec<String> {
        self.shop
            .requests()
            .iter()
            .filter(|r| r.path().starts_with("/pkg/"))
            .map(|r| r.path().to_string())
            .collect()
    }

    /// Launches Chromium with options.
    pub fn browser_with(&self, options: Options) -> Browser {
        Browser::launch_with(options).unwrap()
    }

    /// The `event_type` of each pixel GET so far.
    pub fn events(&self) -> Vec<String> {
        self.tracker
            .pixels()
            .iter()
            .map(|r| r.param("event_type").unwrap_or("").to_string())
            .collect()
    }

    /// Waits for `n` pixel GETs in all.
    pub fn wait_pixels(&self, n: usize) -> Vec<Request> {
        self.tracker.wait_for_pixels(n, ARRIVE).unwrap()
    }
}

/// Navigates and waits until the bundle's `start` resolved.
pub fn open(browser: &Browser, url: &str) {
    browser.goto(url).unwrap();
    wait_started(browser);
}

/// Waits until the page's `start` resolved.
pub fn wait_started(browser: &Browser) {
    browser
        .wait_for(ARRIVE, "start() to resolve", || {
            Ok(
                (browser.execute("return window.started === true", &[])? == json!(true))
                    .then_some(()),
            )
        })
        .unwrap();
}

/// Runs `script` and returns its value.
pub fn js(browser: &Browser, script: &str) -> Value {
    browser.execute(script, &[]).unwrap()
}

/// Errors the page saw (uncaught exceptions, unhandled rejections): must stay empty.
pub fn page_errors(browser: &Browser) -> Value {
    js(browser, "return window.errors")
}

/// The pixel path of the seed's URL shape for `id` and `event`.
pub fn seed_target(id: &str, event: &str) -> String {
    format!("/pixel/{id}/event.gif?event_type={event}")
}
