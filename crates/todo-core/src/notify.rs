//! Where reminders reach people (docs/email.md, "Channels"): each user's channels (the open web
//! app, email, Web Push) and daily digest hour; reminder and digest emails; one-click
//! unsubscribe links (RFC 8058).
//!
//! - A digest goes once a day at the start of the user's local hour ([`next_digest`]): one
//!   pending `digest` job per user with an hour, replaced whenever the hour, the zone or the
//!   day it was last sent changes, always in one transaction with that change.
//! - Running a digest job queues its email, records the day and schedules the next in one
//!   transaction (the store's [`NotifyStore::finish_digest`]), so a crash or a second replica
//!   can neither send it twice nor lose the schedule.
//! - An unsubscribe link carries a token signed with the server's `unsubscribe_key` (HMAC-SHA256),
//!   naming what it turns off. It never expires; for a user who is gone it does nothing.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use crate::Todo;
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::jobs::Job;
use crate::mail::{Mail, escape};
use crate::page::{Sort, SortField, Status, TaskFilter, TaskQuery};
use crate::patch::Patch;
use crate::task::{Task, start_of_day};
use crate::time::{local_to_utc, now};
use crate::user::{Email, UserId};

/// The most tasks one digest lists; the rest are "and N more".
pub const DIGEST_MAX_TASKS: u32 = 50;

/// The local hour a daily digest goes at, 0–23.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DigestHour(u8);

impl DigestHour {
    pub fn new(hour: i64) -> std::result::Result<Self, String> {
        u8::try_from(hour)
            .ok()
            .filter(|h| *h < 24)
            .map(DigestHour)
            .ok_or_else(|| "must be an hour from 0 to 23".into())
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A user's channels as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
    pub push: bool,
    /// None: no digest.
    pub digest_hour: Option<DigestHour>,
}

/// Changes to a user's channels: `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelChanges {
    pub in_app: Option<bool>,
    pub email: Option<bool>,
    pub push: Option<bool>,
    /// `Some(None)` turns the digest off.
    pub digest_hour: Option<Option<DigestHour>>,
}

/// Where the caller's reminders go, and what this server can send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NotificationSettings {
    /// Reminders in the open web app.
    pub in_app: bool,
    /// Reminders by email (sent only when `email_available`).
    pub email: bool,
    /// Reminders by Web Push to subscribed browsers (sent only when `push_available`).
    pub push: bool,
    /// The local hour (0–23, in the profile's time zone) of the daily digest of today's and
    /// overdue tasks; null: no digest.
    #[schema(minimum = 0, maximum = 23)]
    pub digest_hour: Option<u8>,
    /// Whether this server sends email (`SMTP_URL` and `PUBLIC_URL` are set).
    pub email_available: bool,
    /// Whether this server sends Web Push.
    pub push_available: bool,
}

/// A change of channels: fields left out keep their value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsInput {
    #[serde(default)]
    pub in_app: Option<bool>,
    #[serde(default)]
    pub email: Option<bool>,
    #[serde(default)]
    pub push: Option<bool>,
    /// The digest's local hour, 0–23; `null` turns the digest off.
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 23)]
    pub digest_hour: Patch<i64>,
}

/// When a user's next digest goes: the start of `hour` on their local day in `tz`, or `now`
/// when that hour is under way and today's digest has not gone (`sent_on` is the local day it
/// last went), else the start of the hour tomorrow. An hour that does not exist that day
/// (clocks going forward) starts at the next instant that does; one that happens twice
/// (clocks going back) starts the first time ([`local_to_utc`]).
pub fn next_digest(
    hour: DigestHour,
    tz: Tz,
    now: DateTime<Utc>,
    sent_on: Option<NaiveDate>,
) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let start = |day: NaiveDate| {
        let at = NaiveTime::from_hms_opt(u32::from(hour.get()), 0, 0).unwrap_or(NaiveTime::MIN);
        local_to_utc(day.and_time(at), tz)
    };
    if sent_on.is_none_or(|day| day < today) {
        let begins = start(today);
        if now < begins {
            return begins;
        }
        if now < begins + Duration::hours(1) {
            return now;
        }
    }
    start(today.succ_opt().unwrap_or(today))
}

