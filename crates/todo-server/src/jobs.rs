//! The job worker every `serve` process runs: it sleeps until the next job is due (or a
//! wake-up says jobs changed), leases due jobs, fires reminders and delivers webhooks, and
//! prunes old events and finished jobs. Leases make each job run to completion once across
//! replicas; a job whose holder died becomes due again when its lease ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use todo_core::Todo;
use todo_core::events::Signal;
use todo_core::jobs::{Job, JobKind, backoff};
use todo_core::time::now;
use todo_core::webhooks::{Delivery, is_public};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// How the worker runs; the binary fills it from its configuration.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// How long a claimed job is reserved for its worker.
    pub lease: Duration,
    /// How long events are kept for `Last-Event-ID` resumption.
    pub events_retention: Duration,
    /// A webhook delivery that takes longer fails.
    pub webhook_timeout: Duration,
    /// A delivery is given up after this many attempts.
    pub webhook_max_attempts: i32,
    /// A webhook is disabled after this many failed deliveries in a row.
    pub webhook_disable_after: i32,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            events_retention: Duration::from_secs(7 * 24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            webhook_max_attempts: 8,
            webhook_disable_after: 20,
        }
    }
}

pub const REMINDERS_FIRED: &str = "todo_reminders_fired_total";
pub const WEBHOOK_DELIVERIES: &str = "todo_webhook_deliveries_total";

/// Longest sleep between looks at the queue, in case a wake-up was lost.
const MAX_IDLE: Duration = Duration::from_secs(30);
const CLAIM_BATCH: u32 = 16;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the worker; it stops when `shutdown` is cancelled.
pub fn spawn(
    todo: Todo,
    settings: JobSettings,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let client = delivery_client(&settings, todo.allows_private_webhooks())?;
    Ok(tokio::spawn(run(todo, settings, client, shutdown)))
}

async fn run(
    todo: Todo,
    settings: JobSettings,
    client: reqwest::Client,
    shutdown: CancellationToken,
) {
    let mut signals = todo.signals();
    let mut last_prune: Option<tokio::time::Instant> = None;
    tracing::info!("job worker started");
    while !shutdown.is_cancelled() {
        run_due(&todo, &settings, &client, &shutdown).await;
        if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            prune(&todo, &settings).await;
            last_prune = Some(tokio::time::Instant::now());
        }
        let wait = match todo.store().next_job_at().await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_IDLE),
            Ok(None) => MAX_IDLE,
            Err(e) => {
                tracing::warn!(error = %e, "reading the job queue failed");
                Duration::from_secs(1)
            }
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
            () = jobs_changed(&mut signals) => {}
        }
    }
    tracing::info!("job worker stopped");
}

/// Returns when jobs may have changed: a new or earlier job, or lost wake-ups.
async fn jobs_changed(signals: &mut tokio::sync::broadcast::Receiver<Signal>) {
    loop {
        match signals.recv().await {
            Ok(Signal::Jobs | Signal::Resync) | Err(RecvError::Lagged(_)) => return,
            Ok(Signal::Events { .. }) => {}
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// Runs every job that is due now, a batch at a time.
async fn run_due(
    todo: &Todo,
    settings: &JobSettings,
    client: &reqwest::Client,
    shutdown: &CancellationToken,
) {
    let lease = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::minutes(1));
    while !shutdown.is_cancelled() {
        let jobs = match todo.store().claim_jobs(now(), lease, CLAIM_BATCH).await {
            Ok(jobs) if jobs.is_empty() => return,
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "claiming jobs failed");
                return;
            }
        };
        let runs = jobs
            .into_iter()
            .map(|job| run_job(todo, settings, client, job));
        futures_util::future::join_all(runs).await;
    }
}

