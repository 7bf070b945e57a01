//! `cargo xtask bench [--smoke] [--only core,collector,browser]`: every benchmark of the project,
//! each against the baseline its users would otherwise pick, measured in one run as ratios
//! (these machines are shared and noisy), then written up as `BENCHMARKS.md`.
//!
//! - core: criterion benches of `core/benches/` (parse and build against `url` + `uuid`,
//!   the mixed 10,000-hit batch, query-length scaling) and heap allocations per operation;
//! - collector: `wrk` on loopback against `dtpixel serve` recording every hit in SQLite and
//!   nginx's `empty_gif` (records nothing), then again after the database holds 1M and 10M hits;
//! - browser: bytes (raw, `gzip -9`) of everything a page loads for our client beside the peers'
//!   npm packages, and time from navigation start to the pixel request in headless Chromium.
//!
//! `--smoke` runs every section briefly (it is part of `cargo xtask test`) and writes its report
//! to `target/bench/smoke/BENCHMARKS.md`, never over the full results in `BENCHMARKS.md`.

mod browser;
mod collector;
mod core_crate;
mod machine;
mod marked_bundle;
mod page_server;
mod perf;
mod report;

use std::path::PathBuf;
use std::time::Instant;

use crate::run;
use report::Section;

/// How long and how much each section measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The full run, whose report is `BENCHMARKS.md`.
    Full,
    /// A short run that checks that every benchmark still works.
    Smoke,
}

impl Mode {
    /// `target/bench/full` or `target/bench/smoke`: scratch files and results of this mode.
    pub fn out_dir(self) -> PathBuf {
        run::root().join("target").join("bench").join(match self {
            Mode::Full => "full",
            Mode::Smoke => "smoke",
        })
    }

    /// Whether this is the smoke run.
    pub fn smoke(self) -> bool {
        self == Mode::Smoke
    }
}

const SECTIONS: [&str; 3] = ["core", "collector", "browser"];

/// A command as a person would type it in the workspace root: `cargo` for cargo's full path,
/// paths relative to the root, arguments with spaces quoted.
pub fn shown(cmd: &std::process::Command) -> String {
    let root = format!("{}/", run::root().display());
    let program = cmd.get_program().to_string_lossy();
    let mut parts = vec![if program.ends_with("/cargo") {
        "cargo".to_string()
    } else {
        program.into_owned()
    }];
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy().replace(&root, "");
        if arg.contains([' ', '(', ')', ';', '&']) {
            parts.push(format!("'{arg}'"));
        } else {
            parts.push(arg);
        }
    }
    parts.join(" ")
}

/// Runs the benchmarks named by the arguments (all by default) and writes the report.
pub fn main(args: &[String]) -> Result<(), String> {
    let mode = if args.iter().any(|a| a == "--smoke") {
        Mode::Smoke
    } else {
        Mode::Full
    };
    let only: Vec<String> = match args.iter().position(|a| a == "--only") {
        Some(i) => args
            .get(i + 1)
            .ok_or("--only needs a list: core,collector,browser")?
            .split(',')
            .map(str::to_string)
            .collect(),
        None => SECTIONS.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(bad) = only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
        return Err(format!(
            "unknown section '{bad}' (sections: core, collector, browser)"
        ));
    }
    let out = mode.out_dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;

    let machine = machine::Machine::read();
    let mut command = String::from("cargo xtask bench");
    if mode.smoke() {
        command.push_str(" --smoke");
    }
    if only.len() < SECTIONS.len() {
        command.push_str(&format!(" --only {}", only.join(",")));
    }
    let start = Instant::now();
    let mut sections = Vec::new();
    let mut failures = Vec::new();
    for name in &only {
        println!(
            "\n==> bench: {name}{}",
            if mode.smoke() { " (smoke)" } else { "" }
        );
        let result = match name.as_str() {
            "core" => core_crate::run(mode),
            "collector" => collector::run(mode),
            _ => browser::run(mode),
        };
        match result {
            Ok(section) => sections.push(section),
            Err(e) => {
                eprintln!("xtask bench: {name} failed: {e}");
                sections.push(Section::failed(name, &e));
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    let text = report::render(&machine, &command, start.elapsed(), mode, &sections);
    let path = match mode {
        Mode::Full if only.len() == SECTIONS.len() => run::root().join("BENCHMARKS.md"),
        _ => out.join("BENCHMARKS.md"),
    };
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!(
        "\nxtask bench: report written to {} in {} s",
        path.display(),
        start.elapsed().as_secs()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("some benchmarks failed: {}", failures.join("; ")))
    }
}