/// [`next_digest`] from the stored columns (for the stores, inside their transactions): none
/// without an hour; an unknown zone is UTC.
pub fn digest_run_at(
    hour: Option<i64>,
    timezone: &str,
    sent_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let hour = DigestHour::new(hour?).ok()?;
    let tz = timezone.parse::<Tz>().unwrap_or(Tz::UTC);
    Some(next_digest(hour, tz, now, sent_on))
}

/// What one click on an unsubscribe link turns off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsubscribe {
    /// The user's reminder emails (their email channel).
    Email(UserId),
    /// The user's daily digest.
    Digest(UserId),
    /// Invitation emails to this address (it may have no account).
    Invitations(String),
}

impl Unsubscribe {
    fn payload(&self) -> String {
        match self {
            Unsubscribe::Email(user) => format!("email:{user}"),
            Unsubscribe::Digest(user) => format!("digest:{user}"),
            Unsubscribe::Invitations(address) => format!("invitations:{address}"),
        }
    }

    fn from_payload(payload: &str) -> Option<Self> {
        let (kind, subject) = payload.split_once(':')?;
        if subject.is_empty() {
            return None;
        }
        match kind {
            "email" => Some(Unsubscribe::Email(UserId::new(subject))),
            "digest" => Some(Unsubscribe::Digest(UserId::new(subject))),
            "invitations" => Some(Unsubscribe::Invitations(subject.to_owned())),
            _ => None,
        }
    }

    /// What the page and the email call it.
    pub fn describe(&self) -> String {
        match self {
            Unsubscribe::Email(_) => "reminder emails".into(),
            Unsubscribe::Digest(_) => "the daily digest email".into(),
            Unsubscribe::Invitations(address) => format!("invitation emails to {address}"),
        }
    }
}

/// The longest token [`verify_unsubscribe`] reads.
const MAX_TOKEN_CHARS: usize = 1024;
/// Keeps these signatures apart from anything else the key might ever sign.
const TOKEN_CONTEXT: &[u8] = b"todo unsubscribe v1\n";

fn mac(key: &[u8], payload: &str) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(TOKEN_CONTEXT);
    ctx.update(payload.as_bytes());
    ctx.sign()
}

/// `base64url(payload).base64url(HMAC-SHA256(key, context ‖ payload))`.
pub fn sign_unsubscribe(key: &[u8], what: &Unsubscribe) -> String {
    let payload = what.payload();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(mac(key, &payload).as_ref())
    )
}

/// What a token signed with `key` turns off; `None` for anything not signed with it.
pub fn verify_unsubscribe(key: &[u8], token: &str) -> Option<Unsubscribe> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_CHARS {
        return None;
    }
    let (payload, tag) = token.split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut signed = TOKEN_CONTEXT.to_vec();
    signed.extend_from_slice(payload.as_bytes());
    hmac::verify(&key, &signed, &tag).ok()?;
    Unsubscribe::from_payload(&payload)
}

/// The task of a fired reminder, as its event recorded it (`task_data`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RemindedTask {
    pub id: TaskId,
    pub title: String,
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
}

/// A due as a person reads it in `tz`: `Mon 7 Dec 2026, 09:30` or `Mon 7 Dec 2026`.
fn due_text(due_at: Option<DateTime<Utc>>, due_date: Option<NaiveDate>, tz: Tz) -> Option<String> {
    match (due_at, due_date) {
        (Some(at), _) => Some(
            at.with_timezone(&tz)
                .format("%a %-d %b %Y, %H:%M")
                .to_string(),
        ),
        (None, Some(day)) => Some(day.format("%a %-d %b %Y").to_string()),
        (None, None) => None,
    }
}

