//! Tasks: the record, its fields' rules, and the validated forms of create and update.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::patch::Patch;
use crate::user::UserId;
use crate::validation::Validator;

pub type TaskId = i64;

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    /// Stored as a small integer so that sorting by priority is sorting by number.
    pub fn rank(self) -> i16 {
        self as i16
    }

    pub fn from_rank(rank: i16) -> Self {
        match rank {
            1 => Priority::Low,
            2 => Priority::Medium,
            3 => Priority::High,
            4 => Priority::Urgent,
            _ => Priority::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub user_id: UserId,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    /// A moment, for tasks due at a time.
    pub due_at: Option<DateTime<Utc>>,
    /// A calendar day, for all-day tasks. At most one of `due_at` and `due_date` is set.
    pub due_date: Option<NaiveDate>,
    /// RFC 5545 RRULE of a recurring task.
    pub recurrence: Option<String>,
    /// The first task of the series this one recurs from.
    pub parent_id: Option<TaskId>,
    /// Manual order within the user's list.
    pub position: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// When a task is due: not at all, at a moment, or on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    None,
    At(DateTime<Utc>),
    Date(NaiveDate),
}

impl Due {
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Due::At(at) => Some(*at),
            _ => None,
        }
    }

    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Due::Date(date) => Some(*date),
            _ => None,
        }
    }
}

/// The body of a create (`POST`) or full replace (`PUT`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TaskInput {
    /// 1–200 characters after trimming.
    pub title: String,
    /// At most 10 000 characters.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// RFC 3339 timestamp with an offset, e.g. `2026-12-01T17:00:00+01:00`.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// All-day due date, e.g. `2026-12-01`.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// Only on replace; absent keeps the current state.
    #[serde(default)]
    pub completed: Option<bool>,
}

/// The body of a partial update (`PATCH`): absent fields are kept, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TaskPatchInput {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<Priority>)]
    pub priority: Patch<Priority>,
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_at: Patch<DateTime<Utc>>,
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Patch<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub completed: Patch<bool>,
}

/// A validated new task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub due: Due,
    pub completed: bool,
}

/// A validated change: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub priority: Option<Priority>,
    pub due: Option<Due>,
    pub completed: Option<bool>,
}

pub fn parse_title(raw: &str) -> Result<String, String> {
    let title = raw.trim();
    let chars = title.chars().count();
    if chars == 0 {
        return Err("must not be empty".into());
    }
    if chars > TITLE_MAX_CHARS {
        return Err(format!(
            "must be at most {TITLE_MAX_CHARS} characters (got {chars})"
        ));
    }
    Ok(title.to_owned())
}

/// An empty description is no description.
pub fn parse_description(raw: &str) -> Result<Option<String>, String> {
    let chars = raw.chars().count();
    if chars > DESCRIPTION_MAX_CHARS {
        return Err(format!(
            "must be at most {DESCRIPTION_MAX_CHARS} characters (got {chars})"
        ));
    }
    Ok((!raw.trim().is_empty()).then(|| raw.to_owned()))
}

fn due_from(v: &mut Validator, at: Option<DateTime<Utc>>, date: Option<NaiveDate>) -> Due {
    match (at, date) {
        (Some(_), Some(_)) => {
            v.fail("due_date", "give either due_at or due_date, not both");
            Due::None
        }
        (Some(at), None) => Due::At(at),
        (None, Some(date)) => Due::Date(date),
        (None, None) => Due::None,
    }
}

impl TaskInput {
    pub fn validate(self) -> Result<NewTask> {
        let mut v = Validator::new();
        let title = v.check("title", parse_title(&self.title));
        let description = match &self.description {
            Some(d) => v.check("description", parse_description(d)).flatten(),
            None => None,
        };
        let due = due_from(&mut v, self.due_at, self.due_date);
        v.finish()?;
        Ok(NewTask {
            title: title.unwrap_or_default(),
            description,
            priority: self.priority.unwrap_or_default(),
            due,
            completed: self.completed.unwrap_or(false),
        })
    }

