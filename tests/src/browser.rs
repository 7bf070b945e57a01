//! A real headless Chromium driven through WebDriver, for page-level tests.
//!
//! [`Browser::launch`] starts `chromedriver` on a free loopback port and opens a session with a
//! headless Chromium on a fresh profile; dropping the [`Browser`] ends the session, stops the
//! driver and deletes the profile. A [`Profile`] can outlive a browser, so a test can quit and
//! relaunch on the same profile (the same HTTP cache, storage and cookies):
//!
//! ```no_run
//! use dtpixel_tests::browser::{Browser, Options, Profile};
//!
//! let profile = Profile::new()?;
//! let browser = Browser::launch_with(Options::default().profile(&profile))?;
//! browser.goto("http://127.0.0.1:8080/")?;
//! browser.click("button[data-dt-event]")?;
//! let title = browser.execute("return document.title", &[])?;
//! std::fs::write("shot.png", browser.screenshot_png()?)?;
//! drop(browser); // the profile stays until `profile` is dropped
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The binaries come from `CHROMEDRIVER` and `CHROME` (default `/usr/bin/chromedriver` and
//! `/usr/bin/chromium`, Debian's `chromium-driver` and `chromium` packages; `cargo xtask test`
//! installs them). The WebDriver client is a small blocking one over HTTP/1.1 on loopback.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// What went wrong talking to the browser: a message naming the step and the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The result of a browser operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn err(message: impl Into<String>) -> Error {
    Error(message.into())
}

/// The command-line flags headless Chromium needs on this kind of machine (no GPU, no sandbox,
/// no background traffic to Google: tests only ever talk to loopback).
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--window-size=1024,768",
];

/// The `chromedriver` binary: `$CHROMEDRIVER`, else `/usr/bin/chromedriver`.
pub fn chromedriver_path() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

/// The Chromium binary: `$CHROME`, else `/usr/bin/chromium`.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Fails with an instruction when chromedriver or Chromium is missing, so that browser tests
/// fail loudly instead of passing without a browser.
pub fn require_browser() -> Result<()> {
    for path in [chromedriver_path(), chromium_path()] {
        if !path.exists() {
            return Err(err(format!(
                "{} not found: install Debian's `chromium chromium-driver` (cargo xtask test does), \
                 or set CHROME / CHROMEDRIVER",
                path.display()
            )));
        }
    }
    Ok(())
}

/// A browser profile directory (`--user-data-dir`): HTTP cache, storage, cookies. Deleted on drop.
#[derive(Debug)]
pub struct Profile {
    dir: PathBuf,
}

static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// A new empty directory under the system temp dir, unique to this process and call.
pub fn temp_dir(prefix: &str) -> Result<PathBuf> {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| err(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}

impl Profile {
    /// A fresh, empty profile in a new temporary directory.
    pub fn new() -> Result<Profile> {
        Ok(Profile {
            dir: temp_dir("dtpixel-chromium-profile")?,
        })
    }

    /// The profile directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How to launch the browser; `Options::default()` is a fresh profile with [`CHROMIUM_ARGS`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    profile: Option<PathBuf>,
    args: Vec<String>,
    prefs: serde_json::Map<String, Value>,
}

impl Options {
    /// Use this profile (kept after the browser quits) instead of a fresh temporary one.
    pub fn profile(mut self, profile: &Profile) -> Self {
        self.profile = Some(profile.path().to_path_buf());
        self
    }

    /// Adds a Chromium command-line flag (after [`CHROMIUM_ARGS`]).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets a Chromium preference, for example `("enable_do_not_track", true)` for the
    /// "Send a Do Not Track request" setting.
    pub fn pref(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.prefs.insert(name.to_string(), value.into());
        self
    }
}

/// A running chromedriver with one headless Chromium session.
#[derive(Debug)]
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _own_profile: Option<Profile>,
}

/// An element found on the page.
#[derive(Clone, Debug)]
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A free TCP port on 127.0.0.1 (bound, then released for the caller to use).
pub fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| err(format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| err(format!("no free port: {e}")))
}

impl Browser {
    /// Launches headless Chromium on a fresh temporary profile.
    pub fn launch() -> Result<Browser> {
        Browser::launch_with(Options::default())
    }

