//! Finding and installing what the build needs on a fresh machine: Debian packages, cargo-installed
//! tools, and a Rust toolchain that can build for `wasm32-unknown-unknown`.
//!
//! For wasm, a normal rustup target is used where one is installed or can be added. Where rustup
//! cannot download the target's std, Debian's `rustc-web`/`cargo-web`/`rust-web-src` toolchain
//! builds std from source (`-Zbuild-std`, enabled with `RUSTC_BOOTSTRAP=1`) and links with
//! Debian's `wasm-ld`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::run;

/// The wasm target triple.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

fn is_installed(package: &str) -> bool {
    run::output(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
        .is_some_and(|s| s.contains("install ok installed"))
}

/// Installs the Debian packages that are missing (running `apt-get update` once first).
pub fn ensure_apt(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo = !is_root();
    let apt = |args: &[&str]| {
        let mut cmd = if sudo {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        } else {
            Command::new("apt-get")
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        run::status(&mut apt(&["update", "-qq"]))?;
    }
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    run::status(&mut install).map_err(|e| format!("{e}: could not install {}", missing.join(" ")))
}

fn is_root() -> bool {
    run::output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// Makes sure `bin --version` reports `version`, installing `krate@version` with cargo if not.
pub fn ensure_cargo_install(krate: &str, version: &str, bin: &str) -> Result<PathBuf, String> {
    let path = cargo_bin_dir().join(bin);
    let reported = run::output(Command::new(&path).arg("--version")).unwrap_or_default();
    if reported.split_whitespace().any(|w| w == version) {
        return Ok(path);
    }
    run::status(
        run::cargo()
            .args(["install", krate, "--version", version])
            .env_remove("RUSTC")
            .env_remove("RUSTC_BOOTSTRAP"),
    )?;
    Ok(path)
}

/// Where `cargo install` puts binaries.
pub fn cargo_bin_dir() -> PathBuf {
    if let Ok(home) = std::env::var("CARGO_HOME") {
        return Path::new(&home).join("bin");
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    Path::new(&home).join(".cargo").join("bin")
}

/// Runs `cmd`, killing it after `limit`; true when it exited 0 in time.
fn succeeds_within(cmd: &mut Command, limit: Duration) -> bool {
    let Ok(mut child) = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn() else {
        return false;
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// A toolchain that builds for `wasm32-unknown-unknown`.
#[derive(Clone, Debug)]
pub enum Wasm {
    /// rustup's toolchain with the target's std installed.
    Rustup,
    /// Debian's toolchain building std from source, linking with the named `wasm-ld`.
    Debian {
        /// The `wasm-ld` binary (for example `wasm-ld-22`).
        linker: String,
    },
}

impl Wasm {
    /// Finds (or installs) a wasm toolchain.
    /// `DTPIXEL_WASM=debian` forces the Debian route (to test it where rustup's target exists).
    pub fn find() -> Result<Wasm, String> {
        let forced = std::env::var("DTPIXEL_WASM").is_ok_and(|v| v == "debian");
        if !forced {
            if let Some(wasm) = Self::rustup() {
                return Ok(wasm);
            }
        }
        Self::debian()
    }

    fn rustup() -> Option<Wasm> {
        let installed = run::output(Command::new("rustup").args(["target", "list", "--installed"]))
            .unwrap_or_default();
        let added = installed.lines().any(|l| l.trim() == WASM_TARGET)
            || succeeds_within(
                Command::new("rustup").args(["target", "add", WASM_TARGET]),
                Duration::from_secs(90),
            );
        added.then_some(Wasm::Rustup)
    }

    fn debian() -> Result<Wasm, String> {
        println!("xtask: rustup has no {WASM_TARGET} std here; using Debian's toolchain with -Zbuild-std");
        ensure_apt(&["rustc-web", "cargo-web", "rust-web-src", "lld-22"])?;
        let linker = ["wasm-ld-22", "wasm-ld"]
            .into_iter()
            .find(|l| run::succeeds(Command::new(l).arg("--version")))
            .ok_or("no wasm-ld found after installing lld-22")?;
        Ok(Wasm::Debian {
            linker: linker.to_string(),
        })
    }

    /// `cargo <subcommand> --target wasm32-unknown-unknown`, ready for more arguments.
    /// `std` says whether the build needs the standard library (else `core` and `alloc` only).
    pub fn cargo(&self, subcommand: &str, std: bool) -> Command {
        match self {
            Wasm::Rustup => {
                let mut cmd = run::cargo();
                cmd.args([subcommand, "--target", WASM_TARGET]);
                cmd
            }
            Wasm::Debian { linker } => {
                let mut cmd = Command::new("/usr/bin/cargo");
                cmd.current_dir(run::root())
                    .env("RUSTC", "/usr/bin/rustc")
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker)
                    .env(
                        "CARGO_TARGET_DIR",
                        run::root().join("target").join("wasm-debian"),
                    )
                    .env_remove("RUSTUP_TOOLCHAIN")
                    .env_remove("CARGO")
                    .args([subcommand, "--target", WASM_TARGET])
                    .arg(if std {
                        "-Zbuild-std=std,panic_abort"
                    } else {
                        "-Zbuild-std=core,alloc"
                    });
                cmd
            }
        }
    }

    /// The target directory its builds write to (`…/wasm32-unknown-unknown/<profile>` below it).
    pub fn target_dir(&self) -> PathBuf {
        match self {
            Wasm::Rustup => run::root().join("target"),
            Wasm::Debian { .. } => run::root().join("target").join("wasm-debian"),
        }
    }
}
