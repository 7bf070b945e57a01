//! A real HTTP/1.1 server on loopback that serves test pages and files and records every request,
//! answering pixel GETs (`…/pixel/{id}/event.gif?…`) the way the collector does: with the core's
//! 43-byte [`dtpixel::GIF`] and [`dtpixel::CacheMode`] headers (a `private, max-age` for stable
//! URLs, `no-store` for cache-busted ones), or `400` for a URL the core's parser refuses.
//!
//! ```no_run
//! use std::time::Duration;
//! use dtpixel_tests::recording_server::RecordingServer;
//!
//! let server = RecordingServer::start()?;
//! server.page("/", "<!doctype html><img src=/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif>");
//! // … point a browser at server.url("/") …
//! let hits = server.wait_for_pixels(1, Duration::from_secs(5))?;
//! assert_eq!(hits[0].query(), "");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dtpixel::{PixelHit, GIF};

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target as sent: path and query (`/pixel/…/event.gif?event_type=page_load`).
    pub target: String,
    /// Headers in the order received, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
    /// When the request's headers had arrived.
    pub at: Instant,
}

impl Request {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query, without `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is a pixel request (`…/pixel/…/event.gif`).
    pub fn is_pixel(&self) -> bool {
        let path = self.path();
        path.contains("/pixel/") && path.ends_with("/event.gif")
    }

    /// A query parameter's raw (still percent-encoded) value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query().split('&').find_map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (n == name).then_some(v)
        })
    }
}

#[derive(Clone, Debug)]
struct Resource {
    content_type: String,
    body: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    resources: HashMap<String, Resource>,
    dirs: Vec<(String, PathBuf)>,
    log: Vec<Request>,
    pixel_delay: Duration,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The server; it stops when dropped.
#[derive(Debug)]
pub struct RecordingServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// The workspace's `pkg/` directory, where `cargo xtask pkg` writes the npm package.
pub fn pkg_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("pkg")
}

/// `pkg_dir()`, or an error saying how to build it: browser tests need the built bundle and must
/// fail, not pass, without it.
pub fn require_pkg() -> io::Result<PathBuf> {
    let dir = pkg_dir();
    for file in ["dtpixel.js", "auto.js", "package.json"] {
        if !dir.join(file).is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} is missing: build the browser package first with `cargo xtask pkg` \
                     (`cargo xtask test` does it before the browser tests)",
                    dir.join(file).display()
                ),
            ));
        }
    }
    Ok(dir)
}

/// The `Content-Type` for a file name.
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "gif" => "image/gif",
        "ts" | "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl RecordingServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start() -> io::Result<RecordingServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let conn_shared = Arc::clone(&accept_shared);
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &conn_shared);
                });
            }
        });
        Ok(RecordingServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:{port}`: a valid loopback pixel base for the core's `BaseUrl`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The absolute URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `html` at `path` (exact match, query ignored).
    pub fn page(&self, path: &str, html: &str) {
        self.file(path, "text/html; charset=utf-8", html.as_bytes());
    }

    /// Serves `body` with `content_type` at `path`.
    pub fn file(&self, path: &str, content_type: &str, body: &[u8]) {
        self.shared.lock().resources.insert(
            path.to_string(),
            Resource {
                content_type: content_type.to_string(),
                body: body.to_vec(),
            },
        );
    }

    /// Serves the files of `dir` under the URL prefix `prefix` (such as `/pkg/`), read on each request.
    pub fn serve_dir(&self, prefix: &str, dir: impl Into<PathBuf>) {
        self.shared
            .lock()
            .dirs
            .push((prefix.to_string(), dir.into()));
    }

    /// Serves the built npm package under `/pkg/`, or fails when it has not been built.
    pub fn serve_pkg(&self) -> io::Result<()> {
        let dir = require_pkg()?;
        self.serve_dir("/pkg/", dir);
        Ok(())
    }

    /// Delays every pixel answer (the request is recorded at once, when its headers arrive).
    pub fn set_pixel_delay(&self, delay: Duration) {
        self.shared.lock().pixel_delay = delay;
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().log.clone()
    }

