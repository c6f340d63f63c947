//! `search` and `fetch` in the shape ChatGPT's connectors (and deep research) expect: `search`
//! takes a `query` and returns `results` of `{id, title, url}`; `fetch` takes one of those ids
//! and returns the document `{id, title, text, url, metadata}`. The documents are the user's
//! tasks, read through the same use cases as `list_tasks` and `get_task`; `url` is the task's
//! page in the web app under `PUBLIC_URL` (null without it: there is no address to link to).

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ToolError, describe_due};
use crate::Todo;
use crate::page::ListTasksRequest;
use crate::project::ProjectId;
use crate::sharing::Comment;
use crate::task::{Due, Priority, Task, TaskId};
use crate::user::UserId;

/// How many results one search returns.
const SEARCH_RESULTS: u32 = 20;
/// Comments `fetch` puts in a document's text, the latest ones.
const FETCHED_COMMENTS: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct SearchArgs {
    /// Words to find in the tasks' titles and descriptions (each matches a word prefix);
    /// empty: the most recent tasks.
    query: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct FetchArgs {
    /// A result's `id`, as `search` returned it.
    id: String,
}

/// One search result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResult {
    /// The task's id, as text; pass it to `fetch`.
    pub id: String,
    pub title: String,
    /// The task's page in the web app; null when the server has no public URL.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
}

/// Facts about a fetched task, for filtering and citing.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocumentMetadata {
    pub task_id: TaskId,
    pub project_id: ProjectId,
    pub project: Option<String>,
    pub completed: bool,
    pub priority: Priority,
    /// The due: a date (all day) or a wall-clock time with its zone; null without one.
    pub due: Option<String>,
    pub tags: Vec<String>,
    /// The RRULE of a recurring task.
    pub recurrence: Option<String>,
    pub assignee_id: Option<UserId>,
    pub comments: u32,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub updated_at: DateTime<Utc>,
}

/// A task as a document.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Document {
    pub id: String,
    pub title: String,
    /// The task in words: title, notes, due, priority, tags, repetition, status and its
    /// latest comments.
    pub text: String,
    pub url: Option<String>,
    pub metadata: DocumentMetadata,
}

/// The task's page in the web app, when the server knows its public URL.
fn task_url(todo: &Todo, id: TaskId) -> Option<String> {
    todo.public_url()
        .map(|base| format!("{}/tasks/{id}/edit", base.trim_end_matches('/')))
}

pub(super) async fn search(
    todo: &Todo,
    user: &UserId,
    args: SearchArgs,
) -> Result<SearchResults, ToolError> {
    let query = args.query.trim();
    let request = ListTasksRequest {
        q: (!query.is_empty()).then(|| query.to_owned()),
        // The newest first: what a person most likely means.
        sort: Some("-created_at".to_owned()),
        limit: Some(SEARCH_RESULTS),
        ..ListTasksRequest::default()
    };
    let page = todo.list_tasks(user, &request).await?;
    Ok(SearchResults {
        results: page
            .items
            .iter()
            .map(|task| SearchResult {
                id: task.id.to_string(),
                title: task.title.clone(),
                url: task_url(todo, task.id),
            })
            .collect(),
    })
}

pub(super) async fn fetch(
    todo: &Todo,
    user: &UserId,
    args: FetchArgs,
) -> Result<Document, ToolError> {
    let id: TaskId = args.id.trim().parse().map_err(|_| {
        ToolError::InvalidArguments(format!(
            "id: {:?} is not a task id; use an id that search returned",
            args.id
        ))
    })?;
    let task = todo.get_task(user, id).await?;
    let comments = todo.comments(user, id).await?;
    let project = todo
        .list_projects(user)
        .await?
        .into_iter()
        .find(|p| p.id == task.project_id)
        .map(|p| p.name);
    let due = match task.due() {
        Due::None => None,
        due => Some(describe_due(&task, due)),
    };
    Ok(Document {
        id: task.id.to_string(),
        title: task.title.clone(),
        text: text(&task, project.as_deref(), due.as_deref(), &comments),
        url: task_url(todo, task.id),
        metadata: DocumentMetadata {
            task_id: task.id,
            project_id: task.project_id,
            project,
            completed: task.completed,
            priority: task.priority,
            due,
            tags: task.tags.clone(),
            recurrence: task.recurrence.clone(),
            assignee_id: task.assignee_id.clone(),
            comments: u32::try_from(comments.len()).unwrap_or(u32::MAX),
            created_at: task.created_at,
            updated_at: task.updated_at,
        },
    })
}

/// The task in plain text, the way a person would write it down.
fn text(task: &Task, project: Option<&str>, due: Option<&str>, comments: &[Comment]) -> String {
    let mut text = task.title.clone();
    if let Some(description) = &task.description {
        let _ = write!(text, "\n\n{description}");
    }
    text.push('\n');
    let status = if task.completed { "done" } else { "open" };
    let _ = write!(text, "\nStatus: {status}");
    if let Some(project) = project {
        let _ = write!(text, "\nProject: {project}");
    }
    if let Some(due) = due {
        let _ = write!(text, "\nDue: {due}");
    }
    if task.priority != Priority::None {
        let _ = write!(text, "\nPriority: {}", task.priority);
    }
    if !task.tags.is_empty() {
        let _ = write!(text, "\nTags: {}", task.tags.join(", "));
    }
    if let Some(rule) = &task.recurrence {
        let _ = write!(text, "\nRepeats: {rule}");
    }
    let latest = comments.len().saturating_sub(FETCHED_COMMENTS);
    if !comments.is_empty() {
        text.push_str("\n\nComments:");
    }
    for comment in &comments[latest..] {
        let author = comment
            .author_name
            .as_deref()
            .unwrap_or(comment.author_id.as_str());
        let _ = write!(
            text,
            "\n- {author} ({}): {}",
            comment
                .created_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            comment.body
        );
    }
    text
}
