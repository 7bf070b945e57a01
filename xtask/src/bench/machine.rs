//! The machine a benchmark ran on: cores, CPU model, kernel, compiler and the date.

use std::process::Command;

use crate::run;

/// What BENCHMARKS.md says about the machine.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Online CPUs (`nproc`).
    pub nproc: String,
    /// `model name` from /proc/cpuinfo.
    pub cpu: String,
    /// `uname -sr`.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// Total memory from /proc/meminfo, in GiB.
    pub memory_gib: String,
    /// UTC date and time of the run (`date -u`).
    pub date: String,
}

fn command_line(program: &str, args: &[&str]) -> String {
    run::output(Command::new(program).args(args))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

impl Machine {
    /// Reads the machine's description.
    pub fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_gib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| format!("{:.0}", kb / 1024.0 / 1024.0))
            .unwrap_or_else(|| "?".into());
        Machine {
            nproc: command_line("nproc", &[]),
            cpu,
            kernel: command_line("uname", &["-sr"]),
            rustc: command_line("rustc", &["--version"]),
            memory_gib,
            date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }
}
