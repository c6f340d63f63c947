//! Moving a user's data in and out: the JSON export, and imports of that JSON or of
//! Todoist's CSV. An import is all or nothing: the whole file is checked before anything is
//! written (a bad row is named by its JSON index or CSV line), then stored in one transaction,
//! which a failure, a client abort or a request timeout rolls back whole. Imports are
//! idempotent: every imported task carries a key of where it came from, so importing the same
//! file twice adds nothing. See docs/api-design.md.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Todo;
use crate::error::{Error, FieldError, Result};
use crate::ids::UserId;
use crate::page::TaskQuery;
use crate::tag::{Tag, TagName, parse_color};
use crate::task::{Task, TaskId, TaskInput};
use crate::time::now;
use crate::user::User;

pub mod todoist;

pub const EXPORT_FORMAT: &str = "todo-export";
pub const EXPORT_VERSION: u32 = 1;
/// More tasks than this in one import are refused.
pub const MAX_IMPORT_TASKS: usize = 50_000;
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
    pub tasks: Vec<Task>,
}

/// An import in todo's JSON format (an export is a valid import).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ImportDocument {
    #[serde(default)]
    pub tags: Vec<ImportTag>,
    #[serde(default)]
    pub tasks: Vec<ImportTask>,
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

/// A task ready to import, and the key that identifies its origin.
struct Incoming {
    /// Where it is in the file, as errors name it: `tasks[3]` (JSON), `line[12]` (CSV).
    at: String,
    key: String,
    /// The id of a task of this very account (an export imported back).
    own_id: Option<TaskId>,
    input: TaskInput,
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
    fn into_incoming(self) -> (Vec<ImportTag>, Vec<Incoming>) {
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
        let incoming = self
            .tasks
            .into_iter()
            .zip(keys)
            .enumerate()
            .map(|(i, (item, key))| Incoming {
                at: format!("tasks[{i}]"),
                key: item.id.map_or(key, |id| format!("todo:{id}")),
                own_id: item.id,
                input: TaskInput {
                    project_id: None,
                    section_id: None,
                    parent_id: None,
                    ..item.task
                },
            })
            .collect();
        (self.tags, incoming)
    }
}

impl Todo {
    pub async fn export(&self, user_id: &UserId, progress: Progress<'_>) -> Result<Export> {
        let user = self.me(user_id).await?;
        let tags = self.store.list_tags(user_id).await?;
        let query = TaskQuery::default();
        let tasks = self
            .collect_tasks(user_id, query, chrono_tz::Tz::UTC, usize::MAX, progress)
            .await?;
        Ok(Export {
            format: EXPORT_FORMAT,
            version: EXPORT_VERSION,
            exported_at: now(),
            user,
            tags,
            tasks,
        })
    }

    pub async fn import_json(
        &self,
        user_id: &UserId,
        document: ImportDocument,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        let (tags, incoming) = document.into_incoming();
        self.import(user_id, tags, incoming, progress).await
    }

    pub async fn import_todoist_csv(
        &self,
        user_id: &UserId,
        csv: &[u8],
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        let tz = self.time_zone(user_id).await?;
        let file = todoist::parse(csv, now().with_timezone(&tz))?;
        let fingerprints = file.tasks.iter().map(|t| t.fingerprint.clone()).collect();
        let incoming = file
            .tasks
            .iter()
            .zip(numbered_keys("todoist", fingerprints))
            .map(|(task, key)| Incoming {
                at: format!("line[{}]", task.line),
                key,
                own_id: None,
                input: flat_task(task, &file.sections),
            })
            .collect();
        self.import(user_id, Vec::new(), incoming, progress).await
    }

    /// Checks everything first (nothing is stored if anything is wrong), then stores what
    /// is not there yet in one transaction: all of the file or, should that fail or its
    /// caller give up, none of it.
    async fn import(
        &self,
        user_id: &UserId,
        tags: Vec<ImportTag>,
        incoming: Vec<Incoming>,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        if incoming.len() > MAX_IMPORT_TASKS {
            return Err(too_many());
        }
        let tz = self.time_zone(user_id).await?;
        let mut errors = Vec::new();
        let mut tag_rows = Vec::new();
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
                (Ok(name), Ok(color)) => tag_rows.push((name, color)),
                (name, color) => errors.extend(name.err().into_iter().chain(color.err())),
            }
        }
        let total = incoming.len() as u64;
        let mut report = ImportReport::default();
        let mut fresh = Vec::with_capacity(incoming.len());
        for (i, item) in incoming.into_iter().enumerate() {
            // A task of this very account (its own export imported back) is there already.
            let own = match item.own_id {
                Some(id) => self.store.get_task(user_id, id).await?.is_some(),
                None => false,
            };
            match item.input.validate(tz) {
                Ok(_) if own => report.skipped += 1,
                Ok(mut task) => {
                    task.import_key = Some(item.key);
                    fresh.push(task);
                }
                Err(Error::Validation(field_errors)) => errors.extend(
                    field_errors
                        .into_iter()
                        .map(|e| FieldError::new(format!("{}.{}", item.at, e.field), e.message)),
                ),
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

        let created = self
            .store
            .import_tasks(user_id, &tag_rows, &fresh, now())
            .await?;
        crate::metrics::tasks_created(created);
        report.created = created;
        report.skipped += fresh.len() as u64 - created;
        Ok(report)
    }
}

/// The 422 for a file over [`MAX_IMPORT_TASKS`].
fn too_many() -> Error {
    Error::invalid(
        "tasks",
        format!("a file may hold at most {MAX_IMPORT_TASKS} tasks; split it and import each part"),
    )
}

/// Until projects land, a Todoist task as a task of the flat list the import stores: its
/// section becomes a tag (spaces as hyphens), its labels tags, and its parent is dropped.
fn flat_task(task: &todoist::TodoistTask, sections: &[String]) -> TaskInput {
    let section = task
        .section
        .and_then(|at| sections.get(at))
        .map(|name| name.split_whitespace().collect::<Vec<_>>().join("-"));
    TaskInput {
        title: task.title.clone(),
        description: (!task.description.is_empty()).then(|| task.description.clone()),
        priority: Some(task.priority),
        due_at: task.due.at(),
        due_date: task.due.date(),
        tags: Some(section.into_iter().chain(task.labels.clone()).collect()),
        recurrence: task.recurrence.as_ref().map(ToString::to_string),
        recurrence_mode: Some(task.recurrence_mode),
        ..TaskInput::default()
    }
}

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
        let rows: Vec<TaskInput> = file
            .tasks
            .iter()
            .map(|task| flat_task(task, &file.sections))
            .collect();
        assert_eq!(rows.len(), 3);

        let rent = &rows[0];
        assert_eq!(rent.title, "Pay rent");
        assert_eq!(rent.priority, Some(Priority::Urgent));
        assert_eq!(
            rent.tags.as_deref(),
            Some(&["Home-Stuff".to_owned(), "bills".to_owned()][..])
        );
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
    fn identical_rows_get_distinct_stable_keys() {
        let keys = numbered_keys("t", vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(keys, ["t:a:1", "t:b:1", "t:a:2"]);
        assert_eq!(fingerprint(&["x", "y"]), fingerprint(&["x", "y"]));
        assert_ne!(fingerprint(&["xy", ""]), fingerprint(&["x", "y"]));
    }
}
