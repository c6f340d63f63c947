//! The job worker every `serve` process runs, in three lanes that never wait for each other:
//!
//! - the reminder lane leases due reminders and fires them (a write to our own database);
//! - the delivery lane leases due webhook deliveries and runs each as a task of its own,
//!   at most `webhook_concurrency` at once, and at most `webhook_per_user` of one user and
//!   `webhook_per_target` to one host (a delivery over either bound is put back for a few
//!   seconds without using up an attempt);
//! - the push lane (when the server pushes) is the same lane over `push` jobs, with bounds of
//!   its own: a push's target is its subscription (one browser), not the push service's host,
//!   which serves every user;
//! - the email lane (when `SMTP_URL` is set) leases queued messages and sends them, one at a
//!   time, failures retried with backoff up to `webhook_max_attempts`;
//! - the digest lane (when email is sent) leases due daily digests and runs each: it only
//!   queues an email job, so a slow SMTP server never holds a digest up;
//! - housekeeping prunes old events and finished jobs.
//!
//! Each lane sleeps until its next job is due (or a wake-up says jobs changed). Leases make
//! each job run to completion once across replicas; a job whose holder died becomes due again
//! when its lease ends. What becomes of a job (retry, give up, put back, disable the webhook)
//! is decided in `todo_core::jobs`. See docs/events.md.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use todo_core::Todo;
use todo_core::events::Signal;
use todo_core::jobs::{InFlight, Job, JobKind, Started};
use todo_core::push::PushFailure;
use todo_core::webhooks::{Delivery, is_public};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How the worker runs; the binary fills it from its configuration.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// How long a claimed job is reserved for its worker.
    pub lease: Duration,
    /// How long events are kept for `Last-Event-ID` resumption.
    pub events_retention: Duration,
    /// A webhook delivery that takes longer fails (and counts towards disabling the webhook).
    pub webhook_timeout: Duration,
    /// A delivery is given up after this many attempts.
    pub webhook_max_attempts: i32,
    /// A webhook is disabled after this many failed deliveries in a row.
    pub webhook_disable_after: i32,
    /// Deliveries in flight at once in this process.
    pub webhook_concurrency: usize,
    /// Deliveries of one user in flight at once in this process.
    pub webhook_per_user: usize,
    /// Deliveries to one host in flight at once in this process.
    pub webhook_per_target: usize,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            events_retention: Duration::from_secs(7 * 24 * 3600),
            webhook_timeout: Duration::from_secs(5),
            webhook_max_attempts: 8,
            webhook_disable_after: 20,
            webhook_concurrency: 16,
            webhook_per_user: 4,
            webhook_per_target: 4,
        }
    }
}

pub const REMINDERS_FIRED: &str = "todo_reminders_fired_total";
pub const WEBHOOK_DELIVERIES: &str = "todo_webhook_deliveries_total";
pub const EMAILS_SENT: &str = "todo_emails_sent_total";
pub const PUSH_SENT: &str = "todo_push_sent_total";

/// Longest sleep between looks at the queue, in case a wake-up was lost.
const MAX_IDLE: Duration = Duration::from_secs(30);
const CLAIM_BATCH: u32 = 16;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Longest wait for a connection to a webhook's host; the whole delivery has `webhook_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Starts the worker; it stops when `shutdown` is cancelled (after the deliveries in flight,
/// each bounded by `webhook_timeout`).
pub fn spawn(
    todo: Todo,
    settings: JobSettings,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let client = delivery_client(&settings, todo.allows_private_webhooks(), "todo-webhooks")?;
    Ok(tokio::spawn(async move {
        tracing::info!("job worker started");
        let push = async {
            // Without a sender nothing is queued either.
            if todo.sends_push() {
                sending_lane(&todo, &settings, JobKind::Push, &client, &shutdown).await;
            }
        };
        tokio::join!(
            reminder_lane(&todo, &settings, &shutdown),
            sending_lane(&todo, &settings, JobKind::Webhook, &client, &shutdown),
            push,
            email_lane(&todo, &settings, &shutdown),
            digest_lane(&todo, &settings, &shutdown),
            housekeeping(&todo, &settings, &shutdown),
        );
        tracing::info!("job worker stopped");
    }))
}

