//! One log line per request, and the request id that ties it to the client: taken from
//! `X-Request-Id` when the client (or a proxy) sent a sane one, generated otherwise, echoed on
//! the response. The line names the route template, never the raw path or query (which may
//! carry tokens), and no header values.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::auth::LoggedUser;
use crate::metrics::route_label;

pub const REQUEST_ID: &str = "x-request-id";

pub async fn log(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let route = route_label(&request);
    let method = request.method().clone();
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let started = Instant::now();

    let mut response = next.run(request).instrument(span).await;

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let user_id = response
        .extensions()
        .get::<LoggedUser>()
        .map(|LoggedUser(id)| id.as_str());
    // Outside the span, so that the line carries each field once.
    if response.status().is_server_error() {
        tracing::error!(request_id = %id, %method, %route, status, latency_ms, user_id, "request");
    } else {
        tracing::info!(request_id = %id, %method, %route, status, latency_ms, user_id, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Up to 128 visible ASCII characters: anything else could forge log lines or bloat them.
fn is_acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::is_acceptable;

    #[test]
    fn request_ids_from_clients_are_sane_or_replaced() {
        assert!(is_acceptable("3f2a-abc_DEF.1"));
        for bad in ["", "with space", "line\nbreak", &"x".repeat(129), "é"] {
            assert!(!is_acceptable(bad), "{bad:?}");
        }
    }
}
