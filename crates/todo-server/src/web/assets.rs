//! The pages' stylesheet and script, embedded in the binary. Pages link them as
//! `/assets/<file>?v=<hash of the assets>`, so a browser may keep them forever and a new build
//! still takes effect at once.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
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
