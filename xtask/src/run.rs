//! Running commands: echoing them, streaming their output and reading test counts from it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// A `cargo` command of the toolchain running this xtask, in the workspace root.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Shows a command the way a person would type it.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Runs a command with inherited output; an error says which command failed.
pub fn status(cmd: &mut Command) -> Result<(), String> {
    println!("$ {}", show(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

/// Whether a command runs and exits 0 (output discarded).
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What a command printed on stdout, if it ran and exited 0.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Passed and failed test counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Runs a test command, streaming its stdout, and adds up the `N passed; M failed` of every
/// `test result:` line (libtest) it prints. Fails when the command fails.
pub fn tests(cmd: &mut Command) -> Result<Counts, (Counts, String)> {
    println!("$ {}", show(cmd));
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| {
        (
            Counts::default(),
            format!("could not start `{}`: {e}", show(cmd)),
        )
    })?;
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            counts += parse_result_line(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| (counts, format!("`{}`: {e}", show(cmd))))?;
    if status.success() {
        Ok(counts)
    } else {
        Err((counts, format!("`{}` failed ({status})", show(cmd))))
    }
}

/// Reads `test result: ok. 12 passed; 0 failed; …` (libtest's closing line).
pub fn parse_result_line(line: &str) -> Counts {
    let Some(rest) = line.trim().strip_prefix("test result: ") else {
        return Counts::default();
    };
    let mut counts = Counts::default();
    for part in rest.split([';', '.']) {
        let mut words = part.split_whitespace();
        if let (Some(n), Some(what)) = (words.next(), words.next()) {
            match (n.parse::<u64>(), what) {
                (Ok(n), "passed") => counts.passed = n,
                (Ok(n), "failed") => counts.failed = n,
                _ => {}
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libtest_result_lines() {
        assert_eq!(
            parse_result_line("test result: ok. 31 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s"),
            Counts { passed: 31, failed: 2 }
        );
        assert_eq!(parse_result_line("running 3 tests"), Counts::default());
    }
}
