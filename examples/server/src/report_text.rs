//! `dtpixel report --format table|csv`: the report as an aligned table or as CSV.

use crate::report::Report;

/// A human title for an event type's column.
pub fn event_title(event: &str) -> String {
    match event {
        "page_load" => "page loads".into(),
        "add_to_cart" => "cart adds".into(),
        other => other.replace('_', " "),
    }
}

/// The conversion as a percentage with one decimal.
pub fn percent(conversion: f64) -> String {
    format!("{:.1}%", conversion * 100.0)
}

fn rows(report: &Report) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["creator".to_string(), "pixel_id".to_string()];
    for event in &report.events {
        let title = event_title(event);
        header.push(title.clone());
        header.push(format!("{title} visitors"));
    }
    header.push("conversion".into());
    header.push("filtered".into());
    let body = report
        .pixels
        .iter()
        .map(|p| {
            let mut row = vec![p.name.clone().unwrap_or_default(), p.pixel_id.clone()];
            for (_, stats) in &p.events {
                row.push(stats.count.to_string());
                row.push(stats.visitors.to_string());
            }
            row.push(percent(p.conversion));
            row.push(p.filtered_total().to_string());
            row
        })
        .collect();
    (header, body)
}

/// An aligned table: text left, numbers right.
pub fn table(report: &Report) -> String {
    let (header, body) = rows(report);
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let mut parts = Vec::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w - cell.chars().count();
            if i < 2 {
                parts.push(format!("{cell}{}", " ".repeat(pad)));
            } else {
                parts.push(format!("{}{cell}", " ".repeat(pad)));
            }
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    if body.is_empty() {
        out.push_str("(no creators and no hits yet)\n");
    }
    for row in &body {
        line(&mut out, row);
    }
    out
}

/// One CSV field (RFC 4180), with a leading `'` on text a spreadsheet would run as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV: `pixel_id,name,{event}_count,{event}_visitors,…,conversion,filtered`; the conversion
/// as a fraction.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("pixel_id,name");
    for event in &report.events {
        out.push_str(&format!(",{event}_count,{event}_visitors"));
    }
    out.push_str(",conversion,filtered\r\n");
    for p in &report.pixels {
        out.push_str(&csv_field(&p.pixel_id));
        out.push(',');
        out.push_str(&csv_field(p.name.as_deref().unwrap_or("")));
        for (_, stats) in &p.events {
            out.push_str(&format!(",{},{}", stats.count, stats.visitors));
        }
        out.push_str(&format!(",{},{}\r\n", p.conversion, p.filtered_total()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
