//! The browser benchmark's loopback web server: pages from memory, files from directories,
//! the 43-byte GIF for pixel requests and `200 ok` for peers' event endpoints. HTTP/1.1 with
//! keep-alive and `TCP_NODELAY`, and text over 1 KB gzipped, as production servers and CDNs
//! answer, so that time to pixel measures the client and not the server (a server that writes
//! head and body separately without `TCP_NODELAY` adds a 40 ms delayed-ACK stall to every
//! response on Linux loopback; one that sends scripts uncompressed makes a bigger file arrive
//! later than it would from any CDN).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Content {
    pages: HashMap<String, (String, Vec<u8>)>,
    dirs: Vec<(String, PathBuf)>,
    /// `gzip -9` of the bodies sent so far, by body.
    gzipped: HashMap<Vec<u8>, Vec<u8>>,
}

/// Bodies of at least this many bytes are sent gzipped to a client that accepts it.
const GZIP_FROM: usize = 1024;

/// Whether a response of this type is text that servers compress.
fn compressible(content_type: &str) -> bool {
    ["text/", "javascript", "json"]
        .iter()
        .any(|t| content_type.contains(t))
}

/// `body` gzipped at level 9 (the level BENCHMARKS.md's sizes use), from the cache when it was
/// sent before.
fn gzip(content: &Mutex<Content>, body: Vec<u8>) -> Vec<u8> {
    use flate2::{write::GzEncoder, Compression};
    let Ok(mut c) = content.lock() else {
        return body;
    };
    if let Some(z) = c.gzipped.get(&body) {
        return z.clone();
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    match encoder.write_all(&body).and_then(|()| encoder.finish()) {
        Ok(z) => {
            c.gzipped.insert(body, z.clone());
            z
        }
        Err(_) => body,
    }
}

/// The server; it stops accepting when dropped.
pub struct PageServer {
    addr: SocketAddr,
    content: Arc<Mutex<Content>>,
    stop: Arc<AtomicBool>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    }
}

