//! The core crate's benchmarks: runs the criterion benches of `core/benches/` (parse, build)
//! and the allocation counter, reads criterion's estimates and writes the tables. When a target
//! is missed, profiles the slow case with `perf` and puts the hottest functions in the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::report::{count, nanos, ratio, verdict, Section, Table};
use super::Mode;
use crate::{run, toolchain};

/// Speed-up targets from issue 5.
const PARSE_TARGET: f64 = 10.0;
const BUILD_TARGET: f64 = 5.0;

fn criterion_flags(mode: Mode) -> Vec<&'static str> {
    match mode {
        Mode::Full => vec!["--warm-up-time", "2", "--measurement-time", "5"],
        Mode::Smoke => vec![
            "--warm-up-time",
            "0.05",
            "--measurement-time",
            "0.1",
            "--sample-size",
            "10",
        ],
    }
}

/// One criterion estimate: median time per iteration (ns) and the declared bytes per iteration.
#[derive(Clone, Copy, Debug)]
struct Estimate {
    median_ns: f64,
    bytes: Option<f64>,
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

fn estimate(home: &Path, id: &str) -> Result<Estimate, String> {
    let dir = home.join(id).join("new");
    let estimates = read_json(&dir.join("estimates.json"))?;
    let median_ns = estimates["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("no median in {}", dir.display()))?;
    let bytes = read_json(&dir.join("benchmark.json"))
        .ok()
        .and_then(|b| b["throughput"]["Bytes"].as_f64());
    Ok(Estimate { median_ns, bytes })
}

/// `allocs <case> <n>` and `info <key> <n>` lines of the allocation counter.
/// The smoke run only checks that the benches work: it builds them without lto, much faster.
fn quick_build_for_smoke(cmd: &mut Command, mode: Mode) {
    if mode.smoke() {
        cmd.env("CARGO_PROFILE_BENCH_LTO", "off")
            .env("CARGO_PROFILE_BENCH_CODEGEN_UNITS", "16");
    }
}

fn run_allocations(mode: Mode) -> Result<BTreeMap<String, f64>, String> {
    let mut cmd = run::cargo();
    cmd.args(["bench", "-p", "dtpixel", "--bench", "allocations"]);
    quick_build_for_smoke(&mut cmd, mode);
    println!("$ {}", run::show(&cmd));
    let out = run::output(&mut cmd).ok_or("the allocation counter failed")?;
    let mut values = BTreeMap::new();
    for line in out.lines() {
        let mut words = line.split_whitespace();
        if let (Some("allocs" | "info"), Some(key), Some(n)) =
            (words.next(), words.next(), words.next())
        {
            if let Ok(n) = n.parse::<f64>() {
                values.insert(key.to_string(), n);
            }
        }
    }
    Ok(values)
}

/// The executable cargo built for a bench target.
fn bench_executable(bench: &str) -> Result<PathBuf, String> {
    let mut cmd = run::cargo();
    cmd.args([
        "bench",
        "-p",
        "dtpixel",
        "--bench",
        bench,
        "--no-run",
        "--message-format=json",
    ]);
    let out = run::output(&mut cmd).ok_or_else(|| format!("building bench {bench} failed"))?;
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"]["name"] == bench)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo reported no executable for bench {bench}"))
}

/// Profiles one benchmark with `perf record` and returns the hottest symbols (self time).
fn profile(bench: &str, id: &str, out: &Path) -> Result<Vec<String>, String> {
    toolchain::ensure_apt(&["linux-perf"])?;
    let exe = bench_executable(bench)?;
    let data = out.join(format!("perf-{}.data", id.replace('/', "_")));
    let mut record = Command::new("perf");
    record
        .args(["record", "-F", "2000", "-o"])
        .arg(&data)
        .arg(&exe)
        .args(["--bench", "--profile-time", "4", id])
        .env("CRITERION_HOME", out.join("criterion-profile"));
    if !run::succeeds(&mut record) {
        return Err(format!("`{}` failed", run::show(&record)));
    }
    Ok(super::perf::hot_lines(&data, &["--percent-limit", "2"])?
        .iter()
        .filter(|l| !l.contains("criterion::"))
        .take(8)
        .map(|l| {
            let mut cols = l.split_whitespace();
            let pct = cols.next().unwrap_or("");
            let symbol: Vec<&str> = cols.skip(3).collect();
            format!("{pct} {}", symbol.join(" "))
        })
        .collect())
}

