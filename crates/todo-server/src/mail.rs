//! The SMTP adapter of [`todo_core::mail::Mailer`], through lettre (rustls on aws-lc-rs, the
//! platform's certificate verifier). See docs/email.md.
//!
//! `SMTP_URL`: `smtp://user:pass@host:587` upgrades with STARTTLS when the server offers it,
//! `smtp://…?tls=required` insists on it, `smtps://user:pass@host:465` is TLS from the first
//! byte. `MAIL_FROM` is the sender (`Todo <todo@example.com>`).

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use todo_core::mail::{Mail, Mailer};

/// The longest an SMTP exchange may take before the send fails (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Fails on a URL or sender that cannot work; never says the URL's password.
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, String> {
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e| format!("MAIL_FROM is not an email address: {e}"))?;
        let url = with_default_tls(smtp_url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self { transport, from })
    }
}

/// `smtp://` without `tls=` upgrades with STARTTLS when offered (lettre alone would never).
fn with_default_tls(smtp_url: &str) -> Result<String, String> {
    let mut url = url::Url::parse(smtp_url.trim())
        .map_err(|_| "SMTP_URL is not a URL (smtp://user:pass@host:587 or smtps://…)".to_owned())?;
    match url.scheme() {
        "smtps" => {}
        "smtp" => {
            if !url.query_pairs().any(|(k, _)| k == "tls") {
                url.query_pairs_mut().append_pair("tls", "opportunistic");
            }
        }
        other => {
            return Err(format!(
                "SMTP_URL: unknown scheme {other:?}: use smtp or smtps"
            ));
        }
    }
    Ok(url.to_string())
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("the recipient is not an email address: {e}"))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone());
        if let Some(url) = &mail.unsubscribe {
            builder = unsubscribe_headers(builder, url)?;
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| describe(&e))
    }
}

/// `List-Unsubscribe: <url>` (RFC 2369) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
/// (RFC 8058): a mail program offers "Unsubscribe" and POSTs to the URL itself. The URL is
/// ours (`PUBLIC_URL` and a base64url token), so it is plain ASCII without spaces or `>`.
fn unsubscribe_headers(
    builder: lettre::message::MessageBuilder,
    url: &str,
) -> Result<lettre::message::MessageBuilder, String> {
    if !url.is_ascii()
        || url
            .chars()
            .any(|c| c.is_whitespace() || c == '>' || c == '<')
    {
        return Err("the unsubscribe URL is not plain ASCII".into());
    }
    Ok(builder
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{url}>"),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        )))
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_upgrades_when_offered_unless_told_otherwise() {
        assert_eq!(
            with_default_tls("smtp://u:p@mail.example:587").as_deref(),
            Ok("smtp://u:p@mail.example:587?tls=opportunistic")
        );
        assert_eq!(
            with_default_tls("smtp://mail.example:587?tls=required").as_deref(),
            Ok("smtp://mail.example:587?tls=required")
        );
        assert_eq!(
            with_default_tls("smtps://mail.example").as_deref(),
            Ok("smtps://mail.example")
        );
        assert!(with_default_tls("http://mail.example").is_err());
        assert!(SmtpMailer::new("smtp://mail.example", "not an address").is_err());
    }

    #[test]
    fn a_message_with_an_unsubscribe_link_carries_both_headers() {
        let builder = Message::builder()
            .from("todo@example.com".parse().expect("from"))
            .to("ada@example.com".parse().expect("to"))
            .subject("Reminder");
        let url = "https://t.example/unsubscribe?token=abc.def";
        let message = unsubscribe_headers(builder, url)
            .expect("headers")
            .body(String::from("hi"))
            .expect("message");
        let raw = String::from_utf8(message.formatted()).expect("ascii");
        assert!(
            raw.contains(&format!("List-Unsubscribe: <{url}>\r\n")),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{raw}"
        );
        let builder = Message::builder();
        assert!(unsubscribe_headers(builder, "https://t.example/a b").is_err());
    }
}
