//! Accounts: the user record and the rules for its fields.

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::ids::UserId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    /// Absent for an external user whose token carried no (or an already taken) email.
    pub email: Option<String>,
    /// Whether the account proved it receives mail at `email` (a confirmation link or a
    /// password reset; docs/email.md). Accepting an invitation needs it when the server sends
    /// mail.
    pub email_verified: bool,
    pub name: Option<String>,
    /// IANA time zone used for dates such as "tomorrow".
    pub timezone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An email address, trimmed and lower-cased: addresses are unique regardless of case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let Some((local, domain)) = email.split_once('@') else {
            return Err("must be an email address such as ada@example.com".into());
        };
        let well_formed = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err("must be an email address such as ada@example.com".into());
        }
        if email.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Checks a new password's length (counted in characters, not bytes).
pub fn check_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(format!("must be at least {PASSWORD_MIN_CHARS} characters"));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(format!("must be at most {PASSWORD_MAX_CHARS} characters"));
    }
    Ok(())
}

/// A display name: trimmed, at most 100 characters; empty means none.
pub fn parse_name(raw: &str) -> Result<Option<String>, String> {
    let name = raw.trim();
    if name.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

/// An IANA time zone name such as `Europe/Paris`.
pub fn parse_timezone(raw: &str) -> Result<String, String> {
    raw.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| format!("unknown time zone {raw:?}: use an IANA name such as Europe/Paris"))
}

/// The IANA zone a person means by what they typed in a zone picker: the name itself in any
/// case ("europe/paris"), or a city, the name's last part, with spaces for underscores
/// ("Paris", "new york"). When a city names more than one zone (an old alias beside the
/// current name), the longer, more specific name wins ("Buenos Aires" →
/// America/Argentina/Buenos_Aires). None when nothing matches.
pub fn find_timezone(raw: &str) -> Option<&'static str> {
    let typed = raw.trim();
    if typed.is_empty() {
        return None;
    }
    if let Some(tz) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(typed))
    {
        return Some(tz.name());
    }
    let city = typed.replace(' ', "_").to_lowercase();
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| {
            name.rsplit('/')
                .next()
                .is_some_and(|last| last.to_lowercase() == city)
        })
        .max_by_key(|name| (name.matches('/').count(), name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_is_found_by_its_name_in_any_case_or_by_its_city() {
        assert_eq!(find_timezone("Europe/Paris"), Some("Europe/Paris"));
        assert_eq!(find_timezone(" europe/paris "), Some("Europe/Paris"));
        assert_eq!(find_timezone("Paris"), Some("Europe/Paris"));
        assert_eq!(find_timezone("new york"), Some("America/New_York"));
        assert_eq!(
            find_timezone("Buenos Aires"),
            Some("America/Argentina/Buenos_Aires")
        );
        assert_eq!(find_timezone("UTC"), Some("UTC"));
        assert_eq!(find_timezone("Atlantis"), None);
        assert_eq!(find_timezone("Europe/Atlantis"), None);
        assert_eq!(find_timezone(""), None);
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ada@example.com");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "ada@.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn passwords_are_measured_in_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password("éééééééé").is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn blank_names_mean_none() {
        assert_eq!(parse_name("   "), Ok(None));
        assert_eq!(parse_name(" Ada "), Ok(Some("Ada".into())));
        assert!(parse_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn time_zones_must_be_iana_names() {
        assert_eq!(parse_timezone("Europe/Paris"), Ok("Europe/Paris".into()));
        assert!(parse_timezone("Mars/Olympus").is_err());
    }
}
