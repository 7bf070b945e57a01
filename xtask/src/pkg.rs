//! `cargo xtask pkg`: builds the npm package of the browser bundle into `pkg/`.
//!
//! 1. `client-wasm` for `wasm32-unknown-unknown`, release, `opt-level = "z"`, `panic = "abort"`
//!    (the workspace's release profile already has `lto` and one codegen unit);
//! 2. `wasm-bindgen --target web` (the CLI at exactly the `wasm-bindgen` version of Cargo.lock)
//!    to turn the exports into a plain module, then `wasm-opt -Oz` where binaryen installs;
//! 3. `pkg/`: `pkg.json` as `package.json`, the hand-written ESM glue of `client-wasm/js/` (what
//!    pages load bundled and minified by esbuild, installed from npm at a pinned version: `auto.js`
//!    and `dtpixel.js` each one self-contained file; without esbuild, the sources with comments
//!    and indentation dropped) with the wasm embedded in it as a string literal (one character
//!    per byte, see [`js_byte_string`]), the TypeScript types and the README; the raw and
//!    `gzip -9` sizes of what a page loads on each path (`auto.js`, `import "dtpixel"`), checked
//!    against the budget;
//! 4. `npm pack` of `pkg/`, to check that the package installs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run;
use crate::toolchain::{self, Wasm, WASM_TARGET};

/// Everything a page loads, gzip -9, must stay within this (issue 3).
const BUDGET_GZIP: u64 = 10 * 1024;

/// The JavaScript files copied (minified by dropping comments and indentation) into the package.
const JS: &[&str] = &["dtpixel.js", "core.js", "node.js", "auto.js"];

/// What a page loads first on each path: the one tag (`auto.js`) and `import "dtpixel"`; each
/// then loads what it imports (nothing, when esbuild bundled it).
const ENTRIES: &[&str] = &[AUTO, "dtpixel.js"];

/// The one tag's file. esbuild bundles it as a classic script (an IIFE), which also runs as a
/// module (`type="module"`). It starts with a UTF-8 byte order mark, because a classic script is
/// decoded in the page's encoding unless its response names one, and the embedded wasm's
/// characters from U+0080 must be read as UTF-8.
const AUTO: &str = "auto.js";

/// The byte order mark that makes every browser decode a script as UTF-8, whatever the page's
/// encoding or the response's `content-type`.
const UTF8_BOM: &str = "\u{feff}";

/// The string literal in `client-wasm/js/core.js` that the wasm module replaces.
const WASM_PLACEHOLDER: &str = "\"__DTPIXEL_WASM__\"";

/// The one import wasm-bindgen's output has (its externref-table hook); `core.js` provides it.
const EXPECTED_IMPORT: &str = "./dtpixel_bg.js.__wbindgen_init_externref_table";

