//! Listing tasks: filters, sort orders, and keyset cursors that stay stable under inserts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::project::{ProjectId, SectionId};
use crate::tag::{MAX_TAGS_PER_TASK, TagName};
use crate::task::{Priority, Task, TaskId, start_of_day};
use crate::validation::Validator;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
/// More search words than this are ignored.
const MAX_SEARCH_TERMS: usize = 16;

#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    All,
    Pending,
    Completed,
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        [Status::All, Status::Pending, Status::Completed]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| format!("unknown status {raw:?}: use all, pending or completed"))
    }
}

impl Status {
    /// The name used at every door (query strings, forms, tools).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::All => "all",
            Status::Pending => "pending",
            Status::Completed => "completed",
        }
    }

    /// The `completed` value this status selects, if it selects one.
    pub fn completed(self) -> Option<bool> {
        match self {
            Status::All => None,
            Status::Pending => Some(false),
            Status::Completed => Some(true),
        }
    }
}

/// Which level of the task tree to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentFilter {
    /// Top-level tasks only.
    None,
    /// The subtasks of this task (one level).
    Of(TaskId),
}

impl std::str::FromStr for ParentFilter {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        if raw == "none" {
            return Ok(ParentFilter::None);
        }
        raw.parse()
            .map(ParentFilter::Of)
            .map_err(|_| format!("{raw:?} is neither a task id nor none"))
    }
}

/// Whose tasks to list, by assignee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned to the caller.
    Me,
    /// Assigned to this user.
    User(UserId),
    /// Assigned to nobody.
    Nobody,
}

impl std::str::FromStr for AssigneeFilter {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "me" => Ok(AssigneeFilter::Me),
            "none" => Ok(AssigneeFilter::Nobody),
            "" => Err("give me, none or a user id".into()),
            id if id.len() > 255 => Err("is not a user id".into()),
            id => Ok(AssigneeFilter::User(UserId::new(id))),
        }
    }
}

/// What to list, independent of order and paging. Every condition must hold. Without a
/// project, the tasks of every project the user is a member of that is not archived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub project: Option<ProjectId>,
    pub section: Option<SectionId>,
    pub parent: Option<ParentFilter>,
    pub status: Status,
    /// Any of these priorities (none given: any priority).
    pub priorities: Vec<Priority>,
    /// Every one of these tags (by key).
    pub tags: Vec<String>,
    /// Every one of these words, as a word prefix, in the title or description.
    pub search: Vec<String>,
    /// Falls due strictly before this moment.
    pub due_before: Option<DateTime<Utc>>,
    /// Falls due at or after this moment.
    pub due_after: Option<DateTime<Utc>>,
    /// Not completed and due before this moment.
    pub overdue_at: Option<DateTime<Utc>>,
    pub assignee: Option<AssigneeFilter>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortField {
    #[default]
    CreatedAt,
    /// By due moment (see `Task::due_key`); tasks without a due sort as if due infinitely late.
    DueAt,
    Priority,
    /// Without regard to case.
    Title,
    Position,
    /// By completion moment; tasks not completed sort as if completed infinitely late (so
    /// `-completed_at` lists the latest completions first, open tasks last).
    CompletedAt,
}

impl SortField {
    pub const NAMES: &str = "created_at, due_at, priority, title, position or completed_at";

    fn name(self) -> &'static str {
        match self {
            SortField::CreatedAt => "created_at",
            SortField::DueAt => "due_at",
            SortField::Priority => "priority",
            SortField::Title => "title",
            SortField::Position => "position",
            SortField::CompletedAt => "completed_at",
        }
    }
}

impl std::fmt::Display for SortField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SortField {
    type Err = String;

    /// A field's name or one of its aliases (`created`, `due`, `due_date`, `completed`).
    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            // `created` and `due_date` are the names the hackathon's clients send.
            "created_at" | "created" => SortField::CreatedAt,
            "due_at" | "due" | "due_date" => SortField::DueAt,
            "priority" => SortField::Priority,
            "title" => SortField::Title,
            "position" => SortField::Position,
            "completed_at" | "completed" => SortField::CompletedAt,
            _ => {
                return Err(format!(
                    "unknown sort key {name:?}: use {}, optionally prefixed by '-'",
                    SortField::NAMES
                ));
            }
        })
    }
}

/// An order over tasks; ties are always broken by id in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl std::str::FromStr for Sort {
    type Err = String;

    /// A field name, optionally prefixed by `-` for descending.
    fn from_str(raw: &str) -> Result<Self, String> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        let field = name.parse::<SortField>()?;
        Ok(Self { field, descending })
    }
}

