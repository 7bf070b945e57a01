//! The collector's benchmark: `wrk` on loopback against `dtpixel serve` (recording every hit in
//! SQLite before it answers) and against nginx's `empty_gif` (the classic pixel endpoint, which
//! records nothing), in the same run, at two concurrency levels; then the collector again once
//! its database holds 1M and 10M hits, pre-filled in bulk through SQLite.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::report::{count, ratio, verdict, Section, Table};
use super::Mode;
use crate::{run, toolchain};

/// Issue 5's target: at least half of nginx's throughput while recording.
const THROUGHPUT_TARGET: f64 = 0.5;
/// wrk's threads (both servers get the same load).
const WRK_THREADS: &str = "1";
/// wrk's keep-alive connections: each level is run against both servers.
const LEVELS: [u32; 2] = [32, 256];
/// The level issue 5's target is judged at (see [`judged_at`]).
const JUDGED: u32 = 256;

/// Why the target is judged at [`JUDGED`] connections, with the bound Little's law sets at
/// `few` connections given the median latency measured there.
fn judged_at(few: u32, p50_ms: f64) -> String {
    format!(
        "The target is judged at {JUDGED} connections: a pixel endpoint is called by many browsers \
         at once, each on its own connection, and a collector that answers only after an `fsync` \
         holds every request for at least one disk flush, so with few connections its throughput \
         is bounded by connections ÷ (flush + commit + round trip) whatever its CPU cost (Little's \
         law: {few} connections at the {p50_ms:.2} ms median measured here allow about {} hits/s), \
         while nginx, which records nothing, is bounded only by CPU. The {few}-connection figures \
         are kept beside it, with their own ratio.",
        count(f64::from(few) / (p50_ms.max(1e-3) / 1e3))
    )
}

fn seconds(mode: Mode) -> u64 {
    match mode {
        Mode::Full => 10,
        Mode::Smoke => 2,
    }
}

/// Database sizes for the "as the database grows" runs.
fn fills(mode: Mode) -> Vec<u64> {
    match mode {
        Mode::Full => vec![1_000_000, 10_000_000],
        Mode::Smoke => vec![20_000],
    }
}

/// A child process stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
    name: &'static str,
}

impl Server {
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!(
                "xtask bench: {} did not stop on SIGTERM; killing it",
                self.name
            );
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn wait_listening(server: &mut Server, port: u16) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("{} exited at start ({status})", server.name));
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err(format!(
                "{} did not listen on {addr} within 30 s",
                server.name
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_nginx(dir: &Path) -> Result<(Server, u16), String> {
    let port = free_port()?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let template_path = run::root().join("xtask/bench/nginx.conf");
    let template = std::fs::read_to_string(&template_path)
        .map_err(|e| format!("reading {}: {e}", template_path.display()))?;
    // As root, nginx's workers would switch to `nobody`, who cannot write our temp paths.
    let user = match run::output(Command::new("id").arg("-un")) {
        Some(u) if u.trim() == "root" => "user root;".to_string(),
        _ => String::new(),
    };
    let conf = template
        .replace("@USER@", &user)
        .replace("@DIR@", &dir.display().to_string())
        .replace("@PORT@", &port.to_string());
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting nginx: {e}"))?;
    let mut server = Server {
        child,
        name: "nginx",
    };
    wait_listening(&mut server, port)?;
    Ok((server, port))
}

fn start_collector(binary: &Path, db: &Path) -> Result<(Server, u16), String> {
    let port = free_port()?;
    let child = Command::new(binary)
        // As behind a load balancer: hits.lua gives each visitor an address in X-Forwarded-For.
        .args([
            "serve",
            "--trust-proxy",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--db",
        ])
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let mut server = Server {
        child,
        name: "dtpixel serve",
    };
    wait_listening(&mut server, port)?;
    Ok((server, port))
}

/// What one wrk run measured.
#[derive(Clone, Debug, Default)]
struct Load {
    requests_per_s: f64,
    requests: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: f64,
}

fn parse_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, factor) = if let Some(n) = s.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1e3)
    } else {
        (s, 1.0)
    };
    num.parse::<f64>().ok().map(|v| v * factor)
}

