//! `GET /api/report` and `GET /api/filtered`: the report as JSON, with strict query parameters
//! (`pixel_id`, `from`, `to`; unknown or repeated ones are a 400).

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use dtpixel::{urlencoded, PixelId};

use crate::dates;
use crate::report::{self, Report};
use crate::serve::AppState;
use crate::store::{self, DayRange};

/// Query parameters, each at most once, from an allowed list.
pub fn params(query: Option<&str>, allowed: &[&str]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (name, value) in urlencoded::parse(query.unwrap_or("")) {
        let name = name.decode().into_owned();
        if !allowed.contains(&name.as_str()) {
            return Err(format!(
                "unknown parameter '{name}': expected {}",
                allowed.join(", ")
            ));
        }
        if out
            .insert(name.clone(), value.decode().into_owned())
            .is_some()
        {
            return Err(format!("parameter '{name}' is given more than once"));
        }
    }
    Ok(out)
}

/// The pixel and day range of a report request.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only this creator.
    pub pixel: Option<PixelId>,
    /// The days.
    pub range: DayRange,
}

/// Reads `pixel_id`, `from` and `to`.
pub fn selection(params: &HashMap<String, String>) -> Result<Selection, String> {
    let pixel = match params.get("pixel_id") {
        Some(id) if !id.is_empty() => Some(PixelId::parse(id).map_err(|e| e.to_string())?),
        _ => None,
    };
    let mut range = DayRange::default();
    let mut days = (i64::MIN, i64::MAX);
    if let Some(from) = params.get("from").filter(|s| !s.is_empty()) {
        days.0 = dates::parse_day(from).map_err(|e| format!("from: {e}"))?;
        range.from = from.clone();
    }
    if let Some(to) = params.get("to").filter(|s| !s.is_empty()) {
        days.1 = dates::parse_day(to).map_err(|e| format!("to: {e}"))?;
        range.to = to.clone();
    }
    if days.0 > days.1 {
        return Err(format!("from ({}) is after to ({})", range.from, range.to));
    }
    Ok(Selection { pixel, range })
}

/// A plain-text one-line answer.
pub fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!("{message}\n"),
    )
        .into_response()
}

/// Builds the report on a blocking thread with a read-only connection.
pub async fn load(state: &AppState, selection: Selection) -> Result<Report, Response> {
    let db = state.db.clone();
    let events = state.events.clone();
    let result = tokio::task::spawn_blocking(move || {
        let conn = store::open_ro(&db)?;
        report::build(&conn, &events, &selection.range, selection.pixel).map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("report failed: {e}"),
        )),
        Err(e) => Err(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("report failed: {e}"),
        )),
    }
}

fn json(value: &impl serde::Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `GET /api/report[?pixel_id=…&from=YYYY-MM-DD&to=YYYY-MM-DD]`.
pub async fn api_report(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let selection =
        match params(query.as_deref(), &["pixel_id", "from", "to"]).and_then(|p| selection(&p)) {
            Ok(s) => s,
            Err(e) => return text(StatusCode::BAD_REQUEST, &e),
        };
    match load(&state, selection).await {
        Ok(report) => json(&report),
        Err(response) => response,
    }
}

/// `GET /api/filtered[?pixel_id=…&from=…&to=…]`: hits answered but not counted, per reason.
pub async fn api_filtered(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let selection =
        match params(query.as_deref(), &["pixel_id", "from", "to"]).and_then(|p| selection(&p)) {
            Ok(s) => s,
            Err(e) => return text(StatusCode::BAD_REQUEST, &e),
        };
    match load(&state, selection).await {
        Ok(report) => json(&report::filtered_json(&report)),
        Err(response) => response,
    }
}
