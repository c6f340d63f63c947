//! What every response gets regardless of route: security headers, CORS for configured
//! origins only, gzip for large bodies, a per-request time limit and a body size limit.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::access_log::REQUEST_ID;
use crate::error::ApiError;

/// Applies to HTML pages only; JSON needs none. Swagger UI needs inline styles and data: images.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Bodies smaller than this are sent as they are: gzip would cost more than it saves.
const COMPRESS_ABOVE_BYTES: u64 = 1024;

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest accepted request body (413 beyond).
    pub body_limit: usize,
    /// Longest time a handler may take to produce a response (503 beyond). Streams (SSE) are
    /// bounded only until their first byte.
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser; none by default. `*` allows any.
    pub cors_origins: Vec<String>,
    /// Longest a client may take to send a request's headers; also how long a keep-alive
    /// connection may wait for its next request (hyper ≥ 1.6).
    pub header_read_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed (HTTP/1 and
    /// HTTP/2, idle or stalled). Keep it above the event streams' keep-alive interval.
    pub idle_timeout: Duration,
    /// Open connections at most; at the cap no more are accepted until one closes.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Wraps `router` in the hardening layers (outermost last).
pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    settings: &HttpSettings,
) -> Result<Router<S>, String> {
    let timeout = settings.request_timeout;
    let router = router
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            time_limit(timeout, request, next)
        }))
        .layer(
            CompressionLayer::new().compress_when(
                SizeAbove::new(COMPRESS_ABOVE_BYTES)
                    .and(NotForContentType::GRPC)
                    .and(NotForContentType::IMAGES)
                    .and(NotForContentType::SSE),
            ),
        );
    let router = match cors(&settings.cors_origins)? {
        Some(cors) => router.layer(cors),
        None => router,
    };
    Ok(router.layer(middleware::from_fn(security_headers)))
}

async fn time_limit(limit: Duration, request: Request, next: Next) -> Response {
    // A chat turn waits on a model for several rounds; it has its own bounds
    // (LLM_TIMEOUT_SECS per answer, a fixed number of rounds).
    if request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|path| path.as_str().ends_with("/chat"))
    {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_s = limit.as_secs_f64(), "request timed out");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!("the request took longer than {} s", limit.as_secs_f64()),
            )
            .into_response()
        }
    }
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The web app's pages set a stricter policy of their own.
    if is_html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

fn cors(origins: &[String]) -> Result<Option<CorsLayer>, String> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .map(|o| {
                    HeaderValue::from_str(o.trim_end_matches('/'))
                        .map_err(|_| format!("CORS_ORIGINS: {o:?} is not a valid origin"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let exposed = [
        header::LOCATION,
        header::LINK,
        header::RETRY_AFTER,
        HeaderName::from_static("x-total-count"),
        HeaderName::from_static(REQUEST_ID),
        HeaderName::from_static("ratelimit"),
        HeaderName::from_static("ratelimit-policy"),
    ];
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static(REQUEST_ID),
            ])
            .expose_headers(exposed)
            .max_age(Duration::from_secs(600)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event stream sends a comment every KEEP_ALIVE; an idle limit below that would cut
    /// every quiet stream.
    #[test]
    fn the_default_idle_limit_outlasts_the_event_streams_keep_alive() {
        let settings = HttpSettings::default();
        assert!(settings.idle_timeout >= 2 * crate::api::events::KEEP_ALIVE);
        assert!(settings.header_read_timeout < settings.idle_timeout);
    }
}
