//! The durable job queue: reminders to fire and webhook deliveries to make. Jobs are rows;
//! a worker on any replica leases due ones, so each runs to completion once even when
//! replicas die mid-job (an expired lease makes the job due again).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::Result;
use crate::events::{Event, EventId};
use crate::reminders::ReminderId;
use crate::webhooks::WebhookId;

pub type JobId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Reminder,
    Webhook,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Reminder => "reminder",
            JobKind::Webhook => "webhook",
        }
    }

    pub fn from_text(text: &str) -> Option<Self> {
        match text {
            "reminder" => Some(JobKind::Reminder),
            "webhook" => Some(JobKind::Webhook),
            _ => None,
        }
    }
}

/// A leased job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub user_id: String,
    pub reminder_id: Option<ReminderId>,
    pub event_id: Option<EventId>,
    pub webhook_id: Option<WebhookId>,
    /// Including the one this lease is for.
    pub attempts: i32,
}

/// How long a failed job waits before its next attempt: 5 s doubling up to an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    Duration::seconds(5_i64.saturating_mul(1_i64 << exp)).min(Duration::hours(1))
}

#[async_trait]
pub trait JobStore {
    /// Leases up to `limit` due jobs until `now + lease`, counting an attempt on each. A job
    /// is due when its run time has come and it is not leased (or its lease ran out).
    async fn claim_jobs(&self, now: DateTime<Utc>, lease: Duration, limit: u32)
    -> Result<Vec<Job>>;
    /// When the next job falls due (its run time, or the end of its lease), if any.
    async fn next_job_at(&self) -> Result<Option<DateTime<Utc>>>;
    /// Fires a reminder job in one transaction: marks the reminder sent, writes its `reminder`
    /// event and marks the job done. A reminder already sent, deleted, or on a completed task
    /// only finishes the job. Returns the event when one was written.
    async fn fire_reminder(&self, job: &Job, now: DateTime<Utc>) -> Result<Option<Event>>;
    /// Marks a job done (with the error it gave up on, if any).
    async fn finish_job(&self, id: JobId, now: DateTime<Utc>, error: Option<&str>) -> Result<()>;
    /// Releases a failed job to run again at `run_at`.
    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> Result<()>;
    /// Deletes jobs done before `before`; returns how many.
    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_and_stops_at_an_hour() {
        let waits: Vec<i64> = (1..=5).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80]);
        assert_eq!(backoff(30), Duration::hours(1));
    }
}
