//! The size of what a page loads (the bundle's JS and wasm, `auto.js` included), `gzip -9`,
//! against issue 3's budget. Printed in the test run (`--nocapture`), as `cargo xtask pkg` does.
//! And the wasm module links no panic or formatting code (what keeps it small).

use std::process::Command;

use dtpixel_tests::recording_server::require_pkg;

/// Everything a page loads, gzip -9, must stay within this.
const BUDGET_GZIP: usize = 10 * 1024;

fn gzip9(path: &std::path::Path) -> usize {
    let out = Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .arg(path)
        .output()
        .expect("gzip");
    assert!(out.status.success());
    out.stdout.len()
}

#[test]
fn what_a_page_loads_fits_the_gzip_budget() {
    let pkg = require_pkg().unwrap();
    let entry = std::fs::read_to_string(pkg.join("dtpixel.js")).unwrap();
    // core.js is a page download only when it was not bundled into dtpixel.js.
    let mut files = vec!["auto.js", "dtpixel.js", "dtpixel_bg.wasm"];
    if entry.contains("./core.js") {
        files.push("core.js");
    }
    let (mut raw, mut gz) = (0, 0);
    for file in files {
        let path = pkg.join(file);
        let (r, g) = (
            std::fs::metadata(&path).unwrap().len() as usize,
            gzip9(&path),
        );
        println!("bundle: {file:<16} {r:>6} B raw {g:>6} B gzip -9");
        raw += r;
        gz += g;
    }
    println!(
        "bundle: {:<16} {raw:>6} B raw {gz:>6} B gzip -9 (budget {BUDGET_GZIP})",
        "total"
    );
    assert!(
        gz <= BUDGET_GZIP,
        "{gz} B gzipped is over the {BUDGET_GZIP} B budget"
    );
}

#[test]
fn the_wasm_module_has_no_panic_or_formatting_machinery() {
    let wasm = std::fs::read(require_pkg().unwrap().join("dtpixel_bg.wasm")).unwrap();
    assert_eq!(&wasm[..4], b"\0asm");
    // Panic messages and their source locations are the sign of core::fmt being linked in.
    for needle in [
        &b"index out of bounds"[..],
        b"out of range for slice",
        b"/src/",
        b"panicked",
        b"slice length",
    ] {
        assert!(
            !wasm.windows(needle.len()).any(|w| w == needle),
            "the wasm contains {:?}: a panic path links core::fmt",
            String::from_utf8_lossy(needle)
        );
    }
}
