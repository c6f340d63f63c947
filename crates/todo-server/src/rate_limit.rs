//! Rate limits per user (per client address when anonymous): which policy a request falls
//! under, the [`Backend`] that counts (in memory, or in Redis shared by every replica), the
//! fail mode when Redis is down, and the middleware that answers 429.

mod memory;
mod redis;

use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::Caller;
use crate::client_ip::TrustedProxies;
use crate::error::ApiError;
use crate::metrics::{RATE_LIMIT_ERRORS, RATE_LIMITED};

pub use self::memory::MemoryBackend;
pub use self::redis::RedisBackend;

/// Every limit counts requests in a window of this length.
const WINDOW: Duration = Duration::from_secs(60);

/// Routes that are never limited: probes and scrapes must work when clients are throttled.
pub(crate) const EXEMPT: &[&str] = &["/health", "/ready", "/metrics", "/assets/{file}"];

/// The web app's own reads (GET/HEAD with the session cookie and no `Authorization` header:
/// pages, row fragments, and the page script's API reads such as the event stream) count
/// under `web_reads`, this many times the read limit: one screen of the app is a page, its
/// event stream, the rows a live update or a bulk change refreshes, "Load more" — dozens of
/// reads a minute in normal use, which the API's per-request budget was not sized for. The
/// cookie is `HttpOnly` and `SameSite=Lax`, so only our pages send it (docs/web.md).
pub const WEB_READS_FACTOR: u32 = 10;

/// Routes under the stricter `auth` policy (password guessing, account spraying).
const AUTH_ROUTES: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/signup",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/auth/verify-email",
    "/login",
    "/signup",
    "/forgot-password",
    "/reset",
    "/verify-email",
    "/oauth/register",
];

/// POST routes that only read (`POST /api/v1/tasks/parse`, the quick-add preview): counted
/// as reads, under `web_reads` from the web app.
const READ_POSTS: &[&str] = &["/api/v1/tasks/parse"];

/// What the operator configured (`RATE_LIMIT_*`). A limit of 0 turns that policy off.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub reads_per_minute: u32,
    pub writes_per_minute: u32,
    pub auth_per_minute: u32,
    /// Allow requests when Redis cannot be reached (the default), or refuse them with 503.
    pub fail_open: bool,
    /// Prepended to every Redis key, so deployments can share a Redis.
    pub key_prefix: String,
    /// How long a Redis check may take before the fail mode answers instead.
    pub redis_timeout: Duration,
    pub trusted_proxies: TrustedProxies,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            reads_per_minute: 100,
            writes_per_minute: 30,
            auth_per_minute: 10,
            fail_open: true,
            key_prefix: "todo:rl:".into(),
            redis_timeout: Duration::from_millis(250),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyName {
    Reads,
    /// The web app's page and fragment loads with the session cookie.
    WebReads,
    Writes,
    Auth,
}

impl PolicyName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reads => "reads",
            Self::WebReads => "web_reads",
            Self::Writes => "writes",
            Self::Auth => "auth",
        }
    }
}

/// `limit` requests per `window`, with bursts up to `limit` (GCRA).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub name: PolicyName,
    pub limit: NonZeroU32,
    pub window: Duration,
}

impl Policy {
    /// The time one request "costs": a full bucket refills one request per interval.
    pub fn interval(&self) -> Duration {
        self.window / self.limit.get()
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// When denied, how long until one more request is allowed.
    pub retry_after: Duration,
    /// How long until the whole quota is available again.
    pub reset: Duration,
}

/// The counting store. Implementations must be atomic per key across everyone sharing them.
#[async_trait]
pub trait Backend: Send + Sync {
    async fn check(&self, policy: &Policy, key: &str) -> Result<Decision, BackendError>;
    /// `None` for a backend without a server to reach; otherwise whether it answers.
    async fn reachable(&self) -> Option<bool>;
}

#[derive(Debug, thiserror::Error)]
#[error("rate-limit backend unavailable: {0}")]
pub struct BackendError(pub String);

/// The configured policies and the backend that enforces them.
pub struct RateLimits {
    policies: Vec<Policy>,
    backend: Box<dyn Backend>,
    fail_open: bool,
    trusted_proxies: TrustedProxies,
}

impl RateLimits {
    /// In memory, or in Redis when `redis_url` is set.
    pub fn new(settings: &RateLimitSettings, redis_url: Option<&str>) -> Result<Self, String> {
        let policies: Vec<Policy> = if settings.enabled {
            [
                (PolicyName::Reads, settings.reads_per_minute),
                (
                    PolicyName::WebReads,
                    settings.reads_per_minute.saturating_mul(WEB_READS_FACTOR),
                ),
                (PolicyName::Writes, settings.writes_per_minute),
                (PolicyName::Auth, settings.auth_per_minute),
            ]
            .into_iter()
            .filter_map(|(name, limit)| {
                Some(Policy {
                    name,
                    limit: NonZeroU32::new(limit)?,
                    window: WINDOW,
                })
            })
            .collect()
        } else {
            Vec::new()
        };
        let backend: Box<dyn Backend> = match redis_url {
            Some(url) => Box::new(RedisBackend::new(
                url,
                &settings.key_prefix,
                settings.redis_timeout,
            )?),
            None => Box::new(MemoryBackend::new(&policies)),
        };
        Ok(Self {
            policies,
            backend,
            fail_open: settings.fail_open,
            trusted_proxies: settings.trusted_proxies.clone(),
        })
    }

