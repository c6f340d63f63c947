//! Task and tag use cases, shared by every interface.

use chrono::Utc;
use chrono_tz::Tz;

use crate::Todo;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::page::{Cursor, ListTasksRequest, MAX_LIMIT, Page, TaskQuery};
use crate::patch::Patch;
use crate::placement::MoveInput;
use crate::planning::WriteContext;
use crate::project::{Action, ProjectId, Role, SectionId};
use crate::quick;
use crate::reminders::ReminderInput;
use crate::tag::{Tag, TagId, TagInput, TagPatchInput};
use crate::task::{
    DueChange, NewTask, Priority, Task, TaskChanges, TaskId, TaskInput, TaskPatchInput,
};
use crate::time::{WallClock, now};
use crate::transfer::Progress;

const NOT_FOUND: Error = Error::NotFound("task");
const QUICK_TEXT_MAX_CHARS: usize = 500;

/// The body of a quick add (and of its preview, `parse`).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct QuickInput {
    /// One line, e.g. "Call mom tomorrow 6pm every sunday #Family @phone p1 remind me 30 min
    /// before"; at most 500 characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub text: String,
    /// The project the task goes to unless the text names one with `#Project` (default: the
    /// Inbox); `/Section` is looked up in it.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    /// A section of that project, unless the text names one with `/Section`.
    #[serde(default)]
    pub section_id: Option<SectionId>,
    /// Adds the task as a subtask of this one (in its project and section).
    #[serde(default)]
    pub parent_id: Option<TaskId>,
}

/// An earlier occurrence of a recurring task, as completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringCompletion {
    pub task_id: TaskId,
    pub title: String,
    pub completed_at: chrono::DateTime<Utc>,
    /// The due the occurrence had.
    pub due: crate::task::Due,
}

/// A project or section as quick add picked it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Picked<Id> {
    pub id: Id,
    pub name: String,
}

/// What quick add would make of a line, without making it (for a live preview).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct QuickPreview {
    pub title: String,
    pub priority: Priority,
    /// A day, for an all-day due.
    pub due_date: Option<chrono::NaiveDate>,
    /// The wall-clock time of a timed due, in the user's zone.
    #[serde(serialize_with = "crate::time::serialize_local_option")]
    #[schema(value_type = Option<String>)]
    pub due_local: Option<chrono::NaiveDateTime>,
    /// The moment it stands for now.
    #[serde(serialize_with = "crate::time::serialize_json_option")]
    pub due_at: Option<chrono::DateTime<Utc>>,
    pub tags: Vec<String>,
    /// An RRULE.
    pub recurrence: Option<String>,
    pub recurrence_mode: crate::recurrence::RecurrenceMode,
    #[schema(value_type = Option<Object>)]
    pub project: Option<Picked<ProjectId>>,
    #[schema(value_type = Option<Object>)]
    pub section: Option<Picked<SectionId>>,
    pub reminders: Vec<ReminderInput>,
    /// What the text asked for that cannot be done (a section the project does not have);
    /// quick add refuses the text while there is any.
    pub problems: Vec<String>,
}

/// The most tasks one "Reschedule to today" moves.
const MAX_RESCHEDULED: usize = 5_000;

impl Todo {
    /// The user's time zone, which places all-day dates and date filters.
    pub async fn time_zone(&self, user_id: &UserId) -> Result<Tz> {
        if let Some(tz) = self.zones.get(user_id.as_str()) {
            return Ok(tz);
        }
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let tz = user.timezone.parse().unwrap_or(Tz::UTC);
        self.zones.put(user.id.into_inner(), tz, None);
        Ok(tz)
    }

    /// Every task matching `query` (its limit and cursor aside), page by page in its order, up
    /// to `max`. `tz` places all-day tasks in due-order cursors.
    pub(crate) async fn collect_tasks(
        &self,
        user_id: &UserId,
        mut query: TaskQuery,
        tz: Tz,
        max: usize,
        progress: Progress<'_>,
    ) -> Result<Vec<Task>> {
        let mut tasks = Vec::new();
        query.limit = MAX_LIMIT;
        while tasks.len() < max {
            let limit = query
                .limit
                .min(u32::try_from(max - tasks.len()).unwrap_or(u32::MAX));
            let slice = self.store.list_tasks(user_id, &query, limit).await?;
            let full = slice.tasks.len() == limit as usize;
            query.after = slice
                .tasks
                .last()
                .map(|last| Cursor::after(last, &query.sort, tz));
            tasks.extend(slice.tasks);
            progress(tasks.len() as u64, slice.total.max(tasks.len() as u64));
            if !full {
                break;
            }
        }
        Ok(tasks)
    }

