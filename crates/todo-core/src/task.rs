//! Tasks: the record, its fields' rules, and the validated forms of create and update.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::patch::Patch;
use crate::placement::Destination;
use crate::project::{ProjectId, SectionId};
use crate::recurrence::{RecurrenceMode, parse_rule};
use crate::reminders::{NewReminder, Reminder, ReminderInput, anchor, parse_reminders};
use crate::tag::{TagName, parse_tag_list};
use crate::time::WallClock;
use crate::user::UserId;
use crate::validation::{Validator, storable_date, storable_moment, storable_text};

pub use crate::ids::TaskId;

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
    schemars::JsonSchema,
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

    /// The name used at every door (JSON, query strings, forms, tools).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::None => "none",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Priority {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        [
            Priority::None,
            Priority::Low,
            Priority::Medium,
            Priority::High,
            Priority::Urgent,
        ]
        .into_iter()
        .find(|p| p.as_str() == raw)
        .ok_or_else(|| format!("unknown priority {raw:?}: use none, low, medium, high or urgent"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Task {
    pub id: TaskId,
    /// Who created the task.
    pub user_id: UserId,
    pub project_id: ProjectId,
    /// A section of the task's project; a subtask is in its parent's section.
    pub section_id: Option<SectionId>,
    /// The task this one is a subtask of (same project).
    pub parent_id: Option<TaskId>,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    #[serde(serialize_with = "crate::time::serialize_json_option")]
    pub completed_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    /// The moment a timed due stands for now: `due_local` in `due_timezone`, or in the
    /// owner's zone when the due floats.
    #[serde(serialize_with = "crate::time::serialize_json_option")]
    pub due_at: Option<DateTime<Utc>>,
    /// A timed due as its wall-clock time, e.g. `2026-12-07T09:30:00`.
    #[serde(serialize_with = "crate::time::serialize_local_option")]
    #[schema(value_type = Option<String>, format = "date-time-local", example = "2026-12-07T09:30:00")]
    #[schemars(with = "Option<String>")]
    pub due_local: Option<NaiveDateTime>,
    /// The IANA zone a timed due is pinned to; `null`: it floats with the owner's zone (09:30
    /// stays 09:30 after a zone change).
    pub due_timezone: Option<String>,
    /// A calendar day, for all-day tasks. At most one of `due_at` and `due_date` is set.
    pub due_date: Option<NaiveDate>,
    /// RFC 5545 RRULE of a recurring task.
    pub recurrence: Option<String>,
    /// Whether the next occurrence counts from the due date or from the completion.
    pub recurrence_mode: RecurrenceMode,
    /// Manual order among its siblings (same project, section and parent).
    pub position: i64,
    /// The member the task is assigned to (one at most).
    pub assignee_id: Option<UserId>,
    /// Tag names, sorted without regard to case.
    pub tags: Vec<String>,
    /// In the order they fire.
    pub reminders: Vec<Reminder>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub updated_at: DateTime<Utc>,
}

impl Task {
    pub fn due(&self) -> Due {
        match (self.due_at, self.due_date) {
            (Some(at), _) => Due::At(at),
            (None, Some(date)) => Due::Date(date),
            (None, None) => Due::None,
        }
    }

    /// The zone a timed due is pinned to, if it is.
    pub fn due_zone(&self) -> Option<Tz> {
        self.due_timezone.as_deref().and_then(|z| z.parse().ok())
    }

    /// The due as stored, its key placed for an owner in `tz`.
    pub fn stored_due(&self, tz: Tz) -> DueChange {
        let due = self.due();
        DueChange {
            due,
            key: due.key(tz),
            local: self.due_local,
            zone: self.due_zone(),
        }
    }

    /// Open and due before today in `tz`: the one meaning of "overdue" (see
    /// [`crate::page::overdue_before`]), which the Overdue view lists and rows are marked by.
    pub fn is_overdue(&self, tz: Tz, now: DateTime<Utc>) -> bool {
        !self.completed
            && self
                .due_key(tz)
                .is_some_and(|key| key < crate::page::overdue_before(tz, now))
    }

    /// When the task falls due, for sorting and for due-range filters (see [`Due::key`]).
    pub fn due_key(&self, tz: Tz) -> Option<DateTime<Utc>> {
        match (self.due_at, self.due_date) {
            (Some(at), _) => Some(at),
            (None, Some(date)) => Some(end_of_day(date, tz)),
            (None, None) => None,
        }
    }
}

/// The last microsecond of `date` in `tz` (DST-safe: a missing midnight moves forward by the gap),
/// at the latest the end of 9999-12-31 UTC: both databases store moments of four-digit years.
pub fn end_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let last = crate::validation::LAST_DAY
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        + Duration::days(1)
        - Duration::microseconds(1);
    match date.succ_opt() {
        Some(next) => (start_of_day(next, tz) - Duration::microseconds(1)).min(last),
        None => last,
    }
}

/// The first moment of `date` in `tz` (a midnight that does not exist moves forward by the gap).
pub fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    crate::time::local_to_utc(date.and_time(chrono::NaiveTime::MIN), tz)
}

