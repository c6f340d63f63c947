//! The web app's credential: our session JWT in an HttpOnly, SameSite=Lax cookie, and the
//! CSRF token that every unsafe cookie-authenticated request must carry.
//!
//! The token is an HMAC of the session id under a key derived from the JWT secret: nothing to
//! store, different for every session, and worthless once the session ends. Pages put it in
//! their forms (`_csrf`) and in `<meta name="csrf-token">` for the page's JavaScript, which
//! sends it as `X-CSRF-Token`. Bearer-authenticated requests carry no ambient credential, so
//! they need no token.

use aws_lc_rs::hmac;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

pub const SESSION_COOKIE: &str = "todo_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// Makes and checks CSRF tokens.
pub struct CsrfKey(hmac::Key);

impl CsrfKey {
    pub fn new(jwt_secret: &[u8]) -> Self {
        // A key of its own, so a CSRF token can never be mistaken for a token signature.
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, jwt_secret),
            b"todo csrf key",
        );
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    /// The token of `session_id`.
    pub fn token(&self, session_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, session_id.as_bytes()))
    }

    /// Whether `presented` is the token of `session_id` (compared in constant time).
    pub fn verify(&self, session_id: &str, presented: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(presented.trim()) else {
            return false;
        };
        hmac::verify(&self.0, session_id.as_bytes(), &bytes).is_ok()
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value)
}

/// Whether the request reached us over HTTPS (directly or through a proxy that says so), so
/// that the cookie is marked `Secure`. A client that lies only gets a cookie it won't send back.
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new login.
pub fn set_session(token: &str, expires_at: DateTime<Utc>, secure: bool) -> Option<HeaderValue> {
    let max_age = (expires_at - Utc::now()).num_seconds().max(0);
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::try_from(format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::try_from(format!(
        "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("todo_session=; Path=/; Max-Age=0"))
}

/// Whether the browser says the request comes from another site. Browsers send
/// `Sec-Fetch-Site` and `Origin` on unsafe requests; a mismatch is refused even before the
/// token is looked at.
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site.eq_ignore_ascii_case("cross-site")
    {
        return true;
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        // Browsers send `Origin: null` on same-site form posts under `Referrer-Policy:
        // no-referrer` (which every response carries): it says nothing either way.
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            !origin_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// Whether a sign-in form post (log in, sign up) must be refused as cross-site. These carry no
/// session and so no CSRF token: the browser's word is all there is. `Origin: null` is what a
/// sandboxed frame, a `data:` page or a cross-site redirect sends, and also what our own pages
/// send under `Referrer-Policy: no-referrer` (Fetch, "serializing a request origin") — so it
/// is believed only beside `Sec-Fetch-Site: same-origin`, which every browser that sends
/// `Origin: null` for its own pages also sends.
pub fn is_cross_site_sign_in(headers: &HeaderMap) -> bool {
    if is_cross_site(headers) {
        return true;
    }
    let origin_is_null = headers
        .get(header::ORIGIN)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"null"));
    let same_origin = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site.eq_ignore_ascii_case("same-origin"));
    origin_is_null && !same_origin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csrf_token_is_valid_for_its_session_only() {
        let key = CsrfKey::new(b"secret");
        let token = key.token("session-a");
        assert!(key.verify("session-a", &token));
        assert!(!key.verify("session-b", &token));
        assert!(!CsrfKey::new(b"other").verify("session-a", &token));
        assert!(!key.verify("session-a", "not a token"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; todo_session=abc; b=2"),
        );
        assert_eq!(read(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(read(&headers, "c"), None);
    }

    #[test]
    fn requests_from_another_origin_are_cross_site() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("todo.example:8000"));
        assert!(!is_cross_site(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://todo.example:8000"),
        );
        assert!(!is_cross_site(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(is_cross_site(&headers));
    }

    #[test]
    fn a_sign_in_from_origin_null_needs_the_browser_to_say_same_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("todo.example"));
        assert!(!is_cross_site_sign_in(&headers), "no browser signal at all");
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(
            !is_cross_site(&headers),
            "a cookie post still needs its token"
        );
        assert!(is_cross_site_sign_in(&headers));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
        assert!(is_cross_site_sign_in(&headers));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(!is_cross_site_sign_in(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(is_cross_site_sign_in(&headers), "the origin still counts");
    }
}