    /// The time zone when `needed`, else UTC without a lookup.
    async fn time_zone_if(&self, user_id: &UserId, needed: bool) -> Result<Tz> {
        if needed {
            self.time_zone(user_id).await
        } else {
            Ok(Tz::UTC)
        }
    }

    pub async fn create_task(&self, user_id: &UserId, input: TaskInput) -> Result<Task> {
        let tz = self.time_zone_if(user_id, input.needs_time_zone()).await?;
        let task = input.validate(tz)?;
        self.insert(user_id, &task).await
    }

    /// Stores a validated task and counts it; every way of adding a task comes through here.
    pub(crate) async fn insert(&self, user_id: &UserId, task: &NewTask) -> Result<Task> {
        let task = self.store.insert_task(user_id, task, now()).await?;
        crate::metrics::task_created();
        Ok(task)
    }

    /// Adds a task from one line of text, read in the user's time zone (see [`crate::quick`]).
    pub async fn quick_add(&self, user_id: &UserId, input: QuickInput) -> Result<Task> {
        let task = self.quick_task(user_id, &input).await?;
        self.insert(user_id, &task).await
    }

    /// Quick add carrying the client's own key for it (the web app's offline queue): sent
    /// again after an answer that was lost, it adds nothing and answers `None` ("already
    /// saved"). The key is kept as the task's import key, which the store keeps unique per
    /// user.
    pub async fn quick_add_once(
        &self,
        user_id: &UserId,
        input: QuickInput,
        key: &ClientKey,
    ) -> Result<Option<Task>> {
        let mut task = self.quick_task(user_id, &input).await?;
        task.import_key = Some(key.import_key());
        match self.insert(user_id, &task).await {
            Ok(task) => Ok(Some(task)),
            Err(Error::Conflict(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The task a quick add makes, checked, not yet stored.
    async fn quick_task(&self, user_id: &UserId, input: &QuickInput) -> Result<NewTask> {
        let (task, preview) = self.read_quick(user_id, input).await?;
        if let Some(problem) = preview.problems.first() {
            return Err(Error::invalid("text", problem.clone()));
        }
        if task.title.trim().is_empty() {
            return Err(Error::invalid(
                "text",
                "needs a title besides its date, tags and priority",
            ));
        }
        let tz = self.time_zone(user_id).await?;
        task.validate(tz)
    }

    /// What quick add would make of `input`, without making it.
    pub async fn parse_quick(&self, user_id: &UserId, input: &QuickInput) -> Result<QuickPreview> {
        Ok(self.read_quick(user_id, input).await?.1)
    }

    /// A quick-add line read in the user's time zone among their open projects' names, after
    /// the checks every quick line gets (length, storable text): quick add, its preview and an
    /// inline edit read lines alike.
    async fn read_line(&self, user_id: &UserId, text: &str) -> Result<QuickLine> {
        if text.chars().count() > QUICK_TEXT_MAX_CHARS {
            return Err(Error::invalid(
                "text",
                format!("must be at most {QUICK_TEXT_MAX_CHARS} characters"),
            ));
        }
        crate::validation::storable_text(text).map_err(|e| Error::invalid("text", e))?;
        let tz = self.time_zone(user_id).await?;
        let projects = self.store.list_projects(user_id).await?;
        let names: Vec<&str> = projects
            .iter()
            .filter(|p| !p.archived)
            .map(|p| p.name.as_str())
            .collect();
        let parsed = quick::parse(text, Utc::now().with_timezone(&tz), &names);
        Ok(QuickLine {
            parsed,
            projects,
            tz,
        })
    }

    /// The section of `project` with this name, in any case.
    async fn section_named(
        &self,
        user_id: &UserId,
        project: ProjectId,
        name: &str,
    ) -> Result<Option<crate::project::Section>> {
        let sections = self
            .store
            .list_sections(user_id, project)
            .await?
            .unwrap_or_default();
        Ok(sections
            .into_iter()
            .find(|s| s.name.to_lowercase() == name.to_lowercase()))
    }

    /// Reads a quick add (see [`crate::quick`]) in the user's time zone, `#Project` among
    /// their projects that are not archived and `/Section` among the chosen project's sections.
    async fn read_quick(
        &self,
        user_id: &UserId,
        input: &QuickInput,
    ) -> Result<(TaskInput, QuickPreview)> {
        let QuickLine {
            parsed,
            projects,
            tz,
        } = self.read_line(user_id, &input.text).await?;
        let named = named_project(&projects, parsed.project.as_deref());
        // Under a parent or in a section, their project unless the text or the input names
        // one (then they must agree, as for any new task).
        let placed = input.parent_id.is_some() || input.section_id.is_some();
        let project = match (named, input.project_id) {
            (Some(project), _) => Some(project),
            (None, Some(id)) => Some(
                projects
                    .iter()
                    .find(|p| p.id == id)
                    .ok_or_else(|| Error::invalid("project_id", "no such project"))?,
            ),
            (None, None) if placed => None,
            (None, None) => projects.iter().find(|p| p.inbox),
        };
        let mut problems = Vec::new();
        let section = match (&parsed.section, project) {
            (Some(name), Some(project)) => {
                let found = self.section_named(user_id, project.id, name).await?;
                if found.is_none() {
                    problems.push(format!("{} has no section named {name:?}", project.name));
                }
                found
            }
            _ => None,
        };
        let preview_due = crate::task::DueChange::new(parsed.due, None, tz);
        let preview = QuickPreview {
            title: parsed.title.clone(),
            priority: parsed.priority.unwrap_or_default(),
            due_date: parsed.due.date(),
            due_local: preview_due.local,
            due_at: parsed.due.at(),
            tags: parsed.tags.clone(),
            recurrence: parsed.recurrence.as_ref().map(ToString::to_string),
            recurrence_mode: parsed.recurrence_mode,
            project: project.map(|p| Picked {
                id: p.id,
                name: p.name.clone(),
            }),
            section: section.as_ref().map(|s| Picked {
                id: s.id,
                name: s.name.clone(),
            }),
            reminders: parsed.reminders.iter().map(ReminderInput::from).collect(),
            problems,
        };
        let task = TaskInput {
            title: parsed.title,
            description: None,
            priority: parsed.priority,
            due_at: parsed.due.at(),
            due_date: parsed.due.date(),
            tags: Some(parsed.tags),
            recurrence: parsed.recurrence.map(|rule| rule.to_string()),
            recurrence_mode: Some(parsed.recurrence_mode),
            reminders: Some(preview.reminders.clone()),
            project_id: project.map(|p| p.id),
            section_id: section.map(|s| s.id).or(input.section_id),
            parent_id: input.parent_id,
            ..TaskInput::default()
        };
        Ok((task, preview))
    }

    pub async fn get_task(&self, user_id: &UserId, id: TaskId) -> Result<Task> {
        self.store.get_task(user_id, id).await?.ok_or(NOT_FOUND)
    }

    pub async fn list_tasks(
        &self,
        user_id: &UserId,
        request: &ListTasksRequest,
    ) -> Result<Page<Task>> {
        let tz = self
            .time_zone_if(user_id, request.needs_time_zone())
            .await?;
        let query = request.validate(tz, now())?;
        // One extra row tells whether another page follows.
        let slice = self
            .store
            .list_tasks(user_id, &query, query.limit + 1)
            .await?;
        let mut items = slice.tasks;
        let next = if items.len() > query.limit as usize {
            items.truncate(query.limit as usize);
            items
                .last()
                .map(|last| Cursor::after(last, &query.sort, tz))
        } else {
            None
        };
        let total = slice.total;
        Ok(Page { items, next, total })
    }

    pub async fn replace_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        mut input: TaskInput,
    ) -> Result<Task> {
        // A task read back and sent whole carries its place: the same place is no move.
        if input.project_id.is_some() || input.section_id.is_some() || input.parent_id.is_some() {
            let current = self.get_task(user_id, id).await?;
            if input.project_id.is_none_or(|p| p == current.project_id)
                && input
                    .section_id
                    .is_none_or(|s| Some(s) == current.section_id)
                && input.parent_id.is_none_or(|p| Some(p) == current.parent_id)
            {
                input.project_id = None;
                input.section_id = None;
                input.parent_id = None;
            }
        }
        // The zone places the due an undo of a recurring completion puts back.
        let needs_tz = input.needs_time_zone() || input.completed.is_some();
        let tz = self.time_zone_if(user_id, needs_tz).await?;
        self.apply(user_id, id, input.validate_as_replacement(tz)?, tz)
            .await
    }

    pub async fn patch_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        input: TaskPatchInput,
    ) -> Result<Task> {
        if input.is_empty() {
            // Someone else's task (or none) is a 404 whatever the body says.
            self.get_task(user_id, id).await?;
            return Err(Error::invalid(
                "body",
                "nothing to change: give at least one field",
            ));
        }
        // The zone places a recurring task's next due, and the due an undo puts back.
        let needs_tz = input.needs_time_zone() || !input.completed.is_missing();
        let tz = self.time_zone_if(user_id, needs_tz).await?;
        let current_due = if input.needs_current_due() {
            self.get_task(user_id, id).await?.stored_due(tz)
        } else {
            DueChange::default()
        };
        self.apply(user_id, id, input.validate(tz, current_due)?, tz)
            .await
    }

    async fn apply(
        &self,
        user_id: &UserId,
        id: TaskId,
        changes: TaskChanges,
        tz: Tz,
    ) -> Result<Task> {
        let context = WriteContext { now: now(), tz };
        let task = self
            .store
            .update_task(user_id, id, &changes, &context)
            .await?
            .ok_or(NOT_FOUND)?;
        if changes.completed == Some(true) && task.completed_at == Some(context.now) {
            crate::metrics::task_completed();
        }
        Ok(task)
    }

    /// Sets completion to `completed`, or toggles it when `None`.
    pub async fn complete_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        completed: Option<bool>,
    ) -> Result<Task> {
        // The zone places the next occurrence of a recurring task.
        let tz = self.time_zone(user_id).await?;
        let context = WriteContext { now: now(), tz };
        let task = self
            .store
            .set_task_completed(user_id, id, completed, &context)
            .await?
            .ok_or(NOT_FOUND)?;
        // Completing a completed task keeps its first `completed_at`: count it once.
        if task.completed && task.completed_at == Some(context.now) {
            crate::metrics::task_completed();
        }
        Ok(task)
    }

    /// The latest earlier occurrences of the user's recurring tasks (a recurring task stays one
    /// open task; its completions are its history), newest first, at most `limit` (≤ 500).
    pub async fn recurring_completions(
        &self,
        user_id: &UserId,
        limit: u32,
    ) -> Result<Vec<RecurringCompletion>> {
        let rows = self
            .store
            .recurring_completions(user_id, limit.min(MAX_LIMIT))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(task_id, title, completion)| RecurringCompletion {
                task_id,
                title,
                completed_at: completion.completed_at,
                due: completion.due.due,
            })
            .collect())
    }

    /// An inline title edit read as quick add reads a line, as Todoist's smart edit does:
    /// "Call mum tomorrow #Home p1" renames the task "Call mum", makes it due tomorrow, moves
    /// it to the project Home and sets priority 1. What the text does not say is kept; its
    /// `#tags`/`@labels` are added to the task's own (see [`edit_from_quick`]). The full edit
    /// form's title is taken as typed.
    pub async fn quick_edit(&self, user_id: &UserId, id: TaskId, text: &str) -> Result<Task> {
        let QuickLine {
            parsed,
            projects,
            tz,
        } = self.read_line(user_id, text).await?;
        let current = self.get_task(user_id, id).await?;
        if parsed.title.trim().is_empty() {
            return Err(Error::invalid(
                "text",
                "needs a title besides its date, tags and priority",
            ));
        }
        let named = named_project(&projects, parsed.project.as_deref());
        let project_id = named.map_or(current.project_id, |p| p.id);
        let section = match &parsed.section {
            Some(name) => {
                let Some(found) = self.section_named(user_id, project_id, name).await? else {
                    let project = projects.iter().find(|p| p.id == project_id);
                    let project = project.map_or("the project", |p| p.name.as_str());
                    return Err(Error::invalid(
                        "text",
                        format!("{project} has no section named {name:?}"),
                    ));
                };
                Some(found.id)
            }
            None => None,
        };
        // Checked whole before anything is saved: a refused change (a title too long) must
        // not leave the task moved, nor a refused move leave it renamed.
        let patch = edit_from_quick(&parsed, &current.tags);
        patch.clone().validate(tz, current.stored_due(tz))?;
        let moves = project_id != current.project_id
            || section.is_some_and(|s| Some(s) != current.section_id);
        if moves {
            let to = MoveInput {
                project_id: (project_id != current.project_id).then_some(project_id),
                section_id: section,
                ..MoveInput::default()
            };
            self.move_task(user_id, id, to).await?;
        }
        self.patch_task(user_id, id, patch).await
    }

    /// Moves the task (with its subtasks) to another project, section or parent, or to
    /// another index among its siblings.
    pub async fn move_task(&self, user_id: &UserId, id: TaskId, to: MoveInput) -> Result<Task> {
        self.store
            .move_task(user_id, id, &to, now())
            .await?
            .ok_or(NOT_FOUND)
    }

    pub async fn delete_task(&self, user_id: &UserId, id: TaskId) -> Result<()> {
        if self.store.delete_task(user_id, id).await? {
            Ok(())
        } else {
            Err(NOT_FOUND)
        }
    }

    /// When the owner's zone changes, their dues keep their clock time: all-day tasks fall
    /// due at the end of their day in the new zone (only the stored key moves), and timed
    /// dues that float stay 09:30 on the new clock, which moves their moment and their
    /// relative reminders (each an ordinary update, with its event).
    pub(crate) async fn retime_tasks(&self, user_id: &UserId, tz: Tz) -> Result<()> {
        let dates = self.store.all_day_due_dates(user_id).await?;
        let keys: Vec<_> = dates
            .into_iter()
            .map(|(id, date)| (id, crate::task::end_of_day(date, tz)))
            .collect();
        self.store.set_due_keys(user_id, &keys).await?;
        let context = WriteContext { now: now(), tz };
        // A task already on this zone's clock is left alone, so saving the profile again
        // changes nothing, and finishes a retime that an error cut short.
        for (id, local, at) in self.store.floating_dues(user_id).await? {
            let due = DueChange::local(local, None, tz);
            if due.due.at() == Some(at) {
                continue;
            }
            let changes = TaskChanges {
                due: Some(due),
                reminder_anchor: Some(crate::reminders::anchor(&due.due, tz)),
                ..TaskChanges::default()
            };
            self.store
                .update_task(user_id, id, &changes, &context)
                .await?;
        }
        Ok(())
    }

    pub async fn list_tags(&self, user_id: &UserId) -> Result<Vec<Tag>> {
        self.store.list_tags(user_id).await
    }

    pub async fn create_tag(&self, user_id: &UserId, input: TagInput) -> Result<Tag> {
        let (name, color) = input.validate()?;
        self.store
            .insert_tag(user_id, &name, color.as_deref(), now())
            .await
    }

    pub async fn update_tag(
        &self,
        user_id: &UserId,
        id: TagId,
        input: TagPatchInput,
    ) -> Result<Tag> {
        let changes = input.validate()?;
        self.store
            .update_tag(user_id, id, &changes)
            .await?
            .ok_or(Error::NotFound("tag"))
    }

    /// Deletes the tag and takes it off every task.
    pub async fn delete_tag(&self, user_id: &UserId, id: TagId) -> Result<()> {
        if self.store.delete_tag(user_id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("tag"))
        }
    }
}