impl Sort {
    pub fn as_param(&self) -> String {
        let name = self.field.name();
        if self.descending {
            format!("-{name}")
        } else {
            name.to_owned()
        }
    }
}

/// The value of the sort key at a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortValue {
    /// `None` is "no due date" (or not completed), which sorts after every moment.
    Time(Option<DateTime<Utc>>),
    Int(i64),
    Text(String),
}

/// The position after the last task of a page, in the page's sort order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort the cursor was made for; a cursor is only valid with the same sort.
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "k")]
    pub key: SortValue,
    #[serde(rename = "i")]
    pub id: TaskId,
}

impl Cursor {
    /// The cursor after `task`; `tz` places all-day due dates (the owner's time zone).
    pub fn after(task: &Task, sort: &Sort, tz: Tz) -> Self {
        let key = match sort.field {
            SortField::CreatedAt => SortValue::Time(Some(task.created_at)),
            SortField::DueAt => SortValue::Time(task.due_key(tz)),
            SortField::Priority => SortValue::Int(i64::from(task.priority.rank())),
            SortField::Title => SortValue::Text(task.title.clone()),
            SortField::Position => SortValue::Int(task.position),
            SortField::CompletedAt => SortValue::Time(task.completed_at),
        };
        Self {
            sort: sort.as_param(),
            key,
            id: task.id,
        }
    }

    pub fn encode(&self) -> String {
        // Serializing strings, numbers and timestamps cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: &str, sort: &Sort) -> Result<Self, String> {
        let malformed =
            || "malformed cursor: pass the value from the previous page's Link header".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| malformed())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
        if cursor.sort != sort.as_param() {
            return Err("this cursor belongs to another sort order".into());
        }
        let fits = matches!(
            (&cursor.key, sort.field),
            (SortValue::Time(Some(_)), SortField::CreatedAt)
                | (
                    SortValue::Time(_),
                    SortField::DueAt | SortField::CompletedAt
                )
                | (SortValue::Int(_), SortField::Priority | SortField::Position)
                | (SortValue::Text(_), SortField::Title)
        );
        if !fits {
            return Err(malformed());
        }
        Ok(cursor)
    }
}

/// A validated list request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    pub sort: Sort,
    pub limit: u32,
    pub after: Option<Cursor>,
}

/// A list request as it arrives from any interface, every field still text. A parameter it
/// does not name is refused: a typo never silently returns everything.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTasksRequest {
    /// A project id: its tasks (also when it is archived).
    #[param(value_type = Option<i64>)]
    pub project: Option<String>,
    /// A section id: its tasks.
    #[param(value_type = Option<i64>)]
    pub section: Option<String>,
    /// A task id: its subtasks; `none`: top-level tasks only.
    #[param(pattern = "^(none|-?[0-9]{1,19})$")]
    pub parent: Option<String>,
    /// `me`, `none` (unassigned) or a user id.
    #[param(min_length = 1, max_length = 255, pattern = "\\S")]
    pub assignee: Option<String>,
    /// `all` (default), `pending` or `completed`. Not with `completed`.
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    /// `true` (= `status=completed`) or `false` (= `status=pending`): the brief's filter. Not
    /// with `status`.
    #[param(value_type = Option<bool>)]
    pub completed: Option<String>,
    /// `none`, `low`, `medium`, `high` or `urgent`; repeat for any of several.
    #[serde(default)]
    #[param(value_type = Option<Vec<Priority>>)]
    pub priority: Vec<String>,
    /// A tag name (1–50 characters, no spaces or commas); repeat to require every one of
    /// several, at most 20.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, max_items = 20)]
    pub tag: Vec<String>,
    /// Words to find in the title or description (each as a word prefix).
    pub q: Option<String>,
    /// Due strictly before: an RFC 3339 timestamp, or a date (its start in the user's time zone).
    #[param(
        pattern = r"^[0-9]{3}[1-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
    )]
    pub due_before: Option<String>,
    /// Due at or after: an RFC 3339 timestamp, or a date (its start in the user's time zone).
    #[param(
        pattern = r"^[0-9]{3}[1-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
    )]
    pub due_after: Option<String>,
    /// `true`: only tasks not completed that fell due before today, in the user's time zone
    /// (a task due earlier today is today's, not overdue).
    pub overdue: Option<bool>,
    /// `created_at` (default), `due_at`, `priority`, `title`, `position` or `completed_at`
    /// (open tasks after every completed one); `-` for descending. The brief's `created`,
    /// `due_date` (and `due`) are aliases of `created_at` and `due_at`; `completed` of
    /// `completed_at`.
    #[param(
        pattern = "^-?(created_at|created|due_at|due_date|due|priority|title|position|completed_at|completed)$"
    )]
    pub sort: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page's `Link: rel="next"`.
    pub cursor: Option<String>,
}

