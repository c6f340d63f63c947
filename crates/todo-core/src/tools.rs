//! The tool registry: the task tools a model can call, each with a name, a description, JSON
//! Schemas of its input and output, and one [`call`] that runs it through the same use cases
//! as the REST API. The MCP server and the chat agent are adapters over this one list, so a
//! tool is defined once and behaves the same whichever door it is called through.

mod batch;
mod connector;
mod schema;

use std::sync::{Arc, OnceLock};

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Todo;
use crate::accounts::Principal;
use crate::api_key::Scope;
use crate::error::Error;
use crate::page::{ListTasksRequest, Status};
use crate::placement::MoveInput;
use crate::project::{
    Project, ProjectId, ProjectInput, ProjectPatchInput, Section, SectionId, SectionInput,
};
use crate::sharing::{Comment, CommentInput};
use crate::tag::Tag;
use crate::task::{Due, Priority, Task, TaskId, TaskInput, TaskPatchInput};
use crate::tasks::QuickInput;
use crate::user::UserId;

pub use batch::{BatchResult, ItemError, ItemResult, MAX_BATCH};
pub use connector::{Document, DocumentMetadata, SearchResult, SearchResults};

pub type JsonObject = Map<String, Value>;

/// The argument every tool accepts for compatibility with existing todo agents.
const USER_ID: &str = "user_id";

/// One tool as a model sees it.
#[derive(Debug, Clone)]
pub struct ToolDef {
    pub name: &'static str,
    /// A short human-readable name.
    pub title: &'static str,
    pub description: &'static str,
    /// JSON Schema (2020-12) of the arguments object.
    pub input_schema: Arc<JsonObject>,
    /// JSON Schema (2020-12) of the result object.
    pub output_schema: Arc<JsonObject>,
    /// The API key scope the tool needs, as its REST counterpart does.
    pub scope: Scope,
    /// It may lose what was there: it deletes, or overwrites what the user wrote (MCP's
    /// `destructiveHint`; clients may ask before calling it).
    pub destructive: bool,
    /// Calling it again with the same arguments changes nothing more (`idempotentHint`).
    pub idempotent: bool,
}

impl ToolDef {
    /// It changes nothing (`readOnlyHint`): the tools that need only the read scope.
    pub fn read_only(&self) -> bool {
        self.scope == Scope::Read
    }
}

/// What a tool does to the user's data: the scope it needs and the hints clients are given.
#[derive(Debug, Clone, Copy)]
struct Effect {
    scope: Scope,
    destructive: bool,
    idempotent: bool,
}

/// Reads only.
const READS: Effect = Effect {
    scope: Scope::Read,
    destructive: false,
    idempotent: true,
};
/// Adds something new at every call.
const ADDS: Effect = Effect {
    scope: Scope::Write,
    destructive: false,
    idempotent: false,
};
/// Puts something in a place or a state; the same call again changes nothing.
const SETS: Effect = Effect {
    scope: Scope::Write,
    destructive: false,
    idempotent: true,
};
/// Completes: undone by `completed: false`, but a recurring task moves on at every call.
const ADVANCES: Effect = Effect {
    scope: Scope::Write,
    destructive: false,
    idempotent: false,
};
/// Replaces fields with the values given (the old ones are gone).
const OVERWRITES: Effect = Effect {
    scope: Scope::Write,
    destructive: true,
    idempotent: true,
};
/// Replaces dues, possibly relative to the current ones (`days`), so not idempotent.
const SHIFTS: Effect = Effect {
    scope: Scope::Write,
    destructive: true,
    idempotent: false,
};
/// Deletes for good.
const DELETES: Effect = Effect {
    scope: Scope::Write,
    destructive: true,
    idempotent: true,
};

/// A tool call that did not succeed, with a message a model can act on.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// No tool has this name. MCP reports it as a protocol error, not a tool result.
    #[error("unknown tool {0:?}; list the tools to see their names")]
    UnknownTool(String),
    /// The arguments do not fit the schema, or break a rule of the domain.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The task or tag does not exist for this user.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this (a `user_id` of someone else, a key without the scope).
    #[error("{0}")]
    Forbidden(String),
    /// A fault of ours; the cause is for the log, the model only learns to try again.
    #[error("the server failed to run the tool; try again later")]
    Internal(#[source] Error),
}

