//! The real `dtpixel` binary, driven from tests: [`dtpixel`] for CLI runs and [`Collector`] for
//! `dtpixel serve` on a free 127.0.0.1 port with its own temporary SQLite file, plus a tiny
//! blocking HTTP/1.1 client ([`http_request`]) that sends exactly the bytes a test asks for
//! (hostile targets included) and reads the whole answer.
//!
//! The binary is `$DTPIXEL_BIN` when set, else `target/debug/dtpixel` beside the running test,
//! brought up to date once per test process with `cargo build -p dtpixel-server --bin dtpixel`
//! (a no-op when `cargo test --workspace` has just built it).

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

/// How long a test waits for the collector to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The path of the `dtpixel` binary, built if needed (once per process).
pub fn binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("DTPIXEL_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("the test binary's path");
        // target/<profile>/deps/<test>-<hash>  →  target/<profile>/dtpixel
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test binary lives in target/<profile>/deps");
        let bin = profile_dir.join(format!("dtpixel{}", std::env::consts::EXE_SUFFIX));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut build = Command::new(cargo);
        build.current_dir(&workspace).args([
            "build",
            "--quiet",
            "-p",
            "dtpixel-server",
            "--bin",
            "dtpixel",
        ]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        if let Some(target_dir) = profile_dir.parent() {
            build.env("CARGO_TARGET_DIR", target_dir);
        }
        let status = build.status().expect("cargo build -p dtpixel-server");
        assert!(status.success(), "cargo build -p dtpixel-server failed");
        assert!(bin.is_file(), "no dtpixel binary at {}", bin.display());
        bin
    })
}

/// A `dtpixel` command.
pub fn dtpixel() -> Command {
    Command::new(binary())
}

/// A temporary directory, deleted on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory under the system's temporary directory.
    pub fn new(prefix: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `dtpixel serve`.
#[derive(Debug)]
pub struct Collector {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its database file.
    pub db: PathBuf,
    stderr_log: PathBuf,
    _dir: Option<TempDir>,
}

impl Collector {
    /// Starts `dtpixel serve` on a free port with a fresh database and the extra `args`.
    pub fn start(args: &[&str]) -> Collector {
        let dir = TempDir::new("dtpixel-collector");
        let db = dir.path().join("dtpixel.db");
        let mut collector = Collector::start_with_db(&db, args);
        collector._dir = Some(dir);
        collector
    }

    /// Starts `dtpixel serve` on a free port with the database `db` (kept after the collector
    /// stops: a test can restart on it) and the extra `args`.
    pub fn start_with_db(db: &Path, args: &[&str]) -> Collector {
        let stderr_log = db.with_extension(format!(
            "stderr-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let stderr = File::create(&stderr_log).expect("create the collector's stderr log");
        let mut child = dtpixel()
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("start dtpixel serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(addr) = line.strip_prefix("dtpixel: listening on http://") {
                        let _ = tx.send(addr.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let addr = match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => addr.parse().expect("the printed address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "dtpixel serve did not start: {}",
                    std::fs::read_to_string(&stderr_log).unwrap_or_default()
                );
            }
        };
        Collector {
            child: Some(child),
            addr,
            db: db.to_path_buf(),
            stderr_log,
            _dir: None,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends `METHOD target` with `headers` and returns the whole answer.
    pub fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        http_request(self.addr, method, target, headers)
            .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
    }

    /// `GET target` with a desktop browser's User-Agent and the extra `headers`.
    pub fn get(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        let mut all = vec![("User-Agent", BROWSER_UA)];
        all.extend_from_slice(headers);
        self.request("GET", target, &all)
    }

    /// `GET /api/report{query}` as JSON (panics unless 200).
    pub fn report(&self, query: &str) -> serde_json::Value {
        let response = self.request("GET", &format!("/api/report{query}"), &[]);
        assert_eq!(response.status, 200, "report: {}", response.text());
        serde_json::from_slice(&response.body).expect("report JSON")
    }

    /// What the collector wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        for _ in 0..600 {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.stderr_log);
    }
}

/// A desktop Chrome User-Agent.
pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// An HTTP answer.
#[derive(Clone, Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (decoded from chunked transfer coding when needed).
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request failed.
#[derive(Debug)]
pub struct HttpError(pub String);

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// Sends one request (`Connection: close`) and reads everything the server sends until it
/// closes, so a `HEAD` answer's body is whatever bytes followed its headers (there should be none).
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Result<Response, HttpError> {
    let e = |what: &str, err: std::io::Error| HttpError(format!("{what}: {err}"));
    let mut stream = TcpStream::connect(addr).map_err(|err| e("connect", err))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|err| e("timeout", err))?;
    // The collector's address as the Host, unless the caller names another.
    let host = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map_or(addr.to_string(), |(_, v)| v.to_string());
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|err| e("send", err))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|err| e("receive", err))?;
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head: bool) -> Result<Response, HttpError> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| HttpError(format!("no complete answer ({} bytes)", raw.len())))?;
    let head_text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError(format!("bad status line '{status_line}'")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked && !head {
        body = dechunk(&body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| HttpError("truncated chunk".into()))?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| HttpError(format!("bad chunk size '{size_text}'")))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err(HttpError("truncated chunk".into()));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// The `(count, visitors)` of `event` for `pixel_id` in a report, `None` when the pixel is not
/// listed.
pub fn counts(report: &serde_json::Value, pixel_id: &str, event: &str) -> Option<(u64, u64)> {
    let pixel = report["pixels"]
        .as_array()?
        .iter()
        .find(|p| p["pixel_id"] == pixel_id)?;
    let stats = &pixel["events"][event];
    Some((stats["count"].as_u64()?, stats["visitors"].as_u64()?))
}