impl ListTasksRequest {
    /// Whether validating needs the user's time zone (to place dates).
    pub fn needs_time_zone(&self) -> bool {
        let is_date = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.contains('T'));
        is_date(&self.due_before)
            || is_date(&self.due_after)
            || self.overdue == Some(true)
            || self.sort.as_deref().is_some_and(|s| s.contains("due"))
    }

    /// Validates against the user's time zone `tz` at the moment `now`.
    pub fn validate(&self, tz: Tz, now: DateTime<Utc>) -> crate::Result<TaskQuery> {
        let mut v = Validator::new();
        let id = |raw: &str| {
            raw.parse::<i64>()
                .map_err(|_| format!("{raw:?} is not an id"))
        };
        let project = self
            .project
            .as_deref()
            .and_then(|raw| v.check("project", id(raw)))
            .map(ProjectId::new);
        let section = self
            .section
            .as_deref()
            .and_then(|raw| v.check("section", id(raw)))
            .map(SectionId::new);
        let parent = self
            .parent
            .as_deref()
            .and_then(|raw| v.check("parent", raw.parse::<ParentFilter>()));
        let assignee = self
            .assignee
            .as_deref()
            .and_then(|raw| v.check("assignee", raw.parse::<AssigneeFilter>()));
        let status = match (&self.status, &self.completed) {
            (Some(_), Some(_)) => {
                v.fail("completed", "give either status or completed, not both");
                None
            }
            (Some(s), None) => v.check("status", s.parse::<Status>()),
            (None, Some(c)) => match c.as_str() {
                "true" => Some(Status::Completed),
                "false" => Some(Status::Pending),
                _ => {
                    v.fail("completed", "must be true or false");
                    None
                }
            },
            (None, None) => Some(Status::All),
        };
        let mut priorities = Vec::new();
        for raw in &self.priority {
            for p in raw.split(',') {
                if let Some(priority) = v.check("priority", p.trim().parse::<Priority>()) {
                    priorities.push(priority);
                }
            }
        }
        priorities.sort();
        priorities.dedup();
        let mut tags = Vec::new();
        if self.tag.len() > MAX_TAGS_PER_TASK {
            // No task carries more, and each becomes a bound parameter.
            v.fail("tag", format!("at most {MAX_TAGS_PER_TASK} tags"));
        } else {
            for raw in &self.tag {
                if let Some(tag) = v.check("tag", TagName::parse(raw)) {
                    tags.push(tag.key);
                }
            }
        }
        tags.sort();
        tags.dedup();
        let search = self.q.as_deref().map(search_terms).unwrap_or_default();
        let due_before = match &self.due_before {
            Some(raw) => v.check("due_before", parse_moment(raw, tz)),
            None => None,
        };
        let due_after = match &self.due_after {
            Some(raw) => v.check("due_after", parse_moment(raw, tz)),
            None => None,
        };
        let sort = match &self.sort {
            Some(s) => v.check("sort", s.parse::<Sort>()),
            None => Some(Sort::default()),
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            v.fail("limit", format!("must be between 1 and {MAX_LIMIT}"));
        }
        let after = match (&self.cursor, &sort) {
            (Some(raw), Some(sort)) => v.check("cursor", Cursor::decode(raw, sort)),
            _ => None,
        };
        v.finish()?;
        Ok(TaskQuery {
            filter: TaskFilter {
                project,
                section,
                parent,
                status: status.unwrap_or_default(),
                priorities,
                tags,
                search,
                due_before,
                due_after,
                overdue_at: (self.overdue == Some(true)).then(|| overdue_before(tz, now)),
                assignee,
            },
            sort: sort.unwrap_or_default(),
            limit,
            after,
        })
    }
}

/// What "overdue" means everywhere (the API's `overdue=true`, Today's Overdue section, the
/// Overdue view, "Reschedule to today"): open and due before this moment, the start of today
/// in the user's zone `tz`. A task due at 09:00 today is today's, not overdue, at 14:00, as
/// in Todoist; an all-day task due yesterday is overdue from midnight.
pub fn overdue_before(tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    start_of_day(now.with_timezone(&tz).date_naive(), tz)
}

