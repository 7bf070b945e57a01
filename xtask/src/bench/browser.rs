//! The browser benchmark: bytes of everything a page loads for our client beside the peers'
//! published npm packages (fetched at bench time with `npm pack`, never committed), and the time
//! from navigation start to the pixel request's start (Resource Timing) in headless Chromium on
//! loopback, for the seed's inline snippet (the floor), our ESM bundle, our `auto.js` and a peer.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dtpixel_tests::browser::{Browser, Options};
use serde_json::{json, Value};

use super::marked_bundle::{self, STEPS};
use super::page_server::PageServer;
use super::report::{count, ratio, verdict, Section, Table};
use super::Mode;
use crate::{run, toolchain};

/// Issue 5's target: our median within 1.5× of the inline snippet's.
const TIME_TARGET: f64 = 1.5;
/// The seed's pixel id.
const PIXEL_ID: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";

/// A peer's npm package and the file a page loads from it (as named in shared/ANCHORS.md).
struct Peer {
    name: &'static str,
    package: &'static str,
    version: &'static str,
    file: &'static str,
}

const PEERS: &[Peer] = &[
    Peer {
        name: "Plausible",
        package: "@plausible-analytics/tracker",
        version: "0.4.6",
        file: "plausible.js",
    },
    Peer {
        name: "Snowplow",
        package: "@snowplow/browser-tracker",
        version: "4.10.1",
        file: "dist/index.umd.min.js",
    },
    Peer {
        name: "Segment",
        package: "@segment/analytics-next",
        version: "1.84.3",
        file: "dist/umd/standalone.js",
    },
    Peer {
        name: "PostHog",
        package: "posthog-js",
        version: "1.449.2",
        file: "dist/array.js",
    },
];

fn loads(mode: Mode) -> usize {
    match mode {
        Mode::Full => 31,
        Mode::Smoke => 3,
    }
}

fn sizes(files: &[PathBuf]) -> Result<(u64, u64), String> {
    let (mut raw, mut gz) = (0, 0);
    for f in files {
        raw += std::fs::metadata(f)
            .map_err(|e| format!("{}: {e}", f.display()))?
            .len();
        gz += crate::pkg::gzip9_len(f)?;
    }
    Ok((raw, gz))
}

/// `npm pack`s a peer's package into `target/bench/npm/` (once) and unpacks it; returns the
/// package directory.
fn fetch_peer(npm: &Path, peer: &Peer) -> Result<PathBuf, String> {
    std::fs::create_dir_all(npm).map_err(|e| e.to_string())?;
    let tarball = npm.join(format!(
        "{}-{}.tgz",
        peer.package.trim_start_matches('@').replace('/', "-"),
        peer.version
    ));
    if !tarball.is_file() {
        run::status(
            Command::new("npm")
                .args([
                    "pack",
                    &format!("{}@{}", peer.package, peer.version),
                    "--silent",
                ])
                .current_dir(npm),
        )?;
    }
    let dir = npm.join(format!("{}-{}", peer.name.to_lowercase(), peer.version));
    if !dir.join("package").join(peer.file).is_file() {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        run::status(
            Command::new("tar")
                .arg("-xzf")
                .arg(&tarball)
                .arg("-C")
                .arg(&dir),
        )?;
    }
    Ok(dir.join("package"))
}

/// The pages measured, each firing one request to the loopback server on load.
struct Variant {
    name: &'static str,
    path: &'static str,
    /// What the measured request's URL contains.
    request: &'static str,
    /// What the page's `<head>` holds besides its charset and title (`ORIGIN` stands for the
    /// loopback server's origin); the body is the same for every page.
    head: &'static str,
}

/// The pages' origin in [`Variant::head`].
const ORIGIN: &str = "ORIGIN";

/// Our pages, as the package README tells shops to load the bundle.
const ESM: usize = 1;
const AUTO: usize = 2;
/// The peers' pages.
const PEER_PAGES: [usize; 2] = [3, 4];
/// The floors for hosted tags: the inline snippet's work as an external file, loaded as `auto.js`
/// is (a classic async script) and as the ESM page loads `dtpixel.js` (imported by a module
/// script, with `modulepreload`).
const FLOOR: usize = 5;
const FLOOR_MODULE: usize = 6;
/// `auto.js` loaded as a module script, as its tag read before it was a classic script.
const AUTO_MODULE: usize = 7;
/// The core's inline tag (`dtpixel inline-tag`): `page_load` fired by the parser, `auto.js`
/// loaded for the rest.
const INLINE_TAG: usize = 8;

/// The ESM page with the core's inline tag for imports (`dtpixel inline-tag --no-auto-js`).
const ESM_INLINE_TAG: usize = 9;

