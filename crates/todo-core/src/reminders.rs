//! Reminders on tasks: an absolute moment, or a number of minutes before the task is due.
//! Relative reminders move with the due; each reminder fires once (see `docs/events.md`).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::task::{Due, start_of_day};

pub type ReminderId = i64;

/// Most reminders one task may carry.
pub const MAX_REMINDERS_PER_TASK: usize = 10;
/// Furthest a relative reminder may lie before the due: four weeks.
pub const MAX_MINUTES_BEFORE: i64 = 4 * 7 * 24 * 60;

#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema,
)]
pub struct Reminder {
    pub id: ReminderId,
    /// When it fires.
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub remind_at: DateTime<Utc>,
    /// Set for a reminder relative to the due; it moves when the due moves.
    pub minutes_before: Option<i64>,
    /// When it fired; null until then.
    #[serde(serialize_with = "crate::time::serialize_json_option")]
    pub sent_at: Option<DateTime<Utc>>,
}

/// One reminder as a client gives it: `minutes_before` (relative), or else `remind_at`.
/// A reminder as the API shows it is accepted too (an export imported back): its
/// `minutes_before` wins over the `remind_at` computed from it, other fields are ignored.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
pub struct ReminderInput {
    /// An absolute moment, RFC 3339 (`2026-12-01T08:30:00Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at: Option<DateTime<Utc>>,
    /// Minutes before the task is due (0 to 40 320); the task needs a due date or time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_before: Option<i64>,
}

impl From<&NewReminder> for ReminderInput {
    fn from(reminder: &NewReminder) -> Self {
        match *reminder {
            NewReminder::At(at) => ReminderInput {
                remind_at: Some(at),
                minutes_before: None,
            },
            NewReminder::Before(minutes) => ReminderInput {
                remind_at: None,
                minutes_before: Some(minutes),
            },
        }
    }
}

/// A validated reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewReminder {
    At(DateTime<Utc>),
    Before(i64),
}

impl NewReminder {
    /// When it fires, given the moment relative reminders count back from.
    pub fn moment(&self, anchor: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        match self {
            NewReminder::At(at) => Some(*at),
            NewReminder::Before(minutes) => anchor.map(|a| a - Duration::minutes(*minutes)),
        }
    }

    pub fn minutes_before(&self) -> Option<i64> {
        match self {
            NewReminder::At(_) => None,
            NewReminder::Before(m) => Some(*m),
        }
    }
}

/// What relative reminders count back from: the due time, or the start of an all-day task's
/// day in the owner's zone ("60 minutes before" an all-day task is 23:00 the evening before).
pub fn anchor(due: &Due, tz: Tz) -> Option<DateTime<Utc>> {
    match due {
        Due::None => None,
        Due::At(at) => Some(*at),
        Due::Date(date) => Some(start_of_day(*date, tz)),
    }
}

/// Validates a task's reminder list; `has_due` says whether relative ones have something to
/// count back from.
pub fn parse_reminders(list: &[ReminderInput], has_due: bool) -> Result<Vec<NewReminder>, String> {
    if list.len() > MAX_REMINDERS_PER_TASK {
        return Err(format!(
            "a task may have at most {MAX_REMINDERS_PER_TASK} reminders"
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let reminder = match (item.remind_at, item.minutes_before) {
            (Some(at), None) => {
                let at = crate::validation::storable_moment(at)
                    .map_err(|e| format!("reminder {i}: remind_at {e}"))?;
                NewReminder::At(crate::time::truncate(at))
            }
            (_, Some(m)) if (0..=MAX_MINUTES_BEFORE).contains(&m) => {
                if !has_due {
                    return Err(format!(
                        "reminder {i}: minutes_before needs the task to have a due date or time"
                    ));
                }
                NewReminder::Before(m)
            }
            (_, Some(_)) => {
                return Err(format!(
                    "reminder {i}: minutes_before must be 0 to {MAX_MINUTES_BEFORE}"
                ));
            }
            _ => {
                return Err(format!("reminder {i}: give remind_at or minutes_before"));
            }
        };
        if !out.contains(&reminder) {
            out.push(reminder);
        }
    }
    Ok(out)
}

/// A completed recurring task's reminders, carried to the next occurrence: relative ones as
/// they are, absolute ones moved by as much as the due moved (dropped without a due).
pub fn shifted(
    reminders: &[Reminder],
    old_anchor: Option<DateTime<Utc>>,
    new_anchor: Option<DateTime<Utc>>,
) -> Vec<NewReminder> {
    reminders
        .iter()
        .filter_map(|r| match r.minutes_before {
            Some(m) => Some(NewReminder::Before(m)),
            None => match (old_anchor, new_anchor) {
                (Some(old), Some(new)) => Some(NewReminder::At(r.remind_at + (new - old))),
                _ => None,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> Vec<ReminderInput> {
        serde_json::from_str(json).expect("json")
    }

    #[test]
    fn a_reminder_is_either_absolute_or_relative() {
        let ok = parse_reminders(
            &input(r#"[{"remind_at":"2026-12-01T08:00:00Z"},{"minutes_before":30}]"#),
            true,
        )
        .expect("valid");
        assert_eq!(ok.len(), 2);
        assert!(parse_reminders(&input(r#"[{}]"#), true).is_err());
        let exported = parse_reminders(
            &input(r#"[{"id":7,"remind_at":"2026-12-01T08:00:00Z","minutes_before":5,"sent_at":null}]"#),
            true,
        )
        .expect("an exported reminder reads back");
        assert_eq!(exported, [NewReminder::Before(5)]);
        assert!(parse_reminders(&input(r#"[{"minutes_before":-1}]"#), true).is_err());
        assert!(parse_reminders(&input(r#"[{"minutes_before":40321}]"#), true).is_err());
    }

    #[test]
    fn a_validated_reminder_given_back_as_input_reads_the_same() {
        let at = "2026-12-01T08:00:00Z".parse().expect("moment");
        let reminders = [NewReminder::At(at), NewReminder::Before(30)];
        let inputs: Vec<ReminderInput> = reminders.iter().map(ReminderInput::from).collect();
        assert_eq!(parse_reminders(&inputs, true), Ok(reminders.to_vec()));
    }

    #[test]
    fn a_relative_reminder_needs_a_due() {
        let err = parse_reminders(&input(r#"[{"minutes_before":30}]"#), false).expect_err("no due");
        assert!(err.contains("due"), "{err}");
    }

    #[test]
    fn at_most_ten_reminders_and_repeats_count_once() {
        let eleven = format!("[{}]", [r#"{"minutes_before":1}"#; 11].join(","));
        assert!(parse_reminders(&input(&eleven), true).is_err());
        let twice = parse_reminders(
            &input(r#"[{"minutes_before":5},{"minutes_before":5}]"#),
            true,
        )
        .expect("valid");
        assert_eq!(twice, [NewReminder::Before(5)]);
    }

    #[test]
    fn an_all_day_tasks_relative_reminder_counts_back_from_the_start_of_its_day() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 24).expect("date");
        let a = anchor(&Due::Date(date), chrono_tz::Europe::Berlin);
        let at = NewReminder::Before(60).moment(a).expect("moment");
        assert_eq!(at.to_rfc3339(), "2026-12-23T22:00:00+00:00");
    }
}