fn lease(settings: &JobSettings) -> chrono::Duration {
    chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::minutes(1))
}

/// Claims due jobs of `kind` a batch at a time and hands each batch to `run`; sleeps until
/// the next is due (or a wake-up) when there are none.
async fn batch_lane<F, Fut>(
    todo: &Todo,
    settings: &JobSettings,
    kind: JobKind,
    shutdown: &CancellationToken,
    run: F,
) where
    F: Fn(Vec<Job>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut signals = todo.signals();
    while !shutdown.is_cancelled() {
        let jobs = match todo.claim_jobs(kind, lease(settings), CLAIM_BATCH).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, kind = kind.as_str(), "claiming jobs failed");
                Vec::new()
            }
        };
        if jobs.is_empty() {
            until_due(todo, kind, &mut signals, shutdown, None).await;
            continue;
        }
        run(jobs).await;
    }
}

/// Records a job that failed (retried with backoff, or given up: `todo_core::jobs`).
async fn failed(todo: &Todo, settings: &JobSettings, job: &Job, error: &str) {
    let recorded = todo
        .job_failed(job, error, settings.webhook_max_attempts)
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, job_id = job.id, "recording a failed job failed");
    }
}

/// Fires due reminders, a batch at a time (each batch at once).
async fn reminder_lane(todo: &Todo, settings: &JobSettings, shutdown: &CancellationToken) {
    batch_lane(
        todo,
        settings,
        JobKind::Reminder,
        shutdown,
        |jobs| async move {
            let fired = jobs.iter().map(|job| fire_reminder(todo, settings, job));
            futures_util::future::join_all(fired).await;
        },
    )
    .await;
}

async fn fire_reminder(todo: &Todo, settings: &JobSettings, job: &Job) {
    match todo.fire_reminder(job).await {
        Ok(Some(event)) => {
            metrics::counter!(REMINDERS_FIRED).increment(1);
            tracing::info!(user_id = %job.user_id, task_id = event.task_id.get(), "reminder fired");
        }
        Ok(None) => {}
        Err(e) => failed(todo, settings, job, &e.to_string()).await,
    }
}

/// Sends queued email, one message after another. Without a mailer (no `SMTP_URL`) it does
/// nothing: nothing is queued then either.
async fn email_lane(todo: &Todo, settings: &JobSettings, shutdown: &CancellationToken) {
    let Some(mailer) = todo.mailer().cloned() else {
        return;
    };
    let mailer = &mailer;
    batch_lane(
        todo,
        settings,
        JobKind::Email,
        shutdown,
        |jobs| async move {
            for job in jobs {
                let outcome = match todo.mail_of(&job).await {
                    Ok(Some(mail)) => mailer.send(&mail).await,
                    Ok(None) => continue,
                    Err(e) => Err(e.to_string()),
                };
                metrics::counter!(
                    EMAILS_SENT,
                    "outcome" => if outcome.is_ok() { "success" } else { "failure" }
                )
                .increment(1);
                if let Err(e) = &outcome {
                    tracing::warn!(job_id = job.id, error = %e, "sending an email failed");
                }
                let recorded = todo
                    .mail_sent(&job, outcome, settings.webhook_max_attempts)
                    .await;
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, job_id = job.id, "recording a sent email failed");
                }
            }
        },
    )
    .await;
}

/// Runs due daily digests, one after another. Without email there is nothing to send: the
/// jobs wait (and are rescheduled when they run later).
async fn digest_lane(todo: &Todo, settings: &JobSettings, shutdown: &CancellationToken) {
    if !todo.sends_mail() {
        return;
    }
    batch_lane(
        todo,
        settings,
        JobKind::Digest,
        shutdown,
        |jobs| async move {
            for job in jobs {
                if let Err(e) = todo.run_digest(&job).await {
                    tracing::warn!(job_id = job.id, error = %e, "a digest failed");
                    failed(todo, settings, &job, &e.to_string()).await;
                }
            }
        },
    )
    .await;
}

