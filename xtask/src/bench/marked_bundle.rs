//! The browser benchmark's look inside our one tag: `auto.js` bundled exactly as the package's
//! is, but from a copy of client-wasm/js with a `performance.mark` at the start of each step
//! (the script runs, the embedded wasm is decoded, compiled, instantiated, the tracker starts,
//! the pixel is sent), and the inline snippet's code with the same first and last marks. Each
//! mark goes at an exact line of the sources: when one of those lines changes, the benchmark
//! fails instead of timing something else.

use std::path::{Path, PathBuf};

use crate::pkg;

/// The marks, in the order a page passes them, with what the time from each to the next is.
pub const STEPS: &[(&str, &str)] = &[
    ("dtpixel:run", "code before the wasm (all of the snippet's)"),
    ("dtpixel:decode", "decode the embedded wasm"),
    ("dtpixel:compile", "compile it"),
    ("dtpixel:instantiate", "instantiate it"),
    (
        "dtpixel:tracker",
        "start the tracker: read the id, build the URL",
    ),
    ("dtpixel:send", "set the image's src"),
];

/// The first and the last mark: the script's first statement, and the pixel's `img.src`.
pub const RUN: &str = "dtpixel:run";
pub const SEND: &str = "dtpixel:send";

/// `(file, exact text in it, what replaces it)`: where each mark goes in client-wasm/js.
const EDITS: &[(&str, &str, &str)] = &[
    (
        "core.js",
        "const ERRORS = ",
        // core.js is the first module of the bundle to run.
        "performance.mark(\"dtpixel:run\");\nconst ERRORS = ",
    ),
    (
        "core.js",
        "  const s = WASM;\n",
        "  performance.mark(\"dtpixel:decode\");\n  const s = WASM;\n",
    ),
    (
        "core.js",
        "    w = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports;\n",
        "    performance.mark(\"dtpixel:compile\");\n\
         \x20   const m = new WebAssembly.Module(bytes);\n\
         \x20   performance.mark(\"dtpixel:instantiate\");\n\
         \x20   w = new WebAssembly.Instance(m, imports).exports;\n\
         \x20   performance.mark(\"dtpixel:tracker\");\n",
    ),
    (
        "dtpixel.js",
        "  img.src = url;\n",
        "  performance.mark(\"dtpixel:send\");\n  img.src = url;\n",
    ),
];

/// `snippet` (the inline snippet's code) with the first and the last mark.
pub fn marked_snippet(snippet: &str) -> Result<String, String> {
    let src = "img.src = ";
    if snippet.matches(src).count() != 1 {
        return Err(format!("the snippet has no single `{src}` line to mark"));
    }
    Ok(format!(
        "performance.mark(\"{RUN}\");\n{}",
        snippet.replacen(src, &format!("  performance.mark(\"{SEND}\");\n{src}"), 1)
    ))
}

/// Writes the marked `auto.js` into `dir` and returns its path (the package must be built).
pub fn build(dir: &Path) -> Result<PathBuf, String> {
    let sources = dir.join("sources");
    let _ = std::fs::remove_dir_all(&sources);
    std::fs::create_dir_all(&sources)
        .map_err(|e| format!("creating {}: {e}", sources.display()))?;
    let js = crate::run::root().join("client-wasm").join("js");
    for entry in std::fs::read_dir(&js).map_err(|e| format!("reading {}: {e}", js.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "js") {
            let name = path.file_name().unwrap_or_default();
            std::fs::copy(&path, sources.join(name)).map_err(|e| e.to_string())?;
        }
    }
    for (file, at, with) in EDITS {
        let path = sources.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        if text.matches(at).count() != 1 {
            return Err(format!(
                "client-wasm/js/{file} no longer has exactly one {at:?} for the benchmark's \
                 marks: move the mark in xtask/src/bench/marked_bundle.rs"
            ));
        }
        std::fs::write(&path, text.replacen(at, with, 1)).map_err(|e| e.to_string())?;
    }
    let out = dir.join("auto.js");
    pkg::bundle_auto_from(&sources, &out)?;
    Ok(out)
}
