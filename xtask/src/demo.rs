//! `cargo xtask demo`: the README's main command. Builds the browser package (`pkg/`, see
//! `cargo xtask pkg`) and the `dtpixel` binary, then runs `dtpixel serve --demo` on
//! 127.0.0.1:8080 with the default database (`./dtpixel.db` in the workspace) until Ctrl-C.
//!
//! Extra arguments go to `dtpixel serve` (for example `--listen 127.0.0.1:9000` or
//! `--db /tmp/demo.db`).

use std::path::PathBuf;
use std::process::Command;

use crate::{pkg, run};

/// Where the demo listens unless `--listen` is given.
const LISTEN: &str = "127.0.0.1:8080";

/// `cargo xtask demo [serve options…]`.
pub fn main(args: &[String]) -> Result<(), String> {
    let pkg_dir = pkg::build()?;
    println!("xtask demo: building the collector");
    run::status(run::cargo().args(["build", "-p", "dtpixel-server", "--bin", "dtpixel"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| run::root().join("target"));
    let bin = target
        .join("debug")
        .join(format!("dtpixel{}", std::env::consts::EXE_SUFFIX));

    let has = |flag: &str| {
        args.iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    let mut serve = Command::new(&bin);
    serve.current_dir(run::root()).args(["serve", "--demo"]);
    let listen = match args.iter().position(|a| a == "--listen") {
        Some(i) => args.get(i + 1).cloned().unwrap_or_else(|| LISTEN.into()),
        None => {
            serve.args(["--listen", LISTEN]);
            LISTEN.into()
        }
    };
    if !has("--db") {
        serve.args(["--db", "dtpixel.db"]);
    }
    if !has("--pkg-dir") {
        serve.arg("--pkg-dir").arg(&pkg_dir);
    }
    serve.args(args);
    println!();
    println!("xtask demo: open http://{listen}/demo/creators.html");
    println!("            click a creator's link, continue to the cart, add to cart,");
    println!("            then open http://{listen}/report and see the numbers move.");
    println!("            (Ctrl-C stops the collector; every hit is kept in the database.)");
    println!();
    run::status(&mut serve)
}
