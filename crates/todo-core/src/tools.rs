//! The tool registry: the task tools a model can call, each with a name, a description, JSON
//! Schemas of its input and output, and one [`call`] that runs it through the same use cases
//! as the REST API. The MCP server and the chat agent are adapters over this one list, so a
//! tool is defined once and behaves the same whichever door it is called through.

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
use crate::tag::Tag;
use crate::task::{Priority, Task, TaskId, TaskInput, TaskPatchInput};
use crate::tasks::QuickInput;
use crate::user::UserId;

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
    /// Removes data for good (a hint clients show before calling).
    pub destructive: bool,
}

impl ToolDef {
    pub fn read_only(&self) -> bool {
        self.scope == Scope::Read
    }
}

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
            Error::NotFound(what) => ToolError::NotFound(format!(
                "no {what} with that id; call list_tasks to find the right id"
            )),
            Error::Conflict(message) => ToolError::InvalidArguments(message),
            Error::Forbidden(message) | Error::InsufficientRole(message) => {
                ToolError::Forbidden(message)
            }
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
                 offset) or an all-day `due_date` (YYYY-MM-DD), not both. Tags that do not exist \
                 yet are created.",
                Scope::Write,
                false,
            ),
            def::<QuickInput, TaskChange>(
                "quick_add_task",
                "Quick add",
                "Add a task from one line of natural text, read in the user's time zone: dates \
                 ('tomorrow 5pm', 'on the 1st'), repeats ('every monday'), `#tags` and \
                 `!priority` (e.g. 'Pay rent on the 1st every month !high #home').",
                Scope::Write,
                false,
            ),
            def::<ListTasksArgs, TaskList>(
                "list_tasks",
                "List tasks",
                "List the user's tasks, filtered and sorted, one page at a time. `total` counts \
                 every match; pass `next_cursor` back as `cursor` for the next page.",
                Scope::Read,
                false,
            ),
            def::<TaskIdArgs, Task>(
                "get_task",
                "Get task",
                "Get one task by its id.",
                Scope::Read,
                false,
            ),
            def::<CompleteTaskArgs, TaskChange>(
                "complete_task",
                "Complete task",
                "Mark a task as done (or, with `completed: false`, as not done again).",
                Scope::Write,
                false,
            ),
            def::<UpdateTaskArgs, TaskChange>(
                "update_task",
                "Update task",
                "Change some fields of a task: fields left out stay as they are, `null` clears \
                 one. `tags` replaces the whole tag list.",
                Scope::Write,
                false,
            ),
            def::<TaskIdArgs, TaskChange>(
                "delete_task",
                "Delete task",
                "Delete a task for good.",
                Scope::Write,
                true,
            ),
            def::<NoArgs, TagList>(
                "list_tags",
                "List tags",
                "List the user's tags with how many tasks carry each.",
                Scope::Read,
                false,
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
        "list_tags" => list_tags(todo, user, parse(args)?).await,
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
    scope: Scope,
    destructive: bool,
) -> ToolDef {
    let mut input = schema_object(
        SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<I>(),
    );
    // The tool's description says what it does; the input type's own doc is for Rust readers.
    input.remove("description");
    // What `arguments_for` enforces: no argument the schema does not name.
    input.insert("additionalProperties".into(), Value::Bool(false));
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
        scope,
        destructive,
    }
}

fn schema_object(schema: Schema) -> JsonObject {
    match schema.to_value() {
        Value::Object(object) => object,
        // `true`/`false` schemas never come from a struct; describe them as any object.
        _ => JsonObject::from_iter([("type".to_owned(), json!("object"))]),
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
}

impl TaskChange {
    fn of(task: &Task, status: ChangeStatus) -> Self {
        Self {
            task_id: task.id,
            status,
            title: task.title.clone(),
        }
    }
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
    /// `true`: only tasks not done whose due moment has passed.
    #[serde(default)]
    overdue: Option<bool>,
    /// `created_at` (default), `due_at`, `priority`, `title` or `position`; prefix `-` for
    /// descending, e.g. `-priority`.
    #[serde(default)]
    sort: Option<String>,
    /// Page size, 1–500 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
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
            ..ListTasksRequest::default()
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

/// The task, and the same partial update as `PATCH /api/v1/tasks/{id}`.
#[derive(Debug, Deserialize, JsonSchema)]
struct UpdateTaskArgs {
    /// The task's id.
    task_id: TaskId,
    #[serde(flatten)]
    patch: TaskPatchInput,
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
    // Unlike the REST toggle, a model that says "complete" means done, whatever the state.
    let completed = args.completed.unwrap_or(true);
    let task = todo
        .complete_task(user, args.task_id, Some(completed))
        .await?;
    let status = if task.completed {
        ChangeStatus::Completed
    } else {
        ChangeStatus::Updated
    };
    to_value(&TaskChange::of(&task, status))
}

async fn update_task(todo: &Todo, user: &UserId, args: UpdateTaskArgs) -> Result<Value, ToolError> {
    let task = todo.patch_task(user, args.task_id, args.patch).await?;
    to_value(&TaskChange::of(&task, ChangeStatus::Updated))
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
}
