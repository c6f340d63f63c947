//! Tokens from another identity provider (Better Auth or any OIDC-style issuer): HS256 with a
//! shared secret, or EdDSA/RS256/ES256 with keys published at a JWKS URL.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use todo_core::accounts::ExternalIdentity;
use tokio::sync::RwLock;

/// Unknown key ids trigger a refetch, but not more often than this.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct ExternalIssuers {
    pub shared_secret: Option<DecodingKey>,
    pub jwks: Option<Jwks>,
}

impl ExternalIssuers {
    pub fn new(shared_secret: Option<&[u8]>, jwks_url: Option<String>) -> Self {
        Self {
            shared_secret: shared_secret.map(DecodingKey::from_secret),
            jwks: jwks_url.map(Jwks::new),
        }
    }

    pub async fn verify(&self, token: &str) -> Option<ExternalIdentity> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = match header.alg {
            Algorithm::HS256 => self.shared_secret.clone()?,
            Algorithm::EdDSA | Algorithm::RS256 | Algorithm::ES256 => {
                self.jwks.as_ref()?.key(header.kid.as_deref()).await?
            }
            _ => return None,
        };
        let mut validation = Validation::new(header.alg);
        validation.validate_aud = false;
        validation.leeway = 30;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .ok()?
            .claims;
        claims.identity()
    }
}

#[derive(Deserialize)]
struct Claims {
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
    /// The user id is `sub`, else `user_id`, else `id`.
    fn identity(self) -> Option<ExternalIdentity> {
        let id = match self.sub.or(self.user_id).or(self.id)? {
            IdClaim::Text(s) => s,
            IdClaim::Number(n) => n.to_string(),
        };
        let id = id.trim().to_owned();
        if id.is_empty() || id.len() > 255 {
            return None;
        }
        Some(ExternalIdentity {
            id,
            email: self.email,
            name: self.name,
        })
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
