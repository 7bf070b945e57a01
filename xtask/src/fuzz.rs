//! `cargo xtask fuzz [--seconds N]`: runs the core's cargo-fuzz target (`core/fuzz`) with
//! libFuzzer and AddressSanitizer, from its committed seeds plus a local corpus.
//!
//! cargo-fuzz needs nightly-only compiler flags (`-Zsanitizer`); where no nightly toolchain is
//! installed, `RUSTC_BOOTSTRAP=1` lets the stable compiler accept them.

use crate::run;
use crate::toolchain;

/// The cargo-fuzz release used.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Parses `--seconds N` (default 60) and fuzzes for that long.
pub fn main(args: &[String]) -> Result<(), String> {
    let mut seconds = 60;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = iter
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds takes a whole number")?;
            }
            other => return Err(format!("unknown fuzz option '{other}'")),
        }
    }
    run_for(seconds)
}

/// Fuzzes the hit parser for `seconds`; fails if libFuzzer finds a crash.
pub fn run_for(seconds: u32) -> Result<(), String> {
    toolchain::ensure_cargo_install("cargo-fuzz", CARGO_FUZZ_VERSION, "cargo-fuzz")?;
    let fuzz_dir = run::root().join("core").join("fuzz");
    let corpus = fuzz_dir.join("corpus").join("parse_hit");
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let mut cmd = run::cargo();
    cmd.current_dir(&fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "parse_hit", "--sanitizer", "address"])
        .arg(&corpus)
        .arg(fuzz_dir.join("seeds").join("parse_hit"))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1");
    run::status(&mut cmd)
}
