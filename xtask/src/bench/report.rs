//! The benchmark report: sections of Markdown tables, rendered as BENCHMARKS.md.

use std::fmt::Write;
use std::time::Duration;

use super::machine::Machine;
use super::Mode;

/// One table: a caption, a header row and rows of cells.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// A line above the table.
    pub caption: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a caption and column names.
    pub fn new(caption: &str, header: &[&str]) -> Table {
        Table {
            caption: caption.to_string(),
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

/// One section of the report (core, collector, browser).
#[derive(Clone, Debug, Default)]
pub struct Section {
    /// The heading.
    pub title: String,
    /// The exact commands that measured it.
    pub commands: Vec<String>,
    /// Paragraphs before the tables (what is measured and how).
    pub intro: Vec<String>,
    /// The tables.
    pub tables: Vec<Table>,
    /// Paragraphs after the tables: targets met or missed, and why.
    pub notes: Vec<String>,
}

impl Section {
    /// A section that could not be measured, saying why.
    pub fn failed(name: &str, error: &str) -> Section {
        Section {
            title: format!("{name}: not measured"),
            notes: vec![format!("This section failed in this run: `{error}`")],
            ..Section::default()
        }
    }
}

/// A ratio `a / b`, formatted like `12.3×`.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() && b.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "n/a".into()
    }
}

/// A duration in nanoseconds, formatted with a sensible unit.
pub fn nanos(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e4 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// A count with thousands separators.
pub fn count(n: f64) -> String {
    let rounded = n.round() as i128;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 {
        out.insert(0, '-');
    }
    out
}

/// "met" or "**missed**".
pub fn verdict(met: bool) -> String {
    if met {
        "met".into()
    } else {
        "**missed**".into()
    }
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the whole report.
pub fn render(
    machine: &Machine,
    command: &str,
    took: Duration,
    mode: Mode,
    sections: &[Section],
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    if mode.smoke() {
        let _ = writeln!(
            s,
            "> **Smoke run**: every benchmark ran briefly to check that it still works; these figures are \
             not results. The full results are in BENCHMARKS.md (`cargo xtask bench`).\n"
        );
    }
    let _ = writeln!(
        s,
        "Written by `{command}` (whole run: {} s). Every figure below was measured in this one run, beside \
         the baseline it is compared with, on the same machine: the machines are shared and noisy, so the \
         **ratios** are what carry over, not the absolute numbers. Regenerate with `cargo xtask bench`.\n",
        took.as_secs()
    );
    let _ = writeln!(s, "| machine | |\n| --- | --- |");
    let _ = writeln!(s, "| date | {} |", machine.date);
    let _ = writeln!(s, "| cores (`nproc`) | {} |", machine.nproc);
    let _ = writeln!(s, "| CPU (/proc/cpuinfo) | {} |", escape_cell(&machine.cpu));
    let _ = writeln!(s, "| memory | {} GiB |", machine.memory_gib);
    let _ = writeln!(s, "| kernel | {} |", machine.kernel);
    let _ = writeln!(s, "| compiler | {} |", machine.rustc);
    let _ = writeln!(s, "| command | `{command}` |\n");
    for section in sections {
        let _ = writeln!(s, "## {}\n", section.title);
        if !section.commands.is_empty() {
            let _ = writeln!(s, "Measured with:\n\n```sh");
            for c in &section.commands {
                let _ = writeln!(s, "{c}");
            }
            let _ = writeln!(s, "```\n");
        }
        for p in &section.intro {
            let _ = writeln!(s, "{p}\n");
        }
        for table in &section.tables {
            if !table.caption.is_empty() {
                let _ = writeln!(s, "**{}**\n", table.caption);
            }
            let _ = writeln!(s, "| {} |", table.header.join(" | "));
            let _ = writeln!(
                s,
                "|{}",
                table.header.iter().map(|_| " --- |").collect::<String>()
            );
            for row in &table.rows {
                let cells: Vec<String> = row.iter().map(|c| escape_cell(c)).collect();
                let _ = writeln!(s, "| {} |", cells.join(" | "));
            }
            let _ = writeln!(s);
        }
        for p in &section.notes {
            let _ = writeln!(s, "{p}\n");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(count(1234567.4), "1,234,567");
        assert_eq!(count(999.0), "999");
        assert_eq!(nanos(41.26), "41.3 ns");
        assert_eq!(nanos(2_500.0), "2.50 µs");
        assert_eq!(nanos(1_910_271.0), "1.91 ms");
        assert_eq!(ratio(10.0, 4.0), "2.50×");
        assert_eq!(ratio(1.0, 0.0), "n/a");
    }
}
