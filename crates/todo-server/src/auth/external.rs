//! Tokens from another identity provider (Better Auth or any OIDC-style issuer): HS256 with a
//! shared secret, or EdDSA/RS256/ES256 with keys published at a JWKS URL.

use std::time::{Duration, Instant};

use chrono::Utc;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use todo_core::accounts::ExternalIdentity;
use todo_core::chat::model::Secret;
use tokio::sync::RwLock;

/// Unknown key ids trigger a refetch, but not more often than this.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// Secrets that sign tokens must be at least this long (256 bits, the HMAC-SHA256 key size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Refuses a signing secret too short to resist guessing; the message says how to make one.
pub fn check_secret(name: &str, secret: &str) -> Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "{name} is {} bytes; it must be at least {MIN_SECRET_BYTES} random bytes \
             (make one with `openssl rand -base64 48` or \
             `head -c 48 /dev/urandom | base64`)",
            secret.len()
        ));
    }
    Ok(())
}

/// Which outside tokens are accepted (`BETTER_AUTH_SECRET`, `AUTH_JWKS_URL`, `AUTH_ISSUER`,
/// `AUTH_AUDIENCE`, `AUTH_MAX_TOKEN_LIFETIME_SECS`).
#[derive(Debug, Clone)]
pub struct ExternalSettings {
    /// HS256 tokens signed with this shared secret (Better Auth's `BETTER_AUTH_SECRET`).
    pub shared_secret: Option<Secret>,
    /// EdDSA/RS256/ES256 tokens signed by a key published here.
    pub jwks_url: Option<String>,
    /// When set, `iss` is required and must equal it.
    pub issuer: Option<String>,
    /// When set, `aud` is required and must name it.
    pub audience: Option<String>,
    /// Tokens valid for longer than this (from `iat`, else from now, to `exp`) are refused.
    pub max_lifetime: Duration,
}

impl Default for ExternalSettings {
    fn default() -> Self {
        Self {
            shared_secret: None,
            jwks_url: None,
            issuer: None,
            audience: None,
            max_lifetime: Duration::from_secs(24 * 3600),
        }
    }
}

pub struct ExternalIssuers {
    shared_secret: Option<DecodingKey>,
    jwks: Option<Jwks>,
    issuer: Option<String>,
    audience: Option<String>,
    max_lifetime_secs: f64,
}

impl ExternalIssuers {
    /// Fails on a shared secret shorter than [`MIN_SECRET_BYTES`].
    pub fn new(settings: &ExternalSettings) -> Result<Self, String> {
        let shared_secret = match &settings.shared_secret {
            Some(secret) => {
                check_secret("BETTER_AUTH_SECRET", secret.expose())?;
                Some(DecodingKey::from_secret(secret.expose().as_bytes()))
            }
            None => None,
        };
        Ok(Self {
            shared_secret,
            jwks: settings.jwks_url.clone().map(Jwks::new),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            max_lifetime_secs: settings.max_lifetime.as_secs_f64(),
        })
    }

    pub async fn verify(&self, token: &str) -> Option<ExternalIdentity> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (key, issuer) = match header.alg {
            Algorithm::HS256 => (self.shared_secret.clone()?, BETTER_AUTH),
            Algorithm::EdDSA | Algorithm::RS256 | Algorithm::ES256 => {
                (self.jwks.as_ref()?.key(header.kid.as_deref()).await?, JWKS)
            }
            _ => return None,
        };
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.validation(header.alg))
            .ok()?
            .claims;
        if !self.lifetime_allowed(&claims, now_secs()) {
            return None;
        }
        claims.identity(issuer)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        if let Some(audience) = &self.audience {
            validation.set_audience(&[audience]);
            validation.validate_aud = true;
            validation.required_spec_claims.insert("aud".into());
        }
        validation
    }

    /// A token meant to outlive the cap is refused, however it was signed: a leaked one would
    /// work for as long as it says.
    fn lifetime_allowed(&self, claims: &Claims, now: f64) -> bool {
        let from = claims.iat.map_or(now, |iat| iat.min(now));
        claims.exp - from <= self.max_lifetime_secs
    }
}

fn now_secs() -> f64 {
    Utc::now().timestamp_millis() as f64 / 1000.0
}

/// The identity namespace of tokens signed with `BETTER_AUTH_SECRET`.
const BETTER_AUTH: &str = "better-auth";
/// The identity namespace of tokens signed by a key from `AUTH_JWKS_URL`.
const JWKS: &str = "jwks";

#[derive(Deserialize)]
struct Claims {
    /// Seconds since the epoch; some issuers write fractions.
    exp: f64,
    #[serde(default)]
    iat: Option<f64>,
    sub: Option<IdClaim>,
    user_id: Option<IdClaim>,
    id: Option<IdClaim>,
    email: Option<String>,
    name: Option<String>,
}

/// Issuers disagree on whether ids are strings or numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdClaim {
    Text(String),
    Number(i64),
}

impl Claims {
    /// The subject is `sub`, else `user_id`, else `id`.
    fn identity(self, issuer: &'static str) -> Option<ExternalIdentity> {
        let subject = match self.sub.or(self.user_id).or(self.id)? {
            IdClaim::Text(s) => s,
            IdClaim::Number(n) => n.to_string(),
        };
        ExternalIdentity::new(issuer, subject, self.email, self.name)
    }
}

/// Keys fetched from a JWKS URL, cached and refetched when an unknown key id shows up.
pub struct Jwks {
    url: String,
    client: reqwest::Client,
    cache: RwLock<Option<(Instant, JwkSet)>>,
}

impl Jwks {
    pub fn new(url: String) -> Self {
        Self {
            url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            cache: RwLock::new(None),
        }
    }

    async fn key(&self, kid: Option<&str>) -> Option<DecodingKey> {
        if let Some(key) = self.cached(kid).await {
            return Some(key);
        }
        let mut cache = self.cache.write().await;
        let stale = cache
            .as_ref()
            .is_none_or(|(fetched, _)| fetched.elapsed() >= JWKS_REFETCH_INTERVAL);
        if stale {
            match self.fetch().await {
                Ok(set) => *cache = Some((Instant::now(), set)),
                Err(e) => tracing::warn!(url = %self.url, error = %e, "fetching JWKS failed"),
            }
        }
        cache.as_ref().and_then(|(_, set)| find(set, kid))
    }

    async fn cached(&self, kid: Option<&str>) -> Option<DecodingKey> {
        self.cache
            .read()
            .await
            .as_ref()
            .and_then(|(_, set)| find(set, kid))
    }

    async fn fetch(&self) -> Result<JwkSet, reqwest::Error> {
        self.client
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

fn find(set: &JwkSet, kid: Option<&str>) -> Option<DecodingKey> {
    let jwk = match kid {
        Some(kid) => set.find(kid)?,
        // Without a key id, only an unambiguous set will do.
        None if set.keys.len() == 1 => set.keys.first()?,
        None => return None,
    };
    DecodingKey::from_jwk(jwk).ok()
}
