//! Time as the system keeps it: UTC, microsecond precision (what PostgreSQL stores), so a
//! value read back from either database equals the value written.

use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;
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

/// A wall-clock time as `2026-12-07T09:30:00`: to the second, no offset.
pub const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// A wall-clock time as a client writes it: `2026-12-07T09:30` or `2026-12-07T09:30:00`, no
/// offset (a time with an offset is a moment: `due_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock(pub chrono::NaiveDateTime);

impl std::str::FromStr for WallClock {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        chrono::NaiveDateTime::parse_from_str(raw, LOCAL_FORMAT)
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
            .map(WallClock)
            .map_err(|_| {
                format!("{raw:?} is not a wall-clock time like 2026-12-07T09:30 (no offset)")
            })
    }
}

impl<'de> serde::Deserialize<'de> for WallClock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for WallClock {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WallClock".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A wall-clock time without offset, e.g. 2026-12-07T09:30",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$"
        })
    }
}

pub fn serialize_local_option<S: Serializer>(
    local: &Option<chrono::NaiveDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match local {
        Some(local) => serializer.collect_str(&local.format(LOCAL_FORMAT)),
        None => serializer.serialize_none(),
    }
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

/// The moment a wall-clock time in `tz` names — the one policy for every door (quick add,
/// recurrence, day boundaries, the web form): an ambiguous time (clocks going back) is the
/// earlier one; a time that does not exist (clocks going forward) moves forward by the gap,
/// so 02:30 on a spring-forward night becomes 03:30.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    if let Some(at) = tz.from_local_datetime(&local).earliest() {
        return at.with_timezone(&Utc);
    }
    // In a gap: read the time with the offset in force just before it.
    let before = local - Duration::hours(4);
    match tz.from_local_datetime(&before).earliest() {
        Some(b) => {
            use chrono::Offset;
            let offset = b.offset().fix();
            (local - Duration::seconds(i64::from(offset.local_minus_utc()))).and_utc()
        }
        None => local.and_utc(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn moment(tz: &str, text: &str) -> DateTime<Utc> {
        let tz: Tz = tz.parse().expect("zone");
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("local");
        local_to_utc(local, tz)
    }

    #[test]
    fn wall_clock_times_in_gaps_move_forward_by_the_gap_and_folds_take_the_earlier() {
        let utc = |text: &str| text.parse::<DateTime<Utc>>().expect("utc");
        // Paris springs forward at 02:00 (an hour): 02:30 is 03:30 CEST.
        assert_eq!(
            moment("Europe/Paris", "2026-03-29 02:30"),
            utc("2026-03-29T01:30:00Z")
        );
        // Lord Howe springs forward half an hour at 02:00: 02:15 is 02:45.
        assert_eq!(
            moment("Australia/Lord_Howe", "2026-10-04 02:15"),
            utc("2026-10-03T15:45:00Z")
        );
        // Paris falls back at 03:00: 02:30 happens twice; the first is taken.
        assert_eq!(
            moment("Europe/Paris", "2026-10-25 02:30"),
            utc("2026-10-25T00:30:00Z")
        );
        // A midnight that does not exist (Santiago springs forward at 00:00).
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).expect("date");
        assert_eq!(
            crate::task::start_of_day(day, "America/Santiago".parse().expect("zone")),
            utc("2026-09-06T04:00:00Z")
        );
    }

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
