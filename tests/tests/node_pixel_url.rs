//! The npm package under Node, as partners generating tags server-side use it: installed from
//! its `npm pack` tarball, `import`ed from `"dtpixel"` (resolved through `package.json`'s
//! `exports`, Node condition), with `pixelUrl` / `imgTag` compared with the Rust core's own
//! output, errors included.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use dtpixel::{BaseUrl, CacheBust, EventType, ImgTag, PixelHit, PixelId, PixelUrl};
use dtpixel_tests::browser::temp_dir;
use dtpixel_tests::recording_server::require_pkg;
use serde_json::{json, Value};

const SEED: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";

/// A Node project with the package installed the way users get it: `npm pack` of `pkg/`, then
/// `npm install` of the tarball (both local, no network). Made once per test run.
fn project() -> &'static Path {
    static PROJECT: OnceLock<PathBuf> = OnceLock::new();
    PROJECT.get_or_init(|| {
        let pkg = require_pkg().unwrap();
        let project = temp_dir("dtpixel-node").unwrap();
        let npm = |args: &[&str]| {
            let out = Command::new("npm")
                .current_dir(&project)
                .args(args)
                .args(["--silent", "--no-audit", "--no-fund", "--offline"])
                .output()
                .expect("npm is needed for this test (Debian/NodeSource `nodejs`)");
            assert!(
                out.status.success(),
                "npm {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        std::fs::write(
            project.join("package.json"),
            r#"{"name":"partner","private":true}"#,
        )
        .unwrap();
        let tarball = npm(&["pack", pkg.to_str().unwrap()]);
        npm(&["install", &format!("./{tarball}")]);
        project
    })
}

/// Runs `calls` (a JS array of thunks) in Node against the installed package and returns, for
/// each, the value or `{ "error": "TypeName: message" }`.
fn node(calls: &str) -> Vec<Value> {
    let script = format!(
        r#"import * as dtpixel from "dtpixel";
const {{ pixelUrl, imgTag, start }} = dtpixel;
const calls = {calls};
const out = [];
for (const call of calls) {{
  try {{ out.push(await call()); }} catch (e) {{ out.push({{ error: e.name + ": " + e.message }}); }}
}}
console.log(JSON.stringify(out));"#
    );
    let output = Command::new("node")
        .current_dir(project())
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("node is needed for this test (Debian/NodeSource `nodejs`)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn pixel_url_and_img_tag_under_node_match_the_rust_core() {
    let id = PixelId::parse(SEED).unwrap();
    let proxy = BaseUrl::parse("https://shop.example/t").unwrap();
    let custom = EventType::parse("newsletter_signup").unwrap();
    let expected = [
        PixelUrl::new(id, EventType::PAGE_LOAD).to_string(),
        PixelUrl::new(id, EventType::PAGE_LOAD).to_string(),
        PixelUrl::new(id, EventType::ADD_TO_CART)
            .base(proxy)
            .to_string(),
        PixelUrl::new(id, custom).cache_bust("a b&c/é").to_string(),
        PixelUrl::new(id, EventType::PAGE_LOAD)
            .cache_bust("42")
            .to_string(),
        ImgTag::new(&PixelUrl::new(id, EventType::ADD_TO_CART).cache_bust("x\"<y>")).to_string(),
        ImgTag::new(&PixelUrl::new(id, EventType::PAGE_LOAD))
            .noscript()
            .to_string(),
    ];
    let got = node(&format!(
        r#"[
  () => pixelUrl("{SEED}", "page_load"),
  () => pixelUrl("{upper}"),
  () => pixelUrl("{SEED}", "add_to_cart", {{ base: "https://shop.example/t/" }}),
  () => pixelUrl("{SEED}", "newsletter_signup", {{ cacheBust: "a b&c/é" }}),
  () => pixelUrl("{SEED}", "page_load", {{ cacheBust: 42 }}),
  () => imgTag("{SEED}", "add_to_cart", {{ cacheBust: 'x"<y>' }}),
  () => imgTag("{SEED}", "page_load", {{ noscript: true }}),
]"#,
        upper = SEED.to_uppercase()
    ));
    let got: Vec<&str> = got.iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(got, expected);
}

#[test]
fn random_cache_busters_are_fresh_and_parse_back() {
    let got = node(&format!(
        r#"[1, 2, 3].map(() => () => pixelUrl("{SEED}", "add_to_cart", {{ cacheBust: true }}))"#
    ));
    let mut seen = Vec::new();
    for url in &got {
        let url = url.as_str().unwrap();
        let path = url.strip_prefix("https://dttrk.com").unwrap();
        let hit = PixelHit::parse(path).unwrap();
        assert_eq!(hit.event_type(), EventType::ADD_TO_CART);
        let cb = hit.cache_bust().unwrap().to_string();
        assert_eq!(cb.len(), 16);
        let bits = u64::from_str_radix(&cb, 16).unwrap();
        assert_eq!(
            url,
            PixelUrl::new(hit.pixel_id(), EventType::ADD_TO_CART)
                .cache_bust(CacheBust::random(bits))
                .to_string()
        );
        assert!(!seen.contains(&cb));
        seen.push(cb);
    }
}

#[test]
fn invalid_input_throws_a_type_error_naming_it_and_page_functions_are_inert() {
    let got = node(&format!(
        r#"[
  () => pixelUrl("not-a-uuid", "page_load"),
  () => pixelUrl("{SEED}", "Add To Cart"),
  () => imgTag("{SEED}", "page_load", {{ base: "http://shop.example" }}),
  () => pixelUrl("{SEED}", "page_load", {{ base: "javascript:alert(1)" }}),
  () => pixelUrl("{SEED}", "page_load", {{ cacheBust: "x".repeat(5000) }}),
  () => pixelUrl(undefined),
  async () => {{ const t = await start({{}}); t.track("add_to_cart"); return t.pixelId(); }},
]"#
    ));
    assert_eq!(
        got,
        [
            json!({ "error": "TypeError: dtpixel: invalid pixel id" }),
            json!({ "error": "TypeError: dtpixel: invalid event type" }),
            json!({ "error": "TypeError: dtpixel: invalid base URL" }),
            json!({ "error": "TypeError: dtpixel: invalid base URL" }),
            json!({ "error": "TypeError: dtpixel: input too long" }),
            json!({ "error": "TypeError: dtpixel: invalid pixel id" }),
            Value::Null,
        ]
    );
}

#[test]
fn the_package_manifest_points_at_files_that_exist() {
    let pkg = require_pkg().unwrap();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("package.json")).unwrap()).unwrap();
    assert_eq!(manifest["name"], "dtpixel");
    assert_eq!(manifest["type"], "module");
    let exports = &manifest["exports"]["."];
    for file in [
        &exports["types"],
        &exports["node"],
        &exports["default"],
        &manifest["types"],
    ] {
        let file = file.as_str().unwrap();
        assert!(Path::new(&pkg).join(file).is_file(), "{file}");
    }
    for file in manifest["files"].as_array().unwrap() {
        assert!(pkg.join(file.as_str().unwrap()).is_file(), "{file}");
    }
}