    /// Whether Redis answers; `None` without Redis.
    pub async fn redis_reachable(&self) -> Option<bool> {
        self.backend.reachable().await
    }

    /// Whether a Redis outage takes this replica out of service (limits that fail closed).
    pub fn needs_redis(&self) -> bool {
        !self.fail_open && !self.policies.is_empty()
    }

    fn policy(&self, name: PolicyName) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// `from_page`: the request carries the session cookie (and no `Authorization` header).
    fn policy_for(&self, method: &Method, route: Option<&str>, from_page: bool) -> Option<&Policy> {
        let name = match route {
            Some(route) if EXEMPT.contains(&route) => return None,
            Some(route) if AUTH_ROUTES.contains(&route) && method == Method::POST => {
                PolicyName::Auth
            }
            // Every MCP message is a POST, reads included (tools/list, list_tasks): counting
            // them as writes would starve an agent that mostly reads.
            Some("/mcp") => PolicyName::Reads,
            // The quick-add preview is a POST that changes nothing, sent as the user types:
            // counted as a read, so typing never spends the budget that saving needs.
            Some(route) if READ_POSTS.contains(&route) && from_page => PolicyName::WebReads,
            Some(route) if READ_POSTS.contains(&route) => PolicyName::Reads,
            _ if from_page && crate::auth::is_read_only(method) => PolicyName::WebReads,
            _ if crate::auth::is_read_only(method) => PolicyName::Reads,
            _ => PolicyName::Writes,
        };
        self.policy(name)
    }
}

/// Checks the request's policy before the handler runs; 429 when over the limit. Runs after
/// [`crate::auth::identify`], so a valid credential keys by user and anything else by address
/// — except signing in and up, which is always keyed by address: a credential riding along
/// on a login attempt must not move its guesses into a bucket of the attacker's choosing.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.limits;
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let caller = request.extensions().get::<Caller>();
    // A signed-in session cookie only: a stale or forged cookie is an anonymous read.
    let from_page = caller
        .is_some_and(|c| c.via() == crate::auth::Via::Cookie && c.user_id().is_some())
        && !request
            .headers()
            .contains_key(axum::http::header::AUTHORIZATION);
    let Some(policy) = limits
        .policy_for(request.method(), route, from_page)
        .copied()
    else {
        return next.run(request).await;
    };
    let user = match policy.name {
        PolicyName::Auth => None,
        PolicyName::Reads | PolicyName::WebReads | PolicyName::Writes => {
            caller.and_then(Caller::user_id)
        }
    };
    let page = crate::web::wants_page(request.headers(), route);
    let reload = crate::auth::is_read_only(request.method());
    let key = match user {
        Some(user_id) => format!("user:{user_id}"),
        None => match limits
            .trusted_proxies
            .client_ip(request.headers(), request.extensions())
        {
            Some(client) => format!("ip:{client}"),
            None => "ip:unknown".to_owned(),
        },
    };
    match check(&state, &policy, &key).await {
        Ok(decision) => {
            let mut response = next.run(request).await;
            if let Some(decision) = decision {
                add_headers(response.headers_mut(), &policy, &decision);
            }
            response
        }
        Err(Denied::Limited(decision)) => {
            let what = match policy.name {
                PolicyName::Reads | PolicyName::WebReads => "reads",
                PolicyName::Writes => "writes",
                PolicyName::Auth => "login or signup attempts",
            };
            // A person in a browser gets a page in the app's style, never a JSON body.
            let mut response = if page {
                crate::web::limited_page(policy.name, ceil_secs(decision.retry_after), reload)
            } else {
                limited(&policy, &decision, what).into_response()
            };
            add_headers(response.headers_mut(), &policy, &decision);
            response
        }
        Err(Denied::Unavailable(e)) => e.into_response(),
    }
}