    /// Launches headless Chromium with `options`.
    pub fn launch_with(options: Options) -> Result<Browser> {
        require_browser()?;
        let (profile_dir, own_profile) = match options.profile {
            Some(dir) => (dir, None),
            None => {
                let p = Profile::new()?;
                (p.path().to_path_buf(), Some(p))
            }
        };
        let port = free_port()?;
        let driver = Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| err(format!("starting {}: {e}", chromedriver_path().display())))?;
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            _own_profile: own_profile,
        };
        browser.wait_for_driver()?;

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile_dir.display()));
        args.extend(options.args);
        let mut chrome = json!({
            "binary": chromium_path().to_string_lossy(),
            "args": args,
        });
        if !options.prefs.is_empty() {
            chrome["prefs"] = Value::Object(options.prefs);
        }
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": chrome,
                    "pageLoadStrategy": "normal",
                    "timeouts": { "script": 20_000, "pageLoad": 30_000, "implicit": 0 }
                }
            }
        });
        let value = browser.request("POST", "/session", Some(&caps))?;
        browser.session = value["sessionId"]
            .as_str()
            .ok_or_else(|| err(format!("no sessionId in {value}")))?
            .to_string();
        Ok(browser)
    }

    fn wait_for_driver(&mut self) -> Result<()> {
        let start = Instant::now();
        loop {
            if let Ok(v) = self.request("GET", "/status", None) {
                if v["ready"].as_bool() == Some(true) {
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.driver.try_wait() {
                return Err(err(format!("chromedriver exited at start ({status})")));
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(err("chromedriver did not become ready within 20 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends one WebDriver command and returns its `value`.
    /// `path` is relative to the driver (`/session/...`); see [`Browser::command`] for session commands.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| err(format!("connecting to chromedriver: {e}")))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| err(e.to_string()))?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .map_err(|e| err(format!("writing to chromedriver: {e}")))?;
        let (status, text) = read_response(stream)?;
        let json: Value = serde_json::from_str(&text).map_err(|e| {
            err(format!(
                "{method} {path}: HTTP {status}, not JSON ({e}): {text}"
            ))
        })?;
        let value = json.get("value").cloned().unwrap_or(Value::Null);
        if status >= 400 {
            let error = value["error"].as_str().unwrap_or("error");
            let message = value["message"].as_str().unwrap_or("");
            let first = message.lines().next().unwrap_or("");
            return Err(err(format!("{method} {path}: {error}: {first}")));
        }
        Ok(value)
    }

    /// Sends a command of this session (`path` after `/session/{id}`, e.g. `/url`).
    pub fn command(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let full = format!("/session/{}{path}", self.session);
        self.request(method, &full, body.as_ref())
    }

    /// Navigates to `url` and waits for the page's load event.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.command("POST", "/url", Some(json!({ "url": url })))
            .map(drop)
    }

    /// Reloads the page (like the reload button: the HTTP cache is used for subresources).
    pub fn refresh(&self) -> Result<()> {
        self.command("POST", "/refresh", Some(json!({}))).map(drop)
    }

    /// Goes back in history.
    pub fn back(&self) -> Result<()> {
        self.command("POST", "/back", Some(json!({}))).map(drop)
    }

    /// The current page's URL.
    pub fn current_url(&self) -> Result<String> {
        let v = self.command("GET", "/url", None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// The page's title.
    pub fn title(&self) -> Result<String> {
        let v = self.command("GET", "/title", None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Runs `script` (a function body: use `return` and `arguments[i]`) and returns its result.
    pub fn execute(&self, script: &str, args: &[Value]) -> Result<Value> {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs an asynchronous `script`: it gets a callback as its last argument
    /// (`arguments[arguments.length - 1]`) and its result is what it passes to it.
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Result<Value> {
        self.command(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Awaits a JavaScript expression that may be a promise, e.g. `dtpixel.ready`.
    pub fn eval_await(&self, expression: &str) -> Result<Value> {
        let script = format!(
            "const done = arguments[arguments.length - 1];\n\
             Promise.resolve().then(() => ({expression})).then(\n\
             v => done({{ ok: v === undefined ? null : v }}), e => done({{ err: String(e) }}));"
        );
        let v = self.execute_async(&script, &[])?;
        match v.get("err") {
            Some(e) => Err(err(format!("{expression}: {}", e.as_str().unwrap_or("?")))),
            None => Ok(v.get("ok").cloned().unwrap_or(Value::Null)),
        }
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        let v = self.command(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        let id = v[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| err(format!("no element id for {css}: {v}")))?;
        Ok(Element {
            browser: self,
            id: id.to_string(),
        })
    }

    /// Every element matching a CSS selector, in document order.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let v = self.command(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        let list = v.as_array().cloned().unwrap_or_default();
        list.iter()
            .map(|e| {
                let id = e[ELEMENT_KEY]
                    .as_str()
                    .ok_or_else(|| err(format!("no element id for {css}: {e}")))?;
                Ok(Element {
                    browser: self,
                    id: id.to_string(),
                })
            })
            .collect()
    }

    /// The page's HTML, as serialized by the browser.
    pub fn page_source(&self) -> Result<String> {
        let v = self.command("GET", "/source", None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Clicks the first element matching a CSS selector (a real pointer click, through WebDriver).
    pub fn click(&self, css: &str) -> Result<()> {
        self.find(css)?.click()
    }

    /// A PNG screenshot of the viewport.
    pub fn screenshot_png(&self) -> Result<Vec<u8>> {
        let v = self.command("GET", "/screenshot", None)?;
        base64_decode(v.as_str().unwrap_or_default())
            .ok_or_else(|| err("screenshot is not valid base64"))
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub fn save_screenshot(&self, path: impl AsRef<Path>) -> Result<()> {
        let png = self.screenshot_png()?;
        std::fs::write(path.as_ref(), png)
            .map_err(|e| err(format!("writing {}: {e}", path.as_ref().display())))
    }

    /// Runs a Chrome DevTools Protocol command (chromedriver's `goog/cdp/execute`), for example
    /// `Page.addScriptToEvaluateOnNewDocument` or `Network.clearBrowserCache`.
    pub fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.command(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": cmd, "params": params })),
        )
    }

    /// Polls `condition` every 25 ms until it returns `Some`, or fails after `timeout`.
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut condition: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let start = Instant::now();
        loop {
            if let Some(v) = condition()? {
                return Ok(v);
            }
            if start.elapsed() > timeout {
                return Err(err(format!(
                    "timed out after {timeout:?} waiting for {what}"
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Ends the session and stops chromedriver (also done on drop).
    pub fn quit(mut self) -> Result<()> {
        self.close()
    }

    fn close(&mut self) -> Result<()> {
        let result = if self.session.is_empty() {
            Ok(())
        } else {
            let path = format!("/session/{}", self.session);
            self.session.clear();
            self.request("DELETE", &path, None).map(drop)
        };
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        result
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl Element<'_> {
    /// Clicks the element.
    pub fn click(&self) -> Result<()> {
        self.browser
            .command(
                "POST",
                &format!("/element/{}/click", self.id),
                Some(json!({})),
            )
            .map(drop)
    }

    /// Types `text` into the element (an input or textarea), as key presses.
    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.browser
            .command(
                "POST",
                &format!("/element/{}/value", self.id),
                Some(json!({ "text": text })),
            )
            .map(drop)
    }

    /// Clears an input or textarea.
    pub fn clear(&self) -> Result<()> {
        self.browser
            .command(
                "POST",
                &format!("/element/{}/clear", self.id),
                Some(json!({})),
            )
            .map(drop)
    }

    /// The element's rendered text.
    pub fn text(&self) -> Result<String> {
        let v = self
            .browser
            .command("GET", &format!("/element/{}/text", self.id), None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// An attribute's value, if set.
    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        let v = self.browser.command(
            "GET",
            &format!("/element/{}/attribute/{name}", self.id),
            None,
        )?;
        Ok(v.as_str().map(str::to_string))
    }
}

/// Reads an HTTP/1.1 response (Content-Length, chunked, or until close): status and body text.
fn read_response(stream: TcpStream) -> Result<(u16, String)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| err(format!("reading from chromedriver: {e}")))?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err(format!("bad status line from chromedriver: {line:?}")))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|e| err(format!("reading from chromedriver: {e}")))?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    let io = |e: std::io::Error| err(format!("reading from chromedriver: {e}"));
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).map_err(io)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| err("bad chunk size from chromedriver"))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).map_err(io)?;
            line.clear();
            reader.read_line(&mut line).map_err(io)?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader.read_exact(&mut body).map_err(io)?;
    } else {
        reader.read_to_end(&mut body).map_err(io)?;
    }
    String::from_utf8(body)
        .map(|text| (status, text))
        .map_err(|_| err("chromedriver sent invalid UTF-8"))
}

/// Decodes standard base64 (with or without padding); `None` on any other character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_of_known_values() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert!(base64_decode("a$b").is_none());
    }
}
