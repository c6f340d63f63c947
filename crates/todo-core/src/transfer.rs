//! Moving a user's data in and out: the JSON export, and imports of that JSON or of
//! Todoist's CSV. An import is all or nothing: the whole file is checked before anything is
//! written (a bad row is named by its JSON index or CSV line), then stored in one transaction,
//! which a failure, a client abort or a request timeout rolls back whole. Imports are
//! idempotent: every imported task carries a key of where it came from, so importing the same
//! file twice adds nothing. See docs/api-design.md.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Todo;
use crate::error::{Error, FieldError, Result};
use crate::ids::UserId;
use crate::page::{TaskFilter, TaskQuery};
use crate::planning::Completion;
use crate::project::{
    MAX_PROJECTS_PER_USER, MAX_SECTIONS_PER_PROJECT, MAX_SUBTASK_DEPTH, Project, ProjectId,
    Section, SectionId, parse_name,
};
use crate::tag::{Tag, TagName, parse_color};
use crate::task::{Due, DueChange, NewTask, Task, TaskId, TaskInput, parse_zone};
use crate::time::now;
use crate::user::User;

pub mod todoist;

pub const EXPORT_FORMAT: &str = "todo-export";
/// 2: projects with their sections, each task's place (project, section, parent, position),
/// wall-clock dues and completions. Files of version 1 still import (into the Inbox).
pub const EXPORT_VERSION: u32 = 2;
/// More tasks than this in one import are refused.
pub const MAX_IMPORT_TASKS: usize = 50_000;
/// More completions than this in one file are refused; an export carries at most this many.
pub const MAX_IMPORT_COMPLETIONS: usize = 200_000;
/// Progress is told every this many tasks checked.
const PROGRESS_EVERY: usize = 250;

/// Everything of one user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Export {
    /// Always `todo-export`.
    pub format: &'static str,
    pub version: u32,
    pub exported_at: DateTime<Utc>,
    pub user: User,
    pub tags: Vec<Tag>,
    /// The Inbox first, then the sidebar's order; archived ones too.
    pub projects: Vec<ExportProject>,
    /// Project by project; `project_id`, `section_id` and `parent_id` name ids of this file.
    pub tasks: Vec<Task>,
    /// Every recorded completion (a recurring task's history), task by task.
    pub completions: Vec<ExportCompletion>,
}

/// A project and its sections, as exported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportProject {
    #[serde(flatten)]
    pub project: Project,
    /// In order.
    pub sections: Vec<Section>,
}

/// A recorded completion: when, and the due and rule the task had then.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportCompletion {
    pub task_id: TaskId,
    pub completed_at: DateTime<Utc>,
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub due_local: Option<NaiveDateTime>,
    #[serde(default)]
    pub due_timezone: Option<String>,
    #[serde(default)]
    pub recurrence: Option<String>,
}

impl ExportCompletion {
    fn of(task_id: TaskId, completion: Completion) -> Self {
        let due = completion.due;
        Self {
            task_id,
            completed_at: completion.completed_at,
            due_at: due.due.at(),
            due_date: due.due.date(),
            due_local: due.local,
            due_timezone: due.zone.map(|z| z.name().to_owned()),
            recurrence: completion.recurrence,
        }
    }
}

/// An import in todo's JSON format (an export is a valid import). With `projects` (version
/// 2), each task's `project_id`, `section_id` and `parent_id` name a project, section or task
/// of the file; without (version 1, or a list of tasks), every task goes to the Inbox.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ImportDocument {
    /// The export's version; newer than this server's → 422.
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub tags: Vec<ImportTag>,
    #[serde(default)]
    pub projects: Vec<ImportProjectDoc>,
    #[serde(default)]
    pub tasks: Vec<ImportTask>,
    #[serde(default)]
    pub completions: Vec<ExportCompletion>,
}