/// Most ids one bulk request may name.
pub const MAX_BULK_IDS: usize = 500;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BulkAction {
    Complete,
    Reopen,
    Delete,
    /// To the project `project_id` (top level, last), with subtasks.
    Move,
    /// To the day `due_date` (`null`: no date); see [`due_on_day`].
    Reschedule,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkInput {
    pub action: BulkAction,
    /// 1–500 task ids; repeats are acted on once.
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<TaskId>,
    /// `move`: the project the tasks go to.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    /// `reschedule`: the day (YYYY-MM-DD), or `null` for no date. A timed task keeps its
    /// clock time.
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Patch<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkStatus {
    Completed,
    Reopened,
    Deleted,
    Moved,
    Rescheduled,
    /// No such task for this user; nothing was done to it.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub id: TaskId,
    pub status: BulkStatus,
}

/// The change that puts `task` on `day` (`None`: no date): a timed due keeps its clock time
/// (and a pinned zone; a moment without a wall clock is read in `tz`), an all-day or undated
/// task becomes all-day. `None` when there is nothing to change (no due, none asked).
pub fn due_on_day(task: &Task, day: Option<chrono::NaiveDate>, tz: Tz) -> Option<TaskPatchInput> {
    let mut patch = TaskPatchInput::default();
    let Some(day) = day else {
        if task.due_date.is_none() && task.due_at.is_none() {
            return None;
        }
        patch.due_date = Patch::Null;
        return Some(patch);
    };
    match (task.due_date, task.due_local, task.due_at) {
        (None, Some(local), _) => {
            patch.due_local = Patch::Value(WallClock(day.and_time(local.time())));
            if let Some(zone) = task.due_timezone.clone() {
                patch.due_timezone = Patch::Value(zone);
            }
        }
        (None, None, Some(at)) => {
            let time = at.with_timezone(&tz).time();
            patch.due_local = Patch::Value(WallClock(day.and_time(time)));
        }
        _ => patch.due_date = Patch::Value(day),
    }
    Some(patch)
}

impl Todo {
    /// Applies one action to many tasks; each id gets its own result.
    pub async fn bulk(&self, user_id: &UserId, input: BulkInput) -> Result<Vec<BulkResult>> {
        if input.ids.is_empty() || input.ids.len() > MAX_BULK_IDS {
            return Err(Error::invalid(
                "ids",
                format!("must name 1 to {MAX_BULK_IDS} tasks"),
            ));
        }
        let project = match (input.action, input.project_id) {
            (BulkAction::Move, None) => {
                return Err(Error::invalid("project_id", "move needs a project_id"));
            }
            (_, project) => project,
        };
        let day = match (input.action, input.due_date) {
            (BulkAction::Reschedule, Patch::Missing) => {
                return Err(Error::invalid(
                    "due_date",
                    "reschedule needs a due_date: a day, or null for no date",
                ));
            }
            (BulkAction::Reschedule, Patch::Value(day)) => Some(
                crate::validation::storable_date(day).map_err(|m| Error::invalid("due_date", m))?,
            ),
            _ => None,
        };
        if let Some(project) = project.filter(|_| input.action == BulkAction::Move) {
            // A destination the user cannot see is the request's 404, not each task's; a
            // viewer's is refused (403) by the first move.
            self.get_project(user_id, project).await?;
        }
        let tz = self
            .time_zone_if(user_id, input.action == BulkAction::Reschedule)
            .await?;
        let mut ids = input.ids;
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(*id));
        // Every task named must be the user's to change before any is changed: one in a
        // project they only view refuses the whole request (403) with nothing done, as a
        // single write would, rather than after the tasks before it were changed.
        let roles: std::collections::HashMap<ProjectId, Role> = self
            .store
            .list_projects(user_id)
            .await?
            .into_iter()
            .map(|p| (p.id, p.role))
            .collect();
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for id in &ids {
            match self.get_task(user_id, *id).await {
                Ok(task) => {
                    let role = roles.get(&task.project_id).copied();
                    role.unwrap_or(Role::Viewer).require(Action::Edit)?;
                    found.insert(*id, task);
                }
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = match input.action {
                BulkAction::Complete => self
                    .complete_task(user_id, id, Some(true))
                    .await
                    .map(|_| BulkStatus::Completed),
                BulkAction::Reopen => self
                    .complete_task(user_id, id, Some(false))
                    .await
                    .map(|_| BulkStatus::Reopened),
                BulkAction::Delete => self
                    .delete_task(user_id, id)
                    .await
                    .map(|()| BulkStatus::Deleted),
                BulkAction::Move => {
                    let to = MoveInput {
                        project_id: project,
                        ..MoveInput::default()
                    };
                    self.move_task(user_id, id, to)
                        .await
                        .map(|_| BulkStatus::Moved)
                }
                BulkAction::Reschedule => match found.get(&id) {
                    Some(task) => match due_on_day(task, day, tz) {
                        Some(patch) => self
                            .patch_task(user_id, id, patch)
                            .await
                            .map(|_| BulkStatus::Rescheduled),
                        None => Ok(BulkStatus::Rescheduled),
                    },
                    None => Ok(BulkStatus::NotFound),
                },
            };
            let status = match outcome {
                Ok(status) => status,
                Err(Error::NotFound(_)) => BulkStatus::NotFound,
                Err(e) => return Err(e),
            };
            results.push(BulkResult { id, status });
        }
        Ok(results)
    }

    /// "Reschedule to today": every open task due before today (in the user's zone) is moved
    /// to today, a timed one keeping its clock time (and a pinned zone), an all-day one all
    /// day. Tasks the user may not change (a viewer's) are left; returns (moved, left).
    pub async fn reschedule_overdue_to_today(&self, user_id: &UserId) -> Result<(usize, usize)> {
        let tz = self.time_zone(user_id).await?;
        let at = now();
        let today = at.with_timezone(&tz).date_naive();
        let query = TaskQuery::overdue(tz, at, MAX_LIMIT);
        let overdue = self
            .collect_tasks(user_id, query, tz, MAX_RESCHEDULED, &|_, _| {})
            .await?;
        let (mut moved, mut left) = (0, 0);
        for task in overdue {
            let Some(patch) = due_on_day(&task, Some(today), tz) else {
                continue;
            };
            match self.patch_task(user_id, task.id, patch).await {
                Ok(_) => moved += 1,
                Err(Error::InsufficientRole(_) | Error::NotFound(_)) => left += 1,
                Err(err) => return Err(err),
            }
        }
        Ok((moved, left))
    }
}

/// A quick line as read, with what reading it needed.
struct QuickLine {
    parsed: quick::QuickTask,
    /// Every project of the user's, archived ones included.
    projects: Vec<crate::project::Project>,
    tz: Tz,
}

/// The open (not archived) project a line's `#Name` names, in any case.
fn named_project<'a>(
    projects: &'a [crate::project::Project],
    name: Option<&str>,
) -> Option<&'a crate::project::Project> {
    let name = name?.to_lowercase();
    projects
        .iter()
        .find(|p| !p.archived && p.name.to_lowercase() == name)
}