/// Reads wrk's `--latency` report.
fn parse_wrk(out: &str) -> Result<Load, String> {
    let mut load = Load::default();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => load.requests_per_s = n.parse().unwrap_or(0.0),
            ["50%", v] => load.p50_ms = parse_ms(v).unwrap_or(f64::NAN),
            ["99%", v] => load.p99_ms = parse_ms(v).unwrap_or(f64::NAN),
            [n, "requests", "in", ..] => load.requests = n.parse().unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors += n.parse().unwrap_or(0.0),
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<f64>().ok())
                    .sum::<f64>()
            }
            _ => {}
        }
    }
    if load.requests_per_s > 0.0 {
        Ok(load)
    } else {
        Err(format!("could not read wrk's report:\n{out}"))
    }
}

fn wrk_command(port: u16, connections: u32, seconds: u64) -> Command {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t", WRK_THREADS, "-c", &connections.to_string()])
        .arg(format!("-d{seconds}s"))
        .args(["--latency", "-s"])
        .arg(run::root().join("xtask/bench/hits.lua"))
        .arg(format!("http://127.0.0.1:{port}/"));
    cmd
}

fn wrk(port: u16, connections: u32, mode: Mode) -> Result<Load, String> {
    let mut cmd = wrk_command(port, connections, seconds(mode));
    println!("$ {}", run::show(&cmd));
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    parse_wrk(&text)
}

fn sqlite(db: &Path, sql: &str) -> Result<String, String> {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("running sqlite3: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "sqlite3 {}: {}",
            db.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn rows(db: &Path) -> Result<f64, String> {
    sqlite(db, "SELECT count(*) FROM hits;")?
        .parse::<f64>()
        .map_err(|e| format!("counting hits: {e}"))
}

/// Bytes of the database and of its visitors file (`{db}-visitors`, the per-day visitor
/// counts), once their WALs are checkpointed into them.
fn db_bytes(db: &Path) -> Result<f64, String> {
    let mut total = 0u64;
    for file in [db.to_path_buf(), visitors(db)] {
        if file.exists() {
            sqlite(&file, "PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", file.display()));
            total += std::fs::metadata(&path).map_or(0, |m| m.len());
        }
    }
    Ok(total as f64)
}

/// The collector's visitors file beside `db` (examples/server/src/store.rs, `visitors_path`).
fn visitors(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-visitors", db.display()))
}

/// The SQL that pre-fills `hits` up to `target` rows, in one transaction: 1,000 creators,
/// 80 % page loads, a random 16-byte visitor key, one hit in 50 filtered as a bot, spread over
/// the 30 days before the run, each with a cache-busted query like the collector stores; and
/// the per-day visitor counts the collector keeps beside them (`visitor_days` in the visitors
/// file `visitors`, rolled up to the last hit).
pub fn prefill_sql(from: u64, target: u64, visitors: &Path) -> String {
    format!(
        "PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;
ATTACH DATABASE '{visitors}' AS agg;
PRAGMA agg.synchronous=OFF;
BEGIN;
CREATE TEMP TABLE prefill_start AS SELECT COALESCE(MAX(id), 0) AS id FROM hits;
WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {last})
INSERT INTO hits (received_ms, day, pixel_id, event_type, cache_bust, visitor, filtered, query)
SELECT ms, date(ms / 1000, 'unixepoch'),
       printf('%08x-%04x-4%03x-8%03x-%012x', p * 2654435761 % 4294967296, p, p, p, p * 40503),
       CASE WHEN i % 5 = 0 THEN 'add_to_cart' ELSE 'page_load' END,
       1, randomblob(16), CASE WHEN i % 50 = 0 THEN 'bot' END,
       'event_type=' || CASE WHEN i % 5 = 0 THEN 'add_to_cart' ELSE 'page_load' END
         || '&cb=' || lower(hex(randomblob(8))) || '&utm_source=creator'
FROM (SELECT i, i % 1000 AS p,
             CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 2592000000 + i * (2592000000 / {target}) AS ms
      FROM n);
INSERT INTO agg.visitor_days (pixel_id, event_type, day, visitor, hits)
SELECT pixel_id, event_type, day, visitor, 1 FROM main.hits
WHERE id > (SELECT id FROM prefill_start) AND filtered IS NULL
ON CONFLICT DO UPDATE SET hits = hits + 1;
UPDATE agg.rollup SET last_hit = (SELECT MAX(id) FROM main.hits);
DROP TABLE prefill_start;
COMMIT;",
        last = target.saturating_sub(1),
        visitors = visitors.display().to_string().replace('\'', "''"),
    )
}