/// [`Variant::head`] of [`INLINE_TAG`]: replaced by the tag the core writes for the page.
const INLINE_TAG_HEAD: &str = "INLINE_TAG";
/// [`Variant::head`] of [`ESM_INLINE_TAG`]: replaced by the tag the core writes for a page
/// importing dtpixel, followed by the [`ESM`] page's head.
const INLINE_TAG_NO_AUTO_JS: &str = "INLINE_TAG_NO_AUTO_JS";

/// The seed's snippet (read dt_pixel_id from the landing URL, inject the hidden <img>): inline
/// in the floor page, and served as `/floor.js` for the external-script floor.
macro_rules! snippet {
    () => {
        "var id = new URLSearchParams(location.search).get('dt_pixel_id');\n\
         if (id) {\n\
           var img = document.createElement('img');\n\
           img.height = 1; img.width = 1; img.style.display = 'none';\n\
           img.src = 'ORIGIN/pixel/' + encodeURIComponent(id) + '/event.gif?event_type=page_load';\n\
           document.head.appendChild(img);\n\
         }\n"
    };
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "inline snippet (the seed's hand-written JS, the floor)",
        path: "/inline.html",
        request: "/pixel/",
        // The seed's snippet: read dt_pixel_id from the landing URL and inject the hidden <img>.
        head: concat!("<script>\n", snippet!(), "</script>"),
    },
    Variant {
        name: "dtpixel ESM bundle (`import { start } from \"dtpixel\"`, with `modulepreload`)",
        path: "/esm.html",
        request: "/pixel/",
        // client-wasm/README.md: an unbundled import gets a modulepreload link.
        head: "<link rel=modulepreload href=/pkg/dtpixel.js>\
               <script type=module async>import { start } from '/pkg/dtpixel.js'; \
               start({ base: 'ORIGIN', mode: 'cached' });</script>",
    },
    Variant {
        name: "dtpixel `auto.js` (one tag)",
        path: "/auto.html",
        request: "/pixel/",
        head: "<script async src=/pkg/auto.js data-base='ORIGIN' data-mode=cached></script>",
    },
    Variant {
        name: "Plausible @plausible-analytics/tracker 0.4.6 (ESM, `init()`)",
        path: "/plausible.html",
        request: "/api/event",
        head: "<script type=module async>import { init } from '/peer/plausible/plausible.js'; \
               init({ domain: 'shop.example', endpoint: 'ORIGIN/api/event', captureOnLocalhost: true });</script>",
    },
    Variant {
        name: "Plausible, loaded as our ESM bundle (with `modulepreload`)",
        path: "/plausible-preload.html",
        request: "/api/event",
        head: "<link rel=modulepreload href=/peer/plausible/plausible.js>\
               <script type=module async>import { init } from '/peer/plausible/plausible.js'; \
               init({ domain: 'shop.example', endpoint: 'ORIGIN/api/event', captureOnLocalhost: true });</script>",
    },
    Variant {
        name: "the inline snippet's code as an external classic script, loaded as `auto.js` is (the floor for the one tag)",
        path: "/floor.html",
        request: "/pixel/",
        // `/floor.js` is the snippet, served as a file.
        head: "<script async src=/floor.js></script>",
    },
    Variant {
        name: "the inline snippet's code imported by a module script, as the ESM page imports `dtpixel.js` (the floor for the import)",
        path: "/floor-module.html",
        request: "/pixel/",
        head: "<link rel=modulepreload href=/floor.js>\
               <script type=module async>import '/floor.js';</script>",
    },
    Variant {
        name: "dtpixel `auto.js` as a module script (`type=module`, which it also supports)",
        path: "/auto-module.html",
        request: "/pixel/",
        head: "<script type=module async src=/pkg/auto.js data-base='ORIGIN' data-mode=cached></script>",
    },
    Variant {
        name: "dtpixel inline tag (`dtpixel inline-tag`: the core's `InlineTag` fires `page_load` from the HTML, then loads `auto.js` for the rest)",
        path: "/inline-tag.html",
        request: "/pixel/",
        head: INLINE_TAG_HEAD,
    },
    Variant {
        name: "dtpixel ESM bundle with the inline tag for imports (`dtpixel inline-tag --no-auto-js`, then the ESM page's import)",
        path: "/esm-inline-tag.html",
        request: "/pixel/",
        head: INLINE_TAG_NO_AUTO_JS,
    },
];

/// Pages with marks inside the script (xtask/src/bench/marked_bundle.rs), loaded in the same
/// rounds as [`VARIANTS`] and reported on their own: the snippet's code as a classic script (the
/// one tag's floor) and `auto.js`.
const PROFILED: &[Variant] = &[
    Variant {
        name: "the snippet's code as a classic script (the one tag's floor), with marks",
        path: "/marked-floor.html",
        request: "/pixel/",
        head: "<script async src=/marked/floor.js></script>",
    },
    Variant {
        name: "`auto.js` (one tag), with marks",
        path: "/marked-auto.html",
        request: "/pixel/",
        head: "<script async src=/marked/auto.js data-base='ORIGIN' data-mode=cached></script>",
    },
];