/// The change an inline edit's text makes (see [`Todo::quick_edit`]): the words left are the
/// title; a date or time, priority and rule it names replace the task's; its tags are added
/// to `tags` (each once, regardless of case); reminders it asks for replace the task's. What
/// the text does not name is left alone.
pub fn edit_from_quick(parsed: &quick::QuickTask, tags: &[String]) -> TaskPatchInput {
    let mut patch = TaskPatchInput {
        title: Patch::Value(parsed.title.clone()),
        ..TaskPatchInput::default()
    };
    if let Some(priority) = parsed.priority {
        patch.priority = Patch::Value(priority);
    }
    if let Some(at) = parsed.due.at() {
        patch.due_at = Patch::Value(at);
    } else if let Some(day) = parsed.due.date() {
        patch.due_date = Patch::Value(day);
    }
    if let Some(rule) = &parsed.recurrence {
        patch.recurrence = Patch::Value(rule.to_string());
        patch.recurrence_mode = Patch::Value(parsed.recurrence_mode);
    }
    let mut merged: Vec<String> = tags.to_vec();
    for tag in &parsed.tags {
        if !merged
            .iter()
            .any(|t| t.to_lowercase() == tag.to_lowercase())
        {
            merged.push(tag.clone());
        }
    }
    if merged.len() != tags.len() {
        patch.tags = Patch::Value(merged);
    }
    if !parsed.reminders.is_empty() {
        patch.reminders = Patch::Value(parsed.reminders.iter().map(ReminderInput::from).collect());
    }
    patch
}

