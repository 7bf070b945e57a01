//! Build automation for dtpixel (`cargo xtask <command>`), the Rust convention for project scripts.
//!
//! - `cargo xtask test`: installs what it needs, then runs every check and test and prints a
//!   closing `N passed, N failed` line.
//! - `cargo xtask demo`: builds the browser package and runs the collector with the demo shop.
//! - `cargo xtask pkg`: builds the npm package of the browser bundle into `pkg/`.
//! - `cargo xtask bench [--smoke]`: runs the benchmarks and rewrites BENCHMARKS.md.
//! - `cargo xtask fuzz [--seconds N]`: fuzzes the core's hit parser.
#![deny(missing_docs)]

mod bench;
mod demo;
mod fuzz;
mod pkg;
mod run;
mod test;
mod toolchain;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "test" => test::main(rest),
        "demo" => demo::main(rest),
        "fuzz" => fuzz::main(rest),
        "pkg" => pkg::main(rest),
        "bench" => bench::main(rest),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <test | demo | pkg | bench [--smoke] | fuzz [--seconds N]>"
            );
            Ok(())
        }
        other => Err(format!("unknown command '{other}' (try: cargo xtask help)")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}