/// A project of an import document.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ImportProjectDoc {
    /// Its id in the file, which tasks name as `project_id`.
    pub id: ProjectId,
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub archived: bool,
    /// The exporting account's Inbox: its tasks go to the importer's Inbox.
    #[serde(default)]
    pub inbox: bool,
    #[serde(default)]
    pub sections: Vec<ImportSectionDoc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ImportSectionDoc {
    /// Its id in the file, which tasks name as `section_id`.
    pub id: SectionId,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ImportTag {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
}

/// A task to import: the fields of a new task, and where it came from.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ImportTask {
    /// The task's id where it came from; re-importing it is a no-op.
    #[serde(default)]
    pub id: Option<TaskId>,
    /// Its manual order among its siblings.
    #[serde(default)]
    pub position: Option<i64>,
    /// When it was completed (a completed task).
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub task: TaskInput,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Tasks added.
    pub created: u64,
    /// Tasks left out because an earlier import (or the account itself) already has them.
    pub skipped: u64,
}

/// Told how a long transfer advances: tasks done so far, of how many. Imports and exports
/// of 50 000 tasks take seconds; the command line draws a progress bar from this. An import
/// counts the tasks it has checked; when all are, it stores them in one transaction (and
/// tells nothing more until that has committed).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// For callers that do not show progress.
pub fn no_progress(_done: u64, _total: u64) {}

/// An import as a store writes it (see [`crate::store::TaskStore::import_tasks`]): plain data,
/// checked, with the structure by index (no storage ids), so that one transaction can create
/// the projects, sections and tasks and map each index to the id it got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportBatch {
    pub tags: Vec<(TagName, Option<String>)>,
    pub projects: Vec<ImportProject>,
    /// Parents before their subtasks.
    pub tasks: Vec<ImportedTask>,
}

impl ImportBatch {
    /// Tasks for the Inbox (or where their own destination says), with tags.
    pub fn inbox(tags: Vec<(TagName, Option<String>)>, tasks: Vec<NewTask>) -> Self {
        Self {
            tags,
            projects: Vec::new(),
            tasks: tasks.into_iter().map(ImportedTask::new).collect(),
        }
    }
}

/// A project to import into: one the user owns of that name, else a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportProject {
    /// Checked by [`crate::project::parse_name`].
    pub name: String,
    /// `#rrggbb`; for a new project.
    pub color: Option<String>,
    /// For a new project.
    pub archived: bool,
    /// The user's Inbox (the name is not looked at).
    pub inbox: bool,
    /// Section names in order; one the project has already is reused.
    pub sections: Vec<String>,
}

/// A task to import and where it goes, by index into the batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedTask {
    /// Index into [`ImportBatch::projects`]; `None`: `task.destination` (the Inbox when empty).
    pub project: Option<usize>,
    /// Index into that project's sections.
    pub section: Option<usize>,
    /// Index of an earlier task of the batch; the subtask goes in its project and section.
    pub parent: Option<usize>,
    /// Its manual order among its siblings; `None`: after the project's tasks.
    pub position: Option<i64>,
    /// When it was completed (a completed task), else the import's moment.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its past completions (a recurring task's history).
    pub completions: Vec<ImportedCompletion>,
    pub task: NewTask,
}

impl ImportedTask {
    pub fn new(task: NewTask) -> Self {
        Self {
            task,
            ..Self::default()
        }
    }
}

/// A completion as `task_completions` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedCompletion {
    pub completed_at: DateTime<Utc>,
    /// The due the task had then.
    pub due: DueChange,
    pub recurrence: Option<String>,
}

/// A task ready to import, and the key that identifies its origin.
struct Incoming {
    /// Where it is in the file, as errors name it: `tasks[3]` (JSON), `line[12]` (CSV).
    at: String,
    key: String,
    /// The id of a task of this very account (an export imported back).
    own_id: Option<TaskId>,
    input: TaskInput,
    /// Where it goes and what it brings besides its fields.
    origin: Origin,
}

/// Where an incoming task goes, by index into the import's projects and tasks.
#[derive(Debug, Clone, Default)]
struct Origin {
    project: Option<usize>,
    section: Option<usize>,
    parent: Option<usize>,
    position: Option<i64>,
    completed_at: Option<DateTime<Utc>>,
    completions: Vec<ImportedCompletion>,
}