/// A client's own key for one add, so that the add sent again (after a lost answer) is made
/// once: 1 to 64 letters, digits, `-` or `_` (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(String);

impl ClientKey {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self> {
        let fits = (1..=Self::MAX_CHARS).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if fits {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::invalid(
                "client_key",
                format!("must be 1 to {} letters, digits, - or _", Self::MAX_CHARS),
            ))
        }
    }

    /// The task's import key: in a namespace of its own, apart from imports' keys.
    pub fn import_key(&self) -> String {
        format!("client:{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn read(text: &str) -> quick::QuickTask {
        let now = chrono_tz::Europe::London
            .with_ymd_and_hms(2026, 12, 7, 10, 0, 0)
            .single()
            .expect("a time");
        quick::parse(text, now, &["Home"])
    }

    #[test]
    fn an_inline_edit_sets_what_the_text_says() {
        let patch = edit_from_quick(
            &read("Call mum tomorrow #Home p1 @phone"),
            &["family".into()],
        );
        assert!(matches!(&patch.title, Patch::Value(t) if t == "Call mum"));
        assert!(matches!(patch.priority, Patch::Value(Priority::Urgent)));
        assert!(
            matches!(patch.due_date, Patch::Value(d) if d == NaiveDate::from_ymd_opt(2026, 12, 8).expect("a day"))
        );
        assert!(
            matches!(&patch.tags, Patch::Value(t) if t == &["family".to_owned(), "phone".to_owned()])
        );
    }

    #[test]
    fn an_inline_edit_keeps_what_the_text_does_not_say() {
        let patch = edit_from_quick(&read("Call mum"), &["family".into()]);
        assert!(matches!(&patch.title, Patch::Value(t) if t == "Call mum"));
        assert!(matches!(patch.priority, Patch::Missing));
        assert!(matches!(patch.due_date, Patch::Missing));
        assert!(matches!(patch.due_at, Patch::Missing));
        assert!(matches!(patch.recurrence, Patch::Missing));
        assert!(
            matches!(patch.tags, Patch::Missing),
            "a tag already there is not added twice"
        );
        let again = edit_from_quick(&read("Call mum @Family"), &["family".into()]);
        assert!(matches!(again.tags, Patch::Missing));
    }

    #[test]
    fn an_inline_edit_sets_a_rule() {
        let patch = edit_from_quick(&read("Water plants every week"), &[]);
        assert!(matches!(&patch.recurrence, Patch::Value(r) if r.contains("WEEKLY")));
    }

    use crate::calendar::tests::task;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().expect("date")
    }

    #[test]
    fn a_day_keeps_a_timed_tasks_clock_and_zone_and_an_all_day_task_all_day() {
        let tz: Tz = "Europe/Paris".parse().expect("zone");
        let mut all_day = task(1, "all day");
        all_day.due_date = Some(day("2026-12-01"));
        let patch = due_on_day(&all_day, Some(day("2026-12-07")), tz).expect("a change");
        assert_eq!(patch.due_date, Patch::Value(day("2026-12-07")));
        assert!(patch.due_local.is_missing());

        let mut pinned = task(2, "standup");
        pinned.due_local = Some(day("2026-12-01").and_hms_opt(9, 30, 0).expect("time"));
        pinned.due_timezone = Some("Asia/Tokyo".into());
        pinned.due_at = Some(
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 30, 0)
                .single()
                .expect("time"),
        );
        let patch = due_on_day(&pinned, Some(day("2026-12-08")), tz).expect("a change");
        assert_eq!(
            patch.due_local,
            Patch::Value(WallClock(
                day("2026-12-08").and_hms_opt(9, 30, 0).expect("time")
            ))
        );
        assert_eq!(patch.due_timezone, Patch::Value("Asia/Tokyo".into()));

        // A moment without a wall clock is read on the user's clock: 08:00 UTC is 09:00 in Paris.
        let mut moment = task(3, "call");
        moment.due_at = Some(
            Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
                .single()
                .expect("time"),
        );
        let patch = due_on_day(&moment, Some(day("2026-12-09")), tz).expect("a change");
        assert_eq!(
            patch.due_local,
            Patch::Value(WallClock(
                day("2026-12-09").and_hms_opt(9, 0, 0).expect("time")
            ))
        );

        // Undated: a day makes it all-day; "no date" changes nothing.
        let undated = task(4, "someday");
        let patch = due_on_day(&undated, Some(day("2026-12-09")), tz).expect("a change");
        assert_eq!(patch.due_date, Patch::Value(day("2026-12-09")));
        assert!(due_on_day(&undated, None, tz).is_none());
        // "No date" clears a due.
        assert!(
            due_on_day(&all_day, None, tz)
                .expect("a change")
                .due_date
                .is_null()
        );
    }

    #[test]
    fn a_task_due_earlier_today_is_not_overdue_and_one_due_yesterday_is() {
        let tz: Tz = "Europe/Paris".parse().expect("zone");
        // 14:00 in Paris on the 7th.
        let at = Utc
            .with_ymd_and_hms(2026, 12, 7, 13, 0, 0)
            .single()
            .expect("time");
        let mut nine_today = task(1, "standup");
        nine_today.due_at = Some(
            Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0)
                .single()
                .expect("time"),
        );
        assert!(!nine_today.is_overdue(tz, at));
        let mut all_day_yesterday = task(2, "rent");
        all_day_yesterday.due_date = Some(day("2026-12-06"));
        assert!(all_day_yesterday.is_overdue(tz, at));
        let mut all_day_today = task(3, "plumber");
        all_day_today.due_date = Some(day("2026-12-07"));
        assert!(!all_day_today.is_overdue(tz, at));
        all_day_yesterday.completed = true;
        assert!(!all_day_yesterday.is_overdue(tz, at));
        assert!(!task(4, "undated").is_overdue(tz, at));
    }

    #[test]
    fn reschedule_to_today_reads_the_overdue_tasks_with_the_typed_query() {
        let tz: Tz = "America/New_York".parse().expect("zone");
        let at = Utc
            .with_ymd_and_hms(2026, 12, 7, 3, 0, 0)
            .single()
            .expect("time");
        // 22:00 on the 6th in New York: "today" is the 6th there, not the 7th as in UTC.
        let query = TaskQuery::overdue(tz, at, MAX_LIMIT);
        assert_eq!(
            query.filter.overdue_at,
            Some(crate::task::start_of_day(day("2026-12-06"), tz))
        );
        assert_eq!(query.filter.status, crate::page::Status::Pending);
        assert_eq!(query.filter.project, None);
        assert_eq!(query.sort.field, crate::page::SortField::DueAt);
    }

    #[test]
    fn a_client_key_is_a_short_token_kept_apart_from_import_keys() {
        let key = ClientKey::parse("3f1c2a9e-7b4d-4c1e-9a0f-1234567890ab").expect("a UUID");
        assert_eq!(
            key.import_key(),
            "client:3f1c2a9e-7b4d-4c1e-9a0f-1234567890ab"
        );
        assert!(ClientKey::parse("a_B-9").is_ok());
        for bad in ["", "has space", "semi;colon", "ü", &"x".repeat(65)] {
            assert!(
                matches!(ClientKey::parse(bad), Err(Error::Validation(_))),
                "{bad:?}"
            );
        }
        assert!(ClientKey::parse(&"x".repeat(64)).is_ok());
    }
}