/// When a task is due: not at all, at a moment, or on a day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Due {
    #[default]
    None,
    At(DateTime<Utc>),
    Date(NaiveDate),
}

impl Due {
    /// The moment a task falls due: its time, or the end of its day in the user's time zone.
    pub fn key(&self, tz: Tz) -> Option<DateTime<Utc>> {
        match self {
            Due::None => None,
            Due::At(at) => Some(*at),
            Due::Date(date) => Some(end_of_day(*date, tz)),
        }
    }

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

/// A due as stored: what it is, its sort key ([`Due::key`] in the owner's zone), and for a
/// timed due its wall-clock time and the zone it is pinned to (`None`: it floats with the
/// owner's zone, so a zone change keeps 09:30 at 09:30 and moves the moment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueChange {
    pub due: Due,
    pub key: Option<DateTime<Utc>>,
    pub local: Option<NaiveDateTime>,
    pub zone: Option<Tz>,
}

impl DueChange {
    /// `due` for an owner in `tz`; a timed due is read on the clock of `zone` (pinned), else
    /// on the owner's (floating).
    pub fn new(due: Due, zone: Option<Tz>, tz: Tz) -> Self {
        let local = due.at().map(|at| {
            let local = at.with_timezone(&zone.unwrap_or(tz)).naive_local();
            local.with_nanosecond(0).unwrap_or(local)
        });
        Self {
            due,
            key: due.key(tz),
            local,
            zone: zone.filter(|_| local.is_some()),
        }
    }

    /// A wall-clock due: the moment it means on the clock of `zone`, else of `tz` (floating).
    pub fn local(local: NaiveDateTime, zone: Option<Tz>, tz: Tz) -> Self {
        let local = local.with_nanosecond(0).unwrap_or(local);
        let at = crate::time::local_to_utc(local, zone.unwrap_or(tz));
        Self {
            due: Due::At(at),
            key: Some(at),
            local: Some(local),
            zone,
        }
    }

    /// The same wall-clock due for an owner now in `tz` (after a zone change, or for a
    /// recurring task's next occurrence).
    pub fn replaced_in(self, tz: Tz) -> Self {
        match (self.local, self.zone) {
            (Some(local), None) => Self::local(local, None, tz),
            _ => Self {
                key: self.due.key(tz),
                ..self
            },
        }
    }
}

/// The body of a create (`POST`) or full replace (`PUT`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct TaskInput {
    /// 1–200 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub title: String,
    /// At most 10 000 characters.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\u0000]*$")]
    pub description: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// RFC 3339 timestamp with an offset, e.g. `2026-12-01T17:00:00+01:00`.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// All-day due date, e.g. `2026-12-01`.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// A wall-clock due, e.g. `2026-12-01T09:30` (instead of `due_at`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2026-12-01T09:30")]
    pub due_local: Option<WallClock>,
    /// An IANA zone that pins a timed due (`due_local` or `due_at`) to it; without it the
    /// time floats with the owner's zone.
    #[serde(default)]
    pub due_timezone: Option<String>,
    /// The project (default: the Inbox, or the parent's or section's project).
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    /// A section of the project.
    #[serde(default)]
    pub section_id: Option<SectionId>,
    /// Makes the task a subtask of this one (in its project and section).
    #[serde(default)]
    pub parent_id: Option<TaskId>,
    /// A member of the task's project to assign it to.
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// Tag names (created on the fly), e.g. `["home", "bills"]`.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// An RRULE such as `FREQ=WEEKLY;BYDAY=MO` (FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL).
    #[serde(default)]
    #[schema(max_length = 300)]
    pub recurrence: Option<String>,
    /// `due` (default: the next occurrence follows the schedule) or `completion` (it counts
    /// from the day the task is completed).
    #[serde(default)]
    pub recurrence_mode: Option<RecurrenceMode>,
    /// Up to 10, each `{"remind_at": "<RFC 3339>"}` or `{"minutes_before": 30}`.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub reminders: Option<Vec<ReminderInput>>,
    /// Done or not; when absent, a new task is not done and a replaced one keeps its state.
    #[serde(default)]
    pub completed: Option<bool>,
}