/// The wasm-opt flags for binaryen 108 and the features rustc's wasm target emits.
const WASM_OPT_FLAGS: &[&str] = &[
    "-Oz",
    "--strip-debug",
    "--strip-producers",
    // The features section only informs linkers; browsers ignore it (and it is ~130 bytes).
    "--strip-target-features",
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// `cargo xtask pkg`.
pub fn main(_args: &[String]) -> Result<(), String> {
    let dir = build()?;
    println!("xtask pkg: the package is in {}", dir.display());
    Ok(())
}

/// Builds the package into `pkg/` (see the module docs) and returns its path.
pub fn build() -> Result<PathBuf, String> {
    let root = run::root();
    let work = root.join("target").join("dtpixel-pkg");
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;

    ensure_npm()?;
    println!("xtask pkg: building client-wasm for {WASM_TARGET}");
    let wasm = Wasm::find()?;
    // No std: with `bundle` the crate is #![no_std] on wasm (core and alloc only).
    run::status(
        wasm.cargo("build", false)
            .args([
                "-p",
                "dtpixel-wasm",
                "--lib",
                "--release",
                "--features",
                "bundle",
            ])
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
            .env("CARGO_PROFILE_RELEASE_PANIC", "abort"),
    )?;
    let raw = wasm
        .target_dir()
        .join(WASM_TARGET)
        .join("release")
        .join("dtpixel_wasm.wasm");

    let bindgen = wasm_bindgen_cli()?;
    let out = work.join("bindgen");
    let _ = std::fs::remove_dir_all(&out);
    run::status(
        Command::new(&bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "dtpixel",
            ])
            .args(["--remove-name-section", "--remove-producers-section"])
            .arg("--out-dir")
            .arg(&out)
            .arg(&raw),
    )?;
    let imports = wasm_imports(&read(&out.join(BINDGEN))?)?;
    if imports != [EXPECTED_IMPORT] {
        return Err(format!(
            "the wasm module imports {imports:?}, but the hand-written glue (client-wasm/js/core.js) \
             provides only {EXPECTED_IMPORT}: keep the exports to numbers, or extend the glue"
        ));
    }

    let optimized = work.join(OPTIMIZED);
    let _ = std::fs::remove_file(&optimized);
    match toolchain::ensure_apt(&["binaryen"]) {
        Ok(()) => {
            run::status(
                Command::new("wasm-opt")
                    .args(WASM_OPT_FLAGS)
                    .arg(out.join(BINDGEN))
                    .arg("-o")
                    .arg(&optimized),
            )?;
        }
        Err(e) => println!("xtask pkg: wasm-opt unavailable ({e}); shipping wasm-bindgen's output"),
    }
    let module = shipped_module(&work);

    // Written aside, checked, then swapped in: readers of pkg/ never see a half-written package.
    let staging = work.join("staging");
    write_package(&root, &staging, &module)?;
    report_sizes(&staging)?;
    npm_pack(&staging, &work)?;
    let pkg = root.join("pkg");
    let _ = std::fs::remove_dir_all(&pkg);
    std::fs::rename(&staging, &pkg)
        .map_err(|e| format!("moving {} to {}: {e}", staging.display(), pkg.display()))?;
    Ok(pkg)
}

/// wasm-bindgen's module, in `target/dtpixel-pkg/`, and wasm-opt's, beside it when it ran.
const BINDGEN: &str = "dtpixel_bg.wasm";
const OPTIMIZED: &str = "dtpixel_bg.opt.wasm";

/// The wasm module the last package build embedded: wasm-opt's output, else wasm-bindgen's.
fn shipped_module(work: &Path) -> PathBuf {
    let optimized = work.join(OPTIMIZED);
    if optimized.is_file() {
        optimized
    } else {
        work.join("bindgen").join(BINDGEN)
    }
}

/// Bundles `auto.js` exactly as the package's is (esbuild, the wasm module embedded, the byte
/// order mark) from `sources` instead of client-wasm/js, into `out`: for a changed copy of the
/// sources, such as the browser benchmark's with performance marks. Needs the module of a
/// package build (`cargo xtask pkg`) and esbuild.
pub fn bundle_auto_from(sources: &Path, out: &Path) -> Result<(), String> {
    let root = run::root();
    let work = root.join("target").join("dtpixel-pkg");
    let esbuild = esbuild(&work.join("tools"))?;
    bundle(&esbuild, sources, AUTO, out)?;
    embed_into(out, &js_byte_string(&read(&shipped_module(&work))?), true)?;
    mark_utf8(out)
}

/// esbuild's bundle of `file` (one of [`ENTRIES`]) from `sources`, minified, into `out`.
fn bundle(esbuild: &Path, sources: &Path, file: &str, out: &Path) -> Result<(), String> {
    let format = if file == AUTO { "iife" } else { "esm" };
    run::status(
        Command::new(esbuild)
            .arg(sources.join(file))
            .args(["--bundle", "--minify", "--target=es2022"])
            .arg(format!("--format={format}"))
            .arg(format!("--outfile={}", out.display())),
    )
}

/// Starts `path` with the UTF-8 byte order mark (see [`AUTO`]).
fn mark_utf8(path: &Path) -> Result<(), String> {
    let marked = [UTF8_BOM.as_bytes(), &read(path)?].concat();
    write(path, &marked)
}

/// npm, for esbuild and `npm pack` (Debian's package where Node.js came without it).
fn ensure_npm() -> Result<(), String> {
    if run::succeeds(Command::new("npm").arg("--version")) {
        return Ok(());
    }
    toolchain::ensure_apt(&["npm"])
}