/// Login attempts at one account, from anywhere: counted under the `auth` policy per target
/// email (normalised), on top of the per-address count, so that a spray from many addresses
/// at one account is limited too. Called by the login handlers of the API and the web app
/// once the email is known. An email that does not parse names no account: nothing to count.
pub async fn check_login_target(state: &AppState, email: &str) -> Result<(), ApiError> {
    let Ok(email) = todo_core::user::Email::parse(email) else {
        return Ok(());
    };
    let Some(policy) = state.limits.policy(PolicyName::Auth).copied() else {
        return Ok(());
    };
    // A digest, so that Redis holds no email addresses.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, email.as_str().as_bytes());
    let key: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match check(state, &policy, &format!("login:{key}")).await {
        Ok(_) => Ok(()),
        Err(Denied::Limited(decision)) => Err(limited(
            &policy,
            &decision,
            "login attempts at this account",
        )),
        Err(Denied::Unavailable(e)) => Err(e),
    }
}

/// Why [`check`] refused a request.
enum Denied {
    /// Over the limit.
    Limited(Decision),
    /// The backend could not answer and limits fail closed (503).
    Unavailable(ApiError),
}

/// Counts one request under `policy` and `key`. `Ok(None)`: let through unchecked (the backend
/// is down and limits fail open).
async fn check(state: &AppState, policy: &Policy, key: &str) -> Result<Option<Decision>, Denied> {
    match state.limits.backend.check(policy, key).await {
        Ok(decision) if decision.allowed => Ok(Some(decision)),
        Ok(decision) => {
            metrics::counter!(RATE_LIMITED, "policy" => policy.name.as_str()).increment(1);
            Err(Denied::Limited(decision))
        }
        Err(e) => {
            metrics::counter!(RATE_LIMIT_ERRORS).increment(1);
            if state.limits.fail_open {
                tracing::debug!(error = %e, "rate limit not checked; allowing (fail open)");
                Ok(None)
            } else {
                tracing::debug!(error = %e, "rate limit not checked; refusing (fail closed)");
                Err(Denied::Unavailable(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "rate-limit-unavailable",
                    "the rate limiter is unavailable; try again shortly",
                )))
            }
        }
    }
}

/// The 429 of a request over its limit.
fn limited(policy: &Policy, decision: &Decision, what: &str) -> ApiError {
    let retry_after = ceil_secs(decision.retry_after);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        format!(
            "more than {} {what} a minute; retry in {retry_after} s",
            policy.limit
        ),
    )
    .retry_after(retry_after)
}

