//! Collects every broken rule of one input so the caller hears about all of them at once.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, FieldError};

#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value when `result` is Ok; records the message against `field` otherwise.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}

/// Text both databases can store: PostgreSQL `text` cannot hold NUL (SQLite can, so without
/// this rule the two would disagree). Every free text that is stored goes through here.
pub fn storable_text(raw: &str) -> Result<(), String> {
    if raw.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    Ok(())
}

/// The first and last days both databases store and order alike (SQLite keeps fixed-width
/// text; four-digit years).
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1, 1, 1) {
    Some(day) => day,
    None => panic!("0001-01-01 is a date"),
};
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(day) => day,
    None => panic!("9999-12-31 is a date"),
};

/// A day within years 1–9999.
pub fn storable_date(date: NaiveDate) -> Result<NaiveDate, String> {
    if (FIRST_DAY..=LAST_DAY).contains(&date) {
        Ok(date)
    } else {
        Err("must be between 0001-01-01 and 9999-12-31".into())
    }
}

/// A moment within years 1–9999 (UTC).
pub fn storable_moment(at: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    storable_date(at.date_naive())
        .map(|_| at)
        .map_err(|_| "must be between 0001-01-01 and 9999-12-31 (UTC)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_and_everything_else_kept() {
        assert!(storable_text("a\0b").is_err());
        assert!(storable_text("\0").is_err());
        assert!(storable_text("tabs\tnewlines\n, quotes ' \" and 日本語").is_ok());
    }

    #[test]
    fn days_and_moments_stay_within_four_digit_years() {
        assert_eq!(storable_date(LAST_DAY), Ok(LAST_DAY));
        assert_eq!(storable_date(FIRST_DAY), Ok(FIRST_DAY));
        let after = LAST_DAY.succ_opt().expect("year 10000 exists in chrono");
        assert!(storable_date(after).is_err());
        let before = FIRST_DAY.pred_opt().expect("year 0 exists in chrono");
        assert!(storable_date(before).is_err());
        let last = LAST_DAY.and_hms_opt(23, 59, 59).expect("time").and_utc();
        assert!(storable_moment(last).is_ok());
        assert!(storable_moment(last + chrono::Duration::seconds(1)).is_err());
    }
}
