//! `GET /report`: the report as a page a brand manager reads — totals, a bar chart of
//! visitors and cart visitors per creator, a sortable table (server-side: the column headers
//! are links) and a per-day chart for one creator. Inline SVG and CSS only; no scripts, no
//! external assets; every text from the database or the request is HTML-escaped.

use std::fmt::Write;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use dtpixel::PixelId;

use crate::html::esc;
use crate::report::{self, Day, PixelReport, Report};
use crate::report_api::{self, params, selection, text};
use crate::report_text::{event_title, percent};
use crate::serve::AppState;
use crate::{dates, store};

const PAGE_LOAD: &str = "page_load";

/// How the table is sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sort {
    key: String,
    descending: bool,
}

/// The page.
pub async fn page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let parsed = params(
        query.as_deref(),
        &["from", "to", "sort", "order", "creator"],
    )
    .and_then(|p| {
        let sel = selection(&p)?;
        let sort = Sort {
            key: p
                .get("sort")
                .cloned()
                .unwrap_or_else(|| format!("{PAGE_LOAD}.visitors")),
            descending: match p.get("order").map(String::as_str) {
                None | Some("desc") => true,
                Some("asc") => false,
                Some(other) => return Err(format!("order must be asc or desc, not '{other}'")),
            },
        };
        let creator = match p.get("creator").filter(|c| !c.is_empty()) {
            Some(c) => Some(PixelId::parse(c).map_err(|e| format!("creator: {e}"))?),
            None => None,
        };
        Ok((sel, sort, creator))
    });
    let (sel, sort, creator) = match parsed {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, &e),
    };
    let mut report = match report_api::load(&state, sel.clone()).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    if let Err(e) = sort_pixels(&mut report, &sort) {
        return text(StatusCode::BAD_REQUEST, &e);
    }
    // The per-day chart: the chosen creator, else the one with the most traffic.
    let chosen = creator.or_else(|| {
        report
            .pixels
            .iter()
            .find(|p| p.events.iter().any(|(_, s)| s.count > 0))
            .and_then(|p| PixelId::parse(&p.pixel_id).ok())
    });
    let days = match chosen {
        Some(pixel) => {
            let db = state.db.clone();
            let events = state.events.clone();
            let range = sel.range.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                let conn = store::open_ro(&db)?;
                report::daily(&conn, &events, &range, pixel).map_err(|e| e.to_string())
            })
            .await;
            match loaded {
                Ok(Ok(days)) => days,
                Ok(Err(e)) => return text(StatusCode::INTERNAL_SERVER_ERROR, &e),
                Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
        None => Vec::new(),
    };
    let body = render(&report, &sel, &sort, chosen, &days);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        ],
        body,
    )
        .into_response()
}

fn sort_pixels(report: &mut Report, sort: &Sort) -> Result<(), String> {
    let key = sort.key.as_str();
    let valid = key == "name"
        || key == "conversion"
        || key == "filtered"
        || report
            .events
            .iter()
            .any(|e| key == format!("{e}.count") || key == format!("{e}.visitors"));
    if !valid {
        return Err(format!("cannot sort by '{key}'"));
    }
    let value = |p: &PixelReport| -> f64 {
        match key {
            "conversion" => p.conversion,
            "filtered" => p.filtered_total() as f64,
            _ => {
                let (event, what) = key.split_once('.').unwrap_or((key, "count"));
                let s = p.event(event);
                if what == "visitors" {
                    s.visitors as f64
                } else {
                    s.count as f64
                }
            }
        }
    };
    report.pixels.sort_by(|a, b| {
        let ord = if key == "name" {
            a.label().to_lowercase().cmp(&b.label().to_lowercase())
        } else {
            value(a).total_cmp(&value(b))
        };
        let ord = if sort.descending { ord.reverse() } else { ord };
        ord.then(a.pixel_id.cmp(&b.pixel_id))
    });
    Ok(())
}

