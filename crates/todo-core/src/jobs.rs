//! The durable job queue: reminders to fire and webhook deliveries to make. Jobs are rows;
//! a worker on any replica leases due ones, so each runs to completion once even when
//! replicas die mid-job (an expired lease makes the job due again).
//!
//! The worker runs each kind in a lane of its own (see `docs/events.md`): reminders never
//! wait behind deliveries, and deliveries are bounded per user and per target ([`InFlight`]).
//! The policy (retry, give up, put back, disable) is here, behind `Todo`'s job use cases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::Todo;
use crate::error::Result;
use crate::events::{Event, EventId};
use crate::ids::{PushSubscriptionId, UserId};
use crate::reminders::ReminderId;
use crate::time::now;
use crate::webhooks::{Delivery, WebhookId};

pub type JobId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Reminder,
    Webhook,
    Email,
    /// A reminder pushed to one browser (Web Push).
    Push,
    /// A user's next daily digest.
    Digest,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Reminder => "reminder",
            JobKind::Webhook => "webhook",
            JobKind::Email => "email",
            JobKind::Push => "push",
            JobKind::Digest => "digest",
        }
    }

    pub fn from_text(text: &str) -> Option<Self> {
        match text {
            "reminder" => Some(JobKind::Reminder),
            "webhook" => Some(JobKind::Webhook),
            "email" => Some(JobKind::Email),
            "push" => Some(JobKind::Push),
            "digest" => Some(JobKind::Digest),
            _ => None,
        }
    }
}

/// Which of a fired reminder's outside channels this server sends. A reminder queues, with
/// its event, an `email` job when `email` and the user's email channel is on (and the user
/// has an address), and a `push` job per subscription of the user's when `push` and their
/// push channel is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sends {
    pub email: bool,
    pub push: bool,
}

/// A leased job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub user_id: UserId,
    pub reminder_id: Option<ReminderId>,
    pub event_id: Option<EventId>,
    pub webhook_id: Option<WebhookId>,
    /// A push job's subscription.
    pub subscription_id: Option<PushSubscriptionId>,
    /// Including the one this lease is for.
    pub attempts: i32,
}

/// How long a failed job waits before its next attempt: 5 s doubling up to an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    Duration::seconds(5_i64.saturating_mul(1_i64 << exp)).min(Duration::hours(1))
}

/// How long a delivery whose user or target is busy waits before it is tried again.
pub const BUSY_WAIT: Duration = Duration::seconds(2);

/// What becomes of a job that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Run it again then.
    RetryAt(DateTime<Utc>),
    /// It has had its attempts: mark it done with its error.
    GiveUp,
}

/// A failed reminder or digest is retried until it runs (it is a write to our own database,
/// and a digest job given up would end the user's schedule); a failed delivery or email is
/// retried with [`backoff`] until it has had `max_attempts`.
pub fn after_failure(job: &Job, max_attempts: i32, now: DateTime<Utc>) -> AfterFailure {
    let retried_forever = matches!(job.kind, JobKind::Reminder | JobKind::Digest);
    if !retried_forever && job.attempts >= max_attempts {
        AfterFailure::GiveUp
    } else {
        AfterFailure::RetryAt(now + backoff(job.attempts))
    }
}