/// Starts due jobs of `kind` (webhook deliveries or pushes) while it has free slots, each as
/// a task of its own; sleeps when there is nothing due or no free slot. Each lane has its own
/// slots and its own count of what is in flight.
async fn sending_lane(
    todo: &Todo,
    settings: &JobSettings,
    kind: JobKind,
    client: &reqwest::Client,
    shutdown: &CancellationToken,
) {
    let mut signals = todo.signals();
    let slots = Arc::new(Semaphore::new(settings.webhook_concurrency.max(1)));
    let in_flight = InFlight::new(settings.webhook_per_user, settings.webhook_per_target);
    let mut running = JoinSet::new();
    while !shutdown.is_cancelled() {
        while running.try_join_next().is_some() {}
        let free = slots.available_permits();
        if free == 0 {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = running.join_next() => {}
            }
            continue;
        }
        let limit = u32::try_from(free).unwrap_or(CLAIM_BATCH).min(CLAIM_BATCH);
        let jobs = match todo.claim_jobs(kind, lease(settings), limit).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, kind = kind.as_str(), "claiming jobs failed");
                Vec::new()
            }
        };
        if jobs.is_empty() {
            let running = Some(&mut running);
            until_due(todo, kind, &mut signals, shutdown, running).await;
            continue;
        }
        for job in jobs {
            // Only this lane takes slots, and it claimed no more jobs than were free.
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                postpone(todo, &job).await;
                continue;
            };
            let run = Run {
                todo: todo.clone(),
                settings: settings.clone(),
                client: client.clone(),
                in_flight: Arc::clone(&in_flight),
                _slot: slot,
            };
            running.spawn(run.job(job));
        }
    }
    // Let the deliveries in flight end (each within `webhook_timeout`).
    while running.join_next().await.is_some() {}
}

async fn postpone(todo: &Todo, job: &Job) {
    if let Err(e) = todo.postpone_delivery(job).await {
        // Its lease runs out and it is claimed again.
        tracing::warn!(error = %e, job_id = job.id, "putting a delivery back failed");
    }
}

/// What a delivery task needs, and its slot among the lane's, held until the task ends.
struct Run {
    todo: Todo,
    settings: JobSettings,
    client: reqwest::Client,
    in_flight: Arc<InFlight>,
    _slot: OwnedSemaphorePermit,
}

impl Run {
    async fn job(self, job: Job) {
        match job.kind {
            JobKind::Push => self.push(job).await,
            _ => self.delivery(job).await,
        }
    }

    async fn push(self, job: Job) {
        let Some(pusher) = self.todo.pusher().cloned() else {
            return;
        };
        let (subscription, payload) = match self.todo.push_of(&job).await {
            Ok(Some(push)) => push,
            Ok(None) => return,
            Err(e) => {
                self.failed(&job, &e.to_string()).await;
                return;
            }
        };
        // One browser at a time per bound, not one push service host: every user's
        // subscriptions of a browser brand share its host.
        let target = subscription.endpoint.as_str();
        let Some(started) = self.in_flight.try_start(job.user_id.as_str(), target) else {
            tracing::debug!(job_id = job.id, user_id = %job.user_id, "push put back: user or subscription busy");
            postpone(&self.todo, &job).await;
            return;
        };
        let outcome = pusher.push(&subscription, &payload).await;
        drop(started);
        let label = match &outcome {
            Ok(()) => "success",
            Err(PushFailure::Gone) => "gone",
            Err(PushFailure::Failed(_)) => "failure",
        };
        metrics::counter!(PUSH_SENT, "outcome" => label).increment(1);
        match &outcome {
            Err(PushFailure::Failed(e)) => {
                tracing::info!(subscription_id = subscription.id.get(), error = %e, "push failed");
            }
            Err(PushFailure::Gone) => {
                tracing::info!(
                    subscription_id = subscription.id.get(),
                    "push subscription gone: dropped"
                );
            }
            Ok(()) => {}
        }
        let recorded = self
            .todo
            .pushed(
                &job,
                subscription.id,
                outcome,
                self.settings.webhook_max_attempts,
            )
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, job_id = job.id, "recording a push failed");
        }
    }

    async fn delivery(self, job: Job) {
        let delivery = match self.todo.delivery(&job).await {
            Ok(Some(delivery)) => delivery,
            Ok(None) => return,
            Err(e) => {
                self.failed(&job, &e.to_string()).await;
                return;
            }
        };
        let target = reqwest::Url::parse(&delivery.webhook.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default();
        let Some(started) = self.in_flight.try_start(job.user_id.as_str(), &target) else {
            tracing::debug!(job_id = job.id, user_id = %job.user_id, %target, "delivery put back: user or target busy");
            postpone(&self.todo, &job).await;
            return;
        };
        self.deliver(&job, &delivery, started).await;
    }

    async fn deliver(&self, job: &Job, delivery: &Delivery, started: Started) {
        let outcome = deliver(&self.client, delivery, self.todo.allows_private_webhooks()).await;
        drop(started);
        metrics::counter!(
            WEBHOOK_DELIVERIES,
            "outcome" => if outcome.is_ok() { "success" } else { "failure" }
        )
        .increment(1);
        if let Err(e) = &outcome {
            tracing::info!(webhook_id = delivery.webhook.id.get(), error = %e, "webhook delivery failed");
        }
        let recorded = self
            .todo
            .delivered(
                job,
                delivery.webhook.id,
                outcome,
                self.settings.webhook_max_attempts,
                self.settings.webhook_disable_after,
            )
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, job_id = job.id, "recording a delivery failed");
        }
    }

    async fn failed(&self, job: &Job, error: &str) {
        failed(&self.todo, &self.settings, job, error).await;
    }
}

