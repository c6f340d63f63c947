//! Limits counted in this process (no `REDIS_URL`): one `governor` keyed GCRA limiter per
//! policy. Each replica counts alone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::{Backend, BackendError, Decision, Policy, PolicyName};

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// How often keys whose bucket is full again are forgotten (the store grows otherwise).
const FORGET_EVERY: Duration = Duration::from_secs(60);

pub struct MemoryBackend {
    limiters: HashMap<PolicyName, Keyed>,
    clock: DefaultClock,
    last_forget: Mutex<Instant>,
}

impl MemoryBackend {
    pub fn new(policies: &[Policy]) -> Self {
        let limiters = policies
            .iter()
            .filter_map(|policy| {
                let quota = Quota::with_period(policy.interval())?.allow_burst(policy.limit);
                Some((
                    policy.name,
                    RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
                ))
            })
            .collect();
        Self {
            limiters,
            clock: DefaultClock::default(),
            last_forget: Mutex::new(Instant::now()),
        }
    }

    fn forget_idle_keys(&self) {
        let Ok(mut last) = self.last_forget.try_lock() else {
            return;
        };
        if last.elapsed() >= FORGET_EVERY {
            *last = Instant::now();
            for limiter in self.limiters.values() {
                limiter.retain_recent();
            }
        }
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn check(&self, policy: &Policy, key: &str) -> Result<Decision, BackendError> {
        self.forget_idle_keys();
        let Some(limiter) = self.limiters.get(&policy.name) else {
            return Err(BackendError(format!(
                "no limiter for policy {}",
                policy.name.as_str()
            )));
        };
        let limit = policy.limit.get();
        let decision = match limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    remaining,
                    retry_after: Duration::ZERO,
                    reset: policy.interval() * (limit - remaining),
                }
            }
            Err(not_until) => {
                let retry_after = not_until.wait_time_from(self.clock.now());
                Decision {
                    allowed: false,
                    remaining: 0,
                    retry_after,
                    reset: retry_after + policy.window - policy.interval(),
                }
            }
        };
        Ok(decision)
    }

    async fn reachable(&self) -> Option<bool> {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn policy(limit: u32) -> Policy {
        Policy {
            name: PolicyName::Writes,
            limit: NonZeroU32::new(limit).expect("non-zero"),
            window: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn a_key_gets_its_limit_then_is_refused_with_a_retry_time() {
        let policy = policy(3);
        let backend = MemoryBackend::new(&[policy]);
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let decision = backend.check(&policy, "user:a").await.expect("check");
            assert!(decision.allowed);
            remaining.push(decision.remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);
        let refused = backend.check(&policy, "user:a").await.expect("check");
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::ZERO);
        assert!(refused.retry_after <= policy.interval());
        assert!(refused.reset <= policy.window);
    }

    #[tokio::test]
    async fn keys_are_counted_apart() {
        let policy = policy(1);
        let backend = MemoryBackend::new(&[policy]);
        assert!(backend.check(&policy, "user:a").await.expect("a").allowed);
        assert!(backend.check(&policy, "user:b").await.expect("b").allowed);
        assert!(!backend.check(&policy, "user:a").await.expect("a").allowed);
    }
}