/// `wasm-bindgen` (and, next to it, `wasm-bindgen-test-runner`) at exactly the version of the
/// `wasm-bindgen` crate in Cargo.lock, installed with `cargo install` when missing.
pub fn wasm_bindgen_cli() -> Result<PathBuf, String> {
    let version = locked_version(&run::root(), "wasm-bindgen")?;
    toolchain::ensure_cargo_install("wasm-bindgen-cli", &version, "wasm-bindgen")
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The version of `package` in Cargo.lock.
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == wanted {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
            {
                return Ok(v.to_string());
            }
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}

/// The `module.name` of each import of a wasm binary.
fn wasm_imports(wasm: &[u8]) -> Result<Vec<String>, String> {
    fn leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let b = *bytes.get(*at)?;
            *at += 1;
            value |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
            shift += 7;
            if shift > 35 {
                return None;
            }
        }
    }
    fn name<'a>(bytes: &'a [u8], at: &mut usize) -> Option<&'a str> {
        let len = leb(bytes, at)?;
        let s = bytes.get(*at..*at + len)?;
        *at += len;
        std::str::from_utf8(s).ok()
    }
    let bad = || "the wasm module is malformed".to_string();
    if wasm.get(..4) != Some(b"\0asm") {
        return Err(bad());
    }
    let mut at = 8;
    let mut imports = Vec::new();
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at).ok_or_else(bad)?;
        let end = at + size;
        if id == 2 {
            let mut p = at;
            let count = leb(wasm, &mut p).ok_or_else(bad)?;
            if count > 0 {
                let module = name(wasm, &mut p).ok_or_else(bad)?;
                let field = name(wasm, &mut p).ok_or_else(bad)?;
                imports.push(format!("{module}.{field}"));
            }
            if count > 1 {
                imports.push(format!("and {} more", count - 1));
            }
        }
        at = end;
    }
    Ok(imports)
}

/// Drops full-line `//` comments, indentation and blank lines: the sources in `client-wasm/js/`
/// keep their comments, the shoppers' download does not. (The sources use no multi-line strings.)
fn strip_js(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn write_package(root: &Path, pkg: &Path, module: &Path) -> Result<(), String> {
    let manifest = std::fs::read_to_string(root.join("pkg.json"))
        .map_err(|e| format!("reading pkg.json: {e}"))?;
    let crate_version = locked_version(root, "dtpixel-wasm")?;
    if !manifest.contains(&format!("\"version\": \"{crate_version}\"")) {
        return Err(format!(
            "pkg.json's version differs from the workspace version {crate_version}: keep them equal"
        ));
    }
    let _ = std::fs::remove_dir_all(pkg);
    std::fs::create_dir_all(pkg).map_err(|e| format!("creating {}: {e}", pkg.display()))?;
    write(&pkg.join("package.json"), manifest.as_bytes())?;
    let js = root.join("client-wasm").join("js");
    for file in JS {
        let source = std::fs::read_to_string(js.join(file))
            .map_err(|e| format!("reading client-wasm/js/{file}: {e}"))?;
        write(&pkg.join(file), strip_js(&source).as_bytes())?;
    }
    // What pages load is bundled (core.js into dtpixel.js; both into auto.js) and minified when
    // esbuild installs; the files for Node stay as they are.
    match esbuild(&root.join("target").join("dtpixel-pkg").join("tools")) {
        Ok(esbuild) => {
            // Each is one self-contained file: a page that loads one makes one request.
            for file in ENTRIES {
                bundle(&esbuild, &js, file, &pkg.join(file))?;
            }
        }
        Err(e) => {
            println!("xtask pkg: esbuild unavailable ({e}); shipping the comment-stripped sources")
        }
    }
    write(&pkg.join("dtpixel.d.ts"), &read(&js.join("dtpixel.d.ts"))?)?;
    write(
        &pkg.join("README.md"),
        &read(&root.join("client-wasm").join("README.md"))?,
    )?;
    embed_wasm(pkg, &read(module)?)?;
    mark_utf8(&pkg.join(AUTO))?;
    // Every file the manifest lists must exist.
    for listed in manifest
        .split("\"files\"")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap_or("")
        .split('"')
        .skip(1)
        .step_by(2)
    {
        if !pkg.join(listed).is_file() {
            return Err(format!(
                "pkg.json lists {listed}, which the build did not write"
            ));
        }
    }
    Ok(())
}

/// The bytes as a double-quoted JavaScript string literal of one character (U+0000 to U+00FF) per
/// byte, which `s.charCodeAt(i)` turns back into byte `i`. Only what a literal cannot hold raw is
/// escaped (`\\`, `"`, line feed, carriage return), and `NUL` (so that no tool takes the file for
/// binary) and `<` (so that the file can also be inlined in an HTML `<script>`). Module scripts
/// are always UTF-8, so the characters from U+0080 take two bytes each: this still gzips to about
/// 7% over the bare wasm, where base64 costs over a quarter more and hex about 11%.
fn js_byte_string(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 5 / 4 + 2);
    s.push('"');
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'<' => s.push_str("\\x3c"),
            // `\0` followed by a digit would be a legacy octal escape.
            0 if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => s.push_str("\\x00"),
            0 => s.push_str("\\0"),
            _ => s.push(char::from(b)),
        }
    }
    s.push('"');
    s
}

