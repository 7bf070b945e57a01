//! Reading profiles: the hottest lines of a `perf report`, for the "target missed" notes.

use std::path::Path;
use std::process::Command;

use crate::run;

/// The lines of `perf report --no-children --stdio <args> -i <data>` that start with a
/// percentage (one per hot symbol, hottest first).
pub fn hot_lines(data: &Path, args: &[&str]) -> Result<Vec<String>, String> {
    let report = run::output(
        Command::new("perf")
            .args(["report", "--no-children", "--stdio"])
            .args(args)
            .arg("-i")
            .arg(data),
    )
    .ok_or("perf report failed")?;
    Ok(report
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
        .collect())
}