/// The body of a partial update (`PATCH`): absent fields are kept, `null` clears. It must
/// name at least one field: an update that changes nothing is a mistake at every door.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[schema(min_properties = 1)]
pub struct TaskPatchInput {
    /// 1–200 characters after trimming; not `null`.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub title: Patch<String>,
    /// At most 10 000 characters; `null` removes the notes.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\u0000]*$")]
    pub description: Patch<String>,
    /// `null` is `none`.
    #[serde(default)]
    #[schema(value_type = Option<Priority>)]
    pub priority: Patch<Priority>,
    /// A due moment, RFC 3339 with an offset; replaces a `due_date`; `null` removes the due.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_at: Patch<DateTime<Utc>>,
    /// An all-day due date (YYYY-MM-DD); replaces a `due_at`; `null` removes the due.
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Patch<NaiveDate>,
    /// A wall-clock due (`2026-12-01T09:30`); replaces the due; `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub due_local: Patch<WallClock>,
    /// Pins the timed due to an IANA zone; `null` lets it float with the owner's zone.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub due_timezone: Patch<String>,
    /// Replaces the task's tags; `null` or `[]` removes them all.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    /// An RRULE; `null` stops the task recurring.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub recurrence: Patch<String>,
    /// `due` or `completion`; `null` is `due`.
    #[serde(default)]
    #[schema(value_type = Option<RecurrenceMode>)]
    pub recurrence_mode: Patch<RecurrenceMode>,
    /// Replaces the task's reminders; `null` or `[]` removes them all.
    #[serde(default)]
    #[schema(value_type = Option<Vec<ReminderInput>>)]
    pub reminders: Patch<Vec<ReminderInput>>,
    /// Done or not done; not `null`.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub completed: Patch<bool>,
    /// A member of the task's project; `null` unassigns.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Patch<UserId>,
}

/// A validated new task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub due: Due,
    /// `due.key(tz)` in the owner's time zone, stored for sorting and filtering.
    pub due_key: Option<DateTime<Utc>>,
    /// A timed due's wall-clock time and pinned zone (see [`DueChange`]).
    pub due_local: Option<NaiveDateTime>,
    pub due_zone: Option<Tz>,
    pub tags: Vec<TagName>,
    /// Canonical RRULE text.
    pub recurrence: Option<String>,
    pub recurrence_mode: RecurrenceMode,
    pub completed: bool,
    /// Where an imported task came from; the store refuses a second task with the same key.
    pub import_key: Option<String>,
    pub reminders: Vec<NewReminder>,
    /// What relative reminders count back from ([`anchor`] of the due).
    pub reminder_anchor: Option<DateTime<Utc>>,
    /// Where it goes (nothing named: the Inbox).
    pub destination: Destination,
    /// Who it is assigned to: a member of its project (the store checks).
    pub assignee: Option<UserId>,
}

/// A validated change: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub priority: Option<Priority>,
    pub due: Option<DueChange>,
    pub tags: Option<Vec<TagName>>,
    pub recurrence: Option<Option<String>>,
    pub recurrence_mode: Option<RecurrenceMode>,
    pub completed: Option<bool>,
    /// Replaces every reminder of the task.
    pub reminders: Option<Vec<NewReminder>>,
    /// Set when the due or the reminders change: what relative reminders now count back from
    /// (`Some(None)`: the task has no due any more, relative reminders go).
    pub reminder_anchor: Option<Option<DateTime<Utc>>>,
    /// A new assignee (`Some(None)`: unassigned); a member of the task's project.
    pub assignee: Option<Option<UserId>>,
}

