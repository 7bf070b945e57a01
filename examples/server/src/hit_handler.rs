//! `GET|HEAD {prefix}/pixel/{pixel_id}/event.gif?…`: checks the hit, queues it, and answers
//! the GIF only once the hit is committed. Bad hits get a 400 with a one-line reason and are
//! not recorded; other paths get a 404; a full queue gets a 503.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use dtpixel::{error_response, gif_response, PixelHit};

use crate::client_ip::client_ip;
use crate::dates;
use crate::report_api::text;
use crate::serve::AppState;
use crate::writer::{PendingHit, SubmitError, Visitor};

/// The fallback handler: every request no other route took (pixel paths usually arrive
/// through [`handle`] directly, see [`crate::serve`]).
pub async fn pixel(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, _body) = request.into_parts();
    handle(&state, peer, &parts.method, &parts.uri, &parts.headers).await
}

/// Answers a request from `peer`: the GIF once a valid hit is committed, else an error.
pub async fn handle(
    state: &AppState,
    peer: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let hit = match PixelHit::from_uri(uri, &state.parser) {
        Ok(hit) => hit,
        Err(e) => return error_response::<Body>(&e),
    };
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: pixels answer GET and HEAD",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    if !state.events.contains(&hit.event_type()) {
        let known: Vec<&str> = state.events.iter().map(|e| e.as_str()).collect();
        return text(
            StatusCode::BAD_REQUEST,
            &format!(
                "unknown event type '{}': this collector records {}",
                hit.event_type(),
                known.join(", ")
            ),
        );
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .unwrap_or_default();
    let filtered = state.filter.reason(method, headers, &user_agent);
    let received_ms = dates::now_ms();
    let ip = client_ip(peer, headers, state.trust_proxy);
    // The visitor key is computed here, in parallel across requests, with the salt of the
    // hit's day; just after midnight, before the writer has made the new day's salt, the
    // writer computes it.
    let salt = state.writer.salt();
    let visitor = if salt.days == dates::day_number(received_ms) {
        Visitor::Key(salt.visitor_key(ip, &user_agent, hit.pixel_id()))
    } else {
        Visitor::Client {
            ip,
            user_agent: user_agent.into_owned(),
        }
    };
    let pending = PendingHit {
        received_ms,
        pixel_id: hit.pixel_id(),
        event_type: hit.event_type(),
        cache_bust: hit.cache_bust().is_some(),
        filtered,
        query: hit.query().to_owned(),
        visitor,
    };
    let acked = match state.writer.submit(pending) {
        Ok(acked) => acked,
        Err(SubmitError::Full) => {
            let mut response = text(
                StatusCode::SERVICE_UNAVAILABLE,
                "collector busy: the write queue is full, retry later",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        Err(SubmitError::Closed) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "collector is shutting down",
            )
        }
    };
    match acked.await {
        Ok(Ok(())) => gif_response::<Body>(hit.cache_mode()),
        Ok(Err(e)) => text(StatusCode::SERVICE_UNAVAILABLE, &e),
        Err(_) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "collector is shutting down",
        ),
    }
}
