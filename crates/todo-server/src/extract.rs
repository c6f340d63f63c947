//! Our own JSON, path and query extractors: the framework's rejections become problem+json.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON object body. Wrong content type → 415, not JSON → 400, JSON of the wrong shape → 422
/// (an array too: serde would otherwise fill a struct from one, field by position).
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json(&req);
        let bytes = body_bytes(req, state).await?;
        if !is_json {
            return Err(unsupported_media_type());
        }
        parse_json_object(&bytes).map(Json)
    }
}

/// An optional JSON object body: an empty body or `null` is `None`; anything else must be a
/// JSON object.
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json(&req);
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        if !is_json {
            return Err(unsupported_media_type());
        }
        if bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(None));
        }
        parse_json_object(&bytes).map(|value| OptionalJson(Some(value)))
    }
}

/// A raw body within the route's size limit (413 problem beyond it).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        body_bytes(req, state).await.map(RawBody)
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|v| v.eq_ignore_ascii_case("application/json") || v.ends_with("+json"))
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "send the body as JSON with Content-Type: application/json",
    )
}

/// The body, within the size limit (413 beyond it).
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        let status = rejection.status();
        let slug = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload-too-large"
        } else {
            "malformed-request"
        };
        ApiError::new(status, slug, rejection.body_text())
    })
}

/// Parses a JSON object (see [`parse_json`]); any other JSON value is a 422.
pub fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.trim_ascii_start().first() != Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "the body must be a JSON object",
        ));
    }
    parse_json(bytes)
}

/// Parses JSON, naming the path of the offending field. Whether the text is JSON at all
/// decides between 400 and 422 (serde_json alone reports some shape errors as syntax).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let not_json =
        |e: &dyn std::fmt::Display| ApiError::bad_request(format!("malformed JSON: {e}"));
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => {
            deserializer.end().map_err(|e| not_json(&e))?;
            Ok(value)
        }
        Err(e) if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() => {
            let path = e.path().to_string();
            let detail = if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            };
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                detail,
            ))
        }
        Err(e) => Err(not_json(e.inner())),
    }
}

/// Path parameters; a value of the wrong type (e.g. `/tasks/abc`) → 400.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection @ PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ApiError::bad_request(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::internal(&rejection.body_text())),
        }
    }
}

/// A query string; repeated keys fill lists (`tag=a&tag=b`); values of the wrong type
/// (e.g. `limit=abc`) → 400; a parameter the route does not know → 422 naming it (a typo
/// must never silently widen a listing).
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_html_form::from_str(parts.uri.query().unwrap_or_default())
            .map(Query)
            .map_err(|e| {
                let message = e.to_string();
                match unknown_field(&message) {
                    Some(name) => ApiError::from(todo_core::Error::invalid(
                        name,
                        format!("unknown query parameter: {message}"),
                    )),
                    None => ApiError::bad_request(format!("invalid query string: {message}")),
                }
            })
    }
}

/// A list route that takes no query parameters: any parameter is a 422 naming it, as on the
/// routes that take some.
pub struct NoQuery;

/// No query parameter at all.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

impl<S: Send + Sync> FromRequestParts<S> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<NoParams>::from_request_parts(parts, state)
            .await
            .map(|_| NoQuery)
    }
}

/// The name in serde's "unknown field `name`, expected …" (or "…, there are no fields").
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_field_is_named() {
        assert_eq!(
            super::unknown_field("unknown field `completedd`, expected one of `status`"),
            Some("completedd")
        );
        assert_eq!(super::unknown_field("invalid digit found in string"), None);
    }
}
