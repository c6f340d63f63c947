//! Our own login tokens: HS256 JWTs signed with `TODO_JWT_SECRET`, naming a session so that
//! logging out ends them.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use todo_core::accounts::Session;

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
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.validate_aud = false;
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(&self, session: &Session) -> Result<SessionToken, ApiError> {
        let claims = Claims {
            sub: session.user_id.clone(),
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
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims.sid)
    }
}