/// The inline tag for pages served from `origin`: cached mode, pixels to `origin`, and
/// `auto.js` from the package there (or, `with_auto_js` false, nothing loaded).
fn inline_tag(origin: &str, with_auto_js: bool) -> Result<String, String> {
    let src = format!("{origin}/pkg/auto.js");
    let options = [("base", origin), ("mode", "cached")];
    let tag = if with_auto_js {
        dtpixel::InlineTag::new(&src, &options)
    } else {
        dtpixel::InlineTag::without_auto_js(&options)
    };
    tag.map(|t| t.to_string())
        .map_err(|e| format!("the inline tag: {e}"))
}

/// What a variant's `<head>` holds for pages served from `origin`.
fn head_of(variant: &Variant, origin: &str) -> Result<String, String> {
    match variant.head {
        INLINE_TAG_HEAD => inline_tag(origin, true),
        INLINE_TAG_NO_AUTO_JS => Ok(inline_tag(origin, false)? + &head_of(&VARIANTS[ESM], origin)?),
        head => Ok(head.replace(ORIGIN, origin)),
    }
}

/// The whole page of a variant.
fn page_html(variant: &Variant, origin: &str) -> Result<String, String> {
    Ok(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>shop</title>{}</head>\
         <body><h1>Winter sale</h1><p>A product page.</p></body></html>",
        head_of(variant, origin)?
    ))
}

fn pages(server: &PageServer, marked: &Path) -> Result<(), String> {
    let origin = server.origin();
    for v in VARIANTS.iter().chain(PROFILED) {
        server.page(v.path, &page_html(v, &origin)?);
    }
    server.file("/api/event", "text/plain", b"ok");
    let snippet = snippet!().replace(ORIGIN, &origin);
    server.file("/floor.js", "text/javascript", snippet.as_bytes());
    server.file(
        "/marked/floor.js",
        "text/javascript",
        marked_bundle::marked_snippet(&snippet)?.as_bytes(),
    );
    server.file(
        "/marked/auto.js",
        "text/javascript",
        &std::fs::read(marked).map_err(|e| format!("reading {}: {e}", marked.display()))?,
    );
    Ok(())
}

/// What a page loaded: `(what, start, end)` in ms after navigation start.
type Waterfall = Vec<(String, f64, f64)>;

/// Navigates to a page and returns when the measured request started (ms after navigation start)
/// and every resource the page loaded.
fn measure(
    browser: &Browser,
    server: &PageServer,
    variant: &Variant,
    n: usize,
) -> Result<(f64, Waterfall), String> {
    let url = server.url(&format!(
        "{}?dt_pixel_id={PIXEL_ID}&visit={n}",
        variant.path
    ));
    browser.goto(&url).map_err(|e| e.to_string())?;
    let script = "const e = performance.getEntriesByType('resource').find(e => e.name.includes(arguments[0])); \
                  const nav = performance.getEntriesByType('navigation')[0]; \
                  return e ? { start: e.startTime, \
                    all: performance.getEntriesByType('resource').map(r => [r.name, r.startTime, r.responseEnd]) \
                    .concat(performance.getEntriesByType('mark').map(m => [m.name, m.startTime, m.startTime])), \
                    doc: [nav.responseEnd, nav.domInteractive, nav.domContentLoadedEventEnd] } : null;";
    let found = browser
        .wait_for(Duration::from_secs(10), variant.name, || {
            let v = browser.execute(script, &[json!(variant.request)])?;
            Ok((!v.is_null()).then_some(v))
        })
        .map_err(|e| {
            let seen = browser
                .execute(
                    "return performance.getEntriesByType('resource').map(r => r.name).join(' ')",
                    &[],
                )
                .map(|v| v.to_string())
                .unwrap_or_default();
            format!("{}: {e} (the page loaded: {seen})", variant.name)
        })?;
    let start = found["start"]
        .as_f64()
        .ok_or_else(|| format!("no startTime in {found}"))?;
    let ms = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mut waterfall = vec![
        (
            "document response end".to_string(),
            f64::NAN,
            ms(&found["doc"][0]),
        ),
        (
            "document interactive".to_string(),
            f64::NAN,
            ms(&found["doc"][1]),
        ),
        (
            "DOMContentLoaded end".to_string(),
            f64::NAN,
            ms(&found["doc"][2]),
        ),
    ];
    for r in found["all"].as_array().into_iter().flatten() {
        let name = r[0].as_str().unwrap_or_default();
        let path = name.split_once("://").map_or(name, |(_, rest)| {
            rest.find('/').map_or(rest, |i| &rest[i..])
        });
        waterfall.push((path.to_string(), ms(&r[1]), ms(&r[2])));
    }
    Ok((start, waterfall))
}