/// Sleeps until the lane's next job of `kind` is due, jobs changed, one of the lane's
/// `running` deliveries ended (it may have been retried sooner than the lane's next job), or
/// shutdown.
async fn until_due(
    todo: &Todo,
    kind: JobKind,
    signals: &mut tokio::sync::broadcast::Receiver<Signal>,
    shutdown: &CancellationToken,
    running: Option<&mut JoinSet<()>>,
) {
    let wait = match todo.next_job_at(kind).await {
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
        // Due but not claimable (another replica took it a moment ago): look again shortly.
        tokio::time::sleep(Duration::from_millis(50)).await;
        return;
    }
    let ended = async {
        match running {
            Some(running) if !running.is_empty() => {
                running.join_next().await;
            }
            _ => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(wait) => {}
        () = jobs_changed(signals) => {}
        () = ended => {}
    }
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

/// Prunes old events and finished jobs, hourly.
async fn housekeeping(todo: &Todo, settings: &JobSettings, shutdown: &CancellationToken) {
    while !shutdown.is_cancelled() {
        prune(todo, settings).await;
        match todo.prune_oauth().await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "pruned expired OAuth tokens and grants"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning OAuth rows failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(PRUNE_EVERY) => {}
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
    refuse_private_literal(&url, allow_private)?;
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

/// Refuses a URL whose host is a literal private address (unless `allow_private`): names are
/// checked by [`PublicResolver`] as the connection is made, but a literal address never
/// reaches a resolver.
pub(crate) fn refuse_private_literal(
    url: &reqwest::Url,
    allow_private: bool,
) -> Result<(), String> {
    if !allow_private
        && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host()
        && let Some(ip) = url
            .host_str()
            .and_then(|h| h.trim_matches(['[', ']']).parse().ok())
        && !is_public(ip)
    {
        return Err("the URL points at a private address".into());
    }
    Ok(())
}

pub(crate) fn describe_send_error(e: &reqwest::Error) -> String {
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
pub(crate) struct PublicResolver;

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

/// The client of every request the server sends to a user's URL (webhook deliveries, Web
/// Push): `webhook_timeout` in all, no redirects, no proxy, and (unless `allow_private`)
/// connections to public addresses only. `agent` names the sender in `User-Agent`.
pub fn delivery_client(
    settings: &JobSettings,
    allow_private: bool,
    agent: &str,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(settings.webhook_timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(settings.webhook_timeout))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(format!("{agent}/{}", env!("CARGO_PKG_VERSION")));
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
    match todo
        .prune_jobs_and_events(todo_core::time::now() - retention)
        .await
    {
        Ok(n) if n > 0 => tracing::info!(events = n, "pruned old events"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "pruning events and jobs failed"),
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
