//! Limits shared by every replica: GCRA in a Lua script, run atomically by Redis on its own
//! clock. While Redis is unreachable, checks fail fast for a short pause (instead of every
//! request waiting for a timeout) and the caller applies the fail mode.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Backend, BackendError, Decision, Policy};

/// After a failure, how long checks skip Redis before trying again.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

pub struct RedisBackend {
    connection: ConnectionManager,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    paused_until: Mutex<Option<Instant>>,
    /// Whether the last attempt failed, so that the outage and the recovery are logged once.
    down: AtomicBool,
}

impl RedisBackend {
    /// Connects lazily: a Redis that is down at start does not stop the server.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("REDIS_URL: {e}"))?;
        Ok(Self {
            connection,
            script: redis::Script::new(include_str!("gcra.lua")),
            prefix: prefix.to_owned(),
            timeout,
            paused_until: Mutex::new(None),
            down: AtomicBool::new(false),
        })
    }

    fn paused(&self) -> bool {
        let Ok(mut until) = self.paused_until.lock() else {
            return false;
        };
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    /// Runs a Redis call within the timeout, and keeps track of outages.
    async fn call<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, BackendError> {
        if self.paused() {
            return Err(BackendError("Redis unreachable (pausing)".into()));
        }
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(BackendError(e.to_string())),
            Err(_) => Err(BackendError(format!(
                "no answer from Redis within {:?}",
                self.timeout
            ))),
        };
        match &result {
            Ok(_) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis reachable again: rate limits are shared again");
                }
            }
            Err(e) => {
                if let Ok(mut until) = self.paused_until.lock() {
                    *until = Some(Instant::now() + PAUSE_AFTER_FAILURE);
                }
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis unreachable: rate limits use the fail mode");
                }
            }
        }
        result
    }
}

#[async_trait]
impl Backend for RedisBackend {
    async fn check(&self, policy: &Policy, key: &str) -> Result<Decision, BackendError> {
        let mut connection = self.connection.clone();
        let interval = u64::try_from(policy.interval().as_micros()).unwrap_or(u64::MAX);
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("{}{}:{key}", self.prefix, policy.name.as_str()))
            .arg(interval.max(1))
            .arg(policy.limit.get());
        let (allowed, remaining, retry_after, reset): (i64, i64, i64, i64) =
            self.call(invocation.invoke_async(&mut connection)).await?;
        let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining).unwrap_or(0),
            retry_after: micros(retry_after),
            reset: micros(reset),
        })
    }

    async fn reachable(&self) -> Option<bool> {
        let mut connection = self.connection.clone();
        let pong = self
            .call(redis::cmd("PING").query_async::<String>(&mut connection))
            .await;
        Some(pong.is_ok())
    }
}