/// Replaces the wasm placeholder in every JavaScript file of the package that has it (`core.js`,
/// and `dtpixel.js` and `auto.js` when esbuild bundled `core.js` into them) with the module.
fn embed_wasm(pkg: &Path, wasm: &[u8]) -> Result<(), String> {
    let literal = js_byte_string(wasm);
    for file in JS {
        embed_into(&pkg.join(file), &literal, *file == "core.js")?;
    }
    Ok(())
}

/// Replaces the wasm placeholder in the file at `path` with `literal`; an error when it is there
/// more than once, or `required` and it is not there.
fn embed_into(path: &Path, literal: &str, required: bool) -> Result<(), String> {
    let source =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    match source.matches(WASM_PLACEHOLDER).count() {
        0 if required => Err(format!(
            "{} has no {WASM_PLACEHOLDER} for the wasm module",
            path.display()
        )),
        0 => Ok(()),
        1 => write(
            path,
            source.replacen(WASM_PLACEHOLDER, literal, 1).as_bytes(),
        ),
        n => Err(format!(
            "{} has {WASM_PLACEHOLDER} {n} times",
            path.display()
        )),
    }
}

/// The esbuild version used to bundle and minify what pages load.
const ESBUILD: &str = "0.28.2";

/// esbuild at exactly [`ESBUILD`], installed from npm into `tools` when missing.
fn esbuild(tools: &Path) -> Result<PathBuf, String> {
    let bin = tools.join("node_modules").join(".bin").join("esbuild");
    let installed = |bin: &Path| {
        run::output(Command::new(bin).arg("--version")).is_some_and(|v| v.trim() == ESBUILD)
    };
    if !installed(&bin) {
        std::fs::create_dir_all(tools).map_err(|e| e.to_string())?;
        run::status(
            Command::new("npm")
                .args([
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--prefix",
                ])
                .arg(tools)
                .arg(format!("esbuild@{ESBUILD}")),
        )?;
    }
    if installed(&bin) {
        Ok(bin)
    } else {
        Err(format!("esbuild {ESBUILD} did not install"))
    }
}

/// The size of a file after `gzip -9`.
pub fn gzip9_len(path: &Path) -> Result<u64, String> {
    let out = Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .arg(path)
        .output()
        .map_err(|e| format!("running gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip -9 {} failed", path.display()));
    }
    Ok(out.stdout.len() as u64)
}