pub fn parse_title(raw: &str) -> Result<String, String> {
    storable_text(raw)?;
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
    storable_text(raw)?;
    let chars = raw.chars().count();
    if chars > DESCRIPTION_MAX_CHARS {
        return Err(format!(
            "must be at most {DESCRIPTION_MAX_CHARS} characters (got {chars})"
        ));
    }
    Ok((!raw.trim().is_empty()).then(|| raw.to_owned()))
}

/// An IANA zone name.
pub fn parse_zone(raw: &str) -> Result<Tz, String> {
    raw.parse::<Tz>()
        .map_err(|_| format!("unknown time zone {raw:?}: use an IANA name such as Europe/Paris"))
}

/// The due a write gives, of at most one kind, placed for an owner in `tz`.
fn due_from(
    v: &mut Validator,
    at: Option<DateTime<Utc>>,
    date: Option<NaiveDate>,
    local: Option<NaiveDateTime>,
    zone: Option<&str>,
    tz: Tz,
) -> DueChange {
    let zone = zone.and_then(|z| v.check("due_timezone", parse_zone(z)));
    // A task read back carries both `due_at` and `due_local`: the wall-clock time is the due.
    let at = at.filter(|_| local.is_none());
    let given = [at.is_some(), date.is_some(), local.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        let field = if local.is_some() {
            "due_local"
        } else {
            "due_date"
        };
        v.fail(field, "give one of due_at, due_date and due_local");
        return DueChange::default();
    }
    if zone.is_some() && at.is_none() && local.is_none() {
        v.fail(
            "due_timezone",
            "pins a timed due: give due_local or due_at with it",
        );
    }
    if let Some(at) = at {
        return v
            .check("due_at", storable_moment(at))
            .map_or_else(DueChange::default, |at| {
                DueChange::new(Due::At(at), zone, tz)
            });
    }
    if let Some(date) = date {
        return v
            .check("due_date", storable_date(date))
            .map_or_else(DueChange::default, |d| {
                DueChange::new(Due::Date(d), None, tz)
            });
    }
    if let Some(local) = local {
        let placed = DueChange::local(local, zone, tz);
        return match placed.due.at().map(storable_moment) {
            Some(Err(e)) => {
                v.fail("due_local", e);
                DueChange::default()
            }
            _ => placed,
        };
    }
    DueChange::default()
}

impl TaskInput {
    /// Validates a new task; all-day dates are placed in `tz`, the owner's time zone.
    pub fn validate(self, tz: Tz) -> Result<NewTask> {
        let mut v = Validator::new();
        let title = v.check("title", parse_title(&self.title));
        let description = match &self.description {
            Some(d) => v.check("description", parse_description(d)).flatten(),
            None => None,
        };
        let due = due_from(
            &mut v,
            self.due_at,
            self.due_date,
            self.due_local.map(|l| l.0),
            self.due_timezone.as_deref(),
            tz,
        );
        let tags = match &self.tags {
            Some(tags) => v.check("tags", parse_tag_list(tags)).unwrap_or_default(),
            None => Vec::new(),
        };
        let recurrence = match &self.recurrence {
            Some(rule) if !rule.trim().is_empty() => v.check("recurrence", parse_rule(rule)),
            _ => None,
        };
        let reminders = match &self.reminders {
            Some(list) => v
                .check("reminders", parse_reminders(list, due.due != Due::None))
                .unwrap_or_default(),
            None => Vec::new(),
        };
        v.finish()?;
        Ok(NewTask {
            recurrence,
            recurrence_mode: self.recurrence_mode.unwrap_or_default(),
            reminders,
            reminder_anchor: anchor(&due.due, tz),
            destination: Destination {
                project: self.project_id,
                section: self.section_id,
                parent: self.parent_id,
            },
            title: title.unwrap_or_default(),
            description,
            priority: self.priority.unwrap_or_default(),
            due_key: due.key,
            due: due.due,
            due_local: due.local,
            due_zone: due.zone,
            tags,
            completed: self.completed.unwrap_or(false),
            import_key: None,
            assignee: self.assignee_id,
        })
    }