/// The resources of a waterfall (its first three rows are the document's milestones).
fn names_of(waterfall: &[(String, f64, f64)]) -> Vec<String> {
    waterfall
        .iter()
        .skip(3)
        .map(|(n, _, _)| n.clone())
        .collect()
}

/// `0..len` in an order that depends on `seed` (Fisher-Yates with a xorshift generator).
fn shuffled(len: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for i in (1..len).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

/// The columns of the look inside the marked pages, for one load: when the file arrived, from
/// then to its first statement, each step of [`STEPS`] present (to the next mark present), from
/// `img.src` to the request's start, and that start (ms; NaN where a mark is missing).
fn inside(waterfall: &Waterfall) -> Vec<f64> {
    let find = |what: &str| waterfall.iter().find(|(n, _, _)| n.contains(what));
    let start = |what: &str| find(what).map_or(f64::NAN, |(_, s, _)| *s);
    let arrived = find("/marked/").map_or(f64::NAN, |(_, _, end)| *end);
    let pixel = start("/pixel/");
    let marks: Vec<f64> = STEPS.iter().map(|(m, _)| start(m)).collect();
    let mut row = vec![arrived, start(marked_bundle::RUN) - arrived];
    // Every step but `send`'s (the next column), to the next mark present.
    for (k, &t) in marks[..marks.len() - 1].iter().enumerate() {
        let next = marks[k + 1..].iter().copied().find(|x| !x.is_nan());
        row.push(next.map_or(f64::NAN, |next| next - t));
    }
    row.push(pixel - start(marked_bundle::SEND));
    row.push(pixel);
    row
}

/// Each entry's median start and end over the loads of one page, in the order of the first load.
fn median_waterfall(loads: &[Waterfall]) -> Waterfall {
    let Some(first) = loads.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|(what, _, _)| {
            let (mut starts, mut ends): (Vec<f64>, Vec<f64>) = loads
                .iter()
                .filter_map(|w| w.iter().find(|(n, _, _)| n == what))
                .map(|(_, s, e)| (*s, *e))
                .unzip();
            let m = |v: &mut Vec<f64>| {
                v.retain(|x| !x.is_nan());
                median(v)
            };
            (what.clone(), m(&mut starts), m(&mut ends))
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The package the benchmark measures: `pkg/`, built with `cargo xtask pkg` when the full run
/// starts (or when missing).
fn package(mode: Mode) -> Result<PathBuf, String> {
    let pkg = run::root().join("pkg");
    if mode == Mode::Full || !pkg.join("dtpixel.js").is_file() {
        // Through cargo, not this executable: another build may have replaced it meanwhile.
        run::status(run::cargo().args(["run", "--quiet", "--package", "xtask", "--", "pkg"]))?;
    }
    Ok(pkg)
}

/// Runs the browser benchmarks and returns the report section.
pub fn run(mode: Mode) -> Result<Section, String> {
    toolchain::ensure_apt(&["chromium", "chromium-driver"])?;
    // npm may come with a nodejs that is not Debian's: install Debian's only when there is none.
    if !run::succeeds(Command::new("npm").arg("--version")) {
        toolchain::ensure_apt(&["npm"])?;
    }
    let pkg = package(mode)?;
    let npm = run::root().join("target").join("bench").join("npm");
    let mut peer_dirs = Vec::new();
    for peer in PEERS {
        peer_dirs.push(fetch_peer(&npm, peer)?);
    }

    let server = PageServer::start().map_err(|e| format!("starting the page server: {e}"))?;
    server.serve_dir("/pkg/", &pkg);
    server.serve_dir("/peer/plausible/", &peer_dirs[0]);
    let marked = marked_bundle::build(&mode.out_dir().join("marked"))?;
    pages(&server, &marked)?;
    let browser = Browser::launch_with(
        Options::default().arg("--disable-blink-features=AutomationControlled"),
    )
    .map_err(|e| format!("launching Chromium: {e}"))?;
    // Every load is a first visit: nothing comes from the HTTP cache.
    browser
        .cdp("Network.enable", json!({}))
        .map_err(|e| e.to_string())?;
    browser
        .cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true }))
        .map_err(|e| e.to_string())?;

    // One warm-up load each, then N rounds, interleaved so that noise hits every variant alike.
    let all: Vec<&Variant> = VARIANTS.iter().chain(PROFILED).collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    let mut loaded: Vec<Vec<String>> = vec![Vec::new(); all.len()];
    for (i, v) in all.iter().enumerate() {
        loaded[i] = names_of(&measure(&browser, &server, v, 0)?.1);
    }
    // Every load's waterfall of each page: where the time goes.
    let mut cold_falls: Vec<Vec<Waterfall>> = vec![Vec::new(); all.len()];
    // Each round loads the pages in a new order, so that no page always follows the same one
    // (a page that sends a request as it is left, as Plausible's does, slows the next page).
    for n in 1..=loads(mode) {
        for i in shuffled(all.len(), n as u64) {
            let (start, waterfall) = measure(&browser, &server, all[i], n)?;
            times[i].push(start);
            cold_falls[i].push(waterfall);
        }
    }
    // Then the same rounds with the scripts in the HTTP cache, as on a shopper's next page of the
    // shop: one load each to fill it, then N rounds (pixels and pages are still requested).
    browser
        .cdp(
            "Network.setCacheDisabled",
            json!({ "cacheDisabled": false }),
        )
        .map_err(|e| e.to_string())?;
    let mut warm: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    let mut warm_falls: Vec<Vec<Waterfall>> = vec![Vec::new(); all.len()];
    for v in &all {
        measure(&browser, &server, v, 0)?;
    }
    for n in 1..=loads(mode) {
        for i in shuffled(all.len(), n as u64 + 1000) {
            let (start, waterfall) = measure(&browser, &server, all[i], n)?;
            warm[i].push(start);
            warm_falls[i].push(waterfall);
        }
    }
    drop(browser);
    let waterfalls: Vec<Waterfall> = cold_falls.iter().map(|w| median_waterfall(w)).collect();

    // What each of our pages loaded from the package, as the browser saw it.
    let loaded_files = |i: usize| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = loaded[i]
            .iter()
            .filter_map(|url| {
                url.split_once("/pkg/")
                    .map(|(_, f)| f.split('?').next().unwrap_or(f))
            })
            .map(|f| pkg.join(f))
            .collect();
        files.sort();
        files.dedup();
        files
    };
    let esm_files = loaded_files(ESM);
    let auto_files = loaded_files(AUTO);
    if esm_files.is_empty() || auto_files.is_empty() {
        return Err("the browser loaded nothing from /pkg/".into());
    }
    let names = |files: &[PathBuf]| {
        files
            .iter()
            .filter_map(|f| f.file_name().map(|n| format!("`{}`", n.to_string_lossy())))
            .collect::<Vec<_>>()
            .join(" + ")
    };

    let mut section = Section {
        title: "Browser: bundle bytes and time to pixel (headless Chromium, loopback)".into(),
        commands: vec![
            "cargo xtask pkg   # builds pkg/, the npm package".into(),
            format!(
                "cd target/bench/npm && npm pack {}",
                PEERS
                    .iter()
                    .map(|p| format!("{}@{}", p.package, p.version))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            "gzip -9 -c -n FILE | wc -c   # for every file".into(),
            format!(
                "chromium --headless (via chromedriver, tests/src/browser.rs), HTTP cache disabled, {} loads per page",
                loads(mode)
            ),
        ],
        intro: vec![
            "Bytes are those of the files a page loads for each client: for ours, the files the browser \
             actually fetched from `pkg/` in this run (Resource Timing); for the peers, the published \
             npm package's browser file named in shared/ANCHORS.md, fetched at bench time with `npm pack` \
             into `target/bench/npm/` (never committed). Each file is gzipped on its own (`gzip -9`), as a \
             server would send it."
                .into(),
        ],
        ..Section::default()
    };

    let (esm_raw, esm_gz) = sizes(&esm_files)?;
    let (auto_raw, auto_gz) = sizes(&auto_files)?;
    let mut t = Table::new(
        "Bytes every shopper downloads",
        &[
            "client",
            "files",
            "raw bytes",
            "gzip -9 bytes",
            "gzip vs dtpixel auto.js",
        ],
    );
    t.row(vec![
        "inline snippet".into(),
        "(in the page)".into(),
        "0".into(),
        "0".into(),
        String::new(),
    ]);
    t.row(vec![
        "dtpixel ESM bundle".into(),
        names(&esm_files),
        count(esm_raw as f64),
        count(esm_gz as f64),
        ratio(esm_gz as f64, auto_gz as f64),
    ]);
    t.row(vec![
        "dtpixel auto.js (one tag)".into(),
        names(&auto_files),
        count(auto_raw as f64),
        count(auto_gz as f64),
        "1×".into(),
    ]);
    // The inline tag is in every page's HTML (not cached with a file), before auto.js.
    let tag_file = mode.out_dir().join("inline-tag.html");
    std::fs::write(&tag_file, inline_tag(&server.origin(), true)?)
        .map_err(|e| format!("{}: {e}", tag_file.display()))?;
    let (tag_raw, tag_gz) = sizes(&[tag_file])?;
    t.row(vec![
        "dtpixel inline tag + auto.js".into(),
        format!("(in the page: {tag_raw} B, {tag_gz} B gzipped alone) + `auto.js`"),
        count((tag_raw + auto_raw) as f64),
        count((tag_gz + auto_gz) as f64),
        ratio((tag_gz + auto_gz) as f64, auto_gz as f64),
    ]);
    for (peer, dir) in PEERS.iter().zip(&peer_dirs) {
        let (raw, gz) = sizes(&[dir.join(peer.file)])?;
        t.row(vec![
            format!("{} {}@{}", peer.name, peer.package, peer.version),
            format!("`{}`", peer.file),
            count(raw as f64),
            count(gz as f64),
            ratio(gz as f64, auto_gz as f64),
        ]);
    }
    section.tables.push(t);

    let medians: Vec<f64> = times.iter_mut().map(|t| median(t)).collect();
    // The fastest peer page, and whether one of ours meets issue 5's target.
    let best_peer = PEER_PAGES
        .iter()
        .copied()
        .min_by(|&a, &b| medians[a].total_cmp(&medians[b]))
        .unwrap_or(PEER_PAGES[0]);
    let met = |i: usize| {
        medians[i] <= TIME_TARGET * medians[0]
            && PEER_PAGES.iter().all(|&p| medians[i] < medians[p])
    };
    let mut t = Table::new(
        &format!(
            "Time from navigation start to the pixel request's start (Resource Timing `startTime`), median of {} loads each, nothing in the HTTP cache (a shopper landing from a creator's link)",
            loads(mode)
        ),
        &["page", "median", "min", "max", "vs inline snippet", "target"],
    );
    for (i, v) in VARIANTS.iter().enumerate() {
        let min = times[i].first().copied().unwrap_or(f64::NAN);
        let max = times[i].last().copied().unwrap_or(f64::NAN);
        let target = if [ESM, AUTO, INLINE_TAG, ESM_INLINE_TAG].contains(&i) {
            format!(
                "≤ {TIME_TARGET}× inline, ahead of both Plausible pages: {}",
                verdict(met(i))
            )
        } else {
            String::new()
        };
        t.row(vec![
            v.name.into(),
            format!("{:.1} ms", medians[i]),
            format!("{min:.1} ms"),
            format!("{max:.1} ms"),
            ratio(medians[i], medians[0]),
            target,
        ]);
    }
    section.tables.push(t);
    let warm_medians: Vec<f64> = warm.iter_mut().map(|t| median(t)).collect();
    let mut t = Table::new(
        &format!(
            "The same, with the scripts in the HTTP cache (a shopper's next page of the shop; scripts served `max-age=31536000, immutable`, as a CDN serves a versioned file), median of {} loads each",
            loads(mode)
        ),
        &["page", "median", "min", "max", "vs inline snippet"],
    );
    for (i, v) in VARIANTS.iter().enumerate() {
        t.row(vec![
            v.name.into(),
            format!("{:.1} ms", warm_medians[i]),
            format!("{:.1} ms", warm[i].first().copied().unwrap_or(f64::NAN)),
            format!("{:.1} ms", warm[i].last().copied().unwrap_or(f64::NAN)),
            ratio(warm_medians[i], warm_medians[0]),
        ]);
    }
    section.tables.push(t);
    let mut columns = vec![
        "page",
        "HTTP cache",
        "file arrived",
        "→ its first statement",
    ];
    columns.extend(STEPS[..STEPS.len() - 1].iter().map(|(_, what)| *what));
    columns.extend(["`img.src` → request starts", "pixel request starts"]);
    let mut t = Table::new(
        &format!(
            "Inside the one tag: the snippet's code and `auto.js` with a `performance.mark` at each step \
             (xtask/src/bench/marked_bundle.rs), loaded in the same rounds; median over {} loads of each \
             column, ms",
            loads(mode)
        ),
        &columns,
    );
    // inside_medians[page][cold, cached][column]
    let mut inside_medians = vec![[Vec::new(), Vec::new()]; PROFILED.len()];
    for (k, v) in PROFILED.iter().enumerate() {
        let i = VARIANTS.len() + k;
        for (c, (cache, falls)) in [("none", &cold_falls[i]), ("scripts cached", &warm_falls[i])]
            .into_iter()
            .enumerate()
        {
            let rows: Vec<Vec<f64>> = falls.iter().map(inside).collect();
            let medians: Vec<f64> = (0..rows.first().map_or(0, Vec::len))
                .map(|col| {
                    let mut column: Vec<f64> = rows
                        .iter()
                        .map(|r| r[col])
                        .filter(|x| !x.is_nan())
                        .collect();
                    median(&mut column)
                })
                .collect();
            let mut cells = vec![v.name.to_string(), cache.to_string()];
            cells.extend(medians.iter().map(|m| {
                if m.is_nan() {
                    String::new()
                } else {
                    format!("{m:.1}")
                }
            }));
            t.row(cells);
            inside_medians[k][c] = medians;
        }
    }
    section.tables.push(t);
    // Columns: arrived, → first statement, the steps (from 2, one per mark but `send`), …
    let step = |mark: &str| 2 + STEPS.iter().position(|(m, _)| *m == mark).unwrap_or(0);
    let [floor_in, auto_in] = [&inside_medians[0][0], &inside_medians[1][0]];
    let sum = |cells: &[f64]| cells.iter().filter(|x| !x.is_nan()).sum::<f64>();
    section.notes.push(format!(
        "Inside the one tag (the table above, nothing cached): `auto.js` arrived {:+.1} ms after the \
         snippet's file, its first statement ran {:.1} ms after it arrived (the snippet's: {:.1} ms, \
         the browser's scheduling of any script plus compiling it), and its own steps took {:.1} ms \
         (the snippet's whole code: {:.1} ms), of which the wasm core's decode, compile and \
         instantiate {:.1} ms and the tracker's start, reading the id and building the URL in wasm, \
         {:.1} ms.",
        auto_in[0] - floor_in[0],
        auto_in[1],
        floor_in[1],
        sum(&auto_in[2..1 + STEPS.len()]),
        floor_in[step(marked_bundle::RUN)],
        sum(&auto_in[step("dtpixel:decode")..step("dtpixel:tracker")]),
        auto_in[step("dtpixel:tracker")],
    ));
    section.notes.push(
        "Each page is the same small shop page on a loopback server (xtask/src/bench/page_server.rs: \
         keep-alive, `TCP_NODELAY`, head and body in one write, text over 1 KB gzipped, as production servers and CDNs answer), opened as a creator's landing link (`?dt_pixel_id=…`); \
         the pages are loaded in a new order each round, after one warm-up load each. Ours load the \
         bundle as client-wasm/README.md tells shops to (the inline tag, written by the core for this \
         page's origin; the one tag; or, for an unbundled import, a `modulepreload` link for \
         `dtpixel.js` and a module script importing it). The peer is \
         Plausible, the smallest peer, loaded as a module script importing its package file and \
         calling `init` with a loopback endpoint and `captureOnLocalhost`, both bare and with the same \
         `modulepreload` link as ours; its measured request is its page-view `fetch`. Chromium runs with \
         `--disable-blink-features=AutomationControlled` so that `navigator.webdriver` is false and \
         Plausible does not skip the automated browser."
            .to_string(),
    );
    let mut t = Table::new(
        "What each page's `<head>` holds besides `<meta charset=utf-8><title>shop</title>` (every body is `<h1>Winter sale</h1><p>A product page.</p>`)",
        &["page", "head"],
    );
    let origin = server.origin();
    for v in VARIANTS {
        t.row(vec![
            v.path.trim_start_matches('/').to_string(),
            format!(
                "`{}`",
                head_of(v, &origin)?.replace(&origin, "http://127.0.0.1:PORT")
            ),
        ]);
    }
    section.tables.push(t);
    let mut t = Table::new(
        &format!(
            "Where the time goes: each page's resources, median start and end over its {} loads (Resource Timing, ms after navigation start)",
            loads(mode)
        ),
        &["page", "what", "start", "end"],
    );
    let show = |x: f64| {
        if x.is_nan() {
            String::new()
        } else {
            format!("{x:.1}")
        }
    };
    for (i, v) in VARIANTS.iter().enumerate() {
        for (what, start, end) in &waterfalls[i] {
            t.row(vec![
                v.path.trim_start_matches('/').to_string(),
                format!("`{what}`"),
                show(*start),
                show(*end),
            ]);
        }
    }
    section.tables.push(t);
    let find = |i: usize, what: &str| {
        waterfalls[i]
            .iter()
            .find(|(n, _, _)| n.contains(what))
            .map(|(_, s, e)| (*s, *e))
            .unwrap_or((f64::NAN, f64::NAN))
    };
    let (_, inline_doc) = find(0, "document response end");
    let (inline_pixel, _) = find(0, "/pixel/");
    let arrival = |i: usize, file: &str| {
        let (start, end) = find(i, file);
        let (pixel, _) = find(i, "/pixel/");
        format!(
            "fetched from {start:.1} to {end:.1} ms, pixel at {pixel:.1} ms ({:.1} ms after the file arrived)",
            pixel - end
        )
    };
    section.notes.push(format!(
        "Where the time goes (the medians above): the inline snippet fires while the HTML is parsed \
         (HTML at {inline_doc:.1} ms, pixel at {inline_pixel:.1} ms). A hosted tag first waits for \
         the parser to find its file, then for the file. `auto.js`: {}; its floor, the snippet as \
         a classic script: {}. `dtpixel.js`: {}; its floor, the snippet imported by a module \
         script: {}. What ours add after the file has arrived is compiling the bigger file and \
         decoding, compiling and instantiating the ~9 KB wasm core (synchronously, as the script \
         runs), then reading the id and building the URL in it; the id is written to storage after \
         the `page_load` pixel has been sent.",
        arrival(AUTO, "/pkg/auto.js"),
        arrival(FLOOR, "/floor.js"),
        arrival(ESM, "/pkg/dtpixel.js"),
        arrival(FLOOR_MODULE, "/floor.js"),
    ));
    section.notes.push(format!(
        "The floor for a hosted tag: the inline snippet's own code served as a file reached the \
         pixel in {:.1} ms as a classic async script (`floor.html`, {:.2}× the inline snippet) and \
         in {:.1} ms imported by a module script (`floor-module.html`, {:.2}×): that much is the \
         browser's cost of finding, fetching and scheduling an external script, before its code \
         runs, and no hosted tag loaded that way can be faster. Against its floor, `auto.js` takes \
         {:.2}× and the ESM bundle {:.2}×: what our bundle itself adds (its size, the wasm core, \
         reading the id, the URL built by the core; 1× would be nothing measurable).",
        medians[FLOOR],
        medians[FLOOR] / medians[0],
        medians[FLOOR_MODULE],
        medians[FLOOR_MODULE] / medians[0],
        medians[AUTO] / medians[FLOOR],
        medians[ESM] / medians[FLOOR_MODULE],
    ));
    section.notes.push(format!(
        "Classic or module: the same `auto.js` reached the pixel in {:.1} ms from a classic \
         `<script async>` (the tag client-wasm/README.md gives) and in {:.1} ms from \
         `<script type=module async>` ({:.2}×); the snippet's own code, {:.1} ms as a classic \
         script and {:.1} ms imported by a module script.",
        medians[AUTO],
        medians[AUTO_MODULE],
        medians[AUTO_MODULE] / medians[AUTO],
        medians[FLOOR],
        medians[FLOOR_MODULE],
    ));
    section.notes.push(format!(
        "With the scripts in the HTTP cache (the second table) nothing is downloaded, and what \
         remains between ours and their floors is the work our files do themselves: `auto.js` \
         {:+.1} ms against the snippet as a classic script, the ESM bundle {:+.1} ms against the \
         snippet imported by a module script (a millisecond or two either way is within the noise \
         of one run on this machine).",
        warm_medians[AUTO] - warm_medians[FLOOR],
        warm_medians[ESM] - warm_medians[FLOOR_MODULE],
    ));
    let (tag_pixel, _) = find(INLINE_TAG, "/pixel/");
    let (auto_start, auto_end) = find(INLINE_TAG, "/pkg/auto.js");
    section.notes.push(format!(
        "{} for the inline tag: {:.2}× the inline snippet's median (target ≤ {TIME_TARGET}×), \
         {:.2}× the faster Plausible page's ({}). Like the seed's snippet it fires while the HTML \
         is parsed (pixel at {tag_pixel:.1} ms), with the id checked and the URL written as the \
         core does (tests/tests/browser_inline_tag.rs compares them in Chromium); `auto.js`, \
         fetched from {auto_start:.1} to {auto_end:.1} ms, then stores the id and runs \
         everything else without sending the `page_load` again. With the import instead of \
         `auto.js` (the tag written with `--no-auto-js`, the page's own `start()` after it): {} \
         at {:.2}× inline and {:.2}× the faster Plausible page's.",
        verdict_word(met(INLINE_TAG)),
        medians[INLINE_TAG] / medians[0],
        medians[INLINE_TAG] / medians[best_peer],
        VARIANTS[best_peer].path.trim_start_matches('/'),
        verdict_word(met(ESM_INLINE_TAG)).to_lowercase(),
        medians[ESM_INLINE_TAG] / medians[0],
        medians[ESM_INLINE_TAG] / medians[best_peer],
    ));
    for (i, floor) in [(ESM, FLOOR_MODULE), (AUTO, FLOOR)] {
        let floor_ratio = medians[floor] / medians[0];
        section.notes.push(format!(
            "{} for {}: {:.2}× the inline snippet's median (target ≤ {TIME_TARGET}×), {:.2}× the \
             faster Plausible page's ({}); its floor, the snippet's own code loaded the same way, \
             is {floor_ratio:.2}×{}.",
            verdict_word(met(i)),
            VARIANTS[i].name,
            medians[i] / medians[0],
            medians[i] / medians[best_peer],
            VARIANTS[best_peer].path.trim_start_matches('/'),
            if floor_ratio > TIME_TARGET {
                ", itself over the target"
            } else {
                ""
            },
        ));
    }
    Ok(section)
}

/// How a note opens on a target: met, or missed in bold.
fn verdict_word(met: bool) -> &'static str {
    if met {
        "Target met"
    } else {
        "**Target missed**"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_loads_every_page_once_and_no_page_always_follows_the_same_one() {
        let rounds: Vec<Vec<usize>> = (1..=31).map(|n| shuffled(8, n)).collect();
        for order in &rounds {
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        }
        // The page before page 5 (whichever page that is) varies from round to round.
        let before: std::collections::HashSet<Option<usize>> = rounds
            .iter()
            .map(|o| {
                o.iter()
                    .position(|&i| i == 5)
                    .and_then(|p| p.checked_sub(1))
                    .map(|p| o[p])
            })
            .collect();
        assert!(before.len() >= 4, "{before:?}");
    }
}