fn link(sel: &report_api::Selection, sort: &Sort, creator: Option<&str>) -> String {
    let mut q = format!(
        "?sort={}&order={}",
        sort.key,
        if sort.descending { "desc" } else { "asc" }
    );
    if sel.range.from != store::DayRange::default().from {
        let _ = write!(q, "&from={}", sel.range.from);
    }
    if sel.range.to != store::DayRange::default().to {
        let _ = write!(q, "&to={}", sel.range.to);
    }
    if let Some(c) = creator {
        let _ = write!(q, "&creator={c}");
    }
    esc(&format!("/report{q}"))
}

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9cfdc}
main{padding:20px 32px;max-width:1100px}section{background:#fff;border-radius:10px;padding:16px 20px;margin:0 0 18px;box-shadow:0 1px 3px #0002}
h2{font-size:17px;margin:0 0 10px}.cards{display:flex;gap:14px;flex-wrap:wrap}.card{flex:1;min-width:150px;background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 3px #0002}
.card b{display:block;font-size:26px}.card span{color:#5b6475;font-size:13px}
table{border-collapse:collapse;width:100%}th,td{padding:7px 9px;border-bottom:1px solid #e4e7ee;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th a{color:#1d2330;text-decoration:none}th a:hover{text-decoration:underline}
div.id{font-family:ui-monospace,monospace;font-size:11px;color:#5b6475}tr.chosen td{background:#eef3ff}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px 0 12px;vertical-align:-1px}
form{display:flex;gap:10px;align-items:end;flex-wrap:wrap}label{font-size:13px;color:#5b6475}input{display:block;font:inherit;padding:3px 6px}
.note{color:#5b6475;font-size:13px}svg text{font:12px system-ui,sans-serif;fill:#1d2330}
";

const TRAFFIC: &str = "#4c6ef5";
const CART: &str = "#f59f00";

fn render(
    report: &Report,
    sel: &report_api::Selection,
    sort: &Sort,
    chosen: Option<PixelId>,
    days: &[Day],
) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let range = match (sel.range.from.as_str(), sel.range.to.as_str()) {
        ("0000-01-01", "9999-12-31") => "all time".to_string(),
        (from, "9999-12-31") => format!("from {from}"),
        ("0000-01-01", to) => format!("up to {to}"),
        (from, to) => format!("{from} to {to}"),
    };
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>dtpixel report: traffic and cart conversion per creator</title><style>{STYLE}</style></head><body>\
         <header><h1>Creator report</h1><p>How much traffic each creator drove, and how many of those people reached the cart ({}, UTC days)</p></header><main>",
        esc(&range)
    );

    // Totals.
    let total = |event: &str, visitors: bool| -> u64 {
        report
            .pixels
            .iter()
            .map(|p| {
                let s = p.event(event);
                if visitors {
                    s.visitors
                } else {
                    s.count
                }
            })
            .sum()
    };
    let pv = total("page_load", true);
    let cv = total("add_to_cart", true);
    let filtered: u64 = report.pixels.iter().map(PixelReport::filtered_total).sum();
    let _ = write!(
        h,
        "<div class=\"cards\" style=\"margin-bottom:18px\">\
         <div class=\"card\"><b>{}</b><span>creators</span></div>\
         <div class=\"card\"><b>{pv}</b><span>visitors (page loads by distinct people)</span></div>\
         <div class=\"card\"><b>{cv}</b><span>cart visitors</span></div>\
         <div class=\"card\"><b>{}</b><span>cart conversion</span></div>\
         <div class=\"card\"><b>{filtered}</b><span>hits filtered (bots, prefetch, HEAD)</span></div></div>",
        report.pixels.len(),
        esc(&percent(report::ratio(cv, pv))),
    );

    // Date filter.
    let value = |d: &str, default: &str| if d == default { String::new() } else { esc(d) };
    let _ = write!(
        h,
        "<section><form method=\"get\" action=\"/report\">\
         <label>From<input type=\"date\" name=\"from\" value=\"{}\"></label>\
         <label>To<input type=\"date\" name=\"to\" value=\"{}\"></label>\
         <input type=\"hidden\" name=\"sort\" value=\"{}\"><button type=\"submit\">Show</button>\
         <a href=\"/report\">all time</a></form></section>",
        value(&sel.range.from, "0000-01-01"),
        value(&sel.range.to, "9999-12-31"),
        esc(&sort.key),
    );

    // Bar chart per creator.
    h.push_str("<section><h2>Visitors and cart visitors per creator</h2>");
    if report.pixels.is_empty() {
        h.push_str("<p class=\"note\">No creators and no hits yet. Add one with <code>dtpixel pixels add --name …</code>, then load its pixel.</p>");
    } else {
        h.push_str(&bar_chart(report));
    }
    h.push_str("</section>");

    // Table.
    h.push_str("<section><h2>Creators</h2><div style=\"overflow-x:auto\"><table><thead><tr>");
    let chosen_text = chosen.map(|c| c.to_string());
    let header = |h: &mut String, key: &str, title: &str| {
        let descending = if sort.key == key {
            !sort.descending
        } else {
            key != "name"
        };
        let arrow = if sort.key == key {
            if sort.descending {
                " ▼"
            } else {
                " ▲"
            }
        } else {
            ""
        };
        let next = Sort {
            key: key.to_string(),
            descending,
        };
        let _ = write!(
            h,
            "<th><a href=\"{}\">{}{arrow}</a></th>",
            link(sel, &next, chosen_text.as_deref()),
            esc(title)
        );
    };
    header(&mut h, "name", "Creator");
    for event in &report.events {
        let (count_title, visitors_title) = column_titles(event);
        header(&mut h, &format!("{event}.count"), &count_title);
        header(&mut h, &format!("{event}.visitors"), &visitors_title);
    }
    header(&mut h, "conversion", "Conversion");
    header(&mut h, "filtered", "Filtered");
    h.push_str("</tr></thead><tbody>");
    for p in &report.pixels {
        let class = if chosen_text.as_deref() == Some(p.pixel_id.as_str()) {
            " class=\"chosen\""
        } else {
            ""
        };
        let _ = write!(
            h,
            "<tr{class}><td><a href=\"{}#daily\">{}</a><div class=\"id\">{}</div></td>",
            link(sel, sort, Some(&p.pixel_id)),
            esc(p.label()),
            esc(&p.pixel_id)
        );
        for (_, s) in &p.events {
            let _ = write!(h, "<td>{}</td><td>{}</td>", s.count, s.visitors);
        }
        let filtered: Vec<String> = p.filtered.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let _ = write!(
            h,
            "<td><b>{}</b></td><td title=\"{}\">{}</td></tr>",
            esc(&percent(p.conversion)),
            esc(&filtered.join(", ")),
            p.filtered_total()
        );
    }
    h.push_str("</tbody></table></div><p class=\"note\">Hits count every recorded pixel load; visitors count distinct people per day, without cookies (a hash of a daily-rotating secret salt, IP address, browser and creator). Conversion is cart visitors ÷ page-load visitors. Click a column to sort, a creator for the daily chart.</p></section>");

    // Per-day chart.
    h.push_str("<section id=\"daily\">");
    match chosen {
        Some(pixel) => {
            let id = pixel.to_string();
            let label = report
                .pixels
                .iter()
                .find(|p| p.pixel_id == id)
                .map_or(id.clone(), |p| p.label().to_string());
            let _ = write!(h, "<h2>Per day: {}</h2>", esc(&label));
            if days.is_empty() {
                h.push_str("<p class=\"note\">No counted hits for this creator in this range.</p>");
            } else {
                h.push_str(&daily_chart(days));
            }
        }
        None => h.push_str("<h2>Per day</h2><p class=\"note\">No traffic yet.</p>"),
    }
    h.push_str("</section></main></body></html>");
    h
}

/// Column titles of an event type: its hits and its visitors.
fn column_titles(event: &str) -> (String, String) {
    match event {
        "page_load" => ("Page loads".into(), "Visitors".into()),
        "add_to_cart" => ("Cart adds".into(), "Cart visitors".into()),
        other => {
            let title = capitalize(&event_title(other));
            (title.clone(), format!("{title} visitors"))
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn legend() -> String {
    format!(
        "<p class=\"legend\"><span style=\"background:{TRAFFIC}\"></span>visitors (page load)<span style=\"background:{CART}\"></span>cart visitors (add to cart)</p>"
    )
}

/// Horizontal bars: two per creator (page-load visitors, cart visitors), top 25.
fn bar_chart(report: &Report) -> String {
    let pixels: Vec<&PixelReport> = report.pixels.iter().take(25).collect();
    let max = pixels
        .iter()
        .map(|p| {
            p.event("page_load")
                .visitors
                .max(p.event("add_to_cart").visitors)
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_w, bar_w, row_h) = (220.0, 560.0, 34.0);
    let height = row_h * pixels.len() as f64 + 6.0;
    let width = label_w + bar_w + 60.0;
    let mut s = format!(
        "<svg role=\"img\" aria-label=\"visitors and cart visitors per creator\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" style=\"max-width:100%;height:auto\">"
    );
    for (i, p) in pixels.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let mut label: String = p.label().chars().take(30).collect();
        if p.label().chars().count() > 30 {
            label.push('…');
        }
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + 17.0,
            esc(&label)
        );
        for (j, (event, color)) in [("page_load", TRAFFIC), ("add_to_cart", CART)]
            .iter()
            .enumerate()
        {
            let v = p.event(event).visitors;
            let w = (v as f64 / max as f64 * bar_w).max(if v > 0 { 2.0 } else { 0.0 });
            let by = y + j as f64 * 13.0;
            let _ = write!(
                s,
                "<rect x=\"{label_w}\" y=\"{by}\" width=\"{w:.1}\" height=\"12\" rx=\"2\" fill=\"{color}\"><title>{}: {v}</title></rect>\
                 <text x=\"{:.1}\" y=\"{}\">{v}</text>",
                esc(&format!("{} {}", p.label(), event_title(event))),
                label_w + w + 5.0,
                by + 10.5
            );
        }
    }
    s.push_str("</svg>");
    s.push_str(&legend());
    s
}

/// The days from the first with hits (at least two weeks back, at most 90 days) to the last,
/// with the days without hits as zeros, so the time axis is true.
fn contiguous(days: &[Day]) -> Vec<Day> {
    let numbered: Vec<(i64, &Day)> = days
        .iter()
        .filter_map(|d| dates::parse_day(&d.day).ok().map(|n| (n, d)))
        .collect();
    let (Some(first), Some(last)) = (numbered.first(), numbered.last()) else {
        return days.to_vec();
    };
    let end = last.0;
    let start = first.0.min(end - 13).max(end - 89);
    let empty: Vec<(String, report::EventStats)> = last
        .1
        .events
        .iter()
        .map(|(name, _)| (name.clone(), report::EventStats::default()))
        .collect();
    (start..=end)
        .map(|n| match numbered.iter().find(|(m, _)| *m == n) {
            Some((_, d)) => (*d).clone(),
            None => Day {
                day: dates::format_day(n),
                events: empty.clone(),
            },
        })
        .collect()
}

/// Vertical bars per day: page-load visitors and cart visitors side by side.
fn daily_chart(days: &[Day]) -> String {
    let days = contiguous(days);
    let days: Vec<&Day> = days.iter().collect();
    let get = |d: &Day, e: &str| {
        d.events
            .iter()
            .find(|(n, _)| n == e)
            .map_or(0, |(_, s)| s.visitors)
    };
    let max = days
        .iter()
        .map(|d| get(d, "page_load").max(get(d, "add_to_cart")))
        .max()
        .unwrap_or(0)
        .max(1);
    let (left, top, plot_h, width) = (40.0, 10.0, 180.0, 880.0);
    let slot = ((width - left - 20.0) / days.len() as f64).min(60.0);
    let mut s = format!(
        "<svg role=\"img\" aria-label=\"visitors per day\" viewBox=\"0 0 {width:.0} {h:.0}\" width=\"{width:.0}\" height=\"{h:.0}\" style=\"max-width:100%;height:auto\">",
        h = top + plot_h + 30.0
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{:.0}\" y2=\"{y}\" stroke=\"#9aa3b5\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text><text x=\"{}\" y=\"{y}\" text-anchor=\"end\">0</text>",
        width - 10.0,
        left - 6.0,
        top + 10.0,
        left - 6.0,
        y = top + plot_h
    );
    let every = (days.len() / 10).max(1);
    for (i, d) in days.iter().enumerate() {
        let x = left + i as f64 * slot;
        let bw = (slot * 0.38).max(2.0);
        for (j, (event, color)) in [("page_load", TRAFFIC), ("add_to_cart", CART)]
            .iter()
            .enumerate()
        {
            let v = get(d, event);
            let bh = v as f64 / max as f64 * plot_h;
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{}: {v} {}</title></rect>",
                x + slot * 0.1 + j as f64 * bw,
                top + plot_h - bh,
                esc(&d.day),
                esc(&event_title(event))
            );
        }
        if i % every == 0 {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{}\">{}</text>",
                x + 2.0,
                top + plot_h + 16.0,
                esc(d.day.get(5..).unwrap_or(&d.day))
            );
        }
    }
    s.push_str("</svg>");
    s.push_str(&legend());
    s
}