    /// The pixel requests received so far, in order of arrival.
    pub fn pixels(&self) -> Vec<Request> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.is_pixel())
            .cloned()
            .collect()
    }

    /// Forgets the requests received so far.
    pub fn clear(&self) {
        self.shared.lock().log.clear();
    }

    /// Waits until at least `n` pixel requests have arrived and returns them all, or fails after `timeout`.
    pub fn wait_for_pixels(&self, n: usize, timeout: Duration) -> io::Result<Vec<Request>> {
        self.wait_for(timeout, |log| {
            let pixels: Vec<Request> = log.iter().filter(|r| r.is_pixel()).cloned().collect();
            (pixels.len() >= n).then_some(pixels)
        })
        .map_err(|got| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "waited {timeout:?} for {n} pixel request(s), got {}: {:?}",
                    got.iter().filter(|r| r.is_pixel()).count(),
                    got.iter()
                        .filter(|r| r.is_pixel())
                        .map(|r| &r.target)
                        .collect::<Vec<_>>()
                ),
            )
        })
    }

    /// Waits until a request for `path` has arrived, or fails after `timeout`.
    pub fn wait_for_path(&self, path: &str, timeout: Duration) -> io::Result<Request> {
        self.wait_for(timeout, |log| {
            log.iter().find(|r| r.path() == path).cloned()
        })
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("waited {timeout:?} for a request to {path}"),
            )
        })
    }

    /// The pixel requests that arrive within `quiet` from now, after the ones already logged:
    /// for asserting that *nothing more* is sent.
    pub fn pixels_after(&self, quiet: Duration) -> Vec<Request> {
        let before = self.pixels().len();
        std::thread::sleep(quiet);
        self.pixels().split_off(before)
    }

    fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&[Request]) -> Option<T>,
    ) -> Result<T, Vec<Request>> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(v) = check(&state.log) {
                return Ok(v);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(state.log.clone());
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

impl Drop for RecordingServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let Some(request) = read_request(&mut reader)? else {
            return Ok(());
        };
        let (status, headers, body, delay) = {
            let mut state = shared.lock();
            state.log.push(request.clone());
            shared.changed.notify_all();
            answer(&request, &state)
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut head = format!("HTTP/1.1 {status}\r\n");
        for (name, value) in &headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        if !headers.iter().any(|(n, _)| n == "content-length") {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("connection: keep-alive\r\n\r\n");
        writer.write_all(head.as_bytes())?;
        if request.method != "HEAD" {
            writer.write_all(&body)?;
        }
        writer.flush()?;
    }
}

type Answer = (&'static str, Vec<(String, String)>, Vec<u8>, Duration);

fn answer(request: &Request, state: &State) -> Answer {
    let text = |status, body: &str| {
        (
            status,
            vec![
                ("content-type".into(), "text/plain; charset=utf-8".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body.as_bytes().to_vec(),
            Duration::ZERO,
        )
    };
    if request.is_pixel() {
        return match PixelHit::parse(&request.target) {
            Ok(hit) => (
                "200 OK",
                hit.cache_mode()
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                GIF.to_vec(),
                state.pixel_delay,
            ),
            Err(e) => {
                let mut r = text("400 Bad Request", &e.to_string());
                r.3 = state.pixel_delay;
                r
            }
        };
    }
    let path = request.path();
    if let Some(res) = state.resources.get(path) {
        return (
            "200 OK",
            vec![
                ("content-type".into(), res.content_type.clone()),
                ("cache-control".into(), "no-cache".into()),
            ],
            res.body.clone(),
            Duration::ZERO,
        );
    }
    for (prefix, dir) in &state.dirs {
        let Some(rest) = path.strip_prefix(prefix.as_str()) else {
            continue;
        };
        if rest.split('/').any(|seg| seg == ".." || seg.is_empty()) {
            return text("400 Bad Request", "bad path");
        }
        if let Ok(body) = std::fs::read(dir.join(rest)) {
            return (
                "200 OK",
                vec![
                    ("content-type".into(), content_type(rest).into()),
                    ("cache-control".into(), "no-cache".into()),
                ],
                body,
                Duration::ZERO,
            );
        }
    }
    if path == "/favicon.ico" {
        return ("204 No Content", Vec::new(), Vec::new(), Duration::ZERO);
    }
    text("404 Not Found", "not found")
}

/// Reads one request; `None` when the peer closed the connection between requests.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    }
    let at = Instant::now();
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    let mut total = line.len();
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        total += n;
        if n == 0 || total > 64 * 1024 {
            return Ok(None);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
        at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(server: &RecordingServer, target: &str) -> (String, Vec<u8>) {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Test: yes\r\n\r\n"
        )
        .unwrap();
        let mut out = Vec::new();
        // The server keeps the connection open; read the head and the announced body.
        let mut reader = BufReader::new(&mut s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        out.resize(len, 0);
        reader.read_exact(&mut out).unwrap();
        (head, out)
    }

    #[test]
    fn pixels_get_the_core_gif_and_cache_headers_and_are_recorded() {
        let server = RecordingServer::start().unwrap();
        let id = "784e6454-8c63-44c5-89db-6dcd33abcdef";
        let (head, body) = get(
            &server,
            &format!("/pixel/{id}/event.gif?event_type=page_load"),
        );
        assert!(head.starts_with("HTTP/1.1 200"));
        assert!(head.contains("cache-control: private, max-age="), "{head}");
        assert_eq!(body, GIF);
        let (head, _) = get(
            &server,
            &format!("/pixel/{id}/event.gif?event_type=page_load&cb=1"),
        );
        assert!(head.contains("cache-control: no-store"), "{head}");
        let (head, _) = get(&server, "/pixel/nope/event.gif?event_type=page_load");
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        let hits = server.wait_for_pixels(3, Duration::from_secs(2)).unwrap();
        assert_eq!(hits[1].param("cb"), Some("1"));
        assert_eq!(hits[0].header("x-test"), Some("yes"));
    }

    #[test]
    fn pages_and_dirs_are_served_and_missing_files_are_404() {
        let server = RecordingServer::start().unwrap();
        server.page("/a", "<p>a</p>");
        let dir = crate::browser::temp_dir("dtpixel-serve").unwrap();
        std::fs::write(dir.join("x.js"), "export {}").unwrap();
        server.serve_dir("/static/", &dir);
        assert_eq!(get(&server, "/a?q=1").1, b"<p>a</p>");
        let (head, body) = get(&server, "/static/x.js");
        assert!(head.contains("text/javascript"));
        assert_eq!(body, b"export {}");
        assert!(get(&server, "/static/../x.js")
            .0
            .starts_with("HTTP/1.1 400"));
        assert!(get(&server, "/missing").0.starts_with("HTTP/1.1 404"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