    /// A full replace: every field given or emptied, except completion when absent.
    pub fn validate_as_replacement(self, tz: Tz) -> Result<TaskChanges> {
        let completed = self.completed;
        if self.project_id.is_some() || self.section_id.is_some() || self.parent_id.is_some() {
            let field = match (self.project_id, self.section_id) {
                (Some(_), _) => "project_id",
                (None, Some(_)) => "section_id",
                (None, None) => "parent_id",
            };
            return Err(Error::invalid(
                field,
                "a replace keeps the task where it is: move it with POST /api/v1/tasks/{id}/move",
            ));
        }
        let new = self.validate(tz)?;
        Ok(TaskChanges {
            title: Some(new.title),
            description: Some(new.description),
            priority: Some(new.priority),
            due: Some(DueChange {
                due: new.due,
                key: new.due_key,
                local: new.due_local,
                zone: new.due_zone,
            }),
            tags: Some(new.tags),
            recurrence: Some(new.recurrence),
            recurrence_mode: Some(new.recurrence_mode),
            completed,
            reminders: Some(new.reminders),
            reminder_anchor: Some(new.reminder_anchor),
            assignee: Some(new.assignee),
        })
    }

    /// Whether validating needs the owner's time zone (a due is given).
    pub fn needs_time_zone(&self) -> bool {
        self.due_date.is_some() || self.due_at.is_some() || self.due_local.is_some()
    }
}

impl TaskPatchInput {
    /// Whether the patch names no field at all.
    pub fn is_empty(&self) -> bool {
        [
            self.title.is_missing(),
            self.description.is_missing(),
            self.priority.is_missing(),
            self.due_at.is_missing(),
            self.due_date.is_missing(),
            self.due_local.is_missing(),
            self.due_timezone.is_missing(),
            self.tags.is_missing(),
            self.recurrence.is_missing(),
            self.recurrence_mode.is_missing(),
            self.reminders.is_missing(),
            self.completed.is_missing(),
            self.assignee_id.is_missing(),
        ]
        .iter()
        .all(|missing| *missing)
    }

    /// Whether validating needs the owner's time zone (an all-day date is given, or reminders
    /// that may count back from one).
    pub fn needs_time_zone(&self) -> bool {
        !self.due_at.is_missing()
            || !self.due_date.is_missing()
            || !self.due_local.is_missing()
            || self.needs_current_due()
    }

    /// Whether validating needs the task's current due (reminders given without a new due,
    /// or a zone given for the due the task has).
    pub fn needs_current_due(&self) -> bool {
        let new_due = !(self.due_at.is_missing()
            && self.due_date.is_missing()
            && self.due_local.is_missing());
        (!self.reminders.is_missing() || !self.due_timezone.is_missing()) && !new_due
    }