    /// A full replace: every field given or emptied, except completion when absent.
    pub fn validate_as_replacement(self) -> Result<TaskChanges> {
        let completed = self.completed;
        let new = self.validate()?;
        Ok(TaskChanges {
            title: Some(new.title),
            description: Some(new.description),
            priority: Some(new.priority),
            due: Some(new.due),
            completed,
        })
    }
}

impl TaskPatchInput {
    pub fn validate(self) -> Result<TaskChanges> {
        let mut v = Validator::new();
        let title = match &self.title {
            Patch::Missing => None,
            Patch::Null => {
                v.fail("title", "must not be null");
                None
            }
            Patch::Value(t) => v.check("title", parse_title(t)),
        };
        let description = match &self.description {
            Patch::Missing => None,
            Patch::Null => Some(None),
            Patch::Value(d) => v.check("description", parse_description(d)),
        };
        let priority = match self.priority {
            Patch::Missing => None,
            Patch::Null => Some(Priority::None),
            Patch::Value(p) => Some(p),
        };
        let completed = match self.completed {
            Patch::Missing => None,
            Patch::Null => {
                v.fail("completed", "must be true or false");
                None
            }
            Patch::Value(c) => Some(c),
        };
        // Setting one kind of due replaces the other; clearing either clears the due.
        let due = match (self.due_at, self.due_date) {
            (Patch::Missing, Patch::Missing) => None,
            (Patch::Value(_), Patch::Value(_)) => {
                v.fail("due_date", "give either due_at or due_date, not both");
                None
            }
            (Patch::Value(at), _) => Some(Due::At(at)),
            (_, Patch::Value(date)) => Some(Due::Date(date)),
            _ => Some(Due::None),
        };
        v.finish()?;
        Ok(TaskChanges {
            title,
            description,
            priority,
            due,
            completed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn field_errors(err: Error) -> Vec<String> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(parse_title("  Buy milk "), Ok("Buy milk".into()));
        assert!(parse_title("   ").is_err());
        assert!(parse_title(&"é".repeat(200)).is_ok());
        assert!(parse_title(&"é".repeat(201)).is_err());
    }

    #[test]
    fn descriptions_are_bounded_and_blank_means_none() {
        assert_eq!(parse_description(" "), Ok(None));
        assert!(parse_description(&"x".repeat(10_000)).is_ok());
        assert!(parse_description(&"x".repeat(10_001)).is_err());
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let input = TaskInput {
            title: " ".into(),
            description: Some("x".repeat(10_001)),
            due_at: Some(Utc::now()),
            due_date: NaiveDate::from_ymd_opt(2026, 1, 1),
            ..TaskInput::default()
        };
        let fields = field_errors(input.validate().expect_err("invalid"));
        assert_eq!(fields, ["title", "description", "due_date"]);
    }

    #[test]
    fn a_patch_keeps_absent_fields_and_clears_null_ones() {
        let patch: TaskPatchInput =
            serde_json::from_str(r#"{"description":null,"due_at":null}"#).expect("json");
        let changes = patch.validate().expect("valid");
        assert_eq!(changes.title, None);
        assert_eq!(changes.description, Some(None));
        assert_eq!(changes.due, Some(Due::None));
        assert_eq!(changes.priority, None);
    }

    #[test]
    fn a_patch_cannot_null_the_title() {
        let patch: TaskPatchInput = serde_json::from_str(r#"{"title":null}"#).expect("json");
        assert_eq!(
            field_errors(patch.validate().expect_err("invalid")),
            ["title"]
        );
    }

    #[test]
    fn priority_ranks_follow_urgency() {
        for p in [
            Priority::None,
            Priority::Low,
            Priority::Medium,
            Priority::High,
            Priority::Urgent,
        ] {
            assert_eq!(Priority::from_rank(p.rank()), p);
        }
        assert!(Priority::Urgent.rank() > Priority::High.rank());
    }
}
