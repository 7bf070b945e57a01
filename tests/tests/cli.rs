//! The `dtpixel` CLI (issue 2): `url`, `tag`, `parse`, and `pixels`/`report` (issue 4), run as
//! the real binary. Invalid input: exit status 2, exactly one line `error: …` on stderr,
//! nothing on stdout.

use std::process::Output;

use dtpixel_tests::collector::{dtpixel, TempDir};

const ID: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";
const SEED: &str =
    "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart";

fn run(args: &[&str]) -> Output {
    dtpixel().args(args).output().expect("run dtpixel")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "dtpixel {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 stdout")
}

/// Exit 2, one `error: …` line naming `needle`, empty stdout.
fn invalid(args: &[&str], needle: &str) {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "dtpixel {args:?}");
    assert!(
        out.stdout.is_empty(),
        "dtpixel {args:?} printed {:?}",
        out.stdout
    );
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    assert_eq!(stderr.lines().count(), 1, "dtpixel {args:?}: {stderr:?}");
    assert!(
        stderr.starts_with("error: "),
        "dtpixel {args:?}: {stderr:?}"
    );
    assert!(stderr.ends_with('\n'));
    assert!(
        stderr.contains(needle),
        "dtpixel {args:?}: {stderr:?} should mention {needle:?}"
    );
}

#[test]
fn url_prints_the_seed_url() {
    assert_eq!(
        ok(&["url", "--pixel-id", ID, "--event", "add_to_cart"]),
        format!("{SEED}\n")
    );
    // Page loads carry event_type=page_load explicitly; ids print in lowercase.
    assert_eq!(
        ok(&["url", "--pixel-id", &ID.to_uppercase()]),
        format!("https://dttrk.com/pixel/{ID}/event.gif?event_type=page_load\n")
    );
}

#[test]
fn url_with_base_and_cache_busters() {
    assert_eq!(
        ok(&[
            "url",
            "--pixel-id",
            ID,
            "--base",
            "https://shop.example/t",
            "--cache-bust",
            "a b&c"
        ]),
        format!("https://shop.example/t/pixel/{ID}/event.gif?event_type=page_load&cb=a+b%26c\n")
    );
    let loopback = ok(&["url", "--pixel-id", ID, "--base", "http://127.0.0.1:8080"]);
    assert!(loopback.starts_with("http://127.0.0.1:8080/pixel/"));
    let a = ok(&["url", "--pixel-id", ID, "--cache-bust-random"]);
    let b = ok(&["url", "--pixel-id", ID, "--cache-bust-random"]);
    assert_ne!(a, b, "random cache-busters differ");
    let cb = a.trim().rsplit_once("&cb=").expect("a cb parameter").1;
    assert_eq!(cb.len(), 16);
    assert!(cb.bytes().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn tag_and_noscript_tag() {
    assert_eq!(
        ok(&["tag", "--pixel-id", ID, "--event", "add_to_cart"]),
        format!("<img height=\"1\" width=\"1\" style=\"display:none\" src=\"{SEED}\"/>\n")
    );
    assert_eq!(
        ok(&["tag", "--pixel-id", ID, "--noscript", "--cache-bust", "1"]),
        format!(
            "<noscript><img height=\"1\" width=\"1\" style=\"display:none\" src=\"https://dttrk.com/pixel/{ID}/event.gif?event_type=page_load&amp;cb=1\"/></noscript>\n"
        )
    );
}

#[test]
fn parse_prints_one_line_of_json() {
    let out = ok(&["parse", SEED]);
    assert_eq!(out.lines().count(), 1);
    assert_eq!(
        out,
        format!("{{\"pixel_id\":\"{ID}\",\"event_type\":\"add_to_cart\",\"cache_bust\":null,\"query\":[[\"event_type\",\"add_to_cart\"]]}}\n")
    );
    let target =
        format!("/pixel/{ID}/event.gif?cb=x%20y&utm_source=a+b&bad=%zz&event_type=page_load");
    let json: serde_json::Value = serde_json::from_str(&ok(&["parse", &target])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "pixel_id": ID,
            "event_type": "page_load",
            "cache_bust": "x y",
            "query": [["cb", "x y"], ["utm_source", "a b"], ["bad", "%zz"], ["event_type", "page_load"]],
        })
    );
    // No event_type: a page load.
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "parse",
        &format!("https://dttrk.com/pixel/{ID}/event.gif"),
    ]))
    .unwrap();
    assert_eq!(json["event_type"], "page_load");
    assert_eq!(json["query"], serde_json::json!([]));
}

