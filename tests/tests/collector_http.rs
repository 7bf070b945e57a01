//! Black-box HTTP tests of `dtpixel serve` (issue 4), against the real binary on loopback with
//! a real SQLite file: the seed URLs, every bad-input class, 404s, HEAD, the report's JSON,
//! filtered prefetch and bots, visitor counting, the proxy switch, the prefix, the 503 of a
//! full queue and graceful shutdown.

use std::collections::BTreeSet;

use dtpixel_tests::collector::{counts, Collector, Response, BROWSER_UA};
use serde_json::json;

const ID: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";
const FIREFOX_UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";

fn pixel(id: &str, query: &str) -> String {
    if query.is_empty() {
        format!("/pixel/{id}/event.gif")
    } else {
        format!("/pixel/{id}/event.gif?{query}")
    }
}

fn assert_gif(r: &Response, cache_control: &str) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/gif"));
    assert_eq!(r.header("content-length"), Some("43"));
    assert_eq!(r.header("cache-control"), Some(cache_control));
    assert_eq!(r.body.len(), 43);
    assert_eq!(&r.body[..6], b"GIF89a");
}

const CACHED: &str = "private, max-age=31536000";

fn assert_bad(r: &Response, status: u16, needle: &str) {
    assert_eq!(r.status, status, "{needle}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let text = r.text();
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    assert!(text.ends_with('\n'));
    assert!(text.contains(needle), "{text:?} should mention {needle:?}");
}

#[test]
fn seed_urls_are_answered_and_counted() {
    let c = Collector::start(&[]);
    // The seed's URL exactly, and with no event_type (a page load).
    assert_gif(&c.get(&pixel(ID, "event_type=add_to_cart"), &[]), CACHED);
    assert_gif(&c.get(&pixel(ID, ""), &[]), CACHED);
    assert_gif(&c.get(&pixel(ID, "event_type=page_load"), &[]), CACHED);
    // Upper-case ids are the same creator; a cache-buster means counted every time: no-store.
    assert_gif(
        &c.get(&pixel(&ID.to_uppercase(), "event_type=page_load&cb=1"), &[]),
        "no-store",
    );
    let gif = c.get(&pixel(ID, "cb=2&utm_source=%3Cscript%3E&x=%00%ff"), &[]);
    assert_gif(&gif, "no-store");
    let report = c.report("");
    assert_eq!(
        report,
        json!({"pixels": [{
            "pixel_id": ID,
            "events": {"page_load": {"count": 4, "visitors": 1}, "add_to_cart": {"count": 1, "visitors": 1}},
            "conversion": 1.0
        }]})
    );
    let api = c.request("GET", "/api/report", &[]);
    assert_eq!(api.header("content-type"), Some("application/json"));
}

#[test]
fn bad_hits_get_400_with_a_reason_and_are_not_recorded() {
    let c = Collector::start(&[]);
    let cases: Vec<(String, &str)> = vec![
        (pixel("nope", ""), "invalid pixel id"),
        (pixel(&ID.replace('e', "z"), ""), "not a hexadecimal digit"),
        (pixel(&ID.replace('-', "_"), ""), "expected '-'"),
        (
            pixel(ID, "event_type=checkout"),
            "unknown event type 'checkout'",
        ),
        (pixel(ID, "event_type=Add_To_Cart"), "invalid event type"),
        (pixel(ID, "event_type="), "invalid event type"),
        (pixel(ID, "event_type=%E2%80%AE"), "invalid event type"),
        (
            pixel(ID, "event_type=page_load&event_type=page_load"),
            "more than once",
        ),
        (
            pixel(ID, "event%5Ftype=add_to_cart&event_type=page_load"),
            "more than once",
        ),
        (pixel(ID, "cb=1&cb=2"), "more than once"),
        (format!("/pixel/{ID}/event.png"), "bad pixel path"),
        (format!("/pixel/{ID}"), "bad pixel path"),
        (format!("/pixel/{ID}/event.gif/more"), "bad pixel path"),
        (pixel(ID, &format!("pad={}", "a".repeat(5000))), "too long"),
    ];
    for (target, needle) in &cases {
        let r = c.get(target, &[]);
        assert_bad(&r, 400, needle);
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    // Not pixel paths at all: 404.
    for target in [
        "/",
        "/favicon.ico",
        "/pixels/x",
        "/pixel",
        "/t/pixel/{ID}/event.gif",
    ] {
        assert_bad(&c.get(target, &[]), 404, "not a pixel path");
    }
    // Other methods on a pixel path.
    let post = c.request(
        "POST",
        &pixel(ID, ""),
        &[("User-Agent", BROWSER_UA), ("Content-Length", "0")],
    );
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    // Nothing was recorded, not even as filtered.
    assert_eq!(c.report(""), json!({"pixels": []}));
    let filtered = c.request("GET", "/api/filtered", &[]);
    assert_eq!(filtered.text(), "{\"pixels\":[]}");
}

#[test]
fn head_is_answered_like_get_but_not_counted() {
    let c = Collector::start(&[]);
    let head = c.request(
        "HEAD",
        &pixel(ID, "event_type=add_to_cart"),
        &[("User-Agent", BROWSER_UA)],
    );
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("image/gif"));
    assert_eq!(head.header("content-length"), Some("43"));
    assert_eq!(head.header("cache-control"), Some(CACHED));
    assert!(head.body.is_empty());
    let head = c.request("HEAD", &pixel(ID, "cb=1"), &[("User-Agent", BROWSER_UA)]);
    assert_eq!(head.header("cache-control"), Some("no-store"));
    // Bad hits are refused for HEAD too.
    assert_eq!(c.request("HEAD", &pixel("nope", ""), &[]).status, 400);
    assert_eq!(counts(&c.report(""), ID, "add_to_cart"), Some((0, 0)));
    let filtered: serde_json::Value =
        serde_json::from_slice(&c.request("GET", "/api/filtered", &[]).body).unwrap();
    assert_eq!(
        filtered,
        json!({"pixels": [{"pixel_id": ID, "filtered": {"head": 2}}]})
    );
}

#[test]
fn prefetch_and_bots_are_answered_but_filtered() {
    let c = Collector::start(&[]);
    let prefetches: [&[(&str, &str)]; 3] = [
        &[("Sec-Purpose", "prefetch")],
        &[("Sec-Purpose", "prefetch;prerender")],
        &[("Purpose", "prefetch")],
    ];
    for headers in prefetches {
        assert_gif(&c.get(&pixel(ID, ""), headers), CACHED);
    }
    let bots = [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Wget/1.21.4",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
    ];
    for ua in bots {
        let r = c.request(
            "GET",
            &pixel(ID, "event_type=add_to_cart"),
            &[("User-Agent", ua)],
        );
        assert_gif(&r, CACHED);
    }
    // No User-Agent at all: a bot too.
    assert_gif(&c.request("GET", &pixel(ID, ""), &[]), CACHED);
    // One real visit, and one application calling the pixel directly (counted every time).
    assert_gif(&c.get(&pixel(ID, ""), &[]), CACHED);
    let app = [("User-Agent", "curl/8.5.0")];
    assert_gif(
        &c.request("GET", &pixel(ID, "event_type=add_to_cart"), &app),
        CACHED,
    );
    let report = c.report("");
    assert_eq!(counts(&report, ID, "page_load"), Some((1, 1)));
    assert_eq!(counts(&report, ID, "add_to_cart"), Some((1, 1)));
    let filtered: serde_json::Value = serde_json::from_slice(
        &c.request("GET", &format!("/api/filtered?pixel_id={ID}"), &[])
            .body,
    )
    .unwrap();
    assert_eq!(
        filtered,
        json!({"pixels": [{"pixel_id": ID, "filtered": {"bot": 5, "prefetch": 3}}]})
    );
}

#[test]
fn a_test_browser_can_be_counted_on_purpose() {
    let c = Collector::start(&["--count-bot", "headlesschrome"]);
    let headless = BROWSER_UA.replace("Chrome/", "HeadlessChrome/");
    assert_gif(
        &c.request("GET", &pixel(ID, ""), &[("User-Agent", &headless)]),
        CACHED,
    );
    assert_gif(
        &c.request("GET", &pixel(ID, ""), &[("User-Agent", "Googlebot/2.1")]),
        CACHED,
    );
    assert_eq!(counts(&c.report(""), ID, "page_load"), Some((1, 1)));
}

#[test]
fn visitors_are_people_not_requests() {
    let c = Collector::start(&[]);
    let other = "6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    for _ in 0..3 {
        c.get(&pixel(ID, "cb=x"), &[]);
    }
    c.request("GET", &pixel(ID, ""), &[("User-Agent", FIREFOX_UA)]);
    // The same person on another creator's pixel is another visitor of that creator.
    c.get(&pixel(other, ""), &[]);
    c.get(&pixel(ID, "event_type=add_to_cart"), &[]);
    // Without --trust-proxy, X-Forwarded-For is ignored: still the same person.
    c.get(&pixel(ID, ""), &[("X-Forwarded-For", "203.0.113.7")]);
    let report = c.report("");
    assert_eq!(counts(&report, ID, "page_load"), Some((5, 2)));
    assert_eq!(counts(&report, ID, "add_to_cart"), Some((1, 1)));
    assert_eq!(counts(&report, other, "page_load"), Some((1, 1)));
    let pixel_report = report["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pixel_id"] == ID)
        .unwrap();
    assert_eq!(pixel_report["conversion"], json!(0.5));
    // The most visited creator comes first.
    assert_eq!(report["pixels"][0]["pixel_id"], ID);
}