fn task_link(base: &str, id: TaskId) -> String {
    format!("{base}/tasks/{}/edit", id.get())
}

/// The footer line of a message with an unsubscribe link, in both parts, and the link for the
/// `List-Unsubscribe` header.
pub(crate) fn with_unsubscribe(mut mail: Mail, url: &str, what: &str) -> Mail {
    let line = format!("To stop {what}, open: {url}");
    mail.text.push_str(&format!("\n--\n{line}\n"));
    let footer = format!(
        "<hr>\n<p style=\"color: #666; font-size: small\">To stop {}, <a href=\"{}\">unsubscribe</a>.</p>\n</body></html>\n",
        escape(what),
        escape(url)
    );
    if let Some(at) = mail.html.rfind("</body>") {
        mail.html.truncate(at);
    }
    mail.html.push_str(&footer);
    mail.unsubscribe = Some(url.to_owned());
    mail
}

/// The email of a fired reminder: the task's title, when it is due (in `tz`), a link to it.
pub fn reminder_mail(
    public_url: &str,
    to: &str,
    task: &RemindedTask,
    tz: Tz,
    unsubscribe_url: &str,
) -> Mail {
    let base = public_url.trim_end_matches('/');
    let link = task_link(base, task.id);
    let mut paragraphs = vec![format!("Reminder: {}", task.title)];
    if let Some(due) = due_text(task.due_at, task.due_date, tz) {
        paragraphs.push(format!("Due {due}."));
    }
    paragraphs.push("Open the task:".into());
    let mail = crate::mail::compose(
        to,
        format!("Reminder: {}", task.title),
        &paragraphs,
        &link,
        "You get this because email reminders are on in your settings.",
    );
    with_unsubscribe(mail, unsubscribe_url, "reminder emails")
}

/// What a digest lists: the first open tasks due today or before (overdue first, by due),
/// how many there are in all, and how many of them are overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub tasks: Vec<Task>,
    pub total: u64,
    pub overdue: u64,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// `Today: 3 tasks, 1 overdue`.
    pub fn subject(&self) -> String {
        let noun = if self.total == 1 { "task" } else { "tasks" };
        let mut subject = format!("Today: {} {noun}", self.total);
        if self.overdue > 0 {
            subject.push_str(&format!(", {} overdue", self.overdue));
        }
        subject
    }
}

/// The digest email: a line and a link per task (overdue ones marked), "and N more", a link
/// to Today, and the unsubscribe footer. `now` in `tz` is the day it is for.
pub fn digest_mail(
    public_url: &str,
    to: &str,
    digest: &Digest,
    tz: Tz,
    now: DateTime<Utc>,
    unsubscribe_url: &str,
) -> Mail {
    let base = public_url.trim_end_matches('/');
    let day = now.with_timezone(&tz).format("%A %-d %B %Y").to_string();
    let today_link = format!("{base}/?view=today");
    let mut text = format!("Your tasks for {day}.\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n<p>Your tasks for {}.</p>\n<ul>\n",
        escape(&day)
    );
    for task in &digest.tasks {
        let link = task_link(base, task.id);
        let mut line = task.title.clone();
        if task.is_overdue(tz, now) {
            line.push_str(" (overdue");
            if let Some(due) = due_text(task.due_at, task.due_date, tz) {
                line.push_str(&format!(", due {due}"));
            }
            line.push(')');
        } else if let Some(at) = task.due_at {
            line.push_str(&format!(" ({})", at.with_timezone(&tz).format("%H:%M")));
        }
        text.push_str(&format!("- {line}\n  {link}\n"));
        html.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>\n",
            escape(&link),
            escape(&line)
        ));
    }
    html.push_str("</ul>\n");
    let listed = u64::try_from(digest.tasks.len()).unwrap_or(u64::MAX);
    if digest.total > listed {
        let more = format!("… and {} more.", digest.total - listed);
        text.push_str(&format!("{more}\n"));
        html.push_str(&format!("<p>{}</p>\n", escape(&more)));
    }
    text.push_str(&format!("\nSee them all in Today: {today_link}\n"));
    html.push_str(&format!(
        "<p><a href=\"{0}\">See them all in Today</a></p>\n</body></html>\n",
        escape(&today_link)
    ));
    let mail = Mail {
        to: to.to_owned(),
        subject: digest.subject(),
        text,
        html,
        unsubscribe: None,
    };
    with_unsubscribe(mail, unsubscribe_url, "the daily digest")
}