    /// `current` is the task's due before the change (read for its reminders, and for a new
    /// zone without a new due).
    pub fn validate(self, tz: Tz, current: DueChange) -> Result<TaskChanges> {
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
        // Setting one kind of due replaces the others; clearing any clears the due; a zone
        // alone re-pins (or, null, unpins) the timed due the task has, keeping its clock time.
        let zone = match &self.due_timezone {
            Patch::Missing => None,
            Patch::Null => Some(None),
            Patch::Value(z) => v.check("due_timezone", parse_zone(z)).map(Some),
        };
        // A task read back carries both `due_at` and `due_local`: the wall-clock time is the
        // due.
        let due_at = if self.due_local.is_value() {
            Patch::Missing
        } else {
            self.due_at
        };
        let values = [
            due_at.is_value(),
            self.due_date.is_value(),
            self.due_local.is_value(),
        ];
        let due = if values.iter().filter(|given| **given).count() > 1 {
            v.fail("due_local", "give one of due_at, due_date and due_local");
            None
        } else if let Patch::Value(at) = due_at {
            v.check("due_at", storable_moment(at))
                .map(|at| DueChange::new(Due::At(at), zone.flatten(), tz))
        } else if let Patch::Value(date) = self.due_date {
            v.check("due_date", storable_date(date))
                .map(|date| DueChange::new(Due::Date(date), None, tz))
        } else if let Patch::Value(WallClock(local)) = self.due_local {
            let placed = DueChange::local(local, zone.flatten(), tz);
            match placed.due.at().map(storable_moment) {
                Some(Err(e)) => {
                    v.fail("due_local", e);
                    None
                }
                _ => Some(placed),
            }
        } else if due_at.is_null() || self.due_date.is_null() || self.due_local.is_null() {
            Some(DueChange::default())
        } else if let Some(zone) = zone {
            match current.local {
                Some(local) => Some(DueChange::local(local, zone, tz)),
                None => {
                    v.fail("due_timezone", "pins a timed due: the task has none");
                    None
                }
            }
        } else {
            None
        };
        let tags = match &self.tags {
            Patch::Missing => None,
            Patch::Null => Some(Vec::new()),
            Patch::Value(tags) => v.check("tags", parse_tag_list(tags)),
        };
        let recurrence = match &self.recurrence {
            Patch::Missing => None,
            Patch::Null => Some(None),
            Patch::Value(rule) if rule.trim().is_empty() => Some(None),
            Patch::Value(rule) => v.check("recurrence", parse_rule(rule)).map(Some),
        };
        let recurrence_mode = match self.recurrence_mode {
            Patch::Missing => None,
            Patch::Null => Some(RecurrenceMode::Due),
            Patch::Value(mode) => Some(mode),
        };
        let effective_due = due.map_or(current.due, |d| d.due);
        let reminders = match &self.reminders {
            Patch::Missing => None,
            Patch::Null => Some(Vec::new()),
            Patch::Value(list) => v.check(
                "reminders",
                parse_reminders(list, effective_due != Due::None),
            ),
        };
        let reminder_anchor =
            (due.is_some() || reminders.is_some()).then(|| anchor(&effective_due, tz));
        v.finish()?;
        let assignee = match self.assignee_id {
            Patch::Missing => None,
            Patch::Null => Some(None),
            Patch::Value(user) => Some(Some(user)),
        };
        Ok(TaskChanges {
            title,
            description,
            priority,
            due,
            tags,
            recurrence,
            recurrence_mode,
            completed,
            reminders,
            reminder_anchor,
            assignee,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_read_and_write_their_names() {
        for name in ["none", "low", "medium", "high", "urgent"] {
            let priority: Priority = name.parse().expect("known");
            assert_eq!(priority.to_string(), name);
            assert_eq!(
                serde_json::to_value(priority).expect("json"),
                name,
                "the same names as JSON"
            );
        }
        assert!("High".parse::<Priority>().is_err());
        assert!("p1".parse::<Priority>().is_err());
    }
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
        let fields = field_errors(input.validate(Tz::UTC).expect_err("invalid"));
        assert_eq!(fields, ["title", "description", "due_date"]);
    }

    #[test]
    fn a_patch_keeps_absent_fields_and_clears_null_ones() {
        let patch: TaskPatchInput =
            serde_json::from_str(r#"{"description":null,"due_at":null}"#).expect("json");
        let changes = patch
            .validate(Tz::UTC, DueChange::default())
            .expect("valid");
        assert_eq!(changes.title, None);
        assert_eq!(changes.description, Some(None));
        assert_eq!(changes.due, Some(DueChange::default()));
        assert_eq!(changes.tags, None);
        assert_eq!(changes.priority, None);
    }

    #[test]
    fn a_patch_cannot_null_the_title() {
        let patch: TaskPatchInput = serde_json::from_str(r#"{"title":null}"#).expect("json");
        assert_eq!(
            field_errors(
                patch
                    .validate(Tz::UTC, DueChange::default())
                    .expect_err("invalid")
            ),
            ["title"]
        );
    }

    #[test]
    fn an_all_day_task_falls_due_at_the_end_of_its_day_in_the_owners_zone() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 24).expect("date");
        let paris = Due::Date(date).key(chrono_tz::Europe::Paris).expect("key");
        assert_eq!(paris.to_rfc3339(), "2026-12-24T22:59:59.999999+00:00");
        let utc = Due::Date(date).key(Tz::UTC).expect("key");
        assert_eq!(utc.to_rfc3339(), "2026-12-24T23:59:59.999999+00:00");
    }

    #[test]
    fn days_keep_their_length_across_daylight_saving_changes() {
        // Europe/Paris moves clocks forward on 2026-03-29: that day has 23 hours.
        let tz = chrono_tz::Europe::Paris;
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).expect("date");
        let length = end_of_day(day, tz) - start_of_day(day, tz);
        assert_eq!(length.num_minutes(), 23 * 60 - 1);
        // America/Santiago skips midnight itself; the day starts at 01:00.
        let tz = chrono_tz::America::Santiago;
        let gap = NaiveDate::from_ymd_opt(2026, 9, 6).expect("date");
        assert!(start_of_day(gap, tz) < end_of_day(gap, tz));
    }

    #[test]
    fn a_floating_time_keeps_its_clock_across_daylight_saving_and_zone_changes() {
        let berlin = chrono_tz::Europe::Berlin;
        let at = |day, h, m| {
            NaiveDate::from_ymd_opt(2026, 3, day)
                .and_then(|d| d.and_hms_opt(h, m, 0))
                .expect("local")
        };
        // Berlin moves its clocks forward on 2026-03-29: 09:30 is 08:30Z before, 07:30Z after.
        let before = DueChange::local(at(28, 9, 30), None, berlin);
        let after = DueChange::local(at(29, 9, 30), None, berlin);
        assert_eq!(
            before.due.at().map(|a| a.to_rfc3339()).as_deref(),
            Some("2026-03-28T08:30:00+00:00")
        );
        assert_eq!(
            after.due.at().map(|a| a.to_rfc3339()).as_deref(),
            Some("2026-03-29T07:30:00+00:00")
        );
        // A zone change keeps 09:30 a floating 09:30, and a pinned due where it was.
        let tokyo = before.replaced_in(chrono_tz::Asia::Tokyo);
        assert_eq!(tokyo.local, Some(at(28, 9, 30)));
        assert_eq!(
            tokyo.due.at().map(|a| a.to_rfc3339()).as_deref(),
            Some("2026-03-28T00:30:00+00:00")
        );
        let pinned = DueChange::local(at(28, 9, 30), Some(berlin), berlin);
        assert_eq!(pinned.replaced_in(chrono_tz::Asia::Tokyo).due, pinned.due);
        // In the spring-forward gap, 02:30 means the moment just after it.
        let gap = DueChange::local(at(29, 2, 30), None, berlin);
        assert_eq!(gap.local, Some(at(29, 2, 30)));
        assert_eq!(
            gap.due.at().map(|a| a.to_rfc3339()).as_deref(),
            Some("2026-03-29T01:30:00+00:00")
        );
    }

    #[test]
    fn a_due_is_one_of_a_day_a_wall_clock_time_or_a_moment() {
        let patch: TaskPatchInput =
            serde_json::from_str(r#"{"due_local":"2026-12-07T09:30","due_date":"2026-12-07"}"#)
                .expect("json");
        assert_eq!(
            field_errors(
                patch
                    .validate(Tz::UTC, DueChange::default())
                    .expect_err("both")
            ),
            ["due_local"]
        );
        let zone_alone: TaskPatchInput =
            serde_json::from_str(r#"{"due_timezone":"Asia/Tokyo"}"#).expect("json");
        assert_eq!(
            field_errors(
                zone_alone
                    .validate(Tz::UTC, DueChange::default())
                    .expect_err("no due")
            ),
            ["due_timezone"],
            "a zone pins a timed due; the task has none"
        );
        let repin: TaskPatchInput =
            serde_json::from_str(r#"{"due_timezone":"Asia/Tokyo"}"#).expect("json");
        let local = NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(9, 30, 0));
        let current = DueChange::local(local.expect("local"), None, Tz::UTC);
        let pinned = repin
            .validate(Tz::UTC, current)
            .expect("valid")
            .due
            .expect("a due");
        assert_eq!(
            (pinned.local, pinned.zone),
            (local, Some(chrono_tz::Asia::Tokyo))
        );
        assert!(
            serde_json::from_str::<TaskInput>(
                r#"{"title":"x","due_local":"2026-12-07T09:30+01:00"}"#
            )
            .is_err()
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
