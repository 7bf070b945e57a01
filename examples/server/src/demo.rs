//! `dtpixel serve --demo`: a small shop under `/demo/` that uses the real browser bundle —
//! a product page (the landing page of the creators' links), a cart page with an add-to-cart
//! button, and a page listing demo creators with their tracking links — plus the browser
//! package itself at `/demo/pkg/` (from `pkg/`, built by `cargo xtask pkg`).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::html::esc;
use crate::report_api::{params, text};
use crate::serve::AppState;
use crate::{dates, store};
use dtpixel::InlineTag;

const PRODUCT: &str = include_str!("../demo/index.html");
const CART: &str = include_str!("../demo/cart.html");
const CREATORS: &str = include_str!("../demo/creators.html");
const STYLE: &str = include_str!("../demo/shop.css");

/// The demo creators: fixed pixel ids, so their links stay the same across runs.
pub const CREATORS_LIST: [(&str, &str, &str); 3] = [
    (
        "3f2b6c1e-8a4d-4f5e-9b7a-1c2d3e4f5a6b",
        "Ava Stone",
        "unboxing video",
    ),
    (
        "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "Leo Park",
        "Instagram story",
    ),
    (
        "c0ffee00-1234-4abc-8def-0123456789ab",
        "Mia Chen",
        "newsletter",
    ),
];

/// The demo shop's configuration.
#[derive(Debug)]
pub struct Demo {
    pkg_dir: PathBuf,
}

/// `<workspace>/pkg`, where `cargo xtask pkg` writes the browser package.
pub fn default_pkg_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pkg")
}

impl Demo {
    /// The demo, serving the browser package from `pkg_dir`.
    pub fn new(pkg_dir: PathBuf) -> Self {
        Demo { pkg_dir }
    }

    /// Stores the demo creators' names (once).
    pub fn register_creators(&self, db: &Path) -> Result<(), String> {
        let conn = store::open_rw(db)?;
        for (id, name, _) in CREATORS_LIST {
            store::add_pixel(&conn, id, name, dates::now_ms()).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn bundle_missing(&self) -> bool {
        !self.pkg_dir.join("auto.js").is_file()
    }
}

/// The demo's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
        .route("/demo/", get(product))
        .route("/demo/index.html", get(product))
        .route("/demo/cart.html", get(cart))
        .route("/demo/creators.html", get(creators))
        .route("/demo/shop.css", get(style))
        .route("/demo/pkg/{*path}", get(pkg_file))
}

fn demo_of(state: &AppState) -> Option<&Arc<Demo>> {
    state.demo.as_ref()
}

/// The demo's origin as this browser reaches it: `http://{Host}`.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

/// The tag a shop page carries: the core's inline tag (the landing's `page_load` fired as the
/// page is parsed, then `auto.js`), or, where the core refuses the http origin (a non-loopback
/// host), the one tag, whose `auto.js` then says why in the console.
fn tag(origin: &str, base: &str, mode: &str) -> String {
    let src = format!("{origin}/demo/pkg/auto.js");
    let options = [("base", base), ("mode", mode)];
    match InlineTag::new(&src, &options) {
        Ok(tag) => tag.to_string(),
        Err(_) => format!(
            "<script async src=\"/demo/pkg/auto.js\" data-base=\"{}\" data-mode=\"{mode}\" data-debug=\"true\"></script>",
            esc(base)
        ),
    }
}

/// `?mode=cached|bust` picks how the bundle fires pixels (default cached).
fn mode(query: Option<&str>) -> Result<&'static str, String> {
    let p = params(query, &["mode", "dt_pixel_id"])?;
    match p.get("mode").map(String::as_str) {
        None | Some("cached") => Ok("cached"),
        Some("bust") => Ok("bust"),
        Some(other) => Err(format!("mode must be cached or bust, not '{other}'")),
    }
}

fn html(body: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn fill(template: &str, state: &AppState, headers: &HeaderMap, mode: &str) -> String {
    let demo = demo_of(state);
    let notice = if demo.is_some_and(|d| d.bundle_missing()) {
        "<p class=\"notice\">The browser bundle is not built yet, so no pixel fires: run <code>cargo xtask pkg</code> (or <code>cargo xtask demo</code>) and reload.</p>"
    } else {
        ""
    };
    let origin = origin(headers);
    let base = format!("{origin}{}", state.prefix.trim_end_matches('/'));
    template
        .replace("{{TAG}}", &tag(&origin, &base, mode))
        .replace("{{MODE}}", mode)
        .replace("{{NOTICE}}", notice)
}

async fn product(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match mode(q.as_deref()) {
        Ok(m) => html(fill(PRODUCT, &state, &headers, m)),
        Err(e) => text(StatusCode::BAD_REQUEST, &e),
    }
}

async fn cart(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match mode(q.as_deref()) {
        Ok(m) => html(fill(CART, &state, &headers, m)),
        Err(e) => text(StatusCode::BAD_REQUEST, &e),
    }
}

async fn creators(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut list = String::new();
    for (id, name, channel) in CREATORS_LIST {
        let link = format!("/demo/?dt_pixel_id={id}");
        list.push_str(&format!(
            "<li><b>{}</b> <span class=\"muted\">({})</span><br><a class=\"track\" href=\"{}\">{}</a></li>",
            esc(name),
            esc(channel),
            esc(&link),
            esc(&link)
        ));
    }
    html(fill(CREATORS, &state, &headers, "cached").replace("{{CREATORS}}", &list))
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}

/// The content type of a package file.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("wasm") => "application/wasm",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("ts") => "text/plain; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("md" | "txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A relative path of plain segments (no `..`, no root, no hidden files).
fn safe_relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) if !s.to_string_lossy().starts_with('.') => out.push(s),
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

async fn pkg_file(State(state): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(demo) = demo_of(&state) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let Some(rel) = safe_relative(&path) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let file = demo.pkg_dir.join(&rel);
    match tokio::fs::read(&file).await {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, content_type(&rel)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => text(
            StatusCode::NOT_FOUND,
            &format!("{path} is not in the browser package: run cargo xtask pkg"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_paths_stay_inside() {
        assert_eq!(safe_relative("auto.js"), Some(PathBuf::from("auto.js")));
        assert_eq!(safe_relative("a/b.wasm"), Some(PathBuf::from("a/b.wasm")));
        assert_eq!(safe_relative("../secret"), None);
        assert_eq!(safe_relative("/etc/passwd"), None);
        assert_eq!(safe_relative(".env"), None);
        assert_eq!(content_type(Path::new("x_bg.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("index.js")),
            "text/javascript; charset=utf-8"
        );
    }

    #[test]
    fn demo_creator_ids_are_valid() {
        for (id, _, _) in CREATORS_LIST {
            assert_eq!(dtpixel::PixelId::parse(id).unwrap().to_string(), id);
        }
    }
}