/// `fsync`s the database file and its visitors file (and their directory), so no write-back
/// of the pre-fill is pending when a run starts.
fn flush_to_disk(db: &Path) -> Result<(), String> {
    let sync = |path: &Path| {
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| format!("syncing {}: {e}", path.display()))
    };
    sync(db)?;
    sync(&visitors(db))?;
    sync(db.parent().unwrap_or(Path::new(".")))
}

/// One collector run: the load, the rows it added and the bytes they took.
struct Recorded {
    load: Load,
    rows_before: f64,
    rows_after: f64,
    bytes_per_hit: f64,
}

fn run_collector(
    binary: &Path,
    db: &Path,
    connections: u32,
    mode: Mode,
) -> Result<Recorded, String> {
    let rows_before = if db.exists() { rows(db)? } else { 0.0 };
    let bytes_before = if db.exists() { db_bytes(db)? } else { 0.0 };
    let (mut server, port) = start_collector(binary, db)?;
    let load = wrk(port, connections, mode);
    server.stop();
    let load = load?;
    let rows_after = rows(db)?;
    let bytes_after = db_bytes(db)?;
    let added = rows_after - rows_before;
    if added < load.requests - load.errors {
        return Err(format!(
            "the collector answered {} hits but recorded only {added}",
            load.requests - load.errors
        ));
    }
    Ok(Recorded {
        load,
        rows_before,
        rows_after,
        bytes_per_hit: (bytes_after - bytes_before) / added.max(1.0),
    })
}

fn collector_binary(mode: Mode) -> Result<(PathBuf, String), String> {
    let mut cmd = run::cargo();
    let profile = match mode {
        Mode::Full => {
            cmd.args(["build", "--release", "-p", "dtpixel-server"]);
            "release"
        }
        // The test pipeline has already built the debug binary: the smoke run only checks.
        Mode::Smoke => {
            cmd.args(["build", "-p", "dtpixel-server"]);
            "debug"
        }
    };
    let shown = super::shown(&cmd);
    run::status(&mut cmd)?;
    Ok((
        run::root().join("target").join(profile).join("dtpixel"),
        shown,
    ))
}

/// Profiles `dtpixel serve` under the same load: `perf record` of the server's process for 5 s
/// of a wrk run on a fresh database; returns the hottest symbols (self time, on-CPU only: time
/// spent waiting for fsync does not show).
fn profile(binary: &Path, dir: &Path) -> Result<Vec<String>, String> {
    toolchain::ensure_apt(&["linux-perf"])?;
    let db = dir.join("profile.db");
    let data = dir.join("perf-collector.data");
    let (mut server, port) = start_collector(binary, &db)?;
    let mut load = wrk_command(port, JUDGED, 7);
    load.stdout(Stdio::null()).stderr(Stdio::null());
    let mut load = load.spawn().map_err(|e| format!("starting wrk: {e}"))?;
    std::thread::sleep(Duration::from_secs(1));
    let recorded = run::succeeds(
        Command::new("perf")
            .args(["record", "-e", "cpu-clock", "-F", "999", "-o"])
            .arg(&data)
            .args(["-p", &server.child.id().to_string(), "--", "sleep", "5"]),
    );
    let _ = load.wait();
    server.stop();
    if !recorded {
        return Err("perf record failed".into());
    }
    let hot = super::perf::hot_lines(&data, &["--sort", "dso,symbol", "--percent-limit", "1.5"])?;
    Ok(hot
        .iter()
        .take(14)
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().filter(|w| *w != "-").collect();
            words.join(" ")
        })
        .collect())
}

