//! CalDAV's rules (RFC 4791, RFC 6578, RFC 5545), on the same use cases as every other door:
//! a calendar is a project the user can see, a resource is a task written as one VTODO. The
//! HTTP and XML side is the server's `dav` adapter; this module decides names, ETags, what a
//! VTODO means as a task, and what changed since a sync token.
//!
//! A resource's name is `{uid}.ics` for a task made elsewhere (`task-{id}@todo`); a client that
//! PUTs a task names it, and that name, its UID and the properties todo does not model are kept
//! ([`DavObject`]) and written back unchanged.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use icalendar::parser::{Component, Property};
use sha2::{Digest, Sha256};

use crate::Todo;
use crate::calendar::{feed_uid, render};
use crate::error::{Error, Result};
use crate::events::EventId;
use crate::ids::UserId;
use crate::page::{Sort, SortField, Status, TaskFilter, TaskQuery};
use crate::project::{Project, ProjectId, Role};
use crate::reminders::ReminderInput;
use crate::task::{Priority, Task, TaskId, TaskInput};
use crate::time::{WallClock, now};
use crate::transfer::no_progress;

/// A calendar lists at most this many tasks (open ones first, then the latest done).
pub const MAX_CALENDAR_TASKS: usize = 5_000;
/// A VTODO body is at most this long.
pub const MAX_VTODO_BYTES: usize = 256 * 1024;
/// Properties todo does not model, kept per task: at most this many bytes.
const MAX_EXTRA_BYTES: usize = 64 * 1024;
/// A sync token older than this is refused (the client syncs in full): the event log it reads
/// keeps 7 days by default (`EVENTS_RETENTION`).
pub const SYNC_TOKEN_LIFETIME: Duration = Duration::days(6);
/// At most this many events are read for one sync; beyond, the client syncs in full.
const MAX_SYNC_EVENTS: usize = 10_000;

/// What a CalDAV client wrote that todo keeps for a task: the resource's name, its UID and
/// the content lines todo does not model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavObject {
    pub task_id: TaskId,
    pub name: String,
    pub uid: String,
    /// Unfolded content lines, each ending in CRLF.
    pub extra: String,
}

/// One VTODO resource of a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub task_id: TaskId,
    pub name: String,
    pub etag: String,
    pub ics: String,
}

/// A calendar: a project and what the user may do in it.
#[derive(Debug, Clone)]
pub struct DavCalendar {
    pub project: Project,
    /// Its path segment: the name a client gave it (MKCALENDAR), else the project's id.
    pub segment: String,
    pub writable: bool,
    /// The sync token (and ctag): it changes whenever something the user sees changes.
    pub token: SyncToken,
}

/// An RFC 6578 sync token: the newest event that reached the user, and when it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncToken {
    pub event: EventId,
    pub issued: i64,
}

const TOKEN_PREFIX: &str = "https://todo.invalid/sync/";

impl std::fmt::Display for SyncToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{TOKEN_PREFIX}{}-{}", self.event, self.issued)
    }
}

impl std::str::FromStr for SyncToken {
    type Err = ();

    fn from_str(raw: &str) -> std::result::Result<Self, ()> {
        let (event, issued) = raw
            .trim()
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|rest| rest.split_once('-'))
            .ok_or(())?;
        Ok(SyncToken {
            event: event.parse().map_err(|_| ())?,
            issued: issued.parse().map_err(|_| ())?,
        })
    }
}

/// What changed in a calendar since a token.
#[derive(Debug, Clone)]
pub struct Changes {
    pub changed: Vec<Resource>,
    /// Names of resources that are gone (deleted, or moved to another calendar).
    pub gone: Vec<String>,
    pub token: SyncToken,
}

/// A calendar-query's time range (RFC 4791 §9.9), either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// Whether a task's due falls in the range. A task without a due matches every range, as a
    /// VTODO without DTSTART or DUE does; an all-day due is its whole day in any zone (a day's
    /// slack on each side).
    pub fn holds(&self, task: &Task) -> bool {
        let (from, until) = match (task.due_at, task.due_date) {
            (Some(at), _) => (at, at),
            (None, Some(date)) => {
                let midnight = date.and_time(chrono::NaiveTime::MIN).and_utc();
                (midnight - Duration::days(1), midnight + Duration::days(2))
            }
            (None, None) => return true,
        };
        self.start.is_none_or(|start| until >= start) && self.end.is_none_or(|end| from < end)
    }
}

/// `If-Match` / `If-None-Match` of a write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    #[default]
    None,
    /// `If-Match: "etag"`: only over that version.
    Matches(String),
    /// `If-None-Match: *`: only when there is no resource yet.
    Absent,
}

impl Precondition {
    fn check(&self, current: Option<&Resource>) -> Result<()> {
        let fine = match (self, current) {
            (Precondition::None, _) => true,
            (Precondition::Absent, existing) => existing.is_none(),
            (Precondition::Matches(etag), Some(resource)) => {
                etag == "*" || etag.trim_matches('"') == resource.etag.trim_matches('"')
            }
            (Precondition::Matches(_), None) => false,
        };
        if fine {
            Ok(())
        } else {
            Err(Error::PreconditionFailed(
                "the resource changed since it was read (or exists, or does not)",
            ))
        }
    }
}