async fn run_job(todo: &Todo, settings: &JobSettings, client: &reqwest::Client, job: Job) {
    let store = todo.store();
    let outcome = match job.kind {
        JobKind::Reminder => match store.fire_reminder(&job, now()).await {
            Ok(Some(event)) => {
                metrics::counter!(REMINDERS_FIRED).increment(1);
                tracing::info!(user_id = %job.user_id, task_id = event.task_id, "reminder fired");
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        JobKind::Webhook => deliver_job(todo, settings, client, &job).await,
    };
    if let Err(error) = outcome {
        let result =
            if job.kind == JobKind::Webhook && job.attempts >= settings.webhook_max_attempts {
                store.finish_job(job.id, now(), Some(&error)).await
            } else {
                store
                    .retry_job(job.id, now() + backoff(job.attempts), &error)
                    .await
            };
        if let Err(e) = result {
            tracing::warn!(error = %e, job_id = job.id, "recording a failed job failed");
        }
    }
}

async fn deliver_job(
    todo: &Todo,
    settings: &JobSettings,
    client: &reqwest::Client,
    job: &Job,
) -> Result<(), String> {
    let store = todo.store();
    let Some(delivery) = store.delivery(job).await.map_err(|e| e.to_string())? else {
        // The webhook was deleted or disabled, or the event pruned: nothing to send.
        return store
            .finish_job(job.id, now(), None)
            .await
            .map_err(|e| e.to_string());
    };
    let result = deliver(client, &delivery, todo.allows_private_webhooks()).await;
    let error = result.as_ref().err().map(String::as_str);
    metrics::counter!(
        WEBHOOK_DELIVERIES,
        "outcome" => if error.is_none() { "success" } else { "failure" }
    )
    .increment(1);
    store
        .record_delivery(
            &job.user_id,
            delivery.webhook.id,
            error,
            now(),
            settings.webhook_disable_after,
        )
        .await
        .map_err(|e| e.to_string())?;
    match result {
        Ok(()) => store
            .finish_job(job.id, now(), None)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => {
            tracing::info!(webhook_id = delivery.webhook.id, error = %e, "webhook delivery failed");
            Err(e)
        }
    }
}

/// The `Todo-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

async fn deliver(
    client: &reqwest::Client,
    delivery: &Delivery,
    allow_private: bool,
) -> Result<(), String> {
    let url = reqwest::Url::parse(&delivery.webhook.url).map_err(|e| e.to_string())?;
    // Names are checked by the resolver; a literal address never reaches it.
    if !allow_private
        && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host()
        && let Some(ip) = url
            .host_str()
            .and_then(|h| h.trim_matches(['[', ']']).parse().ok())
        && !is_public(ip)
    {
        return Err("the URL points at a private address".into());
    }
    let body = serde_json::to_vec(&delivery.event).map_err(|e| e.to_string())?;
    let timestamp = Utc::now().timestamp();
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            "Todo-Signature",
            signature(&delivery.secret, timestamp, &body),
        )
        .header("Todo-Event-Id", delivery.event.id.to_string())
        .header("Todo-Event-Type", delivery.event.event_type.as_str())
        .body(body)
        .send()
        .await
        .map_err(|e| describe_send_error(&e))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the endpoint answered {}", response.status()))
    }
}

fn describe_send_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// Resolves names to public addresses only, so a name that points (or is re-pointed, DNS
/// rebinding) at a private address cannot be reached: the check is on the addresses the
/// connection actually uses.
struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn delivery_client(settings: &JobSettings, allow_private: bool) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(settings.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("todo-webhooks/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicResolver));
    }
    builder
        .build()
        .map_err(|e| format!("building the webhook client: {e}"))
}

async fn prune(todo: &Todo, settings: &JobSettings) {
    let retention =
        chrono::Duration::from_std(settings.events_retention).unwrap_or(chrono::Duration::days(7));
    let before = now() - retention;
    let store = todo.store();
    match store.prune_events(before).await {
        Ok(n) if n > 0 => tracing::info!(events = n, "pruned old events"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "pruning events failed"),
    }
    if let Err(e) = store.prune_jobs(before).await {
        tracing::warn!(error = %e, "pruning jobs failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_an_hmac_of_timestamp_dot_body() {
        // echo -n '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, b"{}"),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }
}