/// A stable fingerprint of `parts`, for rows that carry no id of their own.
fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keys for rows without ids: the fingerprint, numbered when identical rows repeat.
fn numbered_keys(prefix: &str, fingerprints: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    fingerprints
        .into_iter()
        .map(|fp| {
            let n = seen.entry(fp.clone()).or_default();
            *n += 1;
            format!("{prefix}:{fp}:{n}")
        })
        .collect()
}

impl ImportDocument {
    /// The document as projects and incoming tasks, parents before their subtasks; what does
    /// not fit together (an unknown project, section or parent id, a loop of parents, a
    /// completion of no task) is added to `errors`.
    fn into_incoming(
        self,
        errors: &mut Vec<FieldError>,
    ) -> (Vec<ImportTag>, Vec<ImportProject>, Vec<Incoming>) {
        if self.version.is_some_and(|v| v > EXPORT_VERSION) {
            errors.push(FieldError::new(
                "version",
                format!("this server reads export versions up to {EXPORT_VERSION}"),
            ));
        }
        let structured = !self.projects.is_empty();
        let projects: Vec<ImportProject> = self
            .projects
            .iter()
            .map(|p| ImportProject {
                name: p.name.clone(),
                color: p.color.clone(),
                archived: p.archived,
                inbox: p.inbox,
                sections: p.sections.iter().map(|s| s.name.clone()).collect(),
            })
            .collect();
        let fingerprints = self
            .tasks
            .iter()
            .map(|t| {
                let t = &t.task;
                let due = format!("{:?}{:?}", t.due_at, t.due_date);
                fingerprint(&[&t.title, t.description.as_deref().unwrap_or_default(), &due])
            })
            .collect();
        let keys = numbered_keys("json", fingerprints);
        let by_id: std::collections::HashMap<TaskId, usize> = self
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.id.map(|id| (id, i)))
            .collect();
        let mut incoming: Vec<Incoming> = Vec::with_capacity(self.tasks.len());
        for (i, (item, key)) in self.tasks.into_iter().zip(keys).enumerate() {
            let at = format!("tasks[{i}]");
            let mut input = item.task;
            let mut origin = Origin {
                position: item.position,
                completed_at: item.completed_at,
                ..Origin::default()
            };
            if structured {
                place_in_document(&self.projects, &by_id, &input, &at, &mut origin, errors);
            }
            // The file's ids are another account's (or none): the origin says where it goes.
            input.project_id = None;
            input.section_id = None;
            input.parent_id = None;
            // An export writes a timed due both ways: its wall clock (with its zone) says it
            // exactly, floating or pinned.
            if input.due_local.is_some() {
                input.due_at = None;
            }
            incoming.push(Incoming {
                at,
                key: item.id.map_or(key, |id| format!("todo:{id}")),
                own_id: item.id,
                input,
                origin,
            });
        }
        if self.completions.len() > MAX_IMPORT_COMPLETIONS {
            errors.push(FieldError::new(
                "completions",
                format!("a file may hold at most {MAX_IMPORT_COMPLETIONS} completions"),
            ));
        } else {
            for (j, completion) in self.completions.into_iter().enumerate() {
                let Some(&task) = by_id.get(&completion.task_id) else {
                    errors.push(FieldError::new(
                        format!("completions[{j}].task_id"),
                        "names no task of the file",
                    ));
                    continue;
                };
                match imported_completion(completion) {
                    Ok(completion) => incoming[task].origin.completions.push(completion),
                    Err(message) => errors.push(FieldError::new(
                        format!("completions[{j}].due_timezone"),
                        message,
                    )),
                }
            }
        }
        let incoming = parents_first(incoming, errors);
        (self.tags, projects, incoming)
    }
}