impl From<Error> for ToolError {
    fn from(error: Error) -> Self {
        match error {
            Error::Validation(fields) => ToolError::InvalidArguments(
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Error::NotFound(what) => {
                let finder = match what {
                    "project" => "list_projects",
                    "section" => "list_sections",
                    _ => "list_tasks",
                };
                ToolError::NotFound(format!(
                    "no {what} with that id; call {finder} to find the right id"
                ))
            }
            Error::Conflict(message) => ToolError::InvalidArguments(message),
            Error::PreconditionFailed(message) => ToolError::InvalidArguments(message.to_owned()),
            Error::Forbidden(message)
            | Error::InsufficientRole(message)
            | Error::EmailUnverified(message) => ToolError::Forbidden(message),
            Error::Unauthenticated(message) => ToolError::Forbidden(message.to_owned()),
            internal @ (Error::Internal(_) | Error::Unavailable(_) | Error::Busy(_)) => {
                ToolError::Internal(internal)
            }
        }
    }
}

/// Every tool, in the order clients list them.
pub fn tools() -> &'static [ToolDef] {
    static TOOLS: OnceLock<Vec<ToolDef>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        vec![
            def::<TaskInput, TaskChange>(
                "add_task",
                "Add task",
                "Add a task to the user's list. Give a due moment as `due_at` (RFC 3339 with an \
                 offset), a wall-clock `due_local` (optionally pinned by `due_timezone`) or an \
                 all-day `due_date` (YYYY-MM-DD), only one. Tags that do not exist yet are \
                 created. It goes to the Inbox unless `project_id`, `section_id` (a section of \
                 that project) or `parent_id` (makes it a subtask, in its parent's project and \
                 section) says otherwise; find ids with list_projects and list_sections.",
                ADDS,
            ),
            def::<QuickInput, TaskChange>(
                "quick_add_task",
                "Quick add",
                "Add a task from one line of natural text, read in the user's time zone: dates \
                 ('tomorrow 5pm', 'on the 1st'), repeats ('every monday'), `#tags` and \
                 `!priority` (e.g. 'Pay rent on the 1st every month !high #home').",
                ADDS,
            ),
            def::<batch::AddTasksArgs, BatchResult>(
                "add_tasks",
                "Add tasks",
                "Add several tasks at once (1-100), each with the fields add_task takes. Each \
                 is added on its own: `results` has one entry per task, in order, either \
                 {task_id, status: created, title} or {status: failed, error}; a bad one does \
                 not stop the others.",
                ADDS,
            ),
            def::<ListTasksArgs, TaskList>(
                "list_tasks",
                "List tasks",
                "List the user's tasks, filtered and sorted, one page at a time. `total` counts \
                 every match; pass `next_cursor` back as `cursor` for the next page. Without \
                 `project_id`, tasks of every project that is not archived; `parent_id: \"none\"` \
                 lists top-level tasks only, a task id its subtasks.",
                READS,
            ),
            def::<TaskIdArgs, Task>("get_task", "Get task", "Get one task by its id.", READS),
            def::<CompleteTaskArgs, TaskChange>(
                "complete_task",
                "Complete task",
                "Mark a task as done (or, with `completed: false`, as not done again). A \
                 recurring task stays open and moves to its next due; `message` says so, and \
                 `completed: false` right after puts it back.",
                ADVANCES,
            ),
            def::<batch::CompleteTasksArgs, BatchResult>(
                "complete_tasks",
                "Complete tasks",
                "Mark several tasks (1-100 `task_ids`) as done, or with `completed: false` as not \
                 done again, as complete_task does for one. `results` has one entry per id, in \
                 order: {task_id, status, title, message?} or {task_id, status: failed, error}; \
                 an unknown id fails alone.",
                ADVANCES,
            ),
            def::<UpdateTaskArgs, TaskChange>(
                "update_task",
                "Update task",
                "Change some fields of a task: fields left out stay as they are, `null` clears \
                 one. `tags` replaces the whole tag list. `project_id`, `section_id` or \
                 `parent_id` also moves it (with its subtasks) as move_task does, before the \
                 other fields change.",
                OVERWRITES,
            ),
            def::<batch::UpdateTasksArgs, BatchResult>(
                "update_tasks",
                "Update tasks",
                "Change several tasks at once (1-100 items), each item a `task_id` with the \
                 fields update_task takes. `results` has one entry per item, in order: \
                 {task_id, status: updated, title} or {task_id?, status: failed, error}; a bad \
                 item does not stop the others.",
                OVERWRITES,
            ),
            def::<batch::RescheduleTasksArgs, BatchResult>(
                "reschedule_tasks",
                "Reschedule tasks",
                "Move the due of several tasks (1-100 `task_ids`): to one `due_date` (all day), \
                 `due_local` (wall-clock) or `due_at` (a moment), or by `days` from each \
                 task's current due, keeping its time of day. Only the due changes: a \
                 recurring task keeps repeating by its rule from the new due, relative \
                 reminders follow it, a pinned time zone stays. `results` has one entry per \
                 id, in order, with the new due in `message`, or the error of that task.",
                SHIFTS,
            ),
            def::<TaskIdArgs, TaskChange>(
                "delete_task",
                "Delete task",
                "Delete a task for good.",
                DELETES,
            ),
            def::<MoveTaskArgs, TaskChange>(
                "move_task",
                "Move task",
                "Move a task with its subtasks: under `parent_id`, else into `section_id`, else \
                 to the top level of `project_id` (outside any section); `position` is its \
                 index among its new siblings (0 = first, default last). With only `position` \
                 it is reordered where it is.",
                SETS,
            ),
            def::<NoArgs, TagList>(
                "list_tags",
                "List tags",
                "List the user's tags with how many tasks carry each.",
                READS,
            ),
            def::<NoArgs, ProjectList>(
                "list_projects",
                "List projects",
                "List the user's projects, the Inbox first, with the caller's role and how many \
                 open tasks each has. Archived projects are listed too (`archived: true`).",
                READS,
            ),
            def::<ProjectInput, Project>(
                "add_project",
                "Add project",
                "Create a project the user owns: a `name` of 1-120 characters and an optional \
                 `color` (#rrggbb).",
                ADDS,
            ),
            def::<UpdateProjectArgs, Project>(
                "update_project",
                "Update project",
                "Rename, recolour (`color: null` removes it), archive or unarchive, or reorder a \
                 project. Only its owner may rename, recolour or archive it; the Inbox is never \
                 renamed or archived.",
                OVERWRITES,
            ),
            def::<ProjectIdArgs, SectionList>(
                "list_sections",
                "List sections",
                "List the sections of a project, in order.",
                READS,
            ),
            def::<CreateSectionArgs, Section>(
                "create_section",
                "Create section",
                "Add a section to a project (at `position`, default last).",
                ADDS,
            ),
            def::<TaskIdArgs, CommentList>(
                "list_comments",
                "List comments",
                "List the comments on a task, oldest first, with their authors. Every member \
                 of a shared project sees them.",
                READS,
            ),
            def::<AddCommentArgs, Comment>(
                "add_comment",
                "Add comment",
                "Add a comment (`body`, 1-10000 characters) to a task, as the user. Every \
                 member of a shared project may comment, viewers included.",
                ADDS,
            ),
            def::<connector::SearchArgs, SearchResults>(
                "search",
                "Search tasks",
                "Search the user's tasks by words in their titles and descriptions; returns \
                 `results` of {id, title, url}, the 20 most recent matches. Pass an id to fetch \
                 for the whole task.",
                READS,
            ),
            def::<connector::FetchArgs, Document>(
                "fetch",
                "Fetch task",
                "Fetch one task by an `id` that search returned, as a document: {id, title, \
                 text, url, metadata}; `text` has its notes, due, priority, tags, repetition, \
                 status and latest comments.",
                READS,
            ),
        ]
    })
}