/// A VTODO read as a task.
#[derive(Debug, Clone)]
pub struct ParsedTodo {
    pub uid: String,
    pub input: TaskInput,
    /// RELATED-TO with RELTYPE=PARENT (or none): the parent's UID.
    pub parent_uid: Option<String>,
    /// The content lines todo does not model, unfolded, each ending in CRLF.
    pub extra: String,
}

/// A client's calendar colour as todo keeps it: Apple sends `#RRGGBBAA`, todo keeps
/// `#rrggbb` (the project's rules then check it).
pub fn calendar_color(raw: &str) -> String {
    raw.trim()
        .chars()
        .take(7)
        .collect::<String>()
        .to_lowercase()
}

/// The name of a resource with no [`DavObject`].
pub fn default_name(task: TaskId) -> String {
    format!("{}.ics", feed_uid(task))
}

fn task_of_default_name(name: &str) -> Option<TaskId> {
    name.strip_prefix("task-")?
        .strip_suffix("@todo.ics")?
        .parse()
        .ok()
        .map(TaskId::new)
}

/// A quoted strong ETag of `ics`.
fn etag(ics: &str) -> String {
    let digest = Sha256::digest(ics.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Properties read into the task (or written by todo itself): never kept as extra.
const MODELED: &[&str] = &[
    "UID",
    "SUMMARY",
    "DESCRIPTION",
    "PRIORITY",
    "DUE",
    "STATUS",
    "COMPLETED",
    "PERCENT-COMPLETE",
    "CATEGORIES",
    "DTSTAMP",
    "CREATED",
    "LAST-MODIFIED",
];

/// Reads one VTODO out of an iCalendar body. A body without exactly one VTODO (events,
/// journals, several items) is refused: each resource is one task.
pub fn parse_vtodo(body: &str) -> Result<ParsedTodo> {
    if body.len() > MAX_VTODO_BYTES {
        return Err(Error::invalid(
            "body",
            format!("at most {MAX_VTODO_BYTES} bytes"),
        ));
    }
    let unfolded = icalendar::parser::unfold(body);
    let calendar = icalendar::parser::read_calendar(&unfolded)
        .map_err(|_| Error::invalid("body", "not an iCalendar object (RFC 5545)"))?;
    let mut todos = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VTODO"));
    let todo = match (todos.next(), todos.next()) {
        (Some(todo), None) => todo,
        _ => {
            return Err(Error::invalid(
                "body",
                "a task resource holds exactly one VTODO",
            ));
        }
    };
    if calendar.components.iter().any(|c| {
        let name = c.name.as_str();
        !name.eq_ignore_ascii_case("VTODO") && !name.eq_ignore_ascii_case("VTIMEZONE")
    }) {
        return Err(Error::invalid(
            "body",
            "only VTODO (and VTIMEZONE) components belong in a task calendar",
        ));
    }
    read_todo(todo)
}

fn value<'a>(todo: &'a Component<'_>, name: &str) -> Option<&'a Property<'a>> {
    todo.properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn param<'a>(property: &'a Property<'_>, key: &str) -> Option<&'a str> {
    property
        .params
        .iter()
        .find(|p| p.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|p| p.val.as_ref())
        .map(|v| v.as_str())
}

/// RFC 5545 TEXT unescaped: `\n`, `\,`, `\;`, `\\`.
fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A comma-separated TEXT list (CATEGORIES), commas escaped with `\,` kept inside items.
fn text_list(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in raw.chars() {
        match (escaped, c) {
            (false, '\\') => {
                escaped = true;
                current.push(c);
            }
            (false, ',') => items.push(std::mem::take(&mut current)),
            _ => {
                escaped = false;
                current.push(c);
            }
        }
    }
    items.push(current);
    items
        .iter()
        .map(|item| text(item).trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

fn date_time(raw: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(raw.trim_end_matches('Z'), "%Y%m%dT%H%M%S").ok()
}

/// DUE as the task's due fields.
fn read_due(due: &Property<'_>, input: &mut TaskInput) -> Result<()> {
    let raw = due.val.as_str().trim();
    let as_date = param(due, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    if as_date || raw.len() == 8 {
        input.due_date = Some(
            NaiveDate::parse_from_str(raw, "%Y%m%d")
                .map_err(|_| Error::invalid("DUE", "not a DATE (YYYYMMDD)"))?,
        );
        return Ok(());
    }
    let local = date_time(raw).ok_or_else(|| Error::invalid("DUE", "not a DATE-TIME"))?;
    if raw.ends_with('Z') {
        input.due_at = Some(local.and_utc());
    } else {
        input.due_local = Some(WallClock(local));
        // A TZID that is not an IANA name (Outlook's "W. Europe Standard Time") leaves the
        // time floating in the user's zone.
        input.due_timezone = param(due, "TZID")
            .map(|zone| zone.trim_matches('"'))
            .filter(|zone| zone.parse::<Tz>().is_ok())
            .map(str::to_owned);
    }
    Ok(())
}

/// RFC 5545 PRIORITY (1 highest … 9 lowest, 0 none) as one of the five levels.
fn priority(raw: &str) -> Priority {
    match raw.trim().parse::<u8>().unwrap_or(0) {
        1..=2 => Priority::Urgent,
        3..=4 => Priority::High,
        5 => Priority::Medium,
        6..=9 => Priority::Low,
        _ => Priority::None,
    }
}

/// A VALARM's TRIGGER as a reminder: `-PT15M` (before the due) or an absolute UTC time.
fn read_alarm(alarm: &Component<'_>) -> Option<ReminderInput> {
    let trigger = value(alarm, "TRIGGER")?;
    let raw = trigger.val.as_str().trim();
    if param(trigger, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE-TIME"))
        || raw.ends_with('Z')
    {
        return date_time(raw).map(|at| ReminderInput {
            remind_at: Some(at.and_utc()),
            minutes_before: None,
        });
    }
    let minutes = duration_minutes(raw)?;
    (minutes <= 0).then_some(ReminderInput {
        remind_at: None,
        minutes_before: Some(-minutes),
    })
}

/// An RFC 5545 DURATION (`-PT1H30M`, `-P1D`, `PT0S`) in whole minutes.
fn duration_minutes(raw: &str) -> Option<i64> {
    let (sign, rest) = match raw.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let rest = rest.strip_prefix('P')?;
    let mut minutes = 0i64;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' => {}
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                minutes += match unit {
                    'W' => n * 7 * 24 * 60,
                    'D' => n * 24 * 60,
                    'H' => n * 60,
                    'M' => n,
                    'S' => n / 60,
                    _ => return None,
                };
            }
        }
    }
    number.is_empty().then_some(sign * minutes)
}

fn read_todo(todo: &Component<'_>) -> Result<ParsedTodo> {
    let uid = value(todo, "UID")
        .map(|p| p.val.as_str().trim().to_owned())
        .filter(|uid| !uid.is_empty() && uid.len() <= 255)
        .ok_or_else(|| Error::invalid("UID", "a VTODO needs a UID (at most 255 characters)"))?;
    let summary = value(todo, "SUMMARY").map(|p| text(p.val.as_str()));
    let mut input = TaskInput {
        // A task with no summary is still the client's task: it gets a title.
        title: summary
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "Untitled".to_owned()),
        description: value(todo, "DESCRIPTION")
            .map(|p| text(p.val.as_str()))
            .filter(|d| !d.is_empty()),
        priority: Some(
            value(todo, "PRIORITY").map_or(Priority::None, |p| priority(p.val.as_str())),
        ),
        ..TaskInput::default()
    };
    if let Some(due) = value(todo, "DUE") {
        read_due(due, &mut input)?;
    }
    let status = value(todo, "STATUS").map(|p| p.val.as_str().trim().to_ascii_uppercase());
    input.completed =
        Some(status.as_deref() == Some("COMPLETED") || value(todo, "COMPLETED").is_some());
    let tags: BTreeSet<String> = todo
        .properties
        .iter()
        .filter(|p| p.name.as_str().eq_ignore_ascii_case("CATEGORIES"))
        .flat_map(|p| text_list(p.val.as_str()))
        .collect();
    input.tags = Some(tags.into_iter().collect());
    let reminders: Vec<ReminderInput> = todo
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VALARM"))
        .filter_map(read_alarm)
        .collect();
    input.reminders = Some(reminders);

    let mut extra = String::new();
    let mut parent_uid = None;
    let has_rrule = value(todo, "RRULE").is_some();
    for property in &todo.properties {
        let name = property.name.as_str().to_ascii_uppercase();
        let keep = match name.as_str() {
            "RRULE" => {
                input.recurrence = Some(property.val.as_str().trim().to_owned());
                false
            }
            // A recurring task's DTSTART is its due, written by todo; another is kept.
            "DTSTART" => !has_rrule,
            "RELATED-TO"
                if parent_uid.is_none()
                    && param(property, "RELTYPE")
                        .is_none_or(|t| t.eq_ignore_ascii_case("PARENT")) =>
            {
                parent_uid = Some(property.val.as_str().trim().to_owned());
                false
            }
            // In progress or cancelled is not done: kept, and written back while not done.
            "STATUS" => !matches!(status.as_deref(), Some("NEEDS-ACTION" | "COMPLETED") | None),
            other => !MODELED.contains(&other),
        };
        if keep {
            extra.push_str(&content_line(property));
        }
    }
    if extra.len() > MAX_EXTRA_BYTES {
        return Err(Error::invalid(
            "body",
            format!("at most {MAX_EXTRA_BYTES} bytes of properties todo does not model"),
        ));
    }
    Ok(ParsedTodo {
        uid,
        input,
        parent_uid,
        extra,
    })
}

/// A property as one unfolded content line ending in CRLF.
fn content_line(property: &Property<'_>) -> String {
    let mut line = property.name.as_str().to_owned();
    for parameter in &property.params {
        line.push(';');
        line.push_str(parameter.key.as_str());
        if let Some(value) = &parameter.val {
            line.push('=');
            line.push_str(value.as_str());
        }
    }
    line.push(':');
    line.push_str(property.val.as_str());
    line.push_str("\r\n");
    line
}

/// Writes `task` as a one-VTODO calendar: its UID and its parent's from `objects`, the
/// client's extra lines before `END:VTODO`.
fn resource(task: &Task, tz: Tz, objects: &BTreeMap<TaskId, DavObject>) -> Resource {
    let uid_of = |id: TaskId| {
        objects
            .get(&id)
            .map_or_else(|| feed_uid(id), |object| object.uid.clone())
    };
    let mut ics = render("todo", std::slice::from_ref(task), tz, &uid_of);
    let object = objects.get(&task.id);
    if let Some(object) = object.filter(|o| !o.extra.is_empty()) {
        let kept_status = object.extra.lines().any(|l| l.starts_with("STATUS"));
        let extra: String = object
            .extra
            .split_inclusive("\r\n")
            .filter(|line| !(task.recurrence.is_some() && line.starts_with("DTSTART")))
            .filter(|line| !(task.completed && line.starts_with("STATUS")))
            .collect();
        if kept_status && !task.completed {
            ics = ics.replace("STATUS:NEEDS-ACTION\r\n", "");
        }
        if let Some(at) = ics.rfind("END:VTODO") {
            ics.insert_str(at, &extra);
        }
    }
    Resource {
        task_id: task.id,
        name: object.map_or_else(|| default_name(task.id), |o| o.name.clone()),
        etag: etag(&ics),
        ics,
    }
}

impl Todo {
    /// The calendars of the user: every project they can see, the Inbox first.
    pub async fn dav_calendars(&self, user_id: &UserId) -> Result<Vec<DavCalendar>> {
        let token = self.sync_token(user_id).await?;
        let named: BTreeMap<ProjectId, String> = self
            .store
            .dav_collections(user_id)
            .await?
            .into_iter()
            .map(|(name, project)| (project, name))
            .collect();
        Ok(self
            .list_projects(user_id)
            .await?
            .into_iter()
            .map(|project| DavCalendar {
                writable: project.role != Role::Viewer,
                segment: named
                    .get(&project.id)
                    .cloned()
                    .unwrap_or_else(|| project.id.to_string()),
                project,
                token,
            })
            .collect())
    }

    /// The project a calendar's path segment names for the user: a project id, or the name a
    /// client gave a calendar it made. 404 when it names none.
    pub async fn dav_project(&self, user_id: &UserId, segment: &str) -> Result<ProjectId> {
        if let Ok(id) = segment.parse::<i64>() {
            return Ok(ProjectId::new(id));
        }
        self.store
            .dav_collections(user_id)
            .await?
            .into_iter()
            .find(|(name, _)| name == segment)
            .map(|(_, project)| project)
            .ok_or(Error::NotFound("calendar"))
    }

    /// One calendar (404 for a project the user is not a member of).
    pub async fn dav_calendar(&self, user_id: &UserId, segment: &str) -> Result<DavCalendar> {
        let id = self.dav_project(user_id, segment).await?;
        let project = self.get_project(user_id, id).await?;
        Ok(DavCalendar {
            writable: project.role != Role::Viewer,
            segment: segment.to_owned(),
            token: self.sync_token(user_id).await?,
            project,
        })
    }

    /// A calendar a client makes (MKCALENDAR, or MKCOL as some send) at a path segment of its
    /// choosing: a new project, named `name` (else the segment), found at that segment from
    /// then on.
    pub async fn dav_make_calendar(
        &self,
        user_id: &UserId,
        segment: &str,
        name: Option<String>,
        color: Option<String>,
    ) -> Result<Project> {
        if segment.is_empty() || segment.len() > 255 || segment.contains('/') {
            return Err(Error::invalid(
                "path",
                "a calendar's name is 1–255 characters, no '/'",
            ));
        }
        if segment.parse::<i64>().is_ok()
            || self
                .store
                .dav_collections(user_id)
                .await?
                .iter()
                .any(|(taken, _)| taken == segment)
        {
            return Err(Error::Conflict(format!(
                "a calendar is already at {segment}"
            )));
        }
        let input = crate::project::ProjectInput {
            name: name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| segment.to_owned()),
            color: color.as_deref().map(calendar_color),
        };
        let project = self.create_project(user_id, input).await?;
        self.store
            .put_dav_collection(user_id, segment, project.id)
            .await?;
        Ok(project)
    }

    async fn sync_token(&self, user_id: &UserId) -> Result<SyncToken> {
        Ok(SyncToken {
            event: self.store.last_event_id(user_id).await?,
            issued: now().timestamp(),
        })
    }

    /// Every resource of a calendar: its open tasks, then its completed ones (newest first), at
    /// most [`MAX_CALENDAR_TASKS`].
    pub async fn dav_resources(
        &self,
        user_id: &UserId,
        project: ProjectId,
    ) -> Result<Vec<Resource>> {
        self.dav_query(user_id, project, &TimeRange::default())
            .await
    }

    /// The resources of a calendar whose due falls in `range` (calendar-query).
    pub async fn dav_query(
        &self,
        user_id: &UserId,
        project: ProjectId,
        range: &TimeRange,
    ) -> Result<Vec<Resource>> {
        self.get_project(user_id, project).await?;
        let tz = self.time_zone(user_id).await?;
        let mut tasks = Vec::new();
        for (status, field, descending) in [
            (Status::Pending, SortField::DueAt, false),
            (Status::Completed, SortField::CreatedAt, true),
        ] {
            let query = TaskQuery {
                filter: TaskFilter {
                    status,
                    project: Some(project),
                    ..TaskFilter::default()
                },
                sort: Sort { field, descending },
                ..TaskQuery::default()
            };
            let room = MAX_CALENDAR_TASKS - tasks.len();
            tasks.extend(
                self.collect_tasks(user_id, query, tz, room, &no_progress)
                    .await?,
            );
        }
        let objects = self.dav_objects_of(project).await?;
        Ok(tasks
            .iter()
            .filter(|task| range.holds(task))
            .map(|task| resource(task, tz, &objects))
            .collect())
    }

    async fn dav_objects_of(&self, project: ProjectId) -> Result<BTreeMap<TaskId, DavObject>> {
        Ok(self
            .store
            .dav_objects(project)
            .await?
            .into_iter()
            .map(|object| (object.task_id, object))
            .collect())
    }

    /// The task a resource name stands for in a calendar, if any.
    async fn dav_task(
        &self,
        user_id: &UserId,
        project: ProjectId,
        name: &str,
    ) -> Result<Option<Task>> {
        let id = match self.store.dav_task_named(project, name).await? {
            Some(id) => Some(id),
            None => task_of_default_name(name),
        };
        let Some(id) = id else { return Ok(None) };
        match self.get_task(user_id, id).await {
            Ok(task) if task.project_id == project => Ok(Some(task)),
            Ok(_) | Err(Error::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// One resource (404 when the calendar has no such name).
    pub async fn dav_resource(
        &self,
        user_id: &UserId,
        project: ProjectId,
        name: &str,
    ) -> Result<Resource> {
        self.get_project(user_id, project).await?;
        let task = self
            .dav_task(user_id, project, name)
            .await?
            .ok_or(Error::NotFound("resource"))?;
        let tz = self.time_zone(user_id).await?;
        Ok(resource(&task, tz, &self.dav_objects_of(project).await?))
    }

    /// Creates or replaces the task a resource stands for from a VTODO; whether it was new.
    /// A write is a task write: roles, events, webhooks, reminders and recurrence as anywhere
    /// (completing a recurring task from a client moves it to its next due).
    pub async fn dav_put(
        &self,
        user_id: &UserId,
        project: ProjectId,
        name: &str,
        body: &str,
        precondition: &Precondition,
    ) -> Result<(Resource, bool)> {
        if name.is_empty() || name.len() > 255 || name.contains('/') {
            return Err(Error::invalid("name", "1–255 characters, no '/'"));
        }
        let calendar = self.get_project(user_id, project).await?;
        if calendar.role == Role::Viewer {
            return Err(Error::InsufficientRole(
                "a project's viewer may not change its tasks".into(),
            ));
        }
        let tz = self.time_zone(user_id).await?;
        let objects = self.dav_objects_of(project).await?;
        let existing = self.dav_task(user_id, project, name).await?;
        precondition.check(
            existing
                .as_ref()
                .map(|t| resource(t, tz, &objects))
                .as_ref(),
        )?;
        let mut parsed = parse_vtodo(body)?;
        // One resource per UID in a calendar (RFC 4791 `no-uid-conflict`): a second name for
        // the same task, or a retried PUT whose first answer was lost, makes no second task.
        let uid_elsewhere = objects
            .values()
            .any(|o| o.uid == parsed.uid && Some(o.task_id) != existing.as_ref().map(|t| t.id));
        let default_elsewhere = match task_of_default_name(&format!("{}.ics", parsed.uid)) {
            Some(id) if Some(id) != existing.as_ref().map(|t| t.id) => self
                .dav_task(user_id, project, &default_name(id))
                .await?
                .is_some(),
            _ => false,
        };
        if uid_elsewhere || default_elsewhere {
            return Err(Error::Conflict(format!(
                "another resource of this calendar has UID {}",
                parsed.uid
            )));
        }
        if let Some(parent) = &parsed.parent_uid {
            let by_uid = objects
                .values()
                .find(|o| &o.uid == parent)
                .map(|o| o.task_id)
                .or_else(|| task_of_default_name(&format!("{parent}.ics")));
            match by_uid {
                Some(id) if Some(id) != existing.as_ref().map(|t| t.id) => {
                    parsed.input.parent_id = Some(id);
                }
                // A parent todo does not know is kept as the client wrote it.
                _ => parsed
                    .extra
                    .push_str(&format!("RELATED-TO;RELTYPE=PARENT:{parent}\r\n")),
            }
        }
        parsed.input.project_id = Some(project);
        let created = existing.is_none();
        let task = match existing {
            Some(task) => self.replace_task(user_id, task.id, parsed.input).await?,
            None => self.create_task(user_id, parsed.input).await?,
        };
        let object = DavObject {
            task_id: task.id,
            name: name.to_owned(),
            uid: parsed.uid,
            extra: parsed.extra,
        };
        let plain = object.name == default_name(task.id)
            && object.uid == feed_uid(task.id)
            && object.extra.is_empty();
        if !plain || objects.contains_key(&task.id) {
            self.store.put_dav_object(&object).await?;
        }
        let mut objects = objects;
        objects.insert(task.id, object);
        Ok((resource(&task, tz, &objects), created))
    }

    /// Deletes the task a resource stands for.
    pub async fn dav_delete(
        &self,
        user_id: &UserId,
        project: ProjectId,
        name: &str,
        precondition: &Precondition,
    ) -> Result<()> {
        self.get_project(user_id, project).await?;
        let task = self
            .dav_task(user_id, project, name)
            .await?
            .ok_or(Error::NotFound("resource"))?;
        if *precondition != Precondition::None {
            let tz = self.time_zone(user_id).await?;
            let objects = self.dav_objects_of(project).await?;
            precondition.check(Some(&resource(&task, tz, &objects)))?;
        }
        self.delete_task(user_id, task.id).await
    }

    /// What changed in a calendar since `token` (RFC 6578): the resources changed and the
    /// names of those gone. A token that is too old, or too much change, is refused with
    /// [`Error::PreconditionFailed`]: the client then reads the calendar in full.
    pub async fn dav_changes(
        &self,
        user_id: &UserId,
        project: ProjectId,
        token: SyncToken,
    ) -> Result<Changes> {
        self.get_project(user_id, project).await?;
        if now().timestamp() - token.issued > SYNC_TOKEN_LIFETIME.num_seconds() {
            return Err(Error::PreconditionFailed("the sync token has expired"));
        }
        let latest = self.sync_token(user_id).await?;
        let mut touched = BTreeSet::new();
        let mut after = token.event;
        let mut read = 0;
        loop {
            let events = self
                .store
                .events_after(user_id, after, crate::events::EVENT_PAGE)
                .await?;
            let Some(last) = events.last() else { break };
            after = last.id;
            read += events.len();
            for event in &events {
                // A task's events in this calendar; a move may have taken it out of it.
                if event.project_id == Some(project)
                    || event.action == crate::events::Activity::Moved
                {
                    touched.insert(event.task_id);
                }
            }
            if read > MAX_SYNC_EVENTS {
                return Err(Error::PreconditionFailed(
                    "too much changed since the sync token",
                ));
            }
            if after >= latest.event {
                break;
            }
        }
        let tz = self.time_zone(user_id).await?;
        let objects = self.dav_objects_of(project).await?;
        let mut changes = Changes {
            changed: Vec::new(),
            gone: Vec::new(),
            token: SyncToken {
                event: after.max(latest.event),
                issued: latest.issued,
            },
        };
        for id in touched {
            match self.get_task(user_id, id).await {
                Ok(task) if task.project_id == project => {
                    changes.changed.push(resource(&task, tz, &objects));
                }
                Ok(_) | Err(Error::NotFound(_)) => {
                    let name = match self.store.dav_object(id).await? {
                        Some(object) => object.name,
                        None => default_name(id),
                    };
                    changes.gone.push(name);
                }
                Err(err) => return Err(err),
            }
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_task() -> Task {
        crate::calendar::tests::task(7, "Sample")
    }

    const APPLE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//iOS 17.0//EN\r\n\
BEGIN:VTODO\r\nCREATED:20261201T090000Z\r\nDTSTAMP:20261201T090000Z\r\n\
UID:6C1F3B2E-1B7A-4E8F-9C0D-2A3B4C5D6E7F\r\nSUMMARY:Buy milk\\, eggs\r\n\
DESCRIPTION:Two litres\\nand a dozen\r\nPRIORITY:1\r\n\
DUE;TZID=Europe/Paris:20261208T170000\r\nSTATUS:NEEDS-ACTION\r\n\
X-APPLE-SORT-ORDER:28\r\nCATEGORIES:Shopping,Home\r\n\
BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\n\
END:VTODO\r\nEND:VCALENDAR\r\n";

    #[test]
    fn an_apple_reminder_reads_as_a_task_and_keeps_what_todo_does_not_model() {
        let parsed = parse_vtodo(APPLE).expect("parsed");
        assert_eq!(parsed.uid, "6C1F3B2E-1B7A-4E8F-9C0D-2A3B4C5D6E7F");
        assert_eq!(parsed.input.title, "Buy milk, eggs");
        assert_eq!(
            parsed.input.description.as_deref(),
            Some("Two litres\nand a dozen")
        );
        assert_eq!(parsed.input.priority, Some(Priority::Urgent));
        assert_eq!(
            parsed.input.due_local.map(|w| w.0.to_string()),
            Some("2026-12-08 17:00:00".to_owned())
        );
        assert_eq!(parsed.input.due_timezone.as_deref(), Some("Europe/Paris"));
        assert_eq!(parsed.input.completed, Some(false));
        assert_eq!(
            parsed.input.tags,
            Some(vec!["Home".to_owned(), "Shopping".to_owned()])
        );
        assert_eq!(
            parsed.input.reminders,
            Some(vec![ReminderInput {
                remind_at: None,
                minutes_before: Some(15)
            }])
        );
        assert_eq!(parsed.extra, "X-APPLE-SORT-ORDER:28\r\n");
    }

    #[test]
    fn completion_dates_recurrence_and_parents_are_read() {
        let body = "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:Rent\r\n\
DUE;VALUE=DATE:20261201\r\nDTSTART;VALUE=DATE:20261201\r\nRRULE:FREQ=MONTHLY\r\n\
STATUS:COMPLETED\r\nCOMPLETED:20261201T100000Z\r\nRELATED-TO:parent-uid\r\n\
X-MOZ-GENERATION:3\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
        let parsed = parse_vtodo(body).expect("parsed");
        assert_eq!(parsed.input.due_date, NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(parsed.input.recurrence.as_deref(), Some("FREQ=MONTHLY"));
        assert_eq!(parsed.input.completed, Some(true));
        assert_eq!(parsed.parent_uid.as_deref(), Some("parent-uid"));
        assert_eq!(
            parsed.extra, "X-MOZ-GENERATION:3\r\n",
            "DTSTART of a series is todo's"
        );
    }

    #[test]
    fn in_progress_and_a_start_date_are_kept_as_the_client_wrote_them() {
        let body = "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:b\r\nSUMMARY:Draft\r\n\
DTSTART:20261201T090000Z\r\nSTATUS:IN-PROCESS\r\nPERCENT-COMPLETE:40\r\n\
END:VTODO\r\nEND:VCALENDAR\r\n";
        let parsed = parse_vtodo(body).expect("parsed");
        assert_eq!(parsed.input.completed, Some(false));
        assert_eq!(
            parsed.extra,
            "DTSTART:20261201T090000Z\r\nSTATUS:IN-PROCESS\r\n"
        );
    }

    #[test]
    fn anything_but_one_vtodo_is_refused() {
        for body in [
            "not a calendar",
            "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:no uid\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:1\r\nEND:VTODO\r\nBEGIN:VTODO\r\nUID:2\r\n\
END:VTODO\r\nEND:VCALENDAR\r\n",
        ] {
            assert!(
                matches!(parse_vtodo(body), Err(Error::Validation(_))),
                "{body}"
            );
        }
        let huge = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:h\r\nX-BIG:{}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
            "x".repeat(MAX_EXTRA_BYTES)
        );
        assert!(matches!(parse_vtodo(&huge), Err(Error::Validation(_))));
    }

    #[test]
    fn priorities_and_durations_map_both_ways() {
        for level in [
            Priority::Urgent,
            Priority::High,
            Priority::Medium,
            Priority::Low,
        ] {
            let written = crate::calendar::ical_priority(level).expect("a level");
            assert_eq!(priority(&written.to_string()), level);
        }
        assert_eq!(priority("0"), Priority::None);
        assert_eq!(duration_minutes("-PT1H30M"), Some(-90));
        assert_eq!(duration_minutes("-P1D"), Some(-1440));
        assert_eq!(duration_minutes("PT0S"), Some(0));
        assert_eq!(duration_minutes("-PXM"), None);
    }

    #[test]
    fn a_written_task_reads_back_the_same_with_its_extra_lines() {
        let parsed = parse_vtodo(APPLE).expect("parsed");
        let task = Task {
            title: parsed.input.title.clone(),
            description: parsed.input.description.clone(),
            priority: Priority::Urgent,
            due_at: Some(sample_task().created_at),
            due_local: parsed.input.due_local.map(|w| w.0),
            due_timezone: parsed.input.due_timezone.clone(),
            tags: vec!["Home".into(), "Shopping".into()],
            ..sample_task()
        };
        let object = DavObject {
            task_id: task.id,
            name: "6C1F.ics".into(),
            uid: parsed.uid.clone(),
            extra: parsed.extra.clone(),
        };
        let objects = BTreeMap::from([(task.id, object)]);
        let written = resource(&task, Tz::Europe__Paris, &objects);
        assert_eq!(written.name, "6C1F.ics");
        let again = parse_vtodo(&written.ics).expect("reads back");
        assert_eq!(again.uid, parsed.uid);
        assert_eq!(again.input.title, parsed.input.title);
        assert_eq!(again.input.description, parsed.input.description);
        assert_eq!(again.input.due_local, parsed.input.due_local);
        assert_eq!(again.input.due_timezone, parsed.input.due_timezone);
        assert_eq!(again.input.tags, parsed.input.tags);
        assert_eq!(again.extra, parsed.extra, "{}", written.ics);
        assert_eq!(
            written.etag,
            resource(&task, Tz::Europe__Paris, &objects).etag
        );
    }

    #[test]
    fn sync_tokens_read_back_and_refuse_strangers() {
        let token = SyncToken {
            event: 42,
            issued: 1_800_000_000,
        };
        assert_eq!(token.to_string().parse::<SyncToken>(), Ok(token));
        assert!("http://example.com/1-2".parse::<SyncToken>().is_err());
        assert!(format!("{TOKEN_PREFIX}x-1").parse::<SyncToken>().is_err());
        assert_eq!(
            task_of_default_name(&default_name(TaskId::new(9))),
            Some(TaskId::new(9))
        );
        assert_eq!(task_of_default_name("task-x@todo.ics"), None);
    }

    const TASKS_ORG: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
PRODID:+//IDN tasks.org//android-130803//EN\r\nBEGIN:VTODO\r\nDTSTAMP:20261201T080000Z\r\n\
UID:6245375832964720914\r\nCREATED:20261201T080000Z\r\nLAST-MODIFIED:20261201T080000Z\r\n\
SUMMARY:Water the plants\r\nPRIORITY:9\r\nDUE;VALUE=DATE:20261209\r\n\
RRULE:FREQ=WEEKLY;INTERVAL=2\r\nX-APPLE-SORT-ORDER:731568\r\n\
BEGIN:VALARM\r\nTRIGGER;RELATED=END:PT0S\r\nACTION:DISPLAY\r\n\
DESCRIPTION:Default Tasks.org description\r\nEND:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

    const THUNDERBIRD: &str = "BEGIN:VCALENDAR\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar \
V1.1//EN\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n\
TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nDTSTART:19701025T030000\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\nBEGIN:VTODO\r\nCREATED:20261201T090000Z\r\nLAST-MODIFIED:20261201T090000Z\r\n\
DTSTAMP:20261201T090000Z\r\nUID:0d5ba2c2-0b39-4a8f-9d8e-2f7a1bdc9a11\r\nSUMMARY:Tax return\r\n\
PRIORITY:5\r\nSTATUS:IN-PROCESS\r\nPERCENT-COMPLETE:30\r\nCLASS:PUBLIC\r\nSEQUENCE:2\r\n\
DTSTART;TZID=Europe/Berlin:20261205T090000\r\nDUE;TZID=Europe/Berlin:20261210T180000\r\n\
X-MOZ-GENERATION:2\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DURATION:-PT1H\r\n\
DESCRIPTION:Default Mozilla Description\r\nEND:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

    #[test]
    fn a_tasks_org_task_reads_with_its_series_and_its_alarm_at_the_due() {
        let parsed = parse_vtodo(TASKS_ORG).expect("parsed");
        assert_eq!(parsed.input.title, "Water the plants");
        assert_eq!(parsed.input.priority, Some(Priority::Low));
        assert_eq!(parsed.input.due_date, NaiveDate::from_ymd_opt(2026, 12, 9));
        assert_eq!(
            parsed.input.recurrence.as_deref(),
            Some("FREQ=WEEKLY;INTERVAL=2")
        );
        assert_eq!(
            parsed.input.reminders,
            Some(vec![ReminderInput {
                remind_at: None,
                minutes_before: Some(0)
            }])
        );
        assert_eq!(parsed.extra, "X-APPLE-SORT-ORDER:731568\r\n");
    }

    #[test]
    fn a_thunderbird_task_in_progress_keeps_its_state_start_and_mozilla_lines() {
        let parsed = parse_vtodo(THUNDERBIRD).expect("parsed");
        assert_eq!(parsed.input.title, "Tax return");
        assert_eq!(parsed.input.priority, Some(Priority::Medium));
        assert_eq!(parsed.input.completed, Some(false));
        assert_eq!(parsed.input.due_timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            parsed.input.reminders,
            Some(vec![ReminderInput {
                remind_at: None,
                minutes_before: Some(60)
            }])
        );
        assert_eq!(
            parsed.extra,
            "STATUS:IN-PROCESS\r\nCLASS:PUBLIC\r\nSEQUENCE:2\r\n\
             DTSTART;TZID=Europe/Berlin:20261205T090000\r\nX-MOZ-GENERATION:2\r\n"
        );
    }

    #[test]
    fn a_time_range_holds_timed_and_all_day_dues_and_every_task_without_one() {
        let at = |d: u32, h: u32| {
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, d, h, 0, 0)
                .single()
                .expect("time")
        };
        let december = TimeRange {
            start: Some(at(10, 0)),
            end: Some(at(20, 0)),
        };
        let mut task = sample_task();
        assert!(december.holds(&task), "no due: every range");
        task.due_at = Some(at(15, 9));
        assert!(december.holds(&task));
        task.due_at = Some(at(20, 0));
        assert!(!december.holds(&task), "the end is exclusive");
        task.due_at = None;
        task.due_date = NaiveDate::from_ymd_opt(2026, 12, 9);
        assert!(december.holds(&task), "a day's slack for the zones");
        task.due_date = NaiveDate::from_ymd_opt(2026, 12, 5);
        assert!(!december.holds(&task));
        assert!(TimeRange::default().holds(&task));
    }

    #[test]
    fn apple_s_colours_lose_their_alpha() {
        assert_eq!(calendar_color(" #FF2968FF "), "#ff2968");
        assert_eq!(calendar_color("#00aaff"), "#00aaff");
    }

    proptest::proptest! {
        /// Whatever a client sends, reading it is an answer, never a panic.
        #[test]
        fn any_body_reads_or_is_refused(body in "(BEGIN:VCALENDAR\r\n)?(BEGIN:VTODO\r\n)?[A-Z;=:\\-]{0,12}(:[ -~]{0,30})?(\r\n)?(END:VTODO\r\n)?(END:VCALENDAR\r\n)?") {
            let _ = parse_vtodo(&body);
        }

        #[test]
        fn a_sample_cut_anywhere_reads_or_is_refused(cut in 0usize..THUNDERBIRD.len()) {
            let _ = parse_vtodo(&THUNDERBIRD[..cut]);
            let _ = parse_vtodo(&TASKS_ORG[..cut.min(TASKS_ORG.len())]);
        }
    }
}