#[test]
fn invalid_input_exits_2_with_one_error_line() {
    invalid(&["url", "--pixel-id", "nope"], "invalid pixel id");
    invalid(
        &["url", "--pixel-id", &ID.replace('4', "g")],
        "not a hexadecimal digit",
    );
    invalid(
        &["url", "--pixel-id", ID, "--event", "Add-To-Cart"],
        "invalid event type",
    );
    invalid(
        &["url", "--pixel-id", ID, "--event", ""],
        "invalid event type",
    );
    invalid(
        &["url", "--pixel-id", ID, "--base", "http://example.com"],
        "invalid base URL",
    );
    invalid(
        &["url", "--pixel-id", ID, "--base", "https://dttrk.com/?q"],
        "invalid base URL",
    );
    invalid(
        &["tag", "--pixel-id", ID, "--base", "ftp://x"],
        "invalid base URL",
    );
    invalid(
        &["url", "--pixel-id", &format!("{ID}0")],
        "expected 36 characters",
    );
    const SRC: &str = "https://cdn.example/dtpixel/auto.js";
    invalid(
        &["inline-tag", "--src", "http://cdn.example/auto.js"],
        "the auto.js URL: invalid base URL",
    );
    invalid(
        &["inline-tag", "--src", SRC, "--option", "mode=always"],
        "invalid value for the mode option (one of cached bust)",
    );
    invalid(
        &["inline-tag", "--src", SRC, "--option", "onload=x"],
        "--option onload: option 0 is not a start() option",
    );
    invalid(
        &["inline-tag", "--src", SRC, "--option", "mode"],
        "expected NAME=VALUE",
    );
    invalid(
        &[
            "parse",
            &format!("/pixel/{ID}/event.gif?event_type=a&event_type=b"),
        ],
        "more than once",
    );
    invalid(&["parse", "/favicon.ico"], "not a pixel path");
    invalid(&["parse", "pixel"], "not a request target");
    invalid(
        &[
            "parse",
            &format!("/pixel/{ID}/event.gif?{}", "a".repeat(5000)),
        ],
        "too long",
    );
    // clap's own usage errors: the same contract.
    invalid(&["url"], "--pixel-id");
    invalid(&["url", "--pixel-id", ID, "--bogus"], "--bogus");
    invalid(
        &[
            "url",
            "--pixel-id",
            ID,
            "--cache-bust",
            "1",
            "--cache-bust-random",
        ],
        "cannot be used with",
    );
    invalid(&["frobnicate"], "frobnicate");
    invalid(&[], "subcommand");
    invalid(&["parse"], "URL_OR_TARGET");
    invalid(&["report", "--format", "xml", "--db", "x.db"], "xml");
}

#[test]
fn help_and_version_succeed() {
    assert!(ok(&["--help"]).contains("serve"));
    assert!(ok(&["--version"]).starts_with("dtpixel "));
}

#[test]
fn pixels_add_list_and_report() {
    let dir = TempDir::new("dtpixel-cli");
    let db = dir.path().join("pixels.db");
    let db = db.to_str().unwrap();
    let id = ok(&["pixels", "add", "--name", "Ava <Stone> & Co", "--db", db]);
    let id = id.trim();
    // A random version 4 UUID.
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    let other = ok(&["pixels", "add", "--name", "Leo", "--db", db]);
    assert_ne!(id, other.trim());
    invalid(&["pixels", "add", "--name", "  ", "--db", db], "empty");
    invalid(
        &["pixels", "add", "--name", "a\nb", "--db", db],
        "control character",
    );

    let list = ok(&["pixels", "list", "--db", db]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert_eq!(
        lines[0],
        format!("{id}\tAva <Stone> & Co\t<img height=\"1\" width=\"1\" style=\"display:none\" src=\"https://dttrk.com/pixel/{id}/event.gif?event_type=page_load\"/>")
    );
    let list = ok(&[
        "pixels",
        "list",
        "--db",
        db,
        "--base",
        "http://127.0.0.1:8080/t",
    ]);
    assert!(list.contains(&format!(
        "src=\"http://127.0.0.1:8080/t/pixel/{id}/event.gif"
    )));

    // Named creators appear in the report with zero counts before any hit.
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["report", "--db", db, "--format", "json"])).unwrap();
    let pixels = json["pixels"].as_array().unwrap();
    assert_eq!(pixels.len(), 2);
    let ava = pixels.iter().find(|p| p["pixel_id"] == id).unwrap();
    assert_eq!(
        ava,
        &serde_json::json!({
            "pixel_id": id,
            "events": {"page_load": {"count": 0, "visitors": 0}, "add_to_cart": {"count": 0, "visitors": 0}},
            "conversion": 0.0
        })
    );
    let table = ok(&["report", "--db", db]);
    assert!(table.lines().next().unwrap().starts_with("creator"));
    assert!(table.contains("Ava <Stone> & Co"));
    let csv = ok(&["report", "--db", db, "--format", "csv"]);
    assert!(csv.starts_with("pixel_id,name,page_load_count,page_load_visitors,add_to_cart_count,add_to_cart_visitors,conversion,filtered\r\n"));
    assert!(csv.contains(&format!("{id},Ava <Stone> & Co,0,0,0,0,0,0\r\n")));
    invalid(
        &["report", "--db", db, "--from", "2024-02-30"],
        "no such day",
    );
    invalid(
        &["report", "--db", db, "--pixel-id", "x"],
        "invalid pixel id",
    );
    invalid(&["report", "--db", &format!("{db}.missing")], "no database");
}