/// What the profile shows when libc's `memcmp`/`memcpy` or `core::str`'s `CharSearcher` are hot.
const WHY_SLOW: &str = " When libc's `memcmp`/`bcmp` or `core::str`'s `CharSearcher` are among the \
    hot frames, the time goes to out-of-line calls for comparisons and searches of a few bytes \
    (a runtime-length `strip_prefix`, even of an empty prefix, or `str::find(char)`, which confirms \
    each match with `memcmp`), not to parsing: compare against byte-string constants and skip the \
    empty prefix, so that the compiler emits integer compares.";

/// Runs the core benchmarks and returns the report section.
pub fn run(mode: Mode) -> Result<Section, String> {
    let out = mode.out_dir();
    let home = out.join("criterion");
    let flags = criterion_flags(mode);
    let mut cmd = run::cargo();
    cmd.args([
        "bench", "-p", "dtpixel", "--bench", "parse", "--bench", "build", "--",
    ])
    .args(&flags)
    .env("CRITERION_HOME", &home);
    quick_build_for_smoke(&mut cmd, mode);
    let shown = format!("CRITERION_HOME={} {}", rel(&home), super::shown(&cmd));
    run::status(&mut cmd)?;
    let allocs = run_allocations(mode)?;
    let a = |key: &str| allocs.get(key).copied().unwrap_or(f64::NAN);

    let e = |id: &str| estimate(&home, id);
    let parse_ours = e("parse/dtpixel_full_url")?;
    let parse_base = e("parse/baseline_full_url")?;
    let target_ours = e("parse/dtpixel_target")?;
    let target_base = e("parse/baseline_target")?;
    let build_ours = e("build/dtpixel_stack_buffer")?;
    let build_base = e("build/baseline_format_url")?;
    let batch_ours = e("batch/dtpixel")?;
    let batch_base = e("batch/baseline")?;

    let mut section = Section {
        title: "Core: parsing and building pixel URLs (`core/benches/`)".into(),
        commands: vec![
            shown,
            "cargo bench -p dtpixel --bench allocations".into(),
        ],
        intro: vec![
            "Criterion medians. The **parse baseline** is what a Rust server writes today: \
             `url::Url::parse` of the full URL, `path_segments()`, `uuid::Uuid::parse_str`, `query_pairs()` \
             and a `match` on the event name, refusing what `HitParser::parse` refuses (repeated `event_type` \
             or `cb`, invalid names). For request targets the baseline joins the target to the origin \
             (`Url::join`), as a server must. The **build baseline** is `format!` of the path, `url::Url::parse`, \
             then `query_pairs_mut().append_pair(…)` (`form_urlencoded`) for `event_type`, `cb` and each \
             parameter; ours is `PixelUrl::encode` into a reused stack buffer. Both sides are checked to \
             produce the same result before they are timed. Allocations per operation are counted by a \
             counting global allocator in a separate run (`core/benches/allocations.rs`)."
                .into(),
        ],
        ..Section::default()
    };

    let parse_ratio = parse_base.median_ns / parse_ours.median_ns;
    let mut t = Table::new(
        "Parse a realistic hit (`/pixel/{uuid}/event.gif?event_type=add_to_cart&cb=…`) into a typed hit",
        &["input", "dtpixel", "baseline (url + uuid)", "speed-up", "target", "allocs/op dtpixel", "allocs/op baseline"],
    );
    t.row(vec![
        format!(
            "full URL ({} bytes)",
            parse_ours.bytes.map(count).unwrap_or_default()
        ),
        nanos(parse_ours.median_ns),
        nanos(parse_base.median_ns),
        ratio(parse_base.median_ns, parse_ours.median_ns),
        format!(
            "≥ {PARSE_TARGET}×: {}",
            verdict(parse_ratio >= PARSE_TARGET)
        ),
        format!("{}", a("parse.dtpixel")),
        format!("{}", a("parse.baseline")),
    ]);
    t.row(vec![
        format!(
            "request target ({} bytes)",
            target_ours.bytes.map(count).unwrap_or_default()
        ),
        nanos(target_ours.median_ns),
        nanos(target_base.median_ns),
        ratio(target_base.median_ns, target_ours.median_ns),
        String::new(),
        String::new(),
        String::new(),
    ]);
    section.tables.push(t);

    let build_ratio = build_base.median_ns / build_ours.median_ns;
    let mut t = Table::new(
        "Build the URL with a cache-buster and 3 UTM parameters",
        &[
            "",
            "dtpixel (stack buffer)",
            "baseline (format! + url::Url + form_urlencoded)",
            "speed-up",
            "target",
            "allocs/op dtpixel",
            "allocs/op baseline",
        ],
    );
    t.row(vec![
        "build".into(),
        nanos(build_ours.median_ns),
        nanos(build_base.median_ns),
        ratio(build_base.median_ns, build_ours.median_ns),
        format!(
            "≥ {BUILD_TARGET}×: {}",
            verdict(build_ratio >= BUILD_TARGET)
        ),
        format!("{}", a("build.dtpixel")),
        format!("{}", a("build.baseline")),
    ]);
    section.tables.push(t);

    let hits = a("batch_hits");
    let bytes = batch_ours.bytes.unwrap_or(a("batch_bytes"));
    let mb_s = |est: &Estimate| bytes / (est.median_ns / 1e9) / 1e6;
    let mut t = Table::new(
        &format!(
            "The collector's diet: a batch of {} mixed request targets, {} valid and {} invalid ({} bytes)",
            count(hits),
            count(a("batch_valid")),
            count(hits - a("batch_valid")),
            count(bytes)
        ),
        &["", "dtpixel", "baseline", "speed-up"],
    );
    t.row(vec![
        "time per hit".into(),
        nanos(batch_ours.median_ns / hits),
        nanos(batch_base.median_ns / hits),
        ratio(batch_base.median_ns, batch_ours.median_ns),
    ]);
    t.row(vec![
        "throughput".into(),
        format!("{:.0} MB/s", mb_s(&batch_ours)),
        format!("{:.0} MB/s", mb_s(&batch_base)),
        ratio(mb_s(&batch_ours), mb_s(&batch_base)),
    ]);
    t.row(vec![
        "allocations per hit".into(),
        format!("{:.2}", a("batch.dtpixel")),
        format!("{:.2}", a("batch.baseline")),
        String::new(),
    ]);
    section.tables.push(t);

    let mut t = Table::new(
        "How cost grows with query length (the realistic URL plus N extra parameters, a third of them percent-encoded)",
        &["extra params", "URL bytes", "parse dtpixel", "parse baseline", "speed-up", "build dtpixel", "build baseline", "speed-up"],
    );
    for n in [1, 8, 64] {
        let po = e(&format!("parse_extra_params/dtpixel/{n}"))?;
        let pb = e(&format!("parse_extra_params/baseline/{n}"))?;
        let bo = e(&format!("build_extra_params/dtpixel/{n}"))?;
        let bb = e(&format!("build_extra_params/baseline/{n}"))?;
        t.row(vec![
            n.to_string(),
            po.bytes.map(count).unwrap_or_default(),
            nanos(po.median_ns),
            nanos(pb.median_ns),
            ratio(pb.median_ns, po.median_ns),
            nanos(bo.median_ns),
            nanos(bb.median_ns),
            ratio(bb.median_ns, bo.median_ns),
        ]);
    }
    section.tables.push(t);

    for (met, what, bench, id, target) in [
        (
            parse_ratio >= PARSE_TARGET,
            "parse",
            "parse",
            "parse/dtpixel_full_url",
            PARSE_TARGET,
        ),
        (
            build_ratio >= BUILD_TARGET,
            "build",
            "build",
            "build/dtpixel_stack_buffer",
            BUILD_TARGET,
        ),
    ] {
        let got = if what == "parse" {
            parse_ratio
        } else {
            build_ratio
        };
        if met {
            section.notes.push(format!(
                "Target met: {what} is {got:.1}× faster than the baseline (target ≥ {target}×), with zero allocations."
            ));
            continue;
        }
        let mut note = format!(
            "**Target missed**: {what} is {got:.1}× faster than the baseline; the target is ≥ {target}×."
        );
        if mode.smoke() {
            note.push_str(" (smoke run: not profiled)");
        } else {
            match profile(bench, id, &out) {
                Ok(lines) => {
                    let joined = lines.join("\n");
                    if joined.contains("memcmp")
                        || joined.contains("CharSearcher")
                        || joined.contains("memcpy")
                    {
                        note.push_str(WHY_SLOW);
                    }
                    note.push_str(&format!(
                        " Profile of `{id}` (`perf record` of the bench binary with `--profile-time 4`, \
                         `perf report --no-children`, self time, criterion's own frames left out):\n\n```text\n{}\n```",
                        lines.join("\n")
                    ));
                }
                Err(e) => note.push_str(&format!(" (profiling failed: {e})")),
            }
        }
        section.notes.push(note);
    }
    Ok(section)
}

/// `path` relative to the workspace root, for showing commands.
fn rel(path: &Path) -> String {
    path.strip_prefix(run::root())
        .unwrap_or(path)
        .display()
        .to_string()
}