/// The tool called `name`, if there is one.
pub fn tool(name: &str) -> Option<&'static ToolDef> {
    tools().iter().find(|tool| tool.name == name)
}

/// Runs tool `name` for `principal` with the JSON `arguments` a model sent (`null` for none).
/// The result is an object matching the tool's output schema.
pub async fn call(
    todo: &Todo,
    principal: &Principal,
    name: &str,
    arguments: Value,
) -> Result<Value, ToolError> {
    let tool = tool(name).ok_or_else(|| ToolError::UnknownTool(name.to_owned()))?;
    if !principal.can(tool.scope) {
        return Err(ToolError::Forbidden(format!(
            "this API key lacks the {} scope that {name} needs",
            tool.scope.as_str()
        )));
    }
    let user = &principal.user_id;
    let args = arguments_for(tool, user, arguments)?;
    match tool.name {
        "add_task" => add_task(todo, user, parse(args)?).await,
        "quick_add_task" => quick_add_task(todo, user, parse(args)?).await,
        "list_tasks" => list_tasks(todo, user, parse(args)?).await,
        "get_task" => get_task(todo, user, parse(args)?).await,
        "complete_task" => complete_task(todo, user, parse(args)?).await,
        "update_task" => update_task(todo, user, parse(args)?).await,
        "delete_task" => delete_task(todo, user, parse(args)?).await,
        "move_task" => move_task(todo, user, parse(args)?).await,
        "list_tags" => list_tags(todo, user, parse(args)?).await,
        "list_projects" => list_projects(todo, user, parse(args)?).await,
        "add_project" => add_project(todo, user, parse(args)?).await,
        "update_project" => update_project(todo, user, parse(args)?).await,
        "list_sections" => list_sections(todo, user, parse(args)?).await,
        "create_section" => create_section(todo, user, parse(args)?).await,
        "add_tasks" => {
            to_value(&batch::add_tasks(todo, user, &tool.input_schema, parse(args)?).await?)
        }
        "complete_tasks" => to_value(&batch::complete_tasks(todo, user, parse(args)?).await?),
        "update_tasks" => {
            to_value(&batch::update_tasks(todo, user, &tool.input_schema, parse(args)?).await?)
        }
        "reschedule_tasks" => to_value(&batch::reschedule_tasks(todo, user, parse(args)?).await?),
        "list_comments" => list_comments(todo, user, parse(args)?).await,
        "add_comment" => add_comment(todo, user, parse(args)?).await,
        "search" => to_value(&connector::search(todo, user, parse(args)?).await?),
        "fetch" => to_value(&connector::fetch(todo, user, parse(args)?).await?),
        other => Err(ToolError::UnknownTool(other.to_owned())),
    }
}

/// The arguments object without `user_id`, after checking that one given names the caller
/// (agents written against the old API send it, and it must never reach another user's data)
/// and that every other argument is one the tool's schema names: a misspelt field is refused,
/// not ignored. The argument types are the core's inputs, which REST reads leniently, so the
/// schema is the one place the tools' strictness lives.
fn arguments_for(tool: &ToolDef, user: &UserId, arguments: Value) -> Result<JsonObject, ToolError> {
    let mut args = match arguments {
        Value::Null => JsonObject::new(),
        Value::Object(args) => args,
        _ => {
            return Err(ToolError::InvalidArguments(
                "the arguments must be a JSON object".into(),
            ));
        }
    };
    match args.remove(USER_ID) {
        None | Some(Value::Null) => {}
        Some(Value::String(given)) if user == given.as_str() => {}
        Some(Value::Number(given)) if user == given.to_string().as_str() => {}
        Some(_) => {
            return Err(ToolError::Forbidden(
                "user_id is not the authenticated user; leave it out to act as yourself".into(),
            ));
        }
    }
    let none = JsonObject::new();
    let known = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&none);
    if let Some(unknown) = args.keys().find(|key| !known.contains_key(*key)) {
        let expected: Vec<&str> = known
            .keys()
            .map(String::as_str)
            .filter(|key| *key != USER_ID)
            .collect();
        return Err(ToolError::InvalidArguments(format!(
            "unknown field `{unknown}`, expected one of {}",
            expected.join(", ")
        )));
    }
    Ok(args)
}

fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(args))
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

fn to_value<T: Serialize>(output: &T) -> Result<Value, ToolError> {
    serde_json::to_value(output).map_err(|e| ToolError::Internal(Error::internal(e)))
}

fn def<I: JsonSchema, O: JsonSchema>(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    effect: Effect,
) -> ToolDef {
    let mut input = schema_object(
        SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<I>(),
    );
    // The tool's description says what it does; the input type's own doc is for Rust readers.
    input.remove("description");
    // What `arguments_for` enforces: no argument the schema does not name; the batch tools
    // refuse unknown fields in their items the same way.
    input.insert("additionalProperties".into(), Value::Bool(false));
    close_items(&mut input);
    let properties = input
        .entry("properties")
        .or_insert_with(|| Value::Object(JsonObject::new()));
    if let Value::Object(properties) = properties {
        properties.insert(
            USER_ID.into(),
            json!({
                "type": "string",
                "description": "Optional, for compatibility: the id of the authenticated user. \
                                Any other value is refused."
            }),
        );
    }
    // Outputs are described as `Serialize` writes them (every `Option` field present).
    let output = schema_object(
        SchemaSettings::draft2020_12()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<O>(),
    );
    ToolDef {
        name,
        title,
        description,
        input_schema: Arc::new(input),
        output_schema: Arc::new(output),
        scope: effect.scope,
        destructive: effect.destructive,
        idempotent: effect.idempotent,
    }
}

/// The schema as a JSON object, in the portable spelling of [`schema::portable`].
fn schema_object(schema: Schema) -> JsonObject {
    let mut value = schema.to_value();
    schema::portable(&mut value);
    match value {
        Value::Object(object) => object,
        // `true`/`false` schemas never come from a struct; describe them as any object.
        _ => JsonObject::from_iter([("type".to_owned(), json!("object"))]),
    }
}