/// The package's own modules that a module's source imports (`from "./x.js"`, `import "./x.js"`).
fn local_imports(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for keyword in ["from", "import"] {
        for quote in ['"', '\''] {
            for spacing in ["", " "] {
                let needle = format!("{keyword}{spacing}{quote}./");
                for (at, _) in source.match_indices(&needle) {
                    let rest = &source[at + needle.len()..];
                    if let Some(end) = rest.find(quote) {
                        found.push(rest[..end].to_string());
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The files a page loads when it loads `entry`: the entry and, transitively, what it imports.
fn page_files(pkg: &Path, entry: &str) -> Result<Vec<String>, String> {
    let mut files = vec![entry.to_string()];
    let mut i = 0;
    while i < files.len() {
        let path = pkg.join(&files[i]);
        let source = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        for import in local_imports(&source) {
            if !files.contains(&import) {
                files.push(import);
            }
        }
        i += 1;
    }
    Ok(files)
}

/// Prints the raw and gzip -9 size of the files a page loads on each path and their totals;
/// fails when a path is over budget.
fn report_sizes(pkg: &Path) -> Result<(), String> {
    for entry in ENTRIES {
        println!("xtask pkg: what a page loads with {entry}, raw and gzip -9:");
        let (mut raw, mut gz) = (0, 0);
        for file in page_files(pkg, entry)? {
            let path = pkg.join(&file);
            let r = std::fs::metadata(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .len();
            let g = gzip9_len(&path)?;
            println!("  {file:<18} {r:>6} B  {g:>6} B gz");
            raw += r;
            gz += g;
        }
        println!(
            "  {:<18} {raw:>6} B  {gz:>6} B gz  (budget {BUDGET_GZIP} B gz)",
            "total"
        );
        if gz > BUDGET_GZIP {
            return Err(format!(
                "what a page loads with {entry} is {gz} B gzipped, over the {BUDGET_GZIP} B budget"
            ));
        }
    }
    Ok(())
}

fn npm_pack(pkg: &Path, work: &Path) -> Result<(), String> {
    let dest = work.join("npm-pack");
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).map_err(|e| format!("creating {}: {e}", dest.display()))?;
    run::status(
        Command::new("npm")
            .current_dir(pkg)
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&dest),
    )?;
    let tarball = std::fs::read_dir(&dest)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".tgz"))
        .ok_or("npm pack wrote no tarball")?;
    let len = tarball.metadata().map_or(0, |m| m.len());
    // Every file of the package made it into the tarball.
    let listing = run::output(Command::new("tar").arg("-tzf").arg(tarball.path()))
        .ok_or("could not list the npm tarball")?;
    for entry in std::fs::read_dir(pkg).map_err(|e| e.to_string())? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        if !listing.lines().any(|l| l == format!("package/{name}")) {
            return Err(format!(
                "npm pack left out {name}: add it to pkg.json's files"
            ));
        }
    }
    println!(
        "xtask pkg: npm pack ok: {} ({len} B, {} files)",
        tarball.file_name().to_string_lossy(),
        listing.lines().count()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_comment_lines_and_indentation_only() {
        let src = "// a\nconst a = 1; // kept\n\n  if (a) {\n    // b\n    f(\"//x\");\n  }\n";
        assert_eq!(
            strip_js(src),
            "const a = 1; // kept\nif (a) {\nf(\"//x\");\n}\n"
        );
    }

    #[test]
    fn embeds_bytes_as_one_character_each_escaping_only_what_a_literal_or_html_cannot_hold() {
        assert_eq!(js_byte_string(b"a\\\"\n\r<"), r#""a\\\"\n\r\x3c""#);
        // NUL is \0, except before a digit (\01 would be an octal escape).
        assert_eq!(js_byte_string(&[0, b'a', 0, b'7', 0]), r#""\0a\x007\0""#);
        // Everything else is the character of the same number, raw: U+0080 and up as UTF-8.
        assert_eq!(
            js_byte_string(&[1, 0x7f, 0x80, 0xff]),
            "\"\u{1}\u{7f}\u{80}\u{ff}\""
        );
        let all: Vec<u8> = (0..=255).collect();
        let s = js_byte_string(&all);
        assert_eq!(s.chars().filter(|c| *c == '\n' || *c == '\r').count(), 0);
        assert!(!s.contains('<') && !s.contains('\u{2028}') && !s.contains('\u{2029}'));
    }

    #[test]
    fn finds_the_package_modules_a_module_imports() {
        let src =
            r#"import{a as b}from"./core.js";import './x.js';export * from "./y.js";import "z";"#;
        assert_eq!(local_imports(src), ["core.js", "x.js", "y.js"]);
        assert!(local_imports("const s = \"from\";").is_empty());
    }

    #[test]
    fn reads_wasm_imports() {
        // Header, then an import section with one import "m"."f" of function type 0.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([2, 7, 1, 1, b'm', 1, b'f', 0, 0]);
        assert_eq!(wasm_imports(&wasm).unwrap(), ["m.f"]);
        assert!(wasm_imports(b"\0asm\x01\0\0\0").unwrap().is_empty());
        assert!(wasm_imports(b"nope").is_err());
    }
}
