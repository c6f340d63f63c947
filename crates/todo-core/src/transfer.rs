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
                input: item.task,
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
        let rows = todoist::parse(csv, now().with_timezone(&tz))?;
        let fingerprints = rows.iter().map(|r| r.fingerprint.clone()).collect();
        let incoming = rows
            .into_iter()
            .zip(numbered_keys("todoist", fingerprints))
            .map(|(row, key)| Incoming {
                at: format!("line[{}]", row.line),
                key,
                own_id: None,
                input: row.input,
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

/// Todoist's CSV export: `TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,…`.
mod todoist {
    use chrono::DateTime;
    use chrono_tz::Tz;

    use crate::error::{Error, Result};
    use crate::quick;
    use crate::task::{Priority, TITLE_MAX_CHARS, TaskInput};

    pub struct Row {
        /// The line of the file it starts on (the header is line 1).
        pub line: u64,
        pub fingerprint: String,
        pub input: TaskInput,
    }

    /// Todoist's PRIORITY: 1 is p1, the highest; 4 (p4) is Todoist's "no priority".
    fn priority(raw: &str) -> Priority {
        match raw.trim() {
            "1" => Priority::Urgent,
            "2" => Priority::High,
            "3" => Priority::Medium,
            _ => Priority::None,
        }
    }

    /// The file's tasks; refused whole at the first line that cannot be read, or when it has
    /// more than `super::MAX_IMPORT_TASKS` tasks.
    pub fn parse(csv: &[u8], now: DateTime<Tz>) -> Result<Vec<Row>> {
        let bad = |e: csv::Error| match e.position() {
            Some(at) => Error::invalid(
                format!("line[{}]", at.line()),
                format!("is not readable CSV: {e}"),
            ),
            None => Error::invalid("csv", format!("not a readable CSV file: {e}")),
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv);
        let headers: Vec<String> = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(|h| h.trim().to_ascii_uppercase())
            .collect();
        let column = |name: &str| headers.iter().position(|h| h == name);
        let (Some(kind_at), Some(content_at)) = (column("TYPE"), column("CONTENT")) else {
            return Err(Error::invalid(
                "csv",
                "expected Todoist's columns TYPE and CONTENT in the first line",
            ));
        };
        let (description_at, priority_at, date_at) =
            (column("DESCRIPTION"), column("PRIORITY"), column("DATE"));

        let mut rows: Vec<Row> = Vec::new();
        let mut section: Option<String> = None;
        for record in reader.records() {
            let record = record.map_err(bad)?;
            let line = record.position().map_or(0, csv::Position::line);
            let field = |at: Option<usize>| {
                at.and_then(|i| record.get(i))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            let content = field(Some(content_at));
            match field(Some(kind_at)).as_str() {
                "section" => {
                    section = (!content.is_empty())
                        .then(|| content.split_whitespace().collect::<Vec<_>>().join("-"))
                }
                // A note is a comment on the task above it: keep it in that task's description.
                "note" => {
                    if let Some(last) = rows.last_mut() {
                        let description = last.input.description.get_or_insert_with(String::new);
                        if !description.is_empty() {
                            description.push_str("\n\n");
                        }
                        description.push_str(&content);
                    }
                }
                "task" => {
                    if rows.len() == super::MAX_IMPORT_TASKS {
                        return Err(super::too_many());
                    }
                    let description = field(description_at);
                    let date = field(date_at);
                    let priority_text = field(priority_at);
                    rows.push(Row {
                        line,
                        fingerprint: super::fingerprint(&[
                            &content,
                            &description,
                            &date,
                            &priority_text,
                        ]),
                        input: task(
                            &content,
                            description,
                            &date,
                            priority(&priority_text),
                            section.as_deref(),
                            now,
                        ),
                    });
                }
                _ => {}
            }
        }
        Ok(rows)
    }

    /// One task row. Nothing is dropped: `@labels` become tags, an over-long title is kept
    /// whole in the description, a date we cannot read is kept in the description.
    fn task(
        content: &str,
        description: String,
        date: &str,
        priority: Priority,
        section: Option<&str>,
        now: DateTime<Tz>,
    ) -> TaskInput {
        let mut tags: Vec<String> = section.into_iter().map(str::to_owned).collect();
        let mut words = Vec::new();
        for word in content.split_whitespace() {
            match word.strip_prefix('@').filter(|label| !label.is_empty()) {
                Some(label) => tags.push(label.to_owned()),
                None => words.push(word),
            }
        }
        let mut title = words.join(" ");
        let mut notes = vec![description];
        if title.chars().count() > TITLE_MAX_CHARS {
            notes.insert(0, title.clone());
            title = title.chars().take(TITLE_MAX_CHARS - 1).collect::<String>() + "…";
        }
        let when = quick::parse(date, now, &[]);
        if !when.title.is_empty() {
            notes.push(format!("Todoist date: {date}"));
        }
        let description = notes
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        TaskInput {
            title,
            description: (!description.is_empty()).then_some(description),
            priority: Some(priority),
            due_at: when.due.at(),
            due_date: when.due.date(),
            tags: Some(tags),
            recurrence: when.recurrence.map(|rule| rule.to_string()),
            ..TaskInput::default()
        }
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
        let rows = todoist::parse(csv.as_bytes(), now).expect("parse");
        assert_eq!(rows.len(), 3);

        let rent = &rows[0].input;
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

        let plants = &rows[1].input;
        assert_eq!(plants.priority, Some(Priority::None));
        assert_eq!(
            plants.description.as_deref(),
            Some("Todoist date: someday maybe"),
            "an unreadable date is kept"
        );
        assert_eq!((plants.due_at, plants.due_date), (None, None));
    }

    #[test]
    fn a_file_without_todoists_columns_is_refused() {
        let now = chrono_tz::Tz::UTC
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        assert!(todoist::parse(b"name,when\nx,y\n", now).is_err());
    }

    #[test]
    fn identical_rows_get_distinct_stable_keys() {
        let keys = numbered_keys("t", vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(keys, ["t:a:1", "t:b:1", "t:a:2"]);
        assert_eq!(fingerprint(&["x", "y"]), fingerprint(&["x", "y"]));
        assert_ne!(fingerprint(&["xy", ""]), fingerprint(&["x", "y"]));
    }
}
