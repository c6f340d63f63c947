//! Time as the system keeps it: UTC, microsecond precision (what PostgreSQL stores), so a
//! value read back from either database equals the value written.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Serialize, Serializer};

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

/// A moment in JSON exactly as chrono's `Serialize` writes it (RFC 3339 with `Z` and as many
/// fraction digits as the value needs), for `#[serde(serialize_with = "...")]` on hot types.
/// chrono hands serde_json a `Display` that writes one character at a time, and serde_json
/// escapes each character in a call of its own (docs/benchmarks.md).
/// Written as one string, it is escaped once.
pub fn serialize_json<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// [`serialize_json`] for an optional moment (`null` when absent).
pub fn serialize_json_option<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    struct Moment<'a>(&'a DateTime<Utc>);
    impl Serialize for Moment<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize_json(self.0, serializer)
        }
    }
    at.as_ref().map(Moment).serialize(serializer)
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
    fn json_moments_are_written_as_chrono_writes_them() {
        #[derive(Serialize)]
        struct Ours {
            #[serde(serialize_with = "serialize_json")]
            at: DateTime<Utc>,
            #[serde(serialize_with = "serialize_json_option")]
            maybe: Option<DateTime<Utc>>,
        }
        #[derive(Serialize)]
        struct Chronos {
            at: DateTime<Utc>,
            maybe: Option<DateTime<Utc>>,
        }
        let base = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("valid");
        let moments = [
            base,
            base + chrono::Duration::milliseconds(120),
            base + chrono::Duration::microseconds(121_332),
            base + chrono::Duration::nanoseconds(5),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59)
                .single()
                .expect("valid"),
            Utc.with_ymd_and_hms(12_345, 6, 7, 8, 9, 10)
                .single()
                .expect("valid"),
        ];
        for at in moments {
            for maybe in [None, Some(at)] {
                let ours = serde_json::to_string(&Ours { at, maybe }).expect("serializes");
                let chronos = serde_json::to_string(&Chronos { at, maybe }).expect("serializes");
                assert_eq!(ours, chronos);
            }
        }
        let text = serde_json::to_string(&Ours {
            at: base,
            maybe: None,
        })
        .expect("serializes");
        assert_eq!(text, r#"{"at":"2026-01-02T03:04:05Z","maybe":null}"#);
    }

    #[test]
    fn now_has_no_more_than_microsecond_precision() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
