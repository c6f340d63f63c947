//! Our own login tokens: HS256 JWTs signed with `TODO_JWT_SECRET`, naming a session so that
//! logging out ends them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use todo_core::accounts::Session;
use todo_core::memo::Memo;

use crate::error::ApiError;

const ISSUER: &str = "todo";

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    iss: String,
    iat: i64,
    exp: i64,
}

/// A signed token and when it stops working.
pub struct SessionToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature checked out, with their session id, for the credential time to
    /// live (never past the token's expiry): a client sends the same token with every request,
    /// and checking it (base64, JSON, HMAC-SHA256) is most of a small request's work
    /// (docs/benchmarks.md).
    /// Only verified tokens get in, so a forged one is never found here; the session itself is
    /// still checked on every request (a logout ends the token at once).
    verified: Memo<String>,
}

impl TokenKeys {
    /// Keys for `secret`; verified tokens remembered for `remember` (zero: not at all).
    pub fn new(secret: &[u8], remember: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.validate_aud = false;
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Memo::new(remember),
        }
    }

    pub fn issue(&self, session: &Session) -> Result<SessionToken, ApiError> {
        let claims = Claims {
            sub: session.user_id.to_string(),
            sid: session.id.clone(),
            iss: ISSUER.into(),
            iat: session.created_at.timestamp(),
            exp: session.expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(SessionToken {
            token,
            expires_at: session.expires_at,
        })
    }

    /// The session id of a valid token of ours; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<String> {
        if let Some(session_id) = self.verified.get(token) {
            return Some(session_id);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let left = claims.exp.saturating_sub(Utc::now().timestamp());
        if let Ok(left) = u64::try_from(left) {
            self.verified.put(
                token.to_owned(),
                claims.sid.clone(),
                Some(Duration::from_secs(left)),
            );
        }
        Some(claims.sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_in: chrono::Duration) -> Session {
        let now = Utc::now();
        Session {
            id: "session-1".into(),
            user_id: "user-1".into(),
            created_at: now - chrono::Duration::hours(2),
            expires_at: now + expires_in,
        }
    }

    #[test]
    fn a_remembered_token_still_verifies_and_a_tampered_one_never_does() {
        for remember in [Duration::ZERO, Duration::from_secs(60)] {
            let keys = TokenKeys::new(b"secret", remember);
            let token = keys
                .issue(&session(chrono::Duration::hours(1)))
                .expect("issue")
                .token;
            for _ in 0..2 {
                assert_eq!(keys.verify(&token).as_deref(), Some("session-1"));
            }
            let mut tampered = token.clone().into_bytes();
            let last = tampered.len() - 2;
            tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).expect("ascii");
            assert_eq!(keys.verify(&tampered), None);
            let other = TokenKeys::new(b"another secret", remember);
            assert_eq!(other.verify(&token), None, "signed with another secret");
        }
    }

    #[test]
    fn an_expired_token_is_refused_and_not_remembered() {
        let keys = TokenKeys::new(b"secret", Duration::from_secs(60));
        let token = keys
            .issue(&session(-chrono::Duration::hours(1)))
            .expect("issue")
            .token;
        assert_eq!(keys.verify(&token), None);
        assert_eq!(keys.verified.get(&token), None);
    }
}