/// Deliveries in flight in this process, counted by user and by target host, each bounded.
/// A delivery that would pass either bound is not started (the worker puts it back for
/// [`BUSY_WAIT`]), so one user's or one host's slow endpoints cannot take every slot.
#[derive(Debug)]
pub struct InFlight {
    per_user: usize,
    per_target: usize,
    counts: Mutex<HashMap<(Side, String), usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Side {
    User,
    Target,
}

/// A delivery counted in flight until this is dropped.
#[derive(Debug)]
pub struct Started {
    in_flight: Arc<InFlight>,
    user: String,
    target: String,
}

impl InFlight {
    /// At most `per_user` deliveries of one user and `per_target` to one host (at least 1).
    pub fn new(per_user: usize, per_target: usize) -> Arc<Self> {
        Arc::new(Self {
            per_user: per_user.max(1),
            per_target: per_target.max(1),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// Counts a delivery of `user` to `target` in flight, unless either is at its bound.
    pub fn try_start(self: &Arc<Self>, user: &str, target: &str) -> Option<Started> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let user_key = (Side::User, user.to_owned());
        let target_key = (Side::Target, target.to_ascii_lowercase());
        let busy =
            |key: &(Side, String), bound: usize| counts.get(key).is_some_and(|n| *n >= bound);
        if busy(&user_key, self.per_user) || busy(&target_key, self.per_target) {
            return None;
        }
        *counts.entry(user_key).or_default() += 1;
        *counts.entry(target_key.clone()).or_default() += 1;
        Some(Started {
            in_flight: Arc::clone(self),
            user: user.to_owned(),
            target: target_key.1,
        })
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let mut counts = self
            .in_flight
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in [
            (Side::User, std::mem::take(&mut self.user)),
            (Side::Target, std::mem::take(&mut self.target)),
        ] {
            if let Some(n) = counts.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&key);
                }
            }
        }
    }
}

