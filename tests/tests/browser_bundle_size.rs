//! The size of what a page loads on each path (the one tag `auto.js`, and `import "dtpixel"`),
//! `gzip -9`, against issue 3's budget. Printed in the test run (`--nocapture`), as
//! `cargo xtask pkg` does. And the wasm core embedded in the bundle links no panic or formatting
//! code (what keeps it small).

use std::path::Path;
use std::process::Command;

use dtpixel_tests::recording_server::require_pkg;

/// Everything a page loads, gzip -9, must stay within this.
const BUDGET_GZIP: usize = 10 * 1024;

fn gzip9(path: &Path) -> usize {
    let out = Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .arg(path)
        .output()
        .expect("gzip");
    assert!(out.status.success());
    out.stdout.len()
}

/// The package's files a page loads with `entry`: the entry and what it imports, transitively.
fn page_files(pkg: &Path, entry: &str) -> Vec<String> {
    let mut files = vec![entry.to_string()];
    let mut i = 0;
    while i < files.len() {
        let source = std::fs::read_to_string(pkg.join(&files[i])).unwrap();
        for needle in ["from\"./", "from \"./", "import\"./", "import \"./"] {
            for (at, _) in source.match_indices(needle) {
                let rest = &source[at + needle.len()..];
                let name = &rest[..rest.find('"').unwrap()];
                if !files.iter().any(|f| f == name) {
                    files.push(name.to_string());
                }
            }
        }
        i += 1;
    }
    files
}

#[test]
fn what_a_page_loads_fits_the_gzip_budget_and_is_one_file() {
    let pkg = require_pkg().unwrap();
    for entry in ["auto.js", "dtpixel.js"] {
        let files = page_files(&pkg, entry);
        let (mut raw, mut gz) = (0, 0);
        for file in &files {
            let path = pkg.join(file);
            let (r, g) = (
                std::fs::metadata(&path).unwrap().len() as usize,
                gzip9(&path),
            );
            println!("bundle ({entry}): {file:<16} {r:>6} B raw {g:>6} B gzip -9");
            raw += r;
            gz += g;
        }
        println!(
            "bundle ({entry}): {:<16} {raw:>6} B raw {gz:>6} B gzip -9 (budget {BUDGET_GZIP})",
            "total"
        );
        assert!(
            gz <= BUDGET_GZIP,
            "{entry}: {gz} B gzipped is over the {BUDGET_GZIP} B budget"
        );
        // One request per path (the wasm core is embedded, auto.js carries the tracker).
        assert_eq!(files, [entry], "{entry} imports other files");
    }
}

/// The wasm module embedded in `file` of the package, decoded by Node from the JavaScript string
/// literal exactly as the browser decodes it.
fn embedded_wasm(file: &Path) -> Vec<u8> {
    let script = "const fs = require('fs'); const src = fs.readFileSync(process.argv[1], 'utf8'); \
                  const m = src.match(/\"\\\\0asm[^\"\\\\]*(?:\\\\.[^\"\\\\]*)*\"/); \
                  if (!m) process.exit(3); \
                  process.stdout.write(Buffer.from(eval(m[0]), 'latin1'));";
    let out = Command::new("node")
        .args(["-e", script])
        .arg(file)
        .output()
        .expect("node is needed for this test (Debian/NodeSource `nodejs`)");
    assert!(
        out.status.success(),
        "no embedded wasm module in {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_embedded_wasm_module_has_no_panic_or_formatting_machinery() {
    let pkg = require_pkg().unwrap();
    let wasm = embedded_wasm(&pkg.join("auto.js"));
    assert_eq!(&wasm[..8], b"\0asm\x01\0\0\0");
    // Every entry embeds the same module.
    for file in ["dtpixel.js", "core.js"] {
        assert!(embedded_wasm(&pkg.join(file)) == wasm, "{file}");
    }
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