/// `additionalProperties: false` on the object items of the arguments' lists (the batch
/// tools' items), whether inline or in `$defs`.
fn close_items(input: &mut JsonObject) {
    let mut names = Vec::new();
    if let Some(Value::Object(properties)) = input.get_mut("properties") {
        for property in properties.values_mut() {
            match property.get_mut("items") {
                Some(Value::Object(items)) if items.contains_key("properties") => {
                    items.insert("additionalProperties".into(), Value::Bool(false));
                }
                Some(Value::Object(items)) => {
                    if let Some(name) = items
                        .get("$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("#/$defs/"))
                    {
                        names.push(name.to_owned());
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(Value::Object(defs)) = input.get_mut("$defs") {
        for name in names {
            if let Some(Value::Object(item)) = defs.get_mut(&name)
                && item.contains_key("properties")
            {
                item.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
    }
}

/// What a mutation did.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    Created,
    Completed,
    Updated,
    Deleted,
}

/// The result of every tool that changes a task.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskChange {
    pub task_id: TaskId,
    pub status: ChangeStatus,
    pub title: String,
    /// What else happened, in words (a recurring task moved to its next due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl TaskChange {
    fn of(task: &Task, status: ChangeStatus) -> Self {
        Self {
            task_id: task.id,
            status,
            title: task.title.clone(),
            message: None,
        }
    }
}

/// The user's projects.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectList {
    pub projects: Vec<Project>,
}

/// A project's sections.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SectionList {
    pub sections: Vec<Section>,
}

/// One page of tasks.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskList {
    pub tasks: Vec<Task>,
    /// How many tasks match the filters across all pages.
    pub total: u64,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TagList {
    pub tags: Vec<Tag>,
}

/// A task's comments, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CommentList {
    pub comments: Vec<Comment>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct AddCommentArgs {
    /// The task's id.
    task_id: TaskId,
    /// The comment: 1-10000 characters after trimming.
    body: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
struct TaskIdArgs {
    /// The task's id, as `add_task` or `list_tasks` returned it.
    task_id: TaskId,
}

/// One value, or a list of them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// [`ListTasksRequest`] as a model writes it: typed values, one or a list where the query
/// string repeats a parameter, and `search` for `q`.
#[derive(Debug, Deserialize, JsonSchema)]
struct ListTasksArgs {
    /// `pending` (not done), `completed`, or `all` (the default).
    #[serde(default)]
    status: Option<Status>,
    /// Only tasks of this priority, or of any of these.
    #[serde(default)]
    priority: Option<OneOrMany<Priority>>,
    /// Only tasks carrying this tag, or every one of these.
    #[serde(default)]
    tag: Option<OneOrMany<String>>,
    /// Words to find in the title or description (each matches a word prefix).
    #[serde(default)]
    search: Option<String>,
    /// Due strictly before: an RFC 3339 timestamp, or a date (its start in the user's zone).
    #[serde(default)]
    due_before: Option<String>,
    /// Due at or after: an RFC 3339 timestamp, or a date (its start in the user's zone).
    #[serde(default)]
    due_after: Option<String>,
    /// `true`: only tasks not done that fell due before today (in the user's zone).
    #[serde(default)]
    overdue: Option<bool>,
    /// `created_at` (default), `due_at`, `priority`, `title`, `position` or `completed_at`;
    /// prefix `-` for descending, e.g. `-priority`, `-completed_at` (latest done first).
    #[serde(default)]
    sort: Option<String>,
    /// Page size, 1–500 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
    /// Only tasks of this project (also when it is archived).
    #[serde(default)]
    project_id: Option<ProjectId>,
    /// Only tasks of this section.
    #[serde(default)]
    section_id: Option<SectionId>,
    /// A task id: only its subtasks (one level); `"none"`: only top-level tasks.
    #[serde(default)]
    parent_id: Option<ParentArg>,
    /// `me`: tasks assigned to the user; `none`: unassigned tasks; a user id: tasks assigned
    /// to that member (of a shared project).
    #[serde(default)]
    assignee: Option<String>,
}

impl From<ListTasksArgs> for ListTasksRequest {
    fn from(args: ListTasksArgs) -> Self {
        ListTasksRequest {
            status: args.status.map(|s| s.as_str().to_owned()),
            priority: args
                .priority
                .map(OneOrMany::into_vec)
                .unwrap_or_default()
                .iter()
                .map(Priority::to_string)
                .collect(),
            tag: args.tag.map(OneOrMany::into_vec).unwrap_or_default(),
            q: args.search,
            due_before: args.due_before,
            due_after: args.due_after,
            overdue: args.overdue,
            sort: args.sort,
            limit: args.limit,
            cursor: args.cursor,
            project: args.project_id.map(|id| id.to_string()),
            section: args.section_id.map(|id| id.to_string()),
            parent: args.parent_id.map(ParentArg::as_query),
            assignee: args.assignee,
            ..ListTasksRequest::default()
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
struct ProjectIdArgs {
    /// The project's id, as `list_projects` returned it.
    project_id: ProjectId,
}

/// The project, and the same partial update as `PATCH /api/v1/projects/{id}`.
#[derive(Debug, Deserialize, JsonSchema)]
struct UpdateProjectArgs {
    /// The project's id.
    project_id: ProjectId,
    #[serde(flatten)]
    patch: ProjectPatchInput,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct CreateSectionArgs {
    /// The project the section goes in.
    project_id: ProjectId,
    #[serde(flatten)]
    section: SectionInput,
}

/// The task, and the same destination as `POST /api/v1/tasks/{id}/move`.
#[derive(Debug, Deserialize, JsonSchema)]
struct MoveTaskArgs {
    /// The task's id.
    task_id: TaskId,
    #[serde(flatten)]
    to: MoveInput,
}

/// `"none"`: the top level only.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
enum TopLevel {
    #[serde(rename = "none")]
    None,
}

/// A task id (its subtasks) or `"none"` (top-level tasks).
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(untagged)]
enum ParentArg {
    Task(TaskId),
    TopLevel(TopLevel),
}

impl ParentArg {
    fn as_query(self) -> String {
        match self {
            ParentArg::Task(id) => id.to_string(),
            ParentArg::TopLevel(TopLevel::None) => "none".to_owned(),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
struct CompleteTaskArgs {
    /// The task's id.
    task_id: TaskId,
    /// `false` marks the task as not done again; default `true`.
    #[serde(default)]
    completed: Option<bool>,
}

/// The task, the same partial update as `PATCH /api/v1/tasks/{id}`, and where to move it.
#[derive(Debug, Deserialize, JsonSchema)]
struct UpdateTaskArgs {
    /// The task's id.
    task_id: TaskId,
    /// Moves the task (with its subtasks) to the top level of this project.
    #[serde(default)]
    project_id: Option<ProjectId>,
    /// Moves the task into this section (of its project, or of `project_id`).
    #[serde(default)]
    section_id: Option<SectionId>,
    /// Makes the task a subtask of this one.
    #[serde(default)]
    parent_id: Option<TaskId>,
    #[serde(flatten)]
    patch: TaskPatchInput,
}

impl UpdateTaskArgs {
    /// The move the arguments ask for, if any.
    fn destination(&self) -> Option<MoveInput> {
        let to = MoveInput {
            project_id: self.project_id,
            section_id: self.section_id,
            parent_id: self.parent_id,
            position: None,
        };
        (to.project_id.is_some() || to.section_id.is_some() || to.parent_id.is_some()).then_some(to)
    }
}

async fn add_task(todo: &Todo, user: &UserId, input: TaskInput) -> Result<Value, ToolError> {
    let task = todo.create_task(user, input).await?;
    to_value(&TaskChange::of(&task, ChangeStatus::Created))
}

async fn quick_add_task(todo: &Todo, user: &UserId, input: QuickInput) -> Result<Value, ToolError> {
    let task = todo.quick_add(user, input).await?;
    to_value(&TaskChange::of(&task, ChangeStatus::Created))
}

async fn list_tasks(todo: &Todo, user: &UserId, args: ListTasksArgs) -> Result<Value, ToolError> {
    let page = todo.list_tasks(user, &args.into()).await?;
    to_value(&TaskList {
        tasks: page.items,
        total: page.total,
        next_cursor: page.next.map(|cursor| cursor.encode()),
    })
}

async fn get_task(todo: &Todo, user: &UserId, args: TaskIdArgs) -> Result<Value, ToolError> {
    to_value(&todo.get_task(user, args.task_id).await?)
}

async fn complete_task(
    todo: &Todo,
    user: &UserId,
    args: CompleteTaskArgs,
) -> Result<Value, ToolError> {
    to_value(&complete(todo, user, args).await?)
}

/// Completes (or reopens) one task; `complete_task` and `complete_tasks` both come here.
async fn complete(
    todo: &Todo,
    user: &UserId,
    args: CompleteTaskArgs,
) -> Result<TaskChange, ToolError> {
    // Unlike the REST toggle, a model that says "complete" means done, whatever the state.
    let completed = args.completed.unwrap_or(true);
    let task = todo
        .complete_task(user, args.task_id, Some(completed))
        .await?;
    // A recurring task completed stays open, moved to its next due.
    let rolled = completed && !task.completed;
    let status = if task.completed || rolled {
        ChangeStatus::Completed
    } else {
        ChangeStatus::Updated
    };
    let mut change = TaskChange::of(&task, status);
    if rolled {
        change.message = Some(match task.due() {
            Due::None => "Completed. It repeats, so it stays open for its next occurrence.".into(),
            due => format!(
                "Completed. It repeats, so it stays open and moved to its next due, {}. \
                 complete_task with completed: false now undoes this.",
                describe_due(&task, due)
            ),
        });
    }
    Ok(change)
}

/// A due as a model reads it: the wall-clock time (and its zone when pinned) or the day.
fn describe_due(task: &Task, due: Due) -> String {
    match (due, task.due_local) {
        (Due::Date(date), _) => date.to_string(),
        (Due::At(_), Some(local)) => match &task.due_timezone {
            Some(zone) => format!("{} ({zone})", local.format("%Y-%m-%dT%H:%M")),
            None => local.format("%Y-%m-%dT%H:%M").to_string(),
        },
        (Due::At(at), None) => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        (Due::None, _) => String::new(),
    }
}

async fn update_task(todo: &Todo, user: &UserId, args: UpdateTaskArgs) -> Result<Value, ToolError> {
    to_value(&update(todo, user, args).await?)
}

/// Updates (and moves) one task; `update_task` and `update_tasks` both come here.
async fn update(todo: &Todo, user: &UserId, args: UpdateTaskArgs) -> Result<TaskChange, ToolError> {
    // The move first: it is what a missing or read-only project refuses; then the fields
    // (an empty patch with no move is refused as "nothing to change").
    let moved = match args.destination() {
        Some(to) => Some(todo.move_task(user, args.task_id, to).await?),
        None => None,
    };
    let task = match moved {
        Some(task) if args.patch.is_empty() => task,
        _ => todo.patch_task(user, args.task_id, args.patch).await?,
    };
    Ok(TaskChange::of(&task, ChangeStatus::Updated))
}

async fn move_task(todo: &Todo, user: &UserId, args: MoveTaskArgs) -> Result<Value, ToolError> {
    let task = todo.move_task(user, args.task_id, args.to).await?;
    // Mutations report one of four statuses (created, completed, updated, deleted): a move
    // is an update.
    to_value(&TaskChange::of(&task, ChangeStatus::Updated))
}

async fn list_projects(todo: &Todo, user: &UserId, _args: NoArgs) -> Result<Value, ToolError> {
    to_value(&ProjectList {
        projects: todo.list_projects(user).await?,
    })
}

async fn add_project(todo: &Todo, user: &UserId, input: ProjectInput) -> Result<Value, ToolError> {
    to_value(&todo.create_project(user, input).await?)
}

async fn update_project(
    todo: &Todo,
    user: &UserId,
    args: UpdateProjectArgs,
) -> Result<Value, ToolError> {
    to_value(
        &todo
            .update_project(user, args.project_id, args.patch)
            .await?,
    )
}

async fn list_sections(
    todo: &Todo,
    user: &UserId,
    args: ProjectIdArgs,
) -> Result<Value, ToolError> {
    to_value(&SectionList {
        sections: todo.list_sections(user, args.project_id).await?,
    })
}

async fn create_section(
    todo: &Todo,
    user: &UserId,
    args: CreateSectionArgs,
) -> Result<Value, ToolError> {
    to_value(
        &todo
            .create_section(user, args.project_id, args.section)
            .await?,
    )
}

async fn list_comments(todo: &Todo, user: &UserId, args: TaskIdArgs) -> Result<Value, ToolError> {
    to_value(&CommentList {
        comments: todo.comments(user, args.task_id).await?,
    })
}

async fn add_comment(todo: &Todo, user: &UserId, args: AddCommentArgs) -> Result<Value, ToolError> {
    let input = CommentInput { body: args.body };
    to_value(&todo.add_comment(user, args.task_id, input).await?)
}

async fn delete_task(todo: &Todo, user: &UserId, args: TaskIdArgs) -> Result<Value, ToolError> {
    // The result names the task, so read it first; a concurrent delete still ends in NotFound.
    let task = todo.get_task(user, args.task_id).await?;
    todo.delete_task(user, args.task_id).await?;
    to_value(&TaskChange::of(&task, ChangeStatus::Deleted))
}

async fn list_tags(todo: &Todo, user: &UserId, _args: NoArgs) -> Result<Value, ToolError> {
    to_value(&TagList {
        tags: todo.list_tags(user).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::Patch;

    #[test]
    fn every_tool_has_object_schemas_that_accept_user_id() {
        for tool in tools() {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                tool.name
            );
            assert_eq!(
                tool.output_schema.get("type"),
                Some(&json!("object")),
                "{}",
                tool.name
            );
            let properties = tool.input_schema.get("properties");
            assert!(
                properties.is_some_and(|p| p.get(USER_ID).is_some()),
                "{} lacks user_id",
                tool.name
            );
        }
    }

    fn named(name: &str) -> &'static ToolDef {
        tool(name).expect("a tool of that name")
    }

    /// Every `type` and `format` in a schema, wherever it is.
    fn types_and_formats(schema: &Value, found: &mut Vec<(String, Value)>) {
        match schema {
            Value::Object(object) => {
                for (key, value) in object {
                    if key == "type" || key == "format" {
                        found.push((key.clone(), value.clone()));
                    }
                    types_and_formats(value, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| types_and_formats(item, found)),
            _ => {}
        }
    }

    #[test]
    fn schemas_write_nullable_values_as_any_of_and_use_only_standard_formats() {
        for tool in tools() {
            for schema in [&tool.input_schema, &tool.output_schema] {
                let mut found = Vec::new();
                types_and_formats(&Value::Object(schema.as_ref().clone()), &mut found);
                for (key, value) in found {
                    // A property *named* type or format has an object schema as its value.
                    if value.is_object() {
                        continue;
                    }
                    match key.as_str() {
                        "type" => assert!(value.is_string(), "{}: type {value}", tool.name),
                        _ => assert!(
                            matches!(value.as_str(), Some("date-time" | "date" | "uri")),
                            "{}: format {value}",
                            tool.name
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn every_tool_says_whether_it_reads_adds_overwrites_or_deletes() {
        let hints = |name: &str| {
            let tool = named(name);
            (tool.read_only(), tool.destructive, tool.idempotent)
        };
        for reader in [
            "list_tasks",
            "get_task",
            "search",
            "fetch",
            "list_comments",
            "list_projects",
        ] {
            assert_eq!(hints(reader), (true, false, true), "{reader}");
        }
        for adder in ["add_task", "add_tasks", "add_comment", "quick_add_task"] {
            assert_eq!(hints(adder), (false, false, false), "{adder}");
        }
        assert_eq!(hints("delete_task"), (false, true, true));
        assert_eq!(hints("update_tasks"), (false, true, true));
        assert_eq!(
            hints("complete_tasks"),
            (false, false, false),
            "recurring tasks move on"
        );
        assert_eq!(
            hints("reschedule_tasks"),
            (false, true, false),
            "`days` is relative"
        );
        assert_eq!(hints("move_task"), (false, false, true));
        let destructive: Vec<_> = tools()
            .iter()
            .filter(|t| t.destructive)
            .map(|t| t.name)
            .collect();
        assert_eq!(
            destructive,
            [
                "update_task",
                "update_tasks",
                "reschedule_tasks",
                "delete_task",
                "update_project"
            ]
        );
    }

    #[test]
    fn comments_need_the_write_scope_to_add_and_the_read_scope_to_list() {
        assert_eq!(named("list_comments").scope, Scope::Read);
        assert_eq!(named("add_comment").scope, Scope::Write);
        let args = arguments_for(
            named("add_comment"),
            &"u1".into(),
            json!({"task_id": 3, "body": "On it"}),
        )
        .and_then(parse::<AddCommentArgs>)
        .expect("valid arguments");
        assert_eq!(
            (args.task_id, args.body.as_str()),
            (TaskId::new(3), "On it")
        );
        let missing = arguments_for(named("add_comment"), &"u1".into(), json!({"task_id": 3}))
            .and_then(parse::<AddCommentArgs>);
        assert!(matches!(missing, Err(ToolError::InvalidArguments(m)) if m.contains("body")));
    }

    #[test]
    fn batch_schemas_bound_their_items_and_close_them() {
        for (name, field) in [
            ("add_tasks", "tasks"),
            ("update_tasks", "tasks"),
            ("complete_tasks", "task_ids"),
            ("reschedule_tasks", "task_ids"),
        ] {
            let schema = &named(name).input_schema;
            let list = &schema["properties"][field];
            assert_eq!(list["maxItems"], MAX_BATCH, "{name}");
            assert_eq!(list["minItems"], 1, "{name}");
            assert_eq!(schema["required"], json!([field]), "{name}");
        }
        let add = &named("add_tasks").input_schema;
        let item = add["$defs"]["TaskInput"].clone();
        assert_eq!(item["additionalProperties"], false, "{add:?}");
        assert!(item["properties"].get("title").is_some());
        let update = &named("update_tasks").input_schema;
        assert_eq!(
            update["$defs"]["UpdateTaskArgs"]["additionalProperties"], false,
            "{update:?}"
        );
    }

    #[test]
    fn list_tasks_reads_the_assignee_filter() {
        let read = |args| -> ListTasksRequest {
            arguments_for(named("list_tasks"), &"u1".into(), args)
                .and_then(parse::<ListTasksArgs>)
                .expect("valid arguments")
                .into()
        };
        assert_eq!(
            read(json!({"assignee": "me"})).assignee.as_deref(),
            Some("me")
        );
        assert_eq!(read(json!({})).assignee, None);
    }

    #[test]
    fn user_id_must_name_the_caller() {
        let add = named("add_task");
        assert!(arguments_for(add, &"u1".into(), json!({"user_id": "u1", "title": "x"})).is_ok());
        assert!(arguments_for(named("list_tags"), &"u1".into(), json!(null)).is_ok());
        assert!(matches!(
            arguments_for(add, &"u1".into(), json!({"user_id": "u2"})),
            Err(ToolError::Forbidden(_))
        ));
        assert!(matches!(
            arguments_for(add, &"u1".into(), json!([1])),
            Err(ToolError::InvalidArguments(_))
        ));
    }

    #[test]
    fn unknown_fields_are_named_in_the_error() {
        for (name, args) in [
            ("update_task", json!({"task_id": 1, "titel": "x"})),
            ("add_task", json!({"titel": "x"})),
            ("list_tags", json!({"titel": "x"})),
        ] {
            let error = arguments_for(named(name), &"u1".into(), args);
            assert!(
                matches!(&error, Err(ToolError::InvalidArguments(m)) if m.contains("titel")),
                "{name}: {error:?}"
            );
        }
    }

    #[test]
    fn update_task_reads_the_core_patch_beside_its_task_id() {
        let update = named("update_task");
        let args = arguments_for(
            update,
            &"u1".into(),
            json!({"task_id": 7, "description": null, "priority": "high"}),
        )
        .and_then(parse::<UpdateTaskArgs>)
        .expect("valid arguments");
        assert_eq!(args.task_id, TaskId::new(7));
        assert_eq!(args.patch.description, Patch::Null);
        assert_eq!(args.patch.priority, Patch::Value(Priority::High));
        assert!(args.patch.title.is_missing());
        let properties = update.input_schema.get("properties").expect("properties");
        for field in ["task_id", "title", "due_at", "reminders", "completed"] {
            assert!(properties.get(field).is_some(), "{field} not offered");
        }
    }

    #[test]
    fn add_task_reads_the_core_task_input() {
        let input: TaskInput = parse(
            arguments_for(
                named("add_task"),
                &"u1".into(),
                json!({"title": "x", "due_date": "2026-12-01", "tags": ["home"]}),
            )
            .expect("known fields"),
        )
        .expect("valid arguments");
        assert_eq!(input.tags, Some(vec!["home".to_owned()]));
        assert!(input.needs_time_zone());
    }

    #[test]
    fn list_tasks_reads_project_section_and_parent_filters() {
        let read = |args| -> ListTasksRequest {
            arguments_for(named("list_tasks"), &"u1".into(), args)
                .and_then(parse::<ListTasksArgs>)
                .expect("valid arguments")
                .into()
        };
        let top = read(json!({"project_id": 3, "section_id": 4, "parent_id": "none"}));
        assert_eq!(top.project.as_deref(), Some("3"));
        assert_eq!(top.section.as_deref(), Some("4"));
        assert_eq!(top.parent.as_deref(), Some("none"));
        assert_eq!(read(json!({"parent_id": 9})).parent.as_deref(), Some("9"));
        let wrong = arguments_for(named("list_tasks"), &"u1".into(), json!({"parent_id": "x"}))
            .and_then(parse::<ListTasksArgs>);
        assert!(matches!(wrong, Err(ToolError::InvalidArguments(_))));
    }

    #[test]
    fn update_task_moves_only_when_a_place_is_named() {
        let read = |args| {
            arguments_for(named("update_task"), &"u1".into(), args)
                .and_then(parse::<UpdateTaskArgs>)
                .expect("valid arguments")
        };
        let rename = read(json!({"task_id": 1, "title": "x"}));
        assert!(rename.destination().is_none());
        let moved = read(json!({"task_id": 1, "section_id": 5}));
        assert_eq!(
            moved.destination().map(|to| to.section_id),
            Some(Some(SectionId::new(5)))
        );
        assert!(moved.patch.is_empty());
    }

    #[test]
    fn project_tools_take_the_core_inputs_beside_their_ids() {
        for (name, fields) in [
            ("add_task", &["project_id", "section_id", "parent_id"][..]),
            ("update_task", &["project_id", "section_id", "parent_id"]),
            (
                "move_task",
                &[
                    "task_id",
                    "project_id",
                    "section_id",
                    "parent_id",
                    "position",
                ],
            ),
            (
                "update_project",
                &["project_id", "name", "color", "archived"],
            ),
            ("create_section", &["project_id", "name", "position"]),
            ("add_project", &["name", "color"]),
            ("list_sections", &["project_id"]),
        ] {
            let properties = named(name)
                .input_schema
                .get("properties")
                .expect("properties");
            for field in fields {
                assert!(properties.get(*field).is_some(), "{name} lacks {field}");
            }
        }
        let archive = arguments_for(
            named("update_project"),
            &"u1".into(),
            json!({"project_id": 2, "archived": true}),
        )
        .and_then(parse::<UpdateProjectArgs>)
        .expect("valid arguments");
        assert_eq!(archive.patch.archived, Patch::Value(true));
        assert!(matches!(
            ToolError::from(Error::InsufficientRole("no".into())),
            ToolError::Forbidden(_)
        ));
        assert!(matches!(
            ToolError::from(Error::NotFound("project")),
            ToolError::NotFound(m) if m.contains("list_projects")
        ));
    }
}