impl PageServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<PageServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let content = Arc::new(Mutex::new(Content::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&content), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let c = Arc::clone(&c);
                std::thread::spawn(move || {
                    let _ = serve(stream, &c);
                });
            }
        });
        Ok(PageServer {
            addr,
            content,
            stop,
        })
    }

    /// `http://127.0.0.1:{port}`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `body` at `path` (query ignored).
    pub fn file(&self, path: &str, content_type: &str, body: &[u8]) {
        if let Ok(mut c) = self.content.lock() {
            c.pages
                .insert(path.to_string(), (content_type.to_string(), body.to_vec()));
        }
    }

    /// Serves an HTML page at `path`.
    pub fn page(&self, path: &str, html: &str) {
        self.file(path, "text/html; charset=utf-8", html.as_bytes());
    }

    /// Serves the files of `dir` under `prefix` (such as `/pkg/`).
    pub fn serve_dir(&self, prefix: &str, dir: impl Into<PathBuf>) {
        if let Ok(mut c) = self.content.lock() {
            c.dirs.push((prefix.to_string(), dir.into()));
        }
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn answer(content: &Mutex<Content>, target: &str) -> (u16, String, Vec<u8>) {
    let path = target.split('?').next().unwrap_or("");
    if path.contains("/pixel/") && path.ends_with("/event.gif") {
        return (200, "image/gif".into(), dtpixel::GIF.to_vec());
    }
    let Ok(c) = content.lock() else {
        return (500, "text/plain".into(), b"poisoned".to_vec());
    };
    if let Some((ct, body)) = c.pages.get(path) {
        return (200, ct.clone(), body.clone());
    }
    for (prefix, dir) in &c.dirs {
        if let Some(rest) = path.strip_prefix(prefix.as_str()) {
            if rest.split('/').any(|s| s == ".." || s.is_empty()) {
                break;
            }
            if let Ok(body) = std::fs::read(dir.join(rest)) {
                return (200, content_type(rest).into(), body);
            }
        }
    }
    (404, "text/plain".into(), b"not found".to_vec())
}

fn serve(stream: TcpStream, content: &Mutex<Content>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        if std::env::var_os("DTPIXEL_BENCH_DEBUG").is_some() {
            eprintln!("page server: {}", line.trim_end());
        }
        let mut body_len = 0usize;
        let mut accepts_gzip = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("accept-encoding") {
                    accepts_gzip |= value.split(',').any(|v| v.trim().starts_with("gzip"));
                }
                if name.eq_ignore_ascii_case("content-length") {
                    body_len = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; body_len.min(1 << 20)];
        reader.read_exact(&mut body)?;
        let (status, ct, mut body) = answer(content, &target);
        let mut encoding = "";
        if accepts_gzip && compressible(&ct) && body.len() >= GZIP_FROM {
            body = gzip(content, body);
            encoding = "content-encoding: gzip\r\n";
        }
        let reason = if status == 200 { "OK" } else { "Not Found" };
        // Head and body in one write. Scripts are cacheable for a year, as a CDN serves a
        // versioned file (the cold-cache rounds disable the cache through DevTools); nothing else
        // says anything about caching, so that pixels and pages are requested on every load
        // (no `no-store`: Chromium 156 drops a `fetch`'s Resource Timing entry when its
        // response says it, which would hide the peer's request).
        let cache = if ct.contains("javascript") {
            "cache-control: public, max-age=31536000, immutable\r\n"
        } else {
            ""
        };
        let mut response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: {ct}\r\ncontent-length: {}\r\n\
             {cache}{encoding}connection: keep-alive\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        let written = writer.write_all(&response);
        if std::env::var_os("DTPIXEL_BENCH_DEBUG").is_some() {
            eprintln!("page server: {target} -> {status}, body {body_len} in, {written:?}");
        }
        written?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(server: &PageServer, raw: &str) -> String {
        let (head, body) = request_raw(server, raw);
        head + &String::from_utf8_lossy(&body)
    }

    fn request_raw(server: &PageServer, raw: &str) -> (String, Vec<u8>) {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut reader = BufReader::new(s);
        let mut head = String::new();
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        (head, body)
    }

    #[test]
    fn text_over_a_kilobyte_goes_gzipped_to_clients_that_accept_it() {
        use flate2::read::GzDecoder;
        let server = PageServer::start().unwrap();
        let script: Vec<u8> = (0..3000).map(|i| b"abcdefgh\xc3\xa9"[i % 10]).collect();
        server.file("/big.js", "text/javascript", &script);
        server.file("/small.js", "text/javascript", b"void 0");
        server.file("/big.bin", "application/octet-stream", &script);
        let get = |path: &str, accept: &str| {
            request_raw(
                &server,
                &format!("GET {path} HTTP/1.1\r\nAccept-Encoding: {accept}\r\n\r\n"),
            )
        };
        for _ in 0..2 {
            // The second time from the cache.
            let (head, body) = get("/big.js", "br, gzip, deflate");
            assert!(head.contains("content-encoding: gzip"), "{head}");
            assert!(body.len() < script.len() / 4, "{}", body.len());
            let mut plain = Vec::new();
            GzDecoder::new(&body[..]).read_to_end(&mut plain).unwrap();
            assert_eq!(plain, script);
        }
        for (path, accept) in [
            ("/big.js", "br"),
            ("/small.js", "gzip"),
            ("/big.bin", "gzip"),
        ] {
            let (head, body) = get(path, accept);
            assert!(
                !head.contains("content-encoding"),
                "{path} {accept}: {head}"
            );
            assert!(body == script || body == b"void 0", "{path}");
        }
    }

    #[test]
    fn answers_pages_pixels_and_posts_with_keep_alive() {
        let server = PageServer::start().unwrap();
        server.page("/a.html", "<p>hi</p>");
        server.file("/api/event", "text/plain", b"ok");
        let r = request(&server, "GET /a.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(
            r.starts_with("HTTP/1.1 200 OK") && r.ends_with("<p>hi</p>"),
            "{r}"
        );
        let r = request(
            &server,
            "POST /api/event HTTP/1.1\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
        );
        assert!(r.ends_with("\r\n\r\nok"), "{r}");
        let r = request(&server, "GET /pixel/x/event.gif HTTP/1.1\r\n\r\n");
        assert!(r.contains("image/gif"), "{r}");
        let r = request(&server, "GET /nope HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    }
}
