//! Email: the messages the server sends (composed here, with plain-text and HTML parts and
//! `PUBLIC_URL` links), the port an SMTP adapter implements ([`Mailer`]), and password resets
//! by email. See docs/email.md.
//!
//! - Nothing is sent without a mailer (`SMTP_URL`) and a public URL (`PUBLIC_URL`, for the
//!   links): [`Todo::sends_mail`] says which.
//! - A message is never sent from a request: it is queued as an `email` job (its composed form
//!   in the job's payload) and sent by the job worker, retried with backoff, once across
//!   replicas (see [`crate::jobs`]).
//! - A password reset token is 256 random bits; only its SHA-256 is stored. It is good for
//!   [`RESET_TTL`], once; using it ends every session of the account, and proves the
//!   address (the link reached it).
//! - Confirming the address: at sign-up (and on asking again) the account's address gets a
//!   link `PUBLIC_URL/verify-email?token=…`, a token made and stored as a reset's, in a table
//!   of its own (neither token works for the other), good for [`VERIFY_TTL`], once, for the
//!   address it was sent to. Accepting an invitation needs it while mail is sent
//!   ([`crate::sharing::check_may_accept`]).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::Todo;
use crate::api_key::{hash_secret, random_secret};
use crate::error::{Error, Result};
use crate::jobs::Job;
use crate::notify::{Unsubscribe, with_unsubscribe};
use crate::password;
use crate::sharing::Invitation;
use crate::time::now;
use crate::user::{Email, UserId, check_password};

/// How long a password reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);

/// How long an email confirmation link works.
pub const VERIFY_TTL: Duration = Duration::days(7);
/// How many confirmation links one account may be sent in an hour (sign-up's included): an
/// account made with someone else's address must not be a way to flood their inbox.
pub const VERIFY_LINKS_PER_HOUR: u32 = 3;
/// The longest token a confirmation request may carry (ours are 43 characters).
pub const TOKEN_MAX_CHARS: usize = 128;

/// A composed message, as queued and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe link (`List-Unsubscribe`, RFC 8058), when the message has
    /// one. Absent in payloads queued before it existed.
    #[serde(default)]
    pub unsubscribe: Option<String>,
}

/// Sends one message (the SMTP adapter in the server). An error is retried by the job worker.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> std::result::Result<(), String>;
}