/// Where a task of a version 2 document goes: its `project_id`, `section_id` and `parent_id`
/// as indexes of the file's projects, sections and tasks.
fn place_in_document(
    projects: &[ImportProjectDoc],
    by_id: &std::collections::HashMap<TaskId, usize>,
    input: &TaskInput,
    at: &str,
    origin: &mut Origin,
    errors: &mut Vec<FieldError>,
) {
    if let Some(id) = input.project_id {
        match projects.iter().position(|p| p.id == id) {
            Some(index) => origin.project = Some(index),
            None => errors.push(FieldError::new(
                format!("{at}.project_id"),
                "names no project of the file",
            )),
        }
    }
    if let Some(id) = input.section_id {
        let sections = origin
            .project
            .and_then(|p| projects.get(p))
            .map(|p| &p.sections);
        match sections.and_then(|s| s.iter().position(|s| s.id == id)) {
            Some(index) => origin.section = Some(index),
            None => errors.push(FieldError::new(
                format!("{at}.section_id"),
                "names no section of the task's project in the file",
            )),
        }
    }
    if let Some(id) = input.parent_id {
        match by_id.get(&id) {
            Some(index) => origin.parent = Some(*index),
            None => errors.push(FieldError::new(
                format!("{at}.parent_id"),
                "names no task of the file",
            )),
        }
    }
}

fn imported_completion(completion: ExportCompletion) -> Result<ImportedCompletion, String> {
    let zone = completion
        .due_timezone
        .as_deref()
        .map(parse_zone)
        .transpose()?;
    let due = match (completion.due_at, completion.due_date) {
        (Some(at), _) => Due::At(at),
        (None, Some(date)) => Due::Date(date),
        (None, None) => Due::None,
    };
    Ok(ImportedCompletion {
        completed_at: completion.completed_at,
        due: DueChange {
            due,
            key: None,
            local: completion.due_local,
            zone,
        },
        recurrence: completion.recurrence,
    })
}

/// The tasks reordered so that every parent comes before its subtasks (by depth, file order
/// within a depth), their parent indexes renumbered; a loop of parents is an error.
fn parents_first(incoming: Vec<Incoming>, errors: &mut Vec<FieldError>) -> Vec<Incoming> {
    let parents: Vec<Option<usize>> = incoming.iter().map(|t| t.origin.parent).collect();
    // Subtasks nest at most MAX_SUBTASK_DEPTH levels: a walk up that goes further is too deep
    // or a loop, either way refused (and a chain of 50 000 costs no more than 6 steps each).
    let limit = MAX_SUBTASK_DEPTH as usize;
    let mut depths = Vec::with_capacity(parents.len());
    for (i, item) in incoming.iter().enumerate() {
        let mut depth = 0usize;
        let mut at = parents[i];
        while let Some(p) = at {
            depth += 1;
            if depth > limit {
                break;
            }
            at = parents.get(p).copied().flatten();
        }
        if depth > limit {
            errors.push(FieldError::new(
                format!("{}.parent_id", item.at),
                format!("subtasks nest at most {limit} levels deep, and a task cannot be its own ancestor"),
            ));
            depth = 0;
        }
        depths.push(depth);
    }
    let mut order: Vec<usize> = (0..incoming.len()).collect();
    order.sort_by_key(|&i| (depths[i], i));
    let mut new_index = vec![0; incoming.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut slots: Vec<Option<Incoming>> = incoming.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&old| slots.get_mut(old).and_then(Option::take))
        .map(|mut item| {
            item.origin.parent = item
                .origin
                .parent
                .map(|p| new_index.get(p).copied().unwrap_or(p));
            item
        })
        .collect()
}

