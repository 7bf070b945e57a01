//! `cargo xtask test`: every check and test of the project, installing what they need first.
//! Prints a closing `summary: N passed, N failed` line.

use std::time::Instant;

use crate::run::{self, Counts};
use crate::toolchain::{self, Wasm};

/// Runs the whole pipeline. `--quick` stops after the native tests (for local loops).
pub fn main(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let start = Instant::now();
    let mut counts = Counts::default();
    let result = pipeline(quick, &mut counts);
    let seconds = start.elapsed().as_secs();
    match &result {
        Ok(()) => println!("xtask test: all steps green in {seconds} s"),
        Err(e) => println!("xtask test: FAILED after {seconds} s: {e}"),
    }
    println!(
        "summary: {} passed, {} failed",
        counts.passed, counts.failed
    );
    result
}

fn step(name: &str) {
    println!("\n==> {name}");
}

fn pipeline(quick: bool, counts: &mut Counts) -> Result<(), String> {
    step("formatting (cargo fmt --check)");
    run::status(run::cargo().args(["fmt", "--all", "--", "--check"]))?;

    step("lints (cargo clippy -D warnings)");
    run::status(run::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;

    step("browser prerequisites: Chromium and chromedriver, and the npm package (cargo xtask pkg)");
    toolchain::ensure_apt(&["chromium", "chromium-driver"])?;
    crate::pkg::build()?;

    step("native tests, all features (unit, integration, doc; real-browser tests in headless Chromium)");
    add(
        counts,
        run::tests(run::cargo().args(["test", "--workspace", "--all-features"])),
    )?;

    step("core without default features (no_std), and with only alloc");
    add(
        counts,
        run::tests(run::cargo().args(["test", "-p", "dtpixel", "--no-default-features", "--lib"])),
    )?;
    add(
        counts,
        run::tests(run::cargo().args([
            "test",
            "-p",
            "dtpixel",
            "--no-default-features",
            "--features",
            "alloc",
            "--lib",
        ])),
    )?;

    if quick {
        println!("(--quick: stopping after the native tests)");
        return Ok(());
    }

    step("core for wasm32-unknown-unknown: no_std, and no_std + alloc");
    let wasm = Wasm::find()?;
    for features in [
        &["--no-default-features"][..],
        &["--no-default-features", "--features", "alloc"],
    ] {
        run::status(
            wasm.cargo("build", false)
                .args(["-p", "dtpixel"])
                .args(features),
        )?;
    }

    step("client-wasm unit tests in headless Chromium (wasm-bindgen-test-runner)");
    let runner = crate::pkg::wasm_bindgen_cli()?.with_file_name("wasm-bindgen-test-runner");
    add(
        counts,
        run::tests(
            wasm.cargo("test", true)
                .args(["-p", "dtpixel-wasm", "--lib"])
                // The runner reads client-wasm/webdriver.json (Chromium's flags) from here.
                .current_dir(run::root().join("client-wasm"))
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner)
                .env("CHROMEDRIVER", "/usr/bin/chromedriver")
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        ),
    )?;

    step("fuzzing the hit parser (30 s, libFuzzer + AddressSanitizer)");
    crate::fuzz::run_for(30)?;

    step("benchmark smoke run (cargo xtask bench --smoke: every benchmark, briefly; report in target/bench/smoke/)");
    crate::bench::main(&["--smoke".to_string()])?;
    Ok(())
}

fn add(counts: &mut Counts, result: Result<Counts, (Counts, String)>) -> Result<(), String> {
    match result {
        Ok(c) => {
            *counts += c;
            Ok(())
        }
        Err((c, e)) => {
            *counts += c;
            Err(e)
        }
    }
}