/// `RateLimit-Policy` and `RateLimit` as in draft-ietf-httpapi-ratelimit-headers.
fn add_headers(headers: &mut HeaderMap, policy: &Policy, decision: &Decision) {
    let name = policy.name.as_str();
    let policy_value = format!(
        "\"{name}\";q={};w={}",
        policy.limit,
        policy.window.as_secs()
    );
    let state_value = format!(
        "\"{name}\";r={};t={}",
        decision.remaining,
        ceil_secs(decision.reset)
    );
    for (header_name, value) in [
        ("ratelimit-policy", policy_value),
        ("ratelimit", state_value),
    ] {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(header_name, value);
        }
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(settings: RateLimitSettings) -> RateLimits {
        RateLimits::new(&settings, None).expect("in-memory limits")
    }

    fn policy(limits: &RateLimits, method: Method, route: Option<&str>) -> Option<PolicyName> {
        limits.policy_for(&method, route, false).map(|p| p.name)
    }

    #[test]
    fn requests_fall_under_the_policy_of_what_they_do() {
        let limits = configured(RateLimitSettings::default());
        let tasks = Some("/api/v1/tasks");
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert_eq!(policy(&limits, method, tasks), Some(PolicyName::Reads));
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(policy(&limits, method, tasks), Some(PolicyName::Writes));
        }
        // Unmatched paths (404s) count too, by method.
        assert_eq!(
            policy(&limits, Method::POST, None),
            Some(PolicyName::Writes)
        );
        assert_eq!(policy(&limits, Method::GET, None), Some(PolicyName::Reads));
    }

    #[test]
    fn signing_in_and_up_is_under_the_auth_policy_on_both_doors() {
        let limits = configured(RateLimitSettings::default());
        for route in AUTH_ROUTES {
            assert_eq!(
                policy(&limits, Method::POST, Some(route)),
                Some(PolicyName::Auth),
                "{route}"
            );
        }
        // The sign-in page itself is a read.
        assert_eq!(
            policy(&limits, Method::GET, Some("/login")),
            Some(PolicyName::Reads)
        );
        // Logging out is an ordinary write.
        assert_eq!(
            policy(&limits, Method::POST, Some("/api/v1/auth/logout")),
            Some(PolicyName::Writes)
        );
    }

    #[test]
    fn the_web_apps_own_reads_have_their_larger_budget_and_nothing_else_does() {
        let limits = configured(RateLimitSettings::default());
        let web = |method: Method, route: &str, from_page: bool| {
            limits
                .policy_for(&method, Some(route), from_page)
                .map(|p| (p.name, p.limit.get()))
        };
        assert_eq!(
            web(Method::GET, "/", true),
            Some((PolicyName::WebReads, 1000))
        );
        assert_eq!(
            web(Method::GET, "/tasks/{id}/row", true),
            Some((PolicyName::WebReads, 1000))
        );
        // The page script's API reads with the cookie too; a form post is a write; without
        // the cookie (a Bearer client), the API's budget.
        assert_eq!(
            web(Method::GET, "/api/v1/events", true),
            Some((PolicyName::WebReads, 1000))
        );
        assert_eq!(
            web(Method::GET, "/api/v1/tasks", false),
            Some((PolicyName::Reads, 100))
        );
        assert_eq!(
            web(Method::POST, "/tasks/{id}/complete", true),
            Some((PolicyName::Writes, 30))
        );
        assert_eq!(web(Method::GET, "/", false), Some((PolicyName::Reads, 100)));
        assert_eq!(
            web(Method::POST, "/login", true).map(|p| p.0),
            Some(PolicyName::Auth)
        );
    }

    #[test]
    fn the_quick_add_preview_is_a_read_that_typing_cannot_spend_writes_on() {
        let limits = configured(RateLimitSettings::default());
        let name = |from_page: bool| {
            limits
                .policy_for(&Method::POST, Some("/api/v1/tasks/parse"), from_page)
                .map(|p| p.name)
        };
        assert_eq!(name(true), Some(PolicyName::WebReads));
        assert_eq!(name(false), Some(PolicyName::Reads));
        assert_eq!(
            policy(&limits, Method::POST, Some("/api/v1/tasks/quick")),
            Some(PolicyName::Writes)
        );
    }

    #[test]
    fn mcp_messages_are_reads_and_probes_are_never_limited() {
        let limits = configured(RateLimitSettings::default());
        assert_eq!(
            policy(&limits, Method::POST, Some("/mcp")),
            Some(PolicyName::Reads)
        );
        for route in EXEMPT {
            assert_eq!(policy(&limits, Method::GET, Some(route)), None, "{route}");
        }
    }

    #[test]
    fn a_limit_of_zero_turns_its_policy_off_and_disabled_turns_off_all() {
        let limits = configured(RateLimitSettings {
            writes_per_minute: 0,
            ..RateLimitSettings::default()
        });
        assert_eq!(policy(&limits, Method::POST, Some("/api/v1/tasks")), None);
        assert_eq!(
            policy(&limits, Method::GET, Some("/api/v1/tasks")),
            Some(PolicyName::Reads)
        );
        assert!(!limits.needs_redis(), "fail open by default");

        let off = configured(RateLimitSettings {
            enabled: false,
            ..RateLimitSettings::default()
        });
        for (method, route) in [
            (Method::GET, "/api/v1/tasks"),
            (Method::POST, "/api/v1/tasks"),
            (Method::POST, "/api/v1/auth/login"),
        ] {
            assert_eq!(policy(&off, method, Some(route)), None);
        }
        assert!(!off.needs_redis());
    }

    #[test]
    fn limits_that_fail_closed_need_redis() {
        let closed = configured(RateLimitSettings {
            fail_open: false,
            ..RateLimitSettings::default()
        });
        assert!(closed.needs_redis());
    }

    #[test]
    fn a_policy_costs_its_window_over_its_limit_per_request() {
        let policy = Policy {
            name: PolicyName::Writes,
            limit: NonZeroU32::new(30).expect("non-zero"),
            window: WINDOW,
        };
        assert_eq!(policy.interval(), Duration::from_secs(2));
    }
}