impl Todo {
    pub async fn export(&self, user_id: &UserId, progress: Progress<'_>) -> Result<Export> {
        let user = self.me(user_id).await?;
        let tags = self.store.list_tags(user_id).await?;
        let mut projects = Vec::new();
        let mut tasks = Vec::new();
        // Project by project, archived ones included (the unfiltered listing leaves them out).
        for project in self.store.list_projects(user_id).await? {
            let query = TaskQuery {
                filter: TaskFilter {
                    project: Some(project.id),
                    ..TaskFilter::default()
                },
                ..TaskQuery::default()
            };
            let before = tasks.len() as u64;
            let told = |done: u64, total: u64| progress(before + done, before + total);
            tasks.extend(
                self.collect_tasks(user_id, query, chrono_tz::Tz::UTC, usize::MAX, &told)
                    .await?,
            );
            let sections = self
                .store
                .list_sections(user_id, project.id)
                .await?
                .unwrap_or_default();
            projects.push(ExportProject { project, sections });
        }
        let limit = u32::try_from(MAX_IMPORT_COMPLETIONS).unwrap_or(u32::MAX);
        let completions = self
            .store
            .completions(user_id, limit)
            .await?
            .into_iter()
            .map(|(task, completion)| ExportCompletion::of(task, completion))
            .collect();
        Ok(Export {
            format: EXPORT_FORMAT,
            version: EXPORT_VERSION,
            exported_at: now(),
            user,
            tags,
            projects,
            tasks,
            completions,
        })
    }