#[async_trait]
pub trait MailStore {
    /// Queues an `email` job for `user_id` (whose deletion drops it) carrying `payload`, due
    /// at `now`, and wakes the workers.
    async fn enqueue_mail(&self, user_id: &UserId, payload: &str, now: DateTime<Utc>)
    -> Result<()>;
    /// The payload of an `email` job; `None` when there is none.
    async fn mail_payload(&self, job_id: i64) -> Result<Option<String>>;
    async fn insert_password_reset(
        &self,
        token_hash: &str,
        user_id: &UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Marks the reset used, if it exists, is unused and has not expired at `now`; its user.
    async fn use_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>>;
    /// Stores a confirmation token for `email`, unless the user was given `per_hour` in the
    /// hour before `now`; whether it was stored.
    async fn insert_email_verification(
        &self,
        token_hash: &str,
        user_id: &UserId,
        email: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        per_hour: u32,
    ) -> Result<bool>;
    /// Marks the confirmation used, if it exists, is unused and has not expired at `now`, and
    /// (in the same transaction) marks its user's address confirmed when it is still the
    /// address the link was sent to; that user.
    async fn use_email_verification(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>>;
    /// Marks the user's address confirmed at `now` (kept when it already is).
    async fn mark_email_verified(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<()>;
}

/// Text made safe to put in HTML.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A message with one call to action: paragraphs, a link, and a closing line, in both parts.
pub(crate) fn compose(
    to: &str,
    subject: String,
    paragraphs: &[String],
    link: &str,
    after: &str,
) -> Mail {
    let mut text = String::new();
    let mut html =
        String::from("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n");
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    text.push_str(link);
    text.push_str("\n\n");
    text.push_str(after);
    text.push('\n');
    html.push_str(&format!(
        "<p><a href=\"{0}\">{0}</a></p>\n<p>{1}</p>\n</body></html>\n",
        escape(link),
        escape(after)
    ));
    Mail {
        to: to.to_owned(),
        subject,
        text,
        html,
        unsubscribe: None,
    }
}

/// The password reset message with its link, `PUBLIC_URL/reset?token=…`.
pub fn reset_mail(public_url: &str, to: &str, token: &str) -> Mail {
    let link = format!("{}/reset?token={token}", public_url.trim_end_matches('/'));
    compose(
        to,
        "Reset your password".into(),
        &[
            "Someone (we hope you) asked to reset the password of your account.".into(),
            "Open this link within an hour to choose a new one; it works once:".into(),
        ],
        &link,
        "If you did not ask for this, ignore this message: your password stays as it is.",
    )
}

/// The message asking to confirm an address, with its link `PUBLIC_URL/verify-email?token=…`.
pub fn verification_mail(public_url: &str, to: &str, token: &str) -> Mail {
    let link = format!(
        "{}/verify-email?token={token}",
        public_url.trim_end_matches('/')
    );
    compose(
        to,
        "Confirm your email address".into(),
        &[
            "Confirm that this address is yours: projects shared with it can then be accepted."
                .into(),
            "Open this link within 7 days and press Confirm; it works once:".into(),
        ],
        &link,
        "If you did not sign up, ignore this message: nothing is confirmed without the link.",
    )
}

/// What asking for a new confirmation link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationSent {
    /// A link is on its way.
    Sent,
    /// The address is confirmed already: nothing to send.
    AlreadyVerified,
}

/// The message telling `invitation.email` they were invited: to the invitations page, or to
/// sign up when the address has no account yet.
pub fn invitation_mail(public_url: &str, invitation: &Invitation, has_account: bool) -> Mail {
    let base = public_url.trim_end_matches('/');
    let who = invitation
        .invited_by_name
        .clone()
        .or_else(|| invitation.invited_by_email.clone())
        .unwrap_or_else(|| "Someone".into());
    let (link, step) = if has_account {
        (
            format!("{base}/invitations"),
            "Accept or decline it on your invitations page:",
        )
    } else {
        (
            format!("{base}/signup"),
            "Sign up with this email address to accept or decline it:",
        )
    };
    compose(
        &invitation.email,
        format!("{who} invited you to \"{}\"", invitation.project_name),
        &[
            format!(
                "{who} invited you to the project \"{}\" as {}.",
                invitation.project_name,
                invitation.role.as_str()
            ),
            step.into(),
        ],
        &link,
        "If you do not know them, ignore this message.",
    )
}

impl Todo {
    /// Sends email through `mailer` (`SMTP_URL`).
    pub fn with_mailer(mut self, mailer: Option<Arc<dyn Mailer>>) -> Self {
        self.mailer = mailer;
        self
    }

    pub fn mailer(&self) -> Option<&Arc<dyn Mailer>> {
        self.mailer.as_ref()
    }

    /// Whether email is sent: a mailer and a public URL for the links.
    pub fn sends_mail(&self) -> bool {
        self.mailer.is_some() && self.public_url.is_some()
    }

    async fn queue_mail(&self, user_id: &UserId, mail: &Mail) -> Result<()> {
        let payload = serde_json::to_string(mail).map_err(|e| Error::internal(e.to_string()))?;
        self.store.enqueue_mail(user_id, &payload, now()).await
    }

    /// Queues a reset link for the account with this email, if there is one with a password
    /// and email is sent. Says nothing either way (no account enumeration).
    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        let (Ok(email), Some(public_url)) = (Email::parse(email), self.public_url()) else {
            return Ok(());
        };
        if !self.sends_mail() {
            return Ok(());
        }
        let Some((user, Some(_))) = self.store.user_with_password(email.as_str()).await? else {
            return Ok(());
        };
        let token = random_secret("");
        let at = now();
        self.store
            .insert_password_reset(&hash_secret(&token), &user.id, at, at + RESET_TTL)
            .await?;
        let mail = reset_mail(public_url, email.as_str(), &token);
        self.queue_mail(&user.id, &mail).await
    }

    /// Queues a confirmation link for the user's address (a new token each time; older links
    /// keep working until they expire or one is used). 409 when it is confirmed already,
    /// there is no way to confirm it (no mail sent, no address), or the account was sent
    /// [`VERIFY_LINKS_PER_HOUR`] links in the last hour.
    pub async fn send_email_verification(&self, user_id: &UserId) -> Result<VerificationSent> {
        let user = self.me(user_id).await?;
        if user.email_verified {
            return Ok(VerificationSent::AlreadyVerified);
        }
        let Some(public_url) = self.public_url().filter(|_| self.sends_mail()) else {
            return Err(Error::Conflict(
                "this server sends no email (no SMTP_URL), so there is no address to confirm"
                    .into(),
            ));
        };
        let Some(email) = user.email.as_deref() else {
            return Err(Error::Conflict(
                "your account has no email address to confirm".into(),
            ));
        };
        let token = random_secret("");
        let at = now();
        let stored = self
            .store
            .insert_email_verification(
                &hash_secret(&token),
                &user.id,
                email,
                at,
                at + VERIFY_TTL,
                VERIFY_LINKS_PER_HOUR,
            )
            .await?;
        if !stored {
            return Err(Error::Conflict(format!(
                "{VERIFY_LINKS_PER_HOUR} confirmation links were sent to {email} in the last hour: \
                 look for them (in the spam folder too), or ask again later"
            )));
        }
        let mail = verification_mail(public_url, email, &token);
        self.queue_mail(&user.id, &mail).await?;
        Ok(VerificationSent::Sent)
    }

    /// Confirms the address a confirmation link was sent to (once, within [`VERIFY_TTL`]);
    /// the account it belongs to.
    pub async fn verify_email(&self, token: &str) -> Result<UserId> {
        const UNKNOWN: &str = "this confirmation link is unknown, was used already or has expired";
        let token = token.trim();
        if token.is_empty() || token.chars().count() > TOKEN_MAX_CHARS {
            return Err(Error::invalid("token", UNKNOWN));
        }
        self.store
            .use_email_verification(&hash_secret(token), now())
            .await?
            .ok_or_else(|| Error::invalid("token", UNKNOWN))
    }

    /// Sets a new password with a reset token (once, within the hour) and ends every session
    /// of the account. The link reached the account's address, so that address is confirmed.
    pub async fn confirm_password_reset(&self, token: &str, new_password: String) -> Result<()> {
        check_password(&new_password).map_err(|e| Error::invalid("new_password", e))?;
        let hash = password::hash(new_password).await?;
        let user_id = self
            .store
            .use_password_reset(&hash_secret(token.trim()), now())
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "token",
                    "this reset link is unknown, was used already or has expired",
                )
            })?;
        self.store.set_password(&user_id, &hash, now()).await?;
        self.store.mark_email_verified(&user_id, now()).await?;
        self.forget_sessions(&user_id, None).await
    }

    /// Queues the message telling an invited address about `invitation`, if email is sent
    /// and the address did not turn invitation emails off (its `List-Unsubscribe` link).
    pub async fn mail_invitation(&self, invitation: &Invitation) -> Result<()> {
        let Some(public_url) = self.public_url().filter(|_| self.sends_mail()) else {
            return Ok(());
        };
        if self.invitations_opted_out(&invitation.email).await? {
            return Ok(());
        }
        let has_account = self
            .store
            .user_with_password(&invitation.email)
            .await?
            .is_some();
        let mail = invitation_mail(public_url, invitation, has_account);
        let what = Unsubscribe::Invitations(invitation.email.clone());
        let mail = match self.unsubscribe_url(&what).await? {
            Some(url) => with_unsubscribe(mail, &url, "invitation emails to this address"),
            None => mail,
        };
        self.queue_mail(&invitation.invited_by, &mail).await
    }

    /// The message an `email` job is to send: its payload, or for a fired reminder's job (an
    /// event, no payload) the reminder composed now ([`Todo::reminder_mail`]); `None` (and the
    /// job is done) when it has none.
    pub async fn mail_of(&self, job: &Job) -> Result<Option<Mail>> {
        let mail = match self.store.mail_payload(job.id).await? {
            Some(payload) => serde_json::from_str(&payload).ok(),
            None if job.event_id.is_some() => self.reminder_mail(job).await?,
            None => None,
        };
        if mail.is_none() {
            self.store
                .finish_job(job.id, now(), Some("no message"))
                .await?;
        }
        Ok(mail)
    }

    /// Records a send's outcome: done, or failed (retried with backoff, up to `max_attempts`).
    pub async fn mail_sent(
        &self,
        job: &Job,
        outcome: std::result::Result<(), String>,
        max_attempts: i32,
    ) -> Result<()> {
        match outcome {
            Ok(()) => self.store.finish_job(job.id, now(), None).await,
            Err(error) => self.job_failed(job, &error, max_attempts).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Role;

    #[test]
    fn the_reset_mail_links_to_the_public_url_in_both_parts() {
        let mail = reset_mail("https://todo.example.com/", "ada@example.com", "tok_1");
        assert_eq!(mail.to, "ada@example.com");
        assert_eq!(mail.subject, "Reset your password");
        let link = "https://todo.example.com/reset?token=tok_1";
        assert!(mail.text.contains(link), "{}", mail.text);
        assert!(
            mail.html.contains(&format!("href=\"{link}\"")),
            "{}",
            mail.html
        );
        assert!(mail.text.contains("within an hour"));
    }

    #[test]
    fn the_verification_mail_links_to_the_confirm_page_in_both_parts() {
        let mail = verification_mail("https://todo.example.com/", "ada@example.com", "tok_2");
        assert_eq!(mail.to, "ada@example.com");
        assert_eq!(mail.subject, "Confirm your email address");
        let link = "https://todo.example.com/verify-email?token=tok_2";
        assert!(mail.text.contains(link), "{}", mail.text);
        assert!(mail.html.contains(&format!("href=\"{link}\"")));
        assert!(mail.text.contains("within 7 days"));
        assert_eq!(VERIFY_TTL, Duration::days(7), "the message says 7 days");
    }

    fn invitation(name: Option<&str>) -> Invitation {
        Invitation {
            id: crate::ids::InvitationId::new(1),
            project_id: crate::ids::ProjectId::new(2),
            project_name: "Garden <plans>".into(),
            email: "bob@example.com".into(),
            role: Role::Editor,
            invited_by: "u1".into(),
            invited_by_name: name.map(str::to_owned),
            invited_by_email: Some("ada@example.com".into()),
            created_at: now(),
        }
    }

    #[test]
    fn an_invitation_names_the_project_and_who_invited_and_escapes_html() {
        let mail = invitation_mail("https://t.example", &invitation(Some("Ada")), true);
        assert_eq!(mail.to, "bob@example.com");
        assert_eq!(mail.subject, "Ada invited you to \"Garden <plans>\"");
        assert!(mail.text.contains("https://t.example/invitations"));
        assert!(mail.text.contains("as editor"));
        assert!(mail.html.contains("Garden &lt;plans&gt;"));
        assert!(!mail.html.contains("<plans>"));
    }

    #[test]
    fn an_address_without_an_account_is_sent_to_sign_up() {
        let mail = invitation_mail("https://t.example", &invitation(None), false);
        assert!(mail.subject.starts_with("ada@example.com invited you"));
        assert!(mail.text.contains("https://t.example/signup"));
    }
}
