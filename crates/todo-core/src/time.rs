//! Time as the system keeps it: UTC, microsecond precision (what PostgreSQL stores), so a
//! value read back from either database equals the value written.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A moment cut to the precision the databases keep.
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Fixed-width RFC 3339 text, which sorts in time order as plain text (SQLite stores this).
pub fn to_sortable_text(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sortable_text_has_a_fixed_width_and_sorts_like_time() {
        let early = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("valid");
        let later = early + chrono::Duration::microseconds(1);
        let (a, b) = (to_sortable_text(&early), to_sortable_text(&later));
        assert_eq!(a, "2026-01-02T03:04:05.000000Z");
        assert_eq!(a.len(), b.len());
        assert!(a < b);
    }

    #[test]
    fn now_has_no_more_than_microsecond_precision() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