    pub async fn import_json(
        &self,
        user_id: &UserId,
        document: ImportDocument,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        if document.tasks.len() > MAX_IMPORT_TASKS {
            return Err(too_many());
        }
        let mut errors = Vec::new();
        let (tags, projects, incoming) = document.into_incoming(&mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        self.import(user_id, tags, projects, incoming, progress)
            .await
    }

    /// Imports one Todoist project's CSV into the user's project called `project` (made when
    /// they own none of that name): its sections, its tasks with their subtasks.
    pub async fn import_todoist_csv(
        &self,
        user_id: &UserId,
        csv: &[u8],
        project: &str,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        let tz = self.time_zone(user_id).await?;
        let name = crate::project::parse_name(project).map_err(|e| Error::invalid("project", e))?;
        let file = todoist::parse(csv, now().with_timezone(&tz))?;
        // The same row in two projects' files is two tasks.
        let fingerprints = file
            .tasks
            .iter()
            .map(|t| fingerprint(&[&name, &t.fingerprint]))
            .collect();
        let incoming = file
            .tasks
            .iter()
            .zip(numbered_keys("todoist", fingerprints))
            .map(|(task, key)| Incoming {
                at: format!("line[{}]", task.line),
                key,
                own_id: None,
                input: todoist_task(task),
                origin: Origin {
                    project: Some(0),
                    section: task.section,
                    parent: task.parent,
                    ..Origin::default()
                },
            })
            .collect();
        let projects = vec![ImportProject {
            name,
            sections: file.sections,
            ..ImportProject::default()
        }];
        self.import(user_id, Vec::new(), projects, incoming, progress)
            .await
    }

    /// Checks everything first (nothing is stored if anything is wrong), then stores what
    /// is not there yet in one transaction: all of the file or, should that fail or its
    /// caller give up, none of it.
    async fn import(
        &self,
        user_id: &UserId,
        tags: Vec<ImportTag>,
        projects: Vec<ImportProject>,
        incoming: Vec<Incoming>,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        if incoming.len() > MAX_IMPORT_TASKS {
            return Err(too_many());
        }
        let tz = self.time_zone(user_id).await?;
        let mut errors = Vec::new();
        let mut batch = ImportBatch::default();
        for (i, tag) in tags.iter().enumerate() {
            let name = TagName::parse(&tag.name)
                .map_err(|m| FieldError::new(format!("tags[{i}].name"), m));
            let color = tag
                .color
                .as_deref()
                .map(parse_color)
                .transpose()
                .map_err(|m| FieldError::new(format!("tags[{i}].color"), m));
            match (name, color) {
                (Ok(name), Ok(color)) => batch.tags.push((name, color)),
                (name, color) => errors.extend(name.err().into_iter().chain(color.err())),
            }
        }
        batch.projects = check_projects(projects, &mut errors);
        let total = incoming.len() as u64;
        let mut report = ImportReport::default();
        // Per incoming task: its index in the batch, or the id of the account's own task.
        let mut in_batch: Vec<Option<usize>> = Vec::with_capacity(incoming.len());
        let mut own: Vec<Option<TaskId>> = Vec::with_capacity(incoming.len());
        // How deep each incoming task nests below its top-level task in the file.
        let mut depths: Vec<u32> = Vec::with_capacity(incoming.len());
        for (i, item) in incoming.into_iter().enumerate() {
            check_origin(&item, i, &batch.projects, &mut errors);
            let depth = item
                .origin
                .parent
                .and_then(|p| depths.get(p))
                .map_or(0, |d| d + 1);
            if depth > MAX_SUBTASK_DEPTH {
                errors.push(FieldError::new(
                    format!("{}.parent_id", item.at),
                    format!("subtasks nest at most {MAX_SUBTASK_DEPTH} levels deep"),
                ));
            }
            depths.push(depth);
            // A task of this very account (its own export imported back) is there already.
            let own_id = match item.own_id {
                Some(id) => self
                    .store
                    .get_task(user_id, id)
                    .await?
                    .is_some()
                    .then_some(id),
                None => None,
            };
            own.push(own_id);
            match item.input.validate(tz) {
                Ok(_) if own_id.is_some() => {
                    report.skipped += 1;
                    in_batch.push(None);
                }
                Ok(mut task) => {
                    task.import_key = Some(item.key);
                    let origin = item.origin;
                    let mut parent = None;
                    if let Some(p) = origin.parent {
                        match (
                            in_batch.get(p).copied().flatten(),
                            own.get(p).copied().flatten(),
                        ) {
                            (Some(index), _) => parent = Some(index),
                            // Under a task the account has: wherever that task is now.
                            (None, Some(id)) => {
                                task.destination = crate::placement::Destination {
                                    parent: Some(id),
                                    ..Default::default()
                                }
                            }
                            (None, None) => {}
                        }
                    }
                    in_batch.push(Some(batch.tasks.len()));
                    batch.tasks.push(ImportedTask {
                        project: origin.project,
                        section: origin.section,
                        parent,
                        position: origin.position,
                        completed_at: origin.completed_at,
                        completions: origin.completions,
                        task,
                    });
                }
                Err(Error::Validation(field_errors)) => {
                    in_batch.push(None);
                    errors.extend(
                        field_errors.into_iter().map(|e| {
                            FieldError::new(format!("{}.{}", item.at, e.field), e.message)
                        }),
                    )
                }
                Err(other) => return Err(other),
            }
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(i as u64 + 1, total);
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        progress(total, total);

        let fresh = batch.tasks.len() as u64;
        let created = self.store.import_tasks(user_id, &batch, now()).await?;
        crate::metrics::tasks_created(created);
        report.created = created;
        report.skipped += fresh - created;
        Ok(report)
    }
}

/// The projects of an import, checked: names, colours, sections, and how many.
fn check_projects(
    projects: Vec<ImportProject>,
    errors: &mut Vec<FieldError>,
) -> Vec<ImportProject> {
    if projects.len() as u64 > MAX_PROJECTS_PER_USER {
        errors.push(FieldError::new(
            "projects",
            format!("at most {MAX_PROJECTS_PER_USER} projects per account"),
        ));
        return Vec::new();
    }
    let mut checked = Vec::with_capacity(projects.len());
    for (i, project) in projects.into_iter().enumerate() {
        let name = if project.inbox {
            project.name.clone()
        } else {
            parse_name(&project.name)
                .map_err(|m| errors.push(FieldError::new(format!("projects[{i}].name"), m)))
                .unwrap_or_default()
        };
        let color = match project.color.as_deref().map(parse_color).transpose() {
            Ok(color) => color,
            Err(m) => {
                errors.push(FieldError::new(format!("projects[{i}].color"), m));
                None
            }
        };
        if project.sections.len() as u64 > MAX_SECTIONS_PER_PROJECT {
            errors.push(FieldError::new(
                format!("projects[{i}].sections"),
                format!("at most {MAX_SECTIONS_PER_PROJECT} sections per project"),
            ));
        }
        let sections = project
            .sections
            .iter()
            .enumerate()
            .map(|(j, section)| {
                parse_name(section)
                    .map_err(|m| {
                        errors.push(FieldError::new(format!("projects[{i}].sections[{j}]"), m))
                    })
                    .unwrap_or_default()
            })
            .collect();
        checked.push(ImportProject {
            name,
            color,
            archived: project.archived && !project.inbox,
            inbox: project.inbox,
            sections,
        });
    }
    checked
}

/// Refuses an incoming task whose project, section or parent index points nowhere (a parent
/// must come before its subtasks).
fn check_origin(
    item: &Incoming,
    i: usize,
    projects: &[ImportProject],
    errors: &mut Vec<FieldError>,
) {
    let origin = &item.origin;
    let project = origin.project.map(|p| projects.get(p));
    if let Some(None) = project {
        errors.push(FieldError::new(
            format!("{}.project_id", item.at),
            "names no project of the file",
        ));
    }
    if let Some(section) = origin.section {
        let known = project
            .flatten()
            .is_some_and(|p| section < p.sections.len());
        if !known {
            errors.push(FieldError::new(
                format!("{}.section_id", item.at),
                "names no section of the task's project in the file",
            ));
        }
    }
    if origin.parent.is_some_and(|p| p >= i) {
        errors.push(FieldError::new(
            format!("{}.parent_id", item.at),
            "names no task before it in the file (a parent comes before its subtasks)",
        ));
    }
}

/// The 422 for a file over [`MAX_IMPORT_TASKS`].
fn too_many() -> Error {
    Error::invalid(
        "tasks",
        format!("a file may hold at most {MAX_IMPORT_TASKS} tasks; split it and import each part"),
    )
}

/// A Todoist task's fields (its place comes from its section and parent indexes): labels
/// as tags, the priority, the due and the recurrence as the reader gave them.
fn todoist_task(task: &todoist::TodoistTask) -> TaskInput {
    TaskInput {
        title: task.title.clone(),
        description: (!task.description.is_empty()).then(|| task.description.clone()),
        priority: Some(task.priority),
        due_at: task.due.at(),
        due_date: task.due.date(),
        tags: Some(task.labels.clone()),
        recurrence: task.recurrence.as_ref().map(ToString::to_string),
        recurrence_mode: Some(task.recurrence_mode),
        ..TaskInput::default()
    }
}

/// The project a Todoist file is imported into when no name is given: its file name without
/// the `.csv` (`Home.csv` → `Home`); `None` when that leaves nothing.
pub fn project_name_from_file(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = match base.len().checked_sub(4) {
        Some(cut) if base.is_char_boundary(cut) && base[cut..].eq_ignore_ascii_case(".csv") => {
            &base[..cut]
        }
        _ => base,
    };
    let stem = stem.trim();
    (!stem.is_empty()).then(|| stem.to_owned())
}

/// The name of a Todoist import's project when neither a name nor a file name is given.
pub const DEFAULT_TODOIST_PROJECT: &str = "Todoist";

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use crate::task::Priority;

    use super::*;

    #[test]
    fn todoist_rows_keep_labels_dates_priorities_and_notes() {
        let csv = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n\
                   section,Home Stuff,,,,,,,,\n\
                   task,Pay rent @bills,by transfer,1,1,Ada (1),,every month on the 1st,en,Europe/Paris\n\
                   note,Landlord changed bank,,,,,,,,\n\
                   task,Water plants,,4,1,Ada (1),,someday maybe,en,Europe/Paris\n\
                   task,Buy milk,,4,1,Ada (1),,,en,Europe/Paris\n";
        let now = chrono_tz::Europe::Paris
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .single()
            .expect("time");
        let file = todoist::parse(csv.as_bytes(), now).expect("parse");
        let rows: Vec<TaskInput> = file.tasks.iter().map(todoist_task).collect();
        assert_eq!(rows.len(), 3);

        let rent = &rows[0];
        assert_eq!(rent.title, "Pay rent");
        assert_eq!(rent.priority, Some(Priority::Urgent));
        assert_eq!(rent.tags.as_deref(), Some(&["bills".to_owned()][..]));
        assert_eq!(file.sections, ["Home Stuff"]);
        assert_eq!(file.tasks[0].section, Some(0));
        assert_eq!(
            rent.recurrence.as_deref(),
            Some("FREQ=MONTHLY;BYMONTHDAY=1")
        );
        assert_eq!(rent.due_date, NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(
            rent.description.as_deref(),
            Some("by transfer\n\nLandlord changed bank")
        );

        let plants = &rows[1];
        assert_eq!(plants.priority, Some(Priority::None));
        assert_eq!(
            plants.description.as_deref(),
            Some("Todoist date: someday maybe"),
            "an unreadable date is kept"
        );
        assert_eq!((plants.due_at, plants.due_date), (None, None));
    }

    #[test]
    fn a_file_name_names_the_project() {
        assert_eq!(project_name_from_file("Home.csv").as_deref(), Some("Home"));
        assert_eq!(
            project_name_from_file("C:\\exports\\Work stuff.CSV").as_deref(),
            Some("Work stuff")
        );
        assert_eq!(
            project_name_from_file("dir/plain").as_deref(),
            Some("plain")
        );
        assert_eq!(project_name_from_file(" .csv"), None);
        assert_eq!(project_name_from_file("é.csv").as_deref(), Some("é"));
    }

    fn incoming(at: &str, origin: Origin) -> Incoming {
        Incoming {
            at: at.into(),
            key: at.into(),
            own_id: None,
            input: TaskInput::default(),
            origin,
        }
    }

    #[test]
    fn indexes_that_point_nowhere_are_named() {
        let projects = [ImportProject {
            name: "Home".into(),
            sections: vec!["Kitchen".into()],
            ..ImportProject::default()
        }];
        let mut errors = Vec::new();
        let fine = Origin {
            project: Some(0),
            section: Some(0),
            parent: Some(0),
            ..Origin::default()
        };
        check_origin(&incoming("tasks[1]", fine), 1, &projects, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let bad = Origin {
            project: Some(1),
            section: Some(0),
            parent: Some(2),
            ..Origin::default()
        };
        check_origin(&incoming("tasks[2]", bad), 2, &projects, &mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "tasks[2].project_id",
                "tasks[2].section_id",
                "tasks[2].parent_id"
            ]
        );
        let mut errors = Vec::new();
        let many = vec![
            ImportProject {
                name: " ".into(),
                color: Some("red".into()),
                sections: vec![String::new()],
                ..ImportProject::default()
            };
            2
        ];
        let checked = check_projects(many, &mut errors);
        assert_eq!(checked.len(), 2);
        assert_eq!(errors[0].field, "projects[0].name");
        assert_eq!(errors[1].field, "projects[0].color");
        assert_eq!(errors[2].field, "projects[0].sections[0]");
    }

    #[test]
    fn subtasks_listed_before_their_parents_are_moved_after_them() {
        let with_parent = |at: &str, parent| {
            incoming(
                at,
                Origin {
                    parent,
                    ..Origin::default()
                },
            )
        };
        let mut errors = Vec::new();
        let ordered = parents_first(
            vec![
                with_parent("tasks[0]", Some(2)),
                with_parent("tasks[1]", None),
                with_parent("tasks[2]", Some(1)),
            ],
            &mut errors,
        );
        assert!(errors.is_empty());
        let order: Vec<_> = ordered.iter().map(|t| t.at.as_str()).collect();
        assert_eq!(order, ["tasks[1]", "tasks[2]", "tasks[0]"]);
        let parents: Vec<_> = ordered.iter().map(|t| t.origin.parent).collect();
        assert_eq!(parents, [None, Some(0), Some(1)]);

        let looped = vec![
            with_parent("tasks[0]", Some(1)),
            with_parent("tasks[1]", Some(0)),
        ];
        parents_first(looped, &mut errors);
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn identical_rows_get_distinct_stable_keys() {
        let keys = numbered_keys("t", vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(keys, ["t:a:1", "t:b:1", "t:a:2"]);
        assert_eq!(fingerprint(&["x", "y"]), fingerprint(&["x", "y"]));
        assert_ne!(fingerprint(&["xy", ""]), fingerprint(&["x", "y"]));
    }
}