impl TaskQuery {
    /// Every open overdue task (see [`overdue_before`]), the oldest due first.
    pub fn overdue(tz: Tz, now: DateTime<Utc>, limit: u32) -> Self {
        Self {
            filter: TaskFilter {
                status: Status::Pending,
                overdue_at: Some(overdue_before(tz, now)),
                ..TaskFilter::default()
            },
            sort: Sort {
                field: SortField::DueAt,
                descending: false,
            },
            limit,
            after: None,
        }
    }
}

/// An RFC 3339 timestamp, or a `YYYY-MM-DD` date meaning its first moment in `tz`.
fn parse_moment(raw: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return crate::validation::storable_moment(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| format!("{raw:?} is neither an RFC 3339 timestamp nor a YYYY-MM-DD date"))
        .and_then(crate::validation::storable_date)
        .map(|date| start_of_day(date, tz))
}

/// The words of a search: letters and digits, lower-cased, at most 16, each at most 64
/// characters. Everything else separates words, so no input can inject query syntax.
pub fn search_terms(q: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let term: String = word.to_lowercase().chars().take(64).collect();
        if !terms.contains(&term) {
            terms.push(term);
        }
        if terms.len() == MAX_SEARCH_TERMS {
            break;
        }
    }
    terms
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
    /// How many items match the filter across all pages.
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(request: &ListTasksRequest) -> crate::Result<TaskQuery> {
        request.validate(Tz::UTC, crate::time::now())
    }

    #[test]
    fn cursors_round_trip_and_are_tied_to_their_sort() {
        let sort: Sort = "-created_at".parse().expect("valid");
        let cursor = Cursor {
            sort: sort.as_param(),
            key: SortValue::Time(Some(crate::time::now())),
            id: TaskId::new(42),
        };
        let encoded = cursor.encode();
        assert_eq!(Cursor::decode(&encoded, &sort), Ok(cursor));
        assert!(Cursor::decode(&encoded, &Sort::default()).is_err());
        assert!(Cursor::decode("not a cursor", &sort).is_err());
    }

    #[test]
    fn a_cursor_whose_key_does_not_fit_its_sort_is_malformed() {
        let sort: Sort = "title".parse().expect("valid");
        let forged = Cursor {
            sort: sort.as_param(),
            key: SortValue::Int(3),
            id: TaskId::new(1),
        };
        assert!(Cursor::decode(&forged.encode(), &sort).is_err());
    }

    #[test]
    fn the_briefs_sort_names_are_aliases() {
        for (alias, name) in [
            ("created", "created_at"),
            ("due_date", "due_at"),
            ("-created", "-created_at"),
        ] {
            assert_eq!(alias.parse::<Sort>().expect("alias").as_param(), name);
        }
    }

    #[test]
    fn every_sort_field_parses_both_ways() {
        for name in [
            "created_at",
            "due_at",
            "priority",
            "title",
            "position",
            "completed_at",
        ] {
            assert_eq!(name.parse::<Sort>().expect("asc").as_param(), name);
            let field: SortField = name.parse().expect("field");
            assert_eq!(field.to_string(), name);
            assert_eq!(
                format!("-{name}").parse::<Sort>().expect("desc").as_param(),
                format!("-{name}")
            );
        }
    }

    #[test]
    fn overdue_means_due_before_today_in_the_users_zone() {
        let tz: Tz = "America/New_York".parse().expect("zone");
        // 2026-12-07 14:00 in New York (19:00 UTC).
        let now = DateTime::parse_from_rfc3339("2026-12-07T19:00:00Z")
            .expect("moment")
            .with_timezone(&Utc);
        let cutoff = overdue_before(tz, now);
        assert_eq!(cutoff.to_rfc3339(), "2026-12-07T05:00:00+00:00");
        // The API's `overdue=true` and the typed query say the same.
        let request = ListTasksRequest {
            overdue: Some(true),
            ..ListTasksRequest::default()
        };
        assert!(request.needs_time_zone());
        let query = request.validate(tz, now).expect("valid");
        assert_eq!(query.filter.overdue_at, Some(cutoff));
        let typed = TaskQuery::overdue(tz, now, 10);
        assert_eq!(typed.filter.overdue_at, Some(cutoff));
        assert_eq!(typed.filter.status, Status::Pending);
        assert_eq!(typed.sort.as_param(), "due_at");
        // 09:00 today is today's; yesterday, all day, is overdue (its key is its last moment).
        let nine_today = DateTime::parse_from_rfc3339("2026-12-07T14:00:00Z")
            .expect("moment")
            .with_timezone(&Utc);
        assert!(nine_today >= cutoff);
        let yesterday = NaiveDate::from_ymd_opt(2026, 12, 6).expect("date");
        assert!(crate::task::end_of_day(yesterday, tz) < cutoff);
    }

    #[test]
    fn completion_cursors_carry_the_completion_moment() {
        let sort: Sort = "-completed_at".parse().expect("valid");
        assert_eq!(sort.field, SortField::CompletedAt);
        assert!(sort.descending);
        assert_eq!("completed".parse::<SortField>(), Ok(SortField::CompletedAt));
        let cursor = Cursor {
            sort: sort.as_param(),
            key: SortValue::Time(Some(crate::time::now())),
            id: TaskId::new(3),
        };
        assert_eq!(Cursor::decode(&cursor.encode(), &sort), Ok(cursor));
        let open = Cursor {
            sort: sort.as_param(),
            key: SortValue::Time(None),
            id: TaskId::new(4),
        };
        assert_eq!(Cursor::decode(&open.encode(), &sort), Ok(open));
        let forged = Cursor {
            sort: sort.as_param(),
            key: SortValue::Int(1),
            id: TaskId::new(4),
        };
        assert!(Cursor::decode(&forged.encode(), &sort).is_err());
    }

    #[test]
    fn bad_list_parameters_are_all_reported() {
        let request = ListTasksRequest {
            status: Some("done".into()),
            priority: vec!["asap".into()],
            due_before: Some("next week".into()),
            sort: Some("colour".into()),
            limit: Some(0),
            cursor: Some("x".into()),
            ..Default::default()
        };
        let Err(crate::Error::Validation(errors)) = validate(&request) else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["status", "priority", "due_before", "sort", "limit"]
        );
    }

    #[test]
    fn limits_outside_one_to_five_hundred_are_rejected() {
        for (limit, ok) in [
            (1, true),
            (500, true),
            (0, false),
            (501, false),
            (10_000, false),
        ] {
            let request = ListTasksRequest {
                limit: Some(limit),
                ..Default::default()
            };
            assert_eq!(validate(&request).is_ok(), ok, "limit {limit}");
        }
    }

    #[test]
    fn dates_in_filters_start_in_the_users_time_zone() {
        let request = ListTasksRequest {
            due_before: Some("2026-12-24".into()),
            due_after: Some("2026-12-01T00:00:00+01:00".into()),
            ..Default::default()
        };
        let query = request
            .validate(chrono_tz::Asia::Tokyo, crate::time::now())
            .expect("valid");
        let before = query.filter.due_before.expect("set").to_rfc3339();
        assert_eq!(before, "2026-12-23T15:00:00+00:00");
        assert_eq!(
            query.filter.due_after.expect("set").to_rfc3339(),
            "2026-11-30T23:00:00+00:00"
        );
    }

    #[test]
    fn search_terms_are_words_without_any_query_syntax() {
        assert_eq!(search_terms("Buy  MILK, milk!"), ["buy", "milk"]);
        assert_eq!(
            search_terms("\"a\" OR b* NEAR(c) -d:e"),
            ["a", "or", "b", "near", "c", "d", "e"]
        );
        assert_eq!(search_terms("café über"), ["café", "über"]);
        assert!(search_terms("!!! ***").is_empty());
        assert_eq!(search_terms(&"w ".repeat(40)).len(), 1);
        let many: String = (0..40).map(|i| format!("w{i} ")).collect();
        assert_eq!(search_terms(&many).len(), 16);
    }

    #[test]
    fn priorities_and_tags_may_repeat() {
        let request = ListTasksRequest {
            priority: vec!["high".into(), "urgent,low".into(), "high".into()],
            tag: vec!["#Home".into(), "home".into(), "work".into()],
            ..Default::default()
        };
        let query = validate(&request).expect("valid");
        assert_eq!(
            query.filter.priorities,
            [Priority::Low, Priority::High, Priority::Urgent]
        );
        assert_eq!(query.filter.tags, ["home", "work"]);
    }

    #[test]
    fn long_filter_lists_are_bounded() {
        let request = ListTasksRequest {
            priority: vec!["high".into(); 100_000],
            ..Default::default()
        };
        let query = validate(&request).expect("valid");
        assert_eq!(
            query.filter.priorities,
            [Priority::High],
            "one parameter, not 100 000"
        );
        let request = ListTasksRequest {
            tag: (0..21).map(|i| format!("t{i}")).collect(),
            ..Default::default()
        };
        assert!(validate(&request).is_err(), "no task carries 21 tags");
    }
}