/// What a digest job needs of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestUser {
    pub email: Option<String>,
    pub timezone: String,
    pub digest_hour: Option<DigestHour>,
    pub sent_on: Option<NaiveDate>,
}

/// What a reminder's email job needs: the user's address and email channel now, their zone,
/// and the event's task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSource {
    pub email: Option<String>,
    pub notify_email: bool,
    pub timezone: String,
    pub task_data: String,
}

#[async_trait]
pub trait NotifyStore {
    async fn channels(&self, user_id: &UserId) -> Result<Option<Channels>>;
    /// Applies the changes; when they set the digest hour, replaces the user's pending
    /// `digest` job with the one [`digest_run_at`] calls for (none without an hour), in the
    /// same transaction. `None` when there is no such user.
    async fn update_channels(
        &self,
        user_id: &UserId,
        changes: &ChannelChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Channels>>;
    /// Replaces the user's pending `digest` job (a leased one included) with the one
    /// [`digest_run_at`] calls for now, in one transaction (after a change of zone).
    async fn reschedule_digest(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<()>;
    /// When the user's pending `digest` job runs, if they have one.
    async fn digest_job_at(&self, user_id: &UserId) -> Result<Option<DateTime<Utc>>>;
    async fn digest_user(&self, user_id: &UserId) -> Result<Option<DigestUser>>;
    /// Ends a digest job in one transaction, under the user's row lock: marks it done (if it
    /// is still pending: else, it was replaced meanwhile, nothing is written and the answer
    /// is `false`), queues `mail` (an `email` job's payload) if any, records `sent_on`, and
    /// schedules the next digest by [`digest_run_at`].
    async fn finish_digest(
        &self,
        job: &Job,
        mail: Option<&str>,
        sent_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// The user and event of a reminder's `email` job; `None` when either is gone.
    async fn reminder_source(&self, job: &Job) -> Result<Option<ReminderSource>>;
    /// Stops invitation emails to `email` (normalised).
    async fn opt_out_of_invitations(&self, email: &str, now: DateTime<Utc>) -> Result<()>;
    async fn opted_out_of_invitations(&self, email: &str) -> Result<bool>;
}

impl Todo {
    fn settings(&self, channels: Channels) -> NotificationSettings {
        NotificationSettings {
            in_app: channels.in_app,
            email: channels.email,
            push: channels.push,
            digest_hour: channels.digest_hour.map(DigestHour::get),
            email_available: self.sends_mail(),
            push_available: self.sends_push(),
        }
    }

    /// The caller's channels. An app connected with OAuth cannot manage them (it is the
    /// account's business where its mail goes).
    pub async fn notifications(&self, actor: &Principal) -> Result<NotificationSettings> {
        crate::oauth::refuse_oauth_actor(actor)?;
        let channels = self
            .store
            .channels(&actor.user_id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        Ok(self.settings(channels))
    }

    /// Changes the caller's channels; setting the digest hour (re)schedules the digest.
    pub async fn update_notifications(
        &self,
        actor: &Principal,
        input: NotificationsInput,
    ) -> Result<NotificationSettings> {
        crate::oauth::refuse_oauth_actor(actor)?;
        let digest_hour = match input.digest_hour {
            Patch::Missing => None,
            Patch::Null => Some(None),
            Patch::Value(hour) => Some(Some(
                DigestHour::new(hour).map_err(|e| Error::invalid("digest_hour", e))?,
            )),
        };
        let changes = ChannelChanges {
            in_app: input.in_app,
            email: input.email,
            push: input.push,
            digest_hour,
        };
        let channels = self
            .store
            .update_channels(&actor.user_id, &changes, now())
            .await?
            .ok_or(Error::NotFound("user"))?;
        Ok(self.settings(channels))
    }

    /// When the user's next digest is scheduled, if it is.
    pub async fn digest_job_at(&self, user_id: &UserId) -> Result<Option<DateTime<Utc>>> {
        self.store.digest_job_at(user_id).await
    }

    /// The server's key for unsubscribe tokens: made once, kept in the database (so links in
    /// old mail keep working across restarts and replicas).
    async fn unsubscribe_key(&self) -> Result<Vec<u8>> {
        let key = self
            .unsubscribe_key
            .get_or_try_init(|| async {
                let candidate = crate::api_key::random_secret("");
                self.stored_secret("unsubscribe_key", &candidate)
                    .await
                    .map(String::into_bytes)
            })
            .await?;
        Ok(key.clone())
    }

    /// A signed token that turns `what` off.
    pub async fn unsubscribe_token(&self, what: &Unsubscribe) -> Result<String> {
        Ok(sign_unsubscribe(&self.unsubscribe_key().await?, what))
    }

    /// `PUBLIC_URL/unsubscribe?token=…`, or `None` without a public URL.
    pub async fn unsubscribe_url(&self, what: &Unsubscribe) -> Result<Option<String>> {
        let Some(base) = self.public_url() else {
            return Ok(None);
        };
        let token = self.unsubscribe_token(what).await?;
        Ok(Some(format!("{base}/unsubscribe?token={token}")))
    }

    /// What a token would turn off, changing nothing (the page a link opens).
    pub async fn check_unsubscribe(&self, token: &str) -> Result<Unsubscribe> {
        verify_unsubscribe(&self.unsubscribe_key().await?, token).ok_or_else(|| {
            Error::invalid(
                "token",
                "this unsubscribe link is not valid (was it cut short?)",
            )
        })
    }

    /// Turns off what the token names. A user who is gone has nothing to turn off: it
    /// succeeds and does nothing.
    pub async fn unsubscribe(&self, token: &str) -> Result<Unsubscribe> {
        let what = self.check_unsubscribe(token).await?;
        let at = now();
        match &what {
            Unsubscribe::Email(user) => {
                let changes = ChannelChanges {
                    email: Some(false),
                    ..ChannelChanges::default()
                };
                self.store.update_channels(user, &changes, at).await?;
            }
            Unsubscribe::Digest(user) => {
                let changes = ChannelChanges {
                    digest_hour: Some(None),
                    ..ChannelChanges::default()
                };
                self.store.update_channels(user, &changes, at).await?;
            }
            Unsubscribe::Invitations(address) => {
                if let Ok(email) = Email::parse(address) {
                    self.store
                        .opt_out_of_invitations(email.as_str(), at)
                        .await?;
                }
            }
        }
        Ok(what)
    }

    /// Whether invitation emails to `address` were turned off by its unsubscribe link.
    pub(crate) async fn invitations_opted_out(&self, address: &str) -> Result<bool> {
        match Email::parse(address) {
            Ok(email) => self.store.opted_out_of_invitations(email.as_str()).await,
            Err(_) => Ok(false),
        }
    }

    /// The email of a reminder's `email` job (an event, no payload), composed now for the
    /// user's current address; `None` when the user, their address or the event is gone, or
    /// their email channel was turned off meanwhile.
    pub(crate) async fn reminder_mail(&self, job: &Job) -> Result<Option<Mail>> {
        let Some(public_url) = self.public_url() else {
            return Ok(None);
        };
        let Some(source) = self.store.reminder_source(job).await? else {
            return Ok(None);
        };
        let (Some(to), true) = (source.email, source.notify_email) else {
            return Ok(None);
        };
        let Ok(task) = serde_json::from_str::<RemindedTask>(&source.task_data) else {
            return Ok(None);
        };
        let tz = source.timezone.parse::<Tz>().unwrap_or(Tz::UTC);
        let Some(unsubscribe) = self
            .unsubscribe_url(&Unsubscribe::Email(job.user_id.clone()))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(reminder_mail(
            public_url,
            &to,
            &task,
            tz,
            &unsubscribe,
        )))
    }

    /// The user's open tasks due today or overdue, the first [`DIGEST_MAX_TASKS`] by due.
    pub async fn digest(&self, user_id: &UserId, tz: Tz, at: DateTime<Utc>) -> Result<Digest> {
        let today = at.with_timezone(&tz).date_naive();
        let tomorrow = today.succ_opt().unwrap_or(today);
        let query = TaskQuery {
            filter: TaskFilter {
                status: Status::Pending,
                due_before: Some(start_of_day(tomorrow, tz)),
                ..TaskFilter::default()
            },
            sort: Sort {
                field: SortField::DueAt,
                descending: false,
            },
            limit: DIGEST_MAX_TASKS,
            after: None,
        };
        let listed = self
            .store
            .list_tasks(user_id, &query, DIGEST_MAX_TASKS)
            .await?;
        let overdue = self
            .store
            .list_tasks(user_id, &TaskQuery::overdue(tz, at, 1), 1)
            .await?
            .total;
        Ok(Digest {
            tasks: listed.tasks,
            total: listed.total,
            overdue,
        })
    }

    /// Runs a `digest` job: when the user's digest is due now ([`next_digest`]), composes it
    /// (nothing when there is nothing to say, no address, or no email is sent) and ends the
    /// job with it ([`NotifyStore::finish_digest`]); otherwise (the hour was changed, or
    /// passed while no worker ran) only schedules the next one.
    pub async fn run_digest(&self, job: &Job) -> Result<()> {
        let at = now();
        let Some(user) = self.store.digest_user(&job.user_id).await? else {
            return self
                .store
                .finish_job(job.id, at, Some("no such user"))
                .await;
        };
        let tz = user.timezone.parse::<Tz>().unwrap_or(Tz::UTC);
        let due = user
            .digest_hour
            .is_some_and(|hour| next_digest(hour, tz, at, user.sent_on) <= at);
        if !due {
            return self.store.reschedule_digest(&job.user_id, at).await;
        }
        let mut mail = None;
        if let (Some(public_url), Some(to), true) =
            (self.public_url(), user.email.as_deref(), self.sends_mail())
        {
            let digest = self.digest(&job.user_id, tz, at).await?;
            if !digest.is_empty()
                && let Some(unsubscribe) = self
                    .unsubscribe_url(&Unsubscribe::Digest(job.user_id.clone()))
                    .await?
            {
                let composed = digest_mail(public_url, to, &digest, tz, at, &unsubscribe);
                mail = Some(serde_json::to_string(&composed).map_err(Error::internal)?);
            }
        }
        let today = at.with_timezone(&tz).date_naive();
        self.store
            .finish_digest(job, mail.as_deref(), today, at)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("utc")
    }

    fn hour(h: i64) -> DigestHour {
        DigestHour::new(h).expect("hour")
    }

    #[test]
    fn an_hour_is_0_to_23() {
        assert!(DigestHour::new(0).is_ok());
        assert_eq!(DigestHour::new(23).map(DigestHour::get), Ok(23));
        assert!(DigestHour::new(24).is_err());
        assert!(DigestHour::new(-1).is_err());
    }

    #[test]
    fn the_digest_goes_at_the_start_of_the_local_hour_once_a_day() {
        let paris: Tz = "Europe/Paris".parse().expect("zone");
        let day = NaiveDate::from_ymd_opt(2026, 12, 7);
        // Before 08:00 Paris (07:00 UTC): today at 08:00.
        let early = utc("2026-12-07T05:00:00Z");
        assert_eq!(
            next_digest(hour(8), paris, early, None),
            utc("2026-12-07T07:00:00Z")
        );
        // During the hour and not sent today: now.
        let during = utc("2026-12-07T07:30:00Z");
        assert_eq!(next_digest(hour(8), paris, during, None), during);
        // Sent today: tomorrow.
        assert_eq!(
            next_digest(hour(8), paris, during, day),
            utc("2026-12-08T07:00:00Z")
        );
        // The hour is over: tomorrow, sent or not.
        let late = utc("2026-12-07T09:00:00Z");
        assert_eq!(
            next_digest(hour(8), paris, late, None),
            utc("2026-12-08T07:00:00Z")
        );
        // Sent on a later local day than today (the zone moved west): not again today.
        let tomorrow = NaiveDate::from_ymd_opt(2026, 12, 8);
        assert_eq!(
            next_digest(hour(8), paris, early, tomorrow),
            utc("2026-12-08T07:00:00Z")
        );
    }

    #[test]
    fn an_hour_that_does_not_exist_starts_at_the_next_instant_that_does() {
        // Berlin springs forward at 02:00 on 2026-03-29: 02:00 CET is 03:00 CEST (01:00 UTC).
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        let before = utc("2026-03-28T23:00:00Z");
        assert_eq!(
            next_digest(hour(2), berlin, before, None),
            utc("2026-03-29T01:00:00Z")
        );
        // The next day it is 02:00 CEST again (00:00 UTC).
        let sent = NaiveDate::from_ymd_opt(2026, 3, 29);
        assert_eq!(
            next_digest(hour(2), berlin, utc("2026-03-29T01:00:00Z"), sent),
            utc("2026-03-30T00:00:00Z")
        );
    }

    #[test]
    fn an_hour_that_happens_twice_starts_the_first_time() {
        // New York falls back at 02:00 EDT on 2026-11-01: 01:00 happens at 05:00 and 06:00 UTC.
        let new_york: Tz = "America/New_York".parse().expect("zone");
        let before = utc("2026-11-01T03:00:00Z");
        assert_eq!(
            next_digest(hour(1), new_york, before, None),
            utc("2026-11-01T05:00:00Z")
        );
        // Once it went in the first 01:00, the second does not send it again.
        let sent = NaiveDate::from_ymd_opt(2026, 11, 1);
        assert_eq!(
            next_digest(hour(1), new_york, utc("2026-11-01T06:10:00Z"), sent),
            utc("2026-11-02T06:00:00Z")
        );
    }

    #[test]
    fn the_stores_read_the_columns_the_same_way() {
        let at = utc("2026-12-07T05:00:00Z");
        assert_eq!(digest_run_at(None, "UTC", None, at), None);
        assert_eq!(digest_run_at(Some(24), "UTC", None, at), None);
        assert_eq!(
            digest_run_at(Some(6), "not a zone", None, at),
            Some(utc("2026-12-07T06:00:00Z"))
        );
    }

    #[test]
    fn a_token_names_what_it_turns_off_and_a_forged_one_is_refused() {
        let key = b"a key of the server's";
        for what in [
            Unsubscribe::Email(UserId::new("u1")),
            Unsubscribe::Digest(UserId::new("u:2")),
            Unsubscribe::Invitations("bob@example.com".into()),
        ] {
            let token = sign_unsubscribe(key, &what);
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "URL-safe: {token}"
            );
            assert_eq!(verify_unsubscribe(key, &token), Some(what));
        }
        let token = sign_unsubscribe(key, &Unsubscribe::Email(UserId::new("u1")));
        assert_eq!(verify_unsubscribe(b"another key", &token), None);
        // Someone else's user id under the same signature.
        let (_, tag) = token.split_once('.').expect("two parts");
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("email:u2"));
        assert_eq!(verify_unsubscribe(key, &forged), None);
        // The digest of the same user under the email's signature.
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("digest:u1"));
        assert_eq!(verify_unsubscribe(key, &forged), None);
        for junk in ["", ".", "abc", "abc.def", &"a".repeat(5000)] {
            assert_eq!(verify_unsubscribe(key, junk), None, "{junk}");
        }
    }