#[async_trait]
pub trait JobStore {
    /// Leases up to `limit` due jobs of `kind` until `now + lease`, counting an attempt on
    /// each. A job is due when its run time has come and it is not leased (or its lease ran
    /// out).
    async fn claim_jobs(
        &self,
        kind: JobKind,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>>;
    /// When the next job of `kind` falls due (its run time, or the end of its lease), if any.
    async fn next_job_at(&self, kind: JobKind) -> Result<Option<DateTime<Utc>>>;
    /// Puts a claimed job that did not run back, to run at `run_at`, taking back the attempt
    /// its claim counted.
    async fn postpone_job(&self, id: JobId, run_at: DateTime<Utc>) -> Result<()>;
    /// Fires a reminder job in one transaction: marks the reminder sent, writes its `reminder`
    /// event, queues its email and pushes (see [`Sends`]) and marks the job done. A reminder
    /// already sent, deleted, or on a completed task only finishes the job. Returns the event
    /// when one was written.
    async fn fire_reminder(
        &self,
        job: &Job,
        sends: Sends,
        now: DateTime<Utc>,
    ) -> Result<Option<Event>>;
    /// Marks a job done (with the error it gave up on, if any).
    async fn finish_job(&self, id: JobId, now: DateTime<Utc>, error: Option<&str>) -> Result<()>;
    /// Releases a failed job to run again at `run_at`.
    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> Result<()>;
    /// Deletes jobs done before `before`; returns how many.
    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// The job worker's use cases: the worker (in the server) schedules, these decide.
impl Todo {
    pub async fn claim_jobs(&self, kind: JobKind, lease: Duration, limit: u32) -> Result<Vec<Job>> {
        self.store.claim_jobs(kind, now(), lease, limit).await
    }

    pub async fn next_job_at(&self, kind: JobKind) -> Result<Option<DateTime<Utc>>> {
        self.store.next_job_at(kind).await
    }

    /// Fires a reminder job; the event when one was written.
    pub async fn fire_reminder(&self, job: &Job) -> Result<Option<Event>> {
        let sends = Sends {
            email: self.sends_mail(),
            push: self.sends_push(),
        };
        self.store.fire_reminder(job, sends, now()).await
    }

    /// What a delivery job is to send; `None` (and the job is done) when there is nothing to
    /// send any more: the webhook was deleted or disabled, or the event pruned.
    pub async fn delivery(&self, job: &Job) -> Result<Option<Delivery>> {
        let delivery = self.store.delivery(job).await?;
        if delivery.is_none() {
            self.store.finish_job(job.id, now(), None).await?;
        }
        Ok(delivery)
    }

    /// A delivery that could not start (its user or target is busy): it runs again after
    /// [`BUSY_WAIT`] without using up an attempt.
    pub async fn postpone_delivery(&self, job: &Job) -> Result<()> {
        self.store.postpone_job(job.id, now() + BUSY_WAIT).await
    }

    /// Records a delivery's outcome: on the webhook (a failure, a timeout included, counts
    /// towards disabling it after `disable_after` in a row; a success resets the count), and
    /// on the job (done, or failed: see [`Todo::job_failed`]).
    pub async fn delivered(
        &self,
        job: &Job,
        webhook_id: WebhookId,
        outcome: std::result::Result<(), String>,
        max_attempts: i32,
        disable_after: i32,
    ) -> Result<()> {
        let error = outcome.as_ref().err().map(String::as_str);
        self.store
            .record_delivery(&job.user_id, webhook_id, error, now(), disable_after)
            .await?;
        match outcome {
            Ok(()) => self.store.finish_job(job.id, now(), None).await,
            Err(error) => self.job_failed(job, &error, max_attempts).await,
        }
    }

    /// A job failed: retried later, or given up (see [`after_failure`]).
    pub async fn job_failed(&self, job: &Job, error: &str, max_attempts: i32) -> Result<()> {
        match after_failure(job, max_attempts, now()) {
            AfterFailure::RetryAt(at) => self.store.retry_job(job.id, at, error).await,
            AfterFailure::GiveUp => self.store.finish_job(job.id, now(), Some(error)).await,
        }
    }

    /// Deletes events and finished jobs from before `before`; how many events.
    pub async fn prune_jobs_and_events(&self, before: DateTime<Utc>) -> Result<u64> {
        let events = self.store.prune_events(before).await?;
        self.store.prune_jobs(before).await?;
        self.store.prune_dav_objects(before).await?;
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: JobKind, attempts: i32) -> Job {
        Job {
            id: 1,
            kind,
            user_id: "u".into(),
            reminder_id: None,
            event_id: None,
            webhook_id: None,
            subscription_id: None,
            attempts,
        }
    }

    #[test]
    fn a_delivery_is_given_up_after_its_attempts_and_a_reminder_never() {
        let at = now();
        assert_eq!(
            after_failure(&job(JobKind::Webhook, 2), 3, at),
            AfterFailure::RetryAt(at + Duration::seconds(10))
        );
        assert_eq!(
            after_failure(&job(JobKind::Webhook, 3), 3, at),
            AfterFailure::GiveUp
        );
        assert_eq!(
            after_failure(&job(JobKind::Email, 3), 3, at),
            AfterFailure::GiveUp
        );
        assert!(matches!(
            after_failure(&job(JobKind::Reminder, 30), 3, at),
            AfterFailure::RetryAt(_)
        ));
        assert!(matches!(
            after_failure(&job(JobKind::Digest, 30), 3, at),
            AfterFailure::RetryAt(_)
        ));
    }

    #[test]
    fn deliveries_in_flight_are_bounded_per_user_and_per_target() {
        let in_flight = InFlight::new(2, 3);
        let a1 = in_flight.try_start("a", "slow.example");
        let a2 = in_flight.try_start("a", "other.example");
        assert!(a1.is_some() && a2.is_some());
        assert!(
            in_flight.try_start("a", "third.example").is_none(),
            "a third of user a's"
        );
        let b1 = in_flight.try_start("b", "SLOW.example");
        assert!(b1.is_some(), "another user still gets a slot");
        let c1 = in_flight.try_start("c", "slow.example");
        assert!(c1.is_some());
        assert!(
            in_flight.try_start("d", "slow.example").is_none(),
            "a fourth to the same host"
        );
        drop(a1);
        let a3 = in_flight.try_start("a", "third.example");
        assert!(a3.is_some(), "a's slot came back");
        assert!(
            in_flight.try_start("a", "fourth.example").is_none(),
            "and only one"
        );
        assert!(in_flight.try_start("d", "slow.example").is_some());
        drop((a2, a3, b1, c1));
    }

    #[test]
    fn backoff_doubles_from_five_seconds_and_stops_at_an_hour() {
        let waits: Vec<i64> = (1..=5).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80]);
        assert_eq!(backoff(30), Duration::hours(1));
    }
}
