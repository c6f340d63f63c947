//! The pages' stylesheet and script, embedded in the binary. Pages link them as
//! `/assets/<file>?v=<hash of the assets>`, so a browser may keep them forever and a new build
//! still takes effect at once.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// A short hash over every asset: the cache-busting `?v=` of the pages' links.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut names: Vec<_> = Assets::iter().collect();
        names.sort();
        let mut combined = [0u8; 8];
        for name in names {
            if let Some(file) = Assets::get(&name) {
                for (i, b) in file.metadata.sha256_hash().iter().enumerate() {
                    combined[i % 8] ^= b.rotate_left((i / 8) as u32);
                }
            }
        }
        combined.iter().map(|b| format!("{b:02x}")).collect()
    })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let Some(asset) = Assets::get(&file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&file)),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.data.into_owned(),
    )
        .into_response()
}

/// What the installable app's manifest, service worker and offline page answer with: not
/// `immutable` (their URLs carry no version), revalidated each time against the assets' hash.
fn revalidated(
    headers: &HeaderMap,
    content_type: &'static str,
    body: String,
    extra: Option<(header::HeaderName, HeaderValue)>,
) -> Response {
    let etag = format!("\"{}\"", version());
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response()
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::try_from(etag) {
        out.insert(header::ETAG, value);
    }
    if let Some((name, value)) = extra {
        out.insert(name, value);
    }
    response
}

/// `/manifest.webmanifest`: what installing the app needs (W3C Web App Manifest). The
/// colours are app.css's `--bg` in its light theme (the browser shows them before any CSS).
pub async fn manifest(headers: HeaderMap) -> Response {
    let v = version();
    let icon = |file: &str, size: &str, purpose: &str| {
        serde_json::json!({
            "src": format!("/assets/{file}?v={v}"),
            "sizes": size,
            "type": "image/png",
            "purpose": purpose,
        })
    };
    let manifest = serde_json::json!({
        "name": "todo",
        "short_name": "todo",
        "description": "Your tasks, projects and reminders.",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": "#f6f7f9",
        "icons": [
            icon("icon-192.png", "192x192", "any"),
            icon("icon-512.png", "512x512", "any"),
            icon("icon-maskable-512.png", "512x512", "maskable"),
            {"src": format!("/assets/icon.svg?v={v}"), "sizes": "any", "type": "image/svg+xml"},
        ],
    });
    revalidated(
        &headers,
        "application/manifest+json",
        manifest.to_string(),
        None,
    )
}

/// `/sw.js`: the service worker (assets/sw.js), from the root so that its scope is the whole
/// site, with the assets' hash written in: a new build is a new worker, which replaces the
/// old one's caches. Its policy is the pages' own (same-origin only).
pub async fn service_worker(headers: HeaderMap) -> Response {
    let Some(file) = Assets::get("sw.js") else {
        return (StatusCode::NOT_FOUND, "no service worker").into_response();
    };
    let script = String::from_utf8_lossy(&file.data).replace("__ASSETS_VERSION__", version());
    revalidated(
        &headers,
        "text/javascript; charset=utf-8",
        script,
        Some((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(super::PAGE_CSP),
        )),
    )
}

/// `/offline`: what the service worker shows for a page it has no copy of while the server
/// cannot be reached. It names no one, so it may be kept across sign-outs.
pub async fn offline_page(headers: HeaderMap) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>Offline · todo</title>\
         <link rel=\"stylesheet\" href=\"/assets/app.css?v={v}\">\
         <link rel=\"icon\" href=\"/assets/icon.svg?v={v}\" type=\"image/svg+xml\">\
         <body class=\"auth\"><main id=\"main\" class=\"card\">\
         <h1>Offline</h1><p id=\"offline-page\">The server cannot be reached, and this page was \
         not opened here before. Your last list is kept: <a href=\"/\">open your tasks</a>, \
         or try again when you are back online.</p></main></body></html>",
        v = version()
    );
    revalidated(
        &headers,
        "text/html; charset=utf-8",
        page,
        Some((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(super::PAGE_CSP),
        )),
    )
}