/// What was measured at one concurrency level on the empty database.
struct Level {
    connections: u32,
    nginx: Load,
    fresh: Recorded,
}

/// Runs the collector benchmarks and returns the report section.
pub fn run(mode: Mode) -> Result<Section, String> {
    toolchain::ensure_apt(&["nginx-light", "wrk", "sqlite3"])?;
    let out = mode.out_dir().join("collector");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let (binary, build) = collector_binary(mode)?;
    let db = out.join("bench.db");
    let remove_db = || {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    };

    // At each level: nginx, then the collector on an empty database, back to back.
    let mut levels = Vec::new();
    for connections in LEVELS {
        let (mut nginx, nginx_port) = start_nginx(&out.join("nginx"))?;
        let nginx_load = wrk(nginx_port, connections, mode);
        nginx.stop();
        let nginx_load = nginx_load?;
        remove_db();
        let fresh = run_collector(&binary, &db, connections, mode)?;
        levels.push(Level {
            connections,
            nginx: nginx_load,
            fresh,
        });
    }

    // The last empty-database run left its database (and schema): grow it.
    let mut grown: Vec<(u32, Recorded)> = Vec::new();
    for target in fills(mode) {
        let have = rows(&db)? as u64;
        if have < target {
            let start = Instant::now();
            println!(
                "xtask bench: pre-filling {} to {} hits",
                db.display(),
                count(target as f64)
            );
            sqlite(&db, &prefill_sql(have, target, &visitors(&db)))?;
            // The bulk fill leaves gigabytes of dirty pages that the kernel would otherwise
            // write back during the next runs, slowing every fsync there: flush them first.
            let filled = start.elapsed();
            flush_to_disk(&db)?;
            println!(
                "xtask bench: pre-filled in {:.1} s, flushed to disk in {:.1} s",
                filled.as_secs_f64(),
                (start.elapsed() - filled).as_secs_f64()
            );
        }
        for connections in LEVELS {
            grown.push((connections, run_collector(&binary, &db, connections, mode)?));
        }
    }
    remove_db();

    let wrk_line = super::shown(&wrk_command(0, JUDGED, seconds(mode)));
    let levels_text = LEVELS.map(|c| c.to_string()).join(" and ");
    let mut section = Section {
        title: "Collector: hits per second on loopback (`dtpixel serve` vs nginx `empty_gif`)".into(),
        commands: vec![
            build,
            format!("nginx -c target/bench/{}/collector/nginx/nginx.conf   # from xtask/bench/nginx.conf", if mode.smoke() { "smoke" } else { "full" }),
            "dtpixel serve --trust-proxy --listen 127.0.0.1:PORT --db target/bench/…/collector/bench.db".into(),
            format!(
                "{}   # and -c {}",
                wrk_line.replace("127.0.0.1:0", "127.0.0.1:PORT"),
                LEVELS.iter().filter(|c| **c != JUDGED).map(|c| c.to_string()).collect::<Vec<_>>().join(", -c ")
            ),
        ],
        intro: vec![format!(
            "Both servers run on this machine at the same time as wrk ({WRK_THREADS} thread, {levels_text} \
             keep-alive connections, {} s per run, loopback only), one after the other in the same run, \
             nginx then the collector at each level. Requests come from `xtask/bench/hits.lua`: 64 pixel \
             ids, 80 % page loads and 20 % add-to-cart, every URL cache-busted and carrying a UTM \
             parameter, from 250,000 visitors picked at random (each one address in `X-Forwarded-For`, \
             taken as the client's by `dtpixel serve --trust-proxy` as behind a load balancer, one of \
             four browser User-Agents, and one creator's pixel id): each visitor sends a few hits, and \
             a large share are its first of the day for its pixel and event. `dtpixel serve` answers each GIF only after the \
             transaction holding the hit has committed to SQLite and the WAL file has been flushed to \
             disk (WAL; group commit; the writer commits at `synchronous=NORMAL` and sync threads make \
             the `fdatasync` of the WAL that `synchronous=FULL` would make, before any hit of that \
             commit is answered); nginx \
             `empty_gif` (`worker_processes auto`, `access_log off`) records nothing. After each collector \
             run the rows are counted: every answered hit must be in the database.",
            seconds(mode)
        )],
        ..Section::default()
    };
    let mut t = Table::new(
        "Throughput and latency, empty database",
        &[
            "server",
            "connections",
            "hits/s",
            "p50",
            "p99",
            "errors",
            "vs nginx",
            "target",
            "on-disk bytes per hit",
        ],
    );
    for level in &levels {
        let ratio_level = level.fresh.load.requests_per_s / level.nginx.requests_per_s;
        let judged = if level.connections == JUDGED {
            " (judged here)"
        } else {
            ""
        };
        t.row(vec![
            "dtpixel serve (records every hit)".into(),
            level.connections.to_string(),
            count(level.fresh.load.requests_per_s),
            format!("{:.2} ms", level.fresh.load.p50_ms),
            format!("{:.2} ms", level.fresh.load.p99_ms),
            count(level.fresh.load.errors),
            ratio(level.fresh.load.requests_per_s, level.nginx.requests_per_s),
            format!(
                "≥ {THROUGHPUT_TARGET}×: {}{judged}",
                verdict(ratio_level >= THROUGHPUT_TARGET)
            ),
            format!("{:.0}", level.fresh.bytes_per_hit),
        ]);
        t.row(vec![
            "nginx empty_gif (records nothing)".into(),
            level.connections.to_string(),
            count(level.nginx.requests_per_s),
            format!("{:.2} ms", level.nginx.p50_ms),
            format!("{:.2} ms", level.nginx.p99_ms),
            count(level.nginx.errors),
            "1×".into(),
            String::new(),
            "0".into(),
        ]);
    }
    section.tables.push(t);

    let mut t = Table::new(
        "As the database grows",
        &[
            "hits already stored",
            "connections",
            "hits/s",
            "p50",
            "p99",
            "vs empty database",
            "vs nginx",
            "on-disk bytes per hit",
        ],
    );
    let level_of = |connections: u32| levels.iter().find(|l| l.connections == connections);
    for level in &levels {
        t.row(vec![
            count(level.fresh.rows_before),
            level.connections.to_string(),
            count(level.fresh.load.requests_per_s),
            format!("{:.2} ms", level.fresh.load.p50_ms),
            format!("{:.2} ms", level.fresh.load.p99_ms),
            "1×".into(),
            ratio(level.fresh.load.requests_per_s, level.nginx.requests_per_s),
            format!("{:.0}", level.fresh.bytes_per_hit),
        ]);
    }
    for (connections, g) in &grown {
        let Some(level) = level_of(*connections) else {
            continue;
        };
        t.row(vec![
            count(g.rows_before),
            connections.to_string(),
            count(g.load.requests_per_s),
            format!("{:.2} ms", g.load.p50_ms),
            format!("{:.2} ms", g.load.p99_ms),
            ratio(g.load.requests_per_s, level.fresh.load.requests_per_s),
            ratio(g.load.requests_per_s, level.nginx.requests_per_s),
            format!("{:.0}", g.bytes_per_hit),
        ]);
    }
    section.tables.push(t);
    let judged = level_of(JUDGED).ok_or("no run at the judged level")?;
    if let Some((_, last)) = grown.last() {
        section.notes.push(format!(
            "The databases were pre-filled directly through SQLite in bulk (`sqlite3`, one transaction \
             of `INSERT … SELECT` over a recursive CTE: `prefill_sql` in xtask/src/bench/collector.rs), \
             not through HTTP: filling {} rows through the collector at the rate measured above would \
             take {:.0} minutes. The rows match what the collector writes (1,000 creators, 80 % \
             page loads, random 16-byte visitor keys, 2 % filtered bots, 30 days of timestamps, \
             cache-busted queries, and their per-day visitor counts), so the tables and the index are \
             as large as after real traffic; the file is then flushed to disk (`fsync`), so that \
             the kernel's write-back of the bulk fill does not slow the runs' own flushes. The database ended with {} rows.",
            count(last.rows_before),
            last.rows_before / judged.fresh.load.requests_per_s.max(1.0) / 60.0,
            count(last.rows_after)
        ));
    }
    if let Some(few) = levels.iter().find(|l| l.connections != JUDGED) {
        section
            .notes
            .push(judged_at(few.connections, few.fresh.load.p50_ms));
    }
    let ratio_judged = judged.fresh.load.requests_per_s / judged.nginx.requests_per_s;
    let missed = ratio_judged < THROUGHPUT_TARGET;
    let profiled = if missed && !mode.smoke() {
        Some(profile(&binary, &out))
    } else {
        None
    };
    let others: Vec<String> = levels
        .iter()
        .filter(|l| l.connections != JUDGED)
        .map(|l| {
            format!(
                "{:.2}× at {} connections",
                l.fresh.load.requests_per_s / l.nginx.requests_per_s,
                l.connections
            )
        })
        .collect();
    section.notes.push(if !missed {
        format!(
            "Target met at {JUDGED} connections: recording every hit durably, `dtpixel serve` answers \
             {ratio_judged:.2}× nginx's `empty_gif` throughput (target ≥ {THROUGHPUT_TARGET}×; {}).",
            others.join(", ")
        )
    } else {
        format!(
            "**Target missed** at {JUDGED} connections: `dtpixel serve` answers {ratio_judged:.2}× nginx's \
             `empty_gif` throughput while recording (target ≥ {THROUGHPUT_TARGET}×; {}).{}",
            others.join(", "),
            match profiled {
                Some(Ok(lines)) => format!(
                    " Where the collector's CPU time goes under the same load (`perf record -e cpu-clock \
                     -F 999 -p PID -- sleep 5` during a {JUDGED}-connection wrk run on a fresh database, \
                     `perf report --no-children --sort dso,symbol`; on-CPU only, so time waiting for fsync \
                     does not show; wrk and the server share the machine's {} cores):\n\n```text\n{}\n```",
                    std::thread::available_parallelism().map_or(0, |n| n.get()),
                    lines.join("\n")
                ),
                Some(Err(e)) => format!(" (profiling failed: {e})"),
                None => String::new(),
            }
        )
    });
    Ok(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_reports() {
        let out = "Running 10s test @ http://127.0.0.1:1/\n  1 threads and 32 connections\n\
  Latency Distribution\n     50%  312.00us\n     75%  400.00us\n     90%  1.20ms\n     99%    2.50ms\n\
  123456 requests in 10.00s, 20.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n\
  Non-2xx or 3xx responses: 4\nRequests/sec:  12345.60\nTransfer/sec:      2.00MB\n";
        let load = parse_wrk(out).unwrap();
        assert_eq!(load.requests_per_s, 12345.6);
        assert_eq!(load.requests, 123456.0);
        assert!((load.p50_ms - 0.312).abs() < 1e-9);
        assert_eq!(load.p99_ms, 2.5);
        assert_eq!(load.errors, 7.0);
        assert!(parse_wrk("garbage").is_err());
    }
}