    #[test]
    fn a_reminder_mail_names_the_task_links_to_it_and_can_be_unsubscribed() {
        let task = RemindedTask {
            id: TaskId::new(42),
            title: "Water <the> plants".into(),
            due_at: Some(utc("2026-12-07T08:30:00Z")),
            due_date: None,
        };
        let paris: Tz = "Europe/Paris".parse().expect("zone");
        let unsubscribe = "https://t.example/unsubscribe?token=abc.def";
        let mail = reminder_mail(
            "https://t.example/",
            "ada@example.com",
            &task,
            paris,
            unsubscribe,
        );
        assert_eq!(mail.to, "ada@example.com");
        assert_eq!(mail.subject, "Reminder: Water <the> plants");
        assert!(
            mail.text.contains("https://t.example/tasks/42/edit"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("Due Mon 7 Dec 2026, 09:30."),
            "{}",
            mail.text
        );
        assert!(mail.text.contains(unsubscribe));
        assert!(
            mail.html
                .contains("href=\"https://t.example/tasks/42/edit\"")
        );
        assert!(
            mail.html.contains("Water &lt;the&gt; plants"),
            "{}",
            mail.html
        );
        assert!(mail.html.contains(&format!("href=\"{unsubscribe}\"")));
        assert!(
            mail.html.trim_end().ends_with("</body></html>"),
            "{}",
            mail.html
        );
        assert_eq!(mail.unsubscribe.as_deref(), Some(unsubscribe));
    }

    fn task(id: i64, title: &str, due_date: Option<NaiveDate>) -> Task {
        let at = utc("2026-12-01T00:00:00Z");
        Task {
            id: TaskId::new(id),
            user_id: "u1".into(),
            project_id: crate::ids::ProjectId::new(1),
            section_id: None,
            parent_id: None,
            title: title.into(),
            description: None,
            completed: false,
            completed_at: None,
            priority: crate::task::Priority::None,
            due_at: None,
            due_local: None,
            due_timezone: None,
            due_date,
            recurrence: None,
            recurrence_mode: crate::recurrence::RecurrenceMode::default(),
            position: 0,
            assignee_id: None,
            tags: Vec::new(),
            reminders: Vec::new(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_digest_counts_lists_links_and_says_how_many_more() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7);
        let yesterday = NaiveDate::from_ymd_opt(2026, 12, 6);
        let digest = Digest {
            tasks: vec![task(1, "Late", yesterday), task(2, "Now", today)],
            total: 3,
            overdue: 1,
        };
        let at = utc("2026-12-07T08:00:00Z");
        let unsubscribe = "https://t.example/unsubscribe?token=x.y";
        let mail = digest_mail(
            "https://t.example",
            "ada@example.com",
            &digest,
            Tz::UTC,
            at,
            unsubscribe,
        );
        assert_eq!(mail.subject, "Today: 3 tasks, 1 overdue");
        assert!(
            mail.text.contains("Monday 7 December 2026"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("- Late (overdue, due Sun 6 Dec 2026)"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("https://t.example/tasks/1/edit"));
        assert!(
            mail.text
                .contains("- Now\n  https://t.example/tasks/2/edit")
        );
        assert!(mail.text.contains("and 1 more"));
        assert!(mail.text.contains("https://t.example/?view=today"));
        assert!(
            mail.html
                .contains("href=\"https://t.example/tasks/2/edit\"")
        );
        assert_eq!(mail.unsubscribe.as_deref(), Some(unsubscribe));
        let one = Digest {
            tasks: vec![task(2, "Now", today)],
            total: 1,
            overdue: 0,
        };
        assert_eq!(one.subject(), "Today: 1 task");
        assert!(!one.is_empty());
    }
}