#[test]
fn forwarded_for_counts_only_with_trust_proxy() {
    let c = Collector::start(&["--trust-proxy"]);
    for ip in ["203.0.113.7", "203.0.113.8", "198.51.100.1, 203.0.113.8"] {
        c.get(&pixel(ID, "cb=1"), &[("X-Forwarded-For", ip)]);
    }
    // The last entry is the address the proxy saw: .7 and .8 are two people.
    assert_eq!(counts(&c.report(""), ID, "page_load"), Some((3, 2)));
}

#[test]
fn report_json_shape_filters_and_errors() {
    let c = Collector::start(&["--events", "page_load,add_to_cart,newsletter_signup"]);
    let b = "0e2f4a6c-8b1d-4f3e-9a5c-7d9e1f3a5b7c";
    c.get(&pixel(ID, ""), &[]);
    c.get(&pixel(ID, "event_type=newsletter_signup"), &[]);
    c.get(&pixel(b, "event_type=add_to_cart"), &[]);
    let report = c.report("");
    let pixels = report["pixels"].as_array().unwrap();
    assert_eq!(pixels.len(), 2);
    for p in pixels {
        let keys: BTreeSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["pixel_id", "events", "conversion"]));
        let events: Vec<&str> = p["events"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(events.len(), 3, "every configured event type: {events:?}");
        for e in ["page_load", "add_to_cart", "newsletter_signup"] {
            assert!(p["events"][e]["count"].is_u64() && p["events"][e]["visitors"].is_u64());
        }
        assert!(p["conversion"].is_f64());
    }
    assert_eq!(counts(&report, ID, "newsletter_signup"), Some((1, 1)));
    // Cart visitors without page-load visitors: conversion 0, not infinity.
    let pb = pixels.iter().find(|p| p["pixel_id"] == b).unwrap();
    assert_eq!(pb["conversion"], json!(0.0));
    // The raw text has the key order.
    let raw = c
        .request("GET", &format!("/api/report?pixel_id={ID}"), &[])
        .text();
    assert!(raw.starts_with(&format!(
        "{{\"pixels\":[{{\"pixel_id\":\"{ID}\",\"events\":{{\"page_load\":{{\"count\":1,\"visitors\":1}},\"add_to_cart\""
    )), "{raw}");
    assert!(raw.ends_with("\"conversion\":0.0}]}"), "{raw}");

    // Days: hits are on today's UTC day.
    let today = c.get(
        &format!("/api/report?pixel_id={ID}&from=2000-01-01&to=2999-12-31"),
        &[],
    );
    assert_eq!(
        counts(
            &serde_json::from_slice(&today.body).unwrap(),
            ID,
            "page_load"
        ),
        Some((1, 1))
    );
    let past = c.report(&format!("?pixel_id={ID}&from=2000-01-01&to=2000-12-31"));
    assert_eq!(counts(&past, ID, "page_load"), Some((0, 0)));
    let past_all = c.report("?to=2000-12-31");
    assert_eq!(past_all, json!({"pixels": []}));
    // Bad parameters: 400 with a reason.
    for (query, needle) in [
        ("?pixel_id=nope", "invalid pixel id"),
        ("?from=2024-02-30", "no such day"),
        ("?from=yesterday", "expected YYYY-MM-DD"),
        ("?from=2024-02-02&to=2024-02-01", "after"),
        ("?pixel=1", "unknown parameter 'pixel'"),
        ("?from=2024-01-01&from=2024-01-02", "more than once"),
    ] {
        assert_bad(
            &c.request("GET", &format!("/api/report{query}"), &[]),
            400,
            needle,
        );
    }
}

