//! API keys (personal access tokens): the secret is shown once, only its SHA-256 is stored,
//! so authenticating a request costs a hash lookup and never a password hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::ids::ApiKeyId;
use crate::user::UserId;

/// Every secret starts with this, so leaked keys are recognisable (and scannable).
pub const SECRET_PREFIX: &str = "todo_";
/// How much of the secret is kept in clear to tell keys apart.
const SHOWN_PREFIX_CHARS: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }
}

/// Scopes as stored: a comma-separated list such as `read,write`.
pub fn scopes_to_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn scopes_from_text(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    #[serde(skip)]
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the secret, to recognise the key.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }

    /// Whether `other` is within this key's reach: no scope this key lacks, and no later
    /// expiry (a key that never expires is reached only by another that never expires).
    /// A key may create or revoke only such keys, so a leaked key never grows into a wider
    /// or longer-lived one, nor cuts off a wider one.
    pub fn covers(&self, other: &ApiKey) -> bool {
        let scopes = other.scopes.iter().all(|s| self.scopes.contains(s));
        let expiry = match (self.expires_at, other.expires_at) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(mine), Some(theirs)) => theirs <= mine,
        };
        scopes && expiry
    }
}

/// A freshly generated secret and what is stored of it.
pub struct GeneratedSecret {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

/// 256 random bits, base64url, after `prefix`: the form of every secret the server hands out
/// (API keys, OAuth tokens, webhook secrets, reset and confirmation links).
pub fn random_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn generate_secret() -> GeneratedSecret {
    let secret = random_secret(SECRET_PREFIX);
    GeneratedSecret {
        prefix: secret.chars().take(SHOWN_PREFIX_CHARS).collect(),
        hash: hash_secret(&secret),
        secret,
    }
}

/// Hex SHA-256 of the whole secret. A fast hash is right here: the secret has 256 bits of
/// entropy, so there is nothing to brute-force.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn looks_like_api_key(token: &str) -> bool {
    token.starts_with(SECRET_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(scopes: &[Scope], expires_in_days: Option<i64>) -> ApiKey {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        ApiKey {
            id: "k".into(),
            user_id: "u".into(),
            name: "k".into(),
            prefix: "todo_".into(),
            scopes: scopes.to_vec(),
            created_at: now,
            last_used_at: None,
            expires_at: expires_in_days.map(|d| now + chrono::Duration::days(d)),
            revoked_at: None,
        }
    }

    #[test]
    fn a_key_covers_only_keys_no_wider_and_no_longer_lived() {
        use Scope::{Read, Write};
        let full = key(&[Read, Write], None);
        assert!(full.covers(&key(&[Read], Some(1))));
        assert!(full.covers(&full));
        let write_only = key(&[Write], None);
        assert!(!write_only.covers(&key(&[Read, Write], None)));
        assert!(write_only.covers(&key(&[Write], Some(3))));
        let day = key(&[Read, Write], Some(1));
        assert!(
            !day.covers(&key(&[Read], None)),
            "never expiring outlives it"
        );
        assert!(!day.covers(&key(&[Read], Some(2))));
        assert!(day.covers(&key(&[Read], Some(1))));
    }

    #[test]
    fn secrets_are_prefixed_unique_and_hashed() {
        let a = generate_secret();
        let b = generate_secret();
        assert!(looks_like_api_key(&a.secret));
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(&a.prefix));
        assert_eq!(a.hash, hash_secret(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret));
    }

    #[test]
    fn scopes_round_trip_through_text() {
        let scopes = vec![Scope::Read, Scope::Write];
        assert_eq!(scopes_from_text(&scopes_to_text(&scopes)), scopes);
        assert_eq!(scopes_from_text("read,bogus"), vec![Scope::Read]);
    }
}