#[test]
fn report_page_is_html_with_escaped_names() {
    let dir = dtpixel_tests::collector::TempDir::new("dtpixel-report-page");
    let db = dir.path().join("r.db");
    let add = dtpixel_tests::collector::dtpixel()
        .args([
            "pixels",
            "add",
            "--name",
            "<script>alert(1)</script> & Co",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(add.status.success());
    let id = String::from_utf8(add.stdout).unwrap().trim().to_string();
    let c = Collector::start_with_db(&db, &[]);
    c.get(&pixel(&id, ""), &[]);
    c.get(&pixel(&id, "event_type=add_to_cart"), &[]);
    let page = c.request("GET", "/report", &[]);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "names are escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(html.contains("<svg"), "an inline chart");
    assert!(html.contains("id=\"daily\""), "a per-day chart");
    assert!(html.contains("100.0%"), "the conversion");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
    // Sorting and choosing a creator.
    let sorted = c.request("GET", "/report?sort=conversion&order=asc", &[]);
    assert_eq!(sorted.status, 200);
    let chosen = c.request("GET", &format!("/report?creator={id}"), &[]);
    assert!(chosen.text().contains("class=\"chosen\""));
    assert_bad(
        &c.request("GET", "/report?sort=nope", &[]),
        400,
        "cannot sort by",
    );
    assert_bad(
        &c.request("GET", "/report?creator=x", &[]),
        400,
        "invalid pixel id",
    );
}

#[test]
fn prefix_routes_pixels_under_it() {
    let c = Collector::start(&["--prefix", "/t"]);
    assert_gif(
        &c.get(&format!("/t{}", pixel(ID, "event_type=add_to_cart")), &[]),
        CACHED,
    );
    assert_bad(&c.get(&pixel(ID, ""), &[]), 404, "not a pixel path");
    assert_eq!(counts(&c.report(""), ID, "add_to_cart"), Some((1, 1)));
}

#[test]
fn a_full_queue_answers_503_and_records_exactly_the_acknowledged_hits() {
    let c = Collector::start(&["--queue-capacity", "4"]);
    // Another process holds SQLite's write lock: the writer waits, the queue fills up.
    let conn = rusqlite::Connection::open(&c.db).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let addr = c.addr;
    let send = |i: usize| {
        let target = pixel(ID, &format!("cb={i}"));
        std::thread::spawn(move || {
            dtpixel_tests::collector::http_request(
                addr,
                "GET",
                &target,
                &[("User-Agent", BROWSER_UA)],
            )
            .unwrap()
        })
    };
    // The first hit takes the writer into the locked transaction, where it waits...
    let mut senders = vec![send(0)];
    std::thread::sleep(std::time::Duration::from_millis(400));
    // ...so 4 of the next 23 fit in the queue and the others are refused.
    senders.extend((1..24).map(send));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    conn.execute_batch("COMMIT").unwrap();
    let answers: Vec<Response> = senders.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = answers.iter().filter(|r| r.status == 200).count();
    let busy: Vec<&Response> = answers.iter().filter(|r| r.status == 503).collect();
    assert_eq!(ok + busy.len(), answers.len(), "only 200s and 503s");
    // One hit in the writer and 4 in the queue; the rest refused (a slow machine may let a
    // few more join the first batch before the writer blocks).
    assert!(
        (15..=19).contains(&busy.len()),
        "a queue of 4 behind a locked database: {} refused",
        busy.len()
    );
    for r in &busy {
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(r.text().contains("queue is full"));
    }
    assert_eq!(counts(&c.report(""), ID, "page_load"), Some((ok as u64, 1)));
}

#[test]
fn sigterm_flushes_and_exits_cleanly() {
    let dir = dtpixel_tests::collector::TempDir::new("dtpixel-sigterm");
    let db = dir.path().join("s.db");
    let mut c = Collector::start_with_db(&db, &[]);
    for i in 0..20 {
        assert_eq!(c.get(&pixel(ID, &format!("cb={i}")), &[]).status, 200);
    }
    let status = c.terminate().expect("an exit status");
    assert!(status.success(), "{status:?}: {}", c.stderr());
    assert!(c.stderr().contains("every acknowledged hit is on disk"));
    // The WAL was checkpointed into the main file.
    let wal = db.with_extension("db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    let again = Collector::start_with_db(&db, &[]);
    assert_eq!(counts(&again.report(""), ID, "page_load"), Some((20, 1)));
}

#[test]
fn visitor_keys_store_no_ip_or_user_agent_and_old_salts_are_deleted() {
    let dir = dtpixel_tests::collector::TempDir::new("dtpixel-privacy");
    let db = dir.path().join("p.db");
    // A first run creates the schema; then plant yesterday's-style old salt.
    let mut c = Collector::start_with_db(&db, &[]);
    assert!(c.terminate().unwrap().success());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "INSERT INTO salts (day, salt) VALUES ('2000-01-01', x'00')",
        [],
    )
    .unwrap();
    drop(conn);

    let mut c = Collector::start_with_db(&db, &[]);
    let marker_ua = "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 PrivacyMarkerUA";
    let r = c.request(
        "GET",
        &pixel(ID, "cb=1"),
        &[
            ("User-Agent", marker_ua),
            ("X-Forwarded-For", "203.0.113.99"),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(c.terminate().unwrap().success());

    let conn = rusqlite::Connection::open(&db).unwrap();
    let days: Vec<String> = conn
        .prepare("SELECT day FROM salts")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(days.len(), 1, "only today's salt is kept: {days:?}");
    assert_ne!(days[0], "2000-01-01");
    drop(conn);
    // Neither the User-Agent nor an IP address is anywhere in the database file.
    let bytes = std::fs::read(&db).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains(ID), "the hit is in the file");
    assert!(!text.contains("PrivacyMarkerUA"));
    assert!(!text.contains("127.0.0.1") && !text.contains("203.0.113.99"));
}

#[test]
fn sigterm_waits_for_queued_hits_and_answers_them() {
    let dir = dtpixel_tests::collector::TempDir::new("dtpixel-sigterm-queued");
    let db = dir.path().join("q.db");
    let mut c = Collector::start_with_db(&db, &[]);
    // Hold the write lock so the hits wait in the queue when SIGTERM arrives.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let addr = c.addr;
    let senders: Vec<_> = (0..5)
        .map(|i| {
            let target = pixel(ID, &format!("cb={i}"));
            std::thread::spawn(move || {
                dtpixel_tests::collector::http_request(
                    addr,
                    "GET",
                    &target,
                    &[("User-Agent", BROWSER_UA)],
                )
                .unwrap()
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let signal = std::process::Command::new("kill")
        .args(["-TERM", &c.pid().to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    std::thread::sleep(std::time::Duration::from_millis(500));
    conn.execute_batch("COMMIT").unwrap();
    drop(conn);
    for s in senders {
        assert_eq!(s.join().unwrap().status, 200, "answered after the flush");
    }
    let status = c.terminate().expect("an exit status");
    assert!(status.success(), "{status:?}: {}", c.stderr());
    let again = Collector::start_with_db(&db, &[]);
    assert_eq!(counts(&again.report(""), ID, "page_load"), Some((5, 1)));
}

#[test]
fn a_client_too_slow_to_send_its_headers_is_disconnected() {
    use std::io::{Read, Write};
    let c = Collector::start(&["--header-timeout", "1"]);
    let mut slow = std::net::TcpStream::connect(c.addr).unwrap();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    slow.write_all(format!("GET {} HTTP/1.1\r\nHost: x\r\n", pixel(ID, "")).as_bytes())
        .unwrap();
    let start = std::time::Instant::now();
    let mut answer = Vec::new();
    // The collector closes the connection (possibly after a 408); a read error also means closed.
    let _ = slow.read_to_end(&mut answer);
    let waited = start.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(15),
        "closed after {waited:?}"
    );
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // Meanwhile others are served, and nothing was recorded for the slow one.
    assert_gif(&c.get(&pixel(ID, "cb=1"), &[]), "no-store");
    assert_eq!(counts(&c.report(""), ID, "page_load"), Some((1, 1)));
}

/// The schema before `visitor_days`: counted hits were read through an index over every hit.
const SCHEMA_BEFORE_VISITOR_DAYS: &str = "
CREATE TABLE pixels (pixel_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE hits (
    id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL, day TEXT NOT NULL,
    pixel_id TEXT NOT NULL, event_type TEXT NOT NULL, cache_bust INTEGER NOT NULL,
    visitor BLOB NOT NULL, filtered TEXT, query TEXT NOT NULL
);
CREATE INDEX hits_counted ON hits (pixel_id, event_type, day, visitor) WHERE filtered IS NULL;
CREATE INDEX hits_filtered ON hits (pixel_id, filtered, day) WHERE filtered IS NOT NULL;
CREATE TABLE salts (day TEXT PRIMARY KEY, salt BLOB NOT NULL);
";

#[test]
fn a_database_from_before_visitor_days_is_upgraded_and_keeps_its_counts() {
    let dir = dtpixel_tests::collector::TempDir::new("dtpixel-upgrade");
    let db = dir.path().join("old.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL;").unwrap();
    conn.execute_batch(SCHEMA_BEFORE_VISITOR_DAYS).unwrap();
    // On 2024-05-01: visitor A loads twice, visitor B once, A adds to cart; a bot is filtered.
    // On 2024-05-02: visitor A (another day's key for the same person) loads once.
    let rows: [(&str, &str, &[u8], Option<&str>); 6] = [
        ("2024-05-01", "page_load", b"A", None),
        ("2024-05-01", "page_load", b"A", None),
        ("2024-05-01", "page_load", b"B", None),
        ("2024-05-01", "add_to_cart", b"A", None),
        ("2024-05-01", "page_load", b"C", Some("bot")),
        ("2024-05-02", "page_load", b"D", None),
    ];
    for (day, event, visitor, filtered) in rows {
        conn.execute(
            "INSERT INTO hits (received_ms, day, pixel_id, event_type, cache_bust, visitor, filtered, query)
             VALUES (0, ?1, ?2, ?3, 1, ?4, ?5, '')",
            rusqlite::params![day, ID, event, visitor, filtered],
        )
        .unwrap();
    }
    drop(conn);
    let db_arg = db.to_str().unwrap();

    // Reading it before it is upgraded: a clear refusal, not wrong numbers.
    let before = dtpixel_tests::collector::dtpixel()
        .args(["report", "--db", db_arg, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(before.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&before.stderr);
    assert!(
        stderr.contains("older dtpixel") && stderr.contains("dtpixel serve"),
        "{stderr}"
    );
    assert!(before.stdout.is_empty());

    // The collector upgrades it; the counts are those of the old hits, plus a new one.
    let c = Collector::start_with_db(&db, &[]);
    assert!(
        c.stderr().contains("upgrading the database"),
        "{}",
        c.stderr()
    );
    let days = "&from=2024-05-01&to=2024-05-02";
    let report = c.report(&format!("?pixel_id={ID}{days}"));
    assert_eq!(counts(&report, ID, "page_load"), Some((4, 3)));
    assert_eq!(counts(&report, ID, "add_to_cart"), Some((1, 1)));
    let one_day = c.report(&format!("?pixel_id={ID}&from=2024-05-01&to=2024-05-01"));
    assert_eq!(counts(&one_day, ID, "page_load"), Some((3, 2)));
    let filtered = c.request("GET", "/api/filtered?from=2024-05-01&to=2024-05-02", &[]);
    assert!(filtered.text().contains("\"bot\":1"), "{}", filtered.text());
    assert_gif(&c.get(&pixel(ID, "cb=1"), &[]), "no-store");
    assert_eq!(counts(&c.report(""), ID, "page_load"), Some((5, 4)));
    drop(c);

    // Upgraded once: the report reads it, and the next start does not upgrade again.
    let after = dtpixel_tests::collector::dtpixel()
        .args(["report", "--db", db_arg, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    let again = Collector::start_with_db(&db, &[]);
    assert!(!again.stderr().contains("upgrading"), "{}", again.stderr());
    assert_eq!(counts(&again.report(""), ID, "page_load"), Some((5, 4)));
}
