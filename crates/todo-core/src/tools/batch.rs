//! The batch tools: `add_tasks`, `complete_tasks`, `update_tasks` and `reschedule_tasks`. Each
//! item is read and run on its own, in the order given, through the same function as its
//! one-task tool, so that a bad item (a malformed one, an unknown task, a broken rule) fails
//! alone and the others still happen. The result lists one entry per item: the change, or the
//! error that item met. Only a malformed batch (no items, too many, a wrong field beside
//! them) fails the whole call.

use chrono::{Days, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{
    ChangeStatus, CompleteTaskArgs, JsonObject, TaskChange, ToolError, UpdateTaskArgs, describe_due,
};
use crate::Todo;
use crate::patch::Patch;
use crate::task::{Due, Task, TaskId, TaskInput, TaskPatchInput};
use crate::time::WallClock;
use crate::user::UserId;

/// Most items one batch call takes (each is a write of its own).
pub const MAX_BATCH: usize = 100;
/// The furthest `reschedule_tasks` shifts a due, in days either way (ten years).
const MAX_SHIFT_DAYS: i32 = 3653;

/// One item of a batch, read on its own: a malformed item is that item's error, not the
/// call's. Its schema is the item type's.
#[derive(Debug)]
pub(super) struct Item<T> {
    raw: Value,
    parsed: Result<T, String>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        let parsed = serde_json::from_value(raw.clone()).map_err(|e| e.to_string());
        Ok(Self { raw, parsed })
    }
}

impl<T: JsonSchema> JsonSchema for Item<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<T> Item<T> {
    /// The item, unless it is malformed or names a field its schema (`known`) does not.
    fn read(self, known: Option<&JsonObject>) -> Result<T, ToolError> {
        if let (Some(known), Value::Object(fields)) = (known, &self.raw)
            && let Some(unknown) = fields.keys().find(|key| !known.contains_key(*key))
        {
            let expected: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err(ToolError::InvalidArguments(format!(
                "unknown field `{unknown}`, expected one of {}",
                expected.join(", ")
            )));
        }
        self.parsed.map_err(ToolError::InvalidArguments)
    }

    /// The task id the raw item names, if it names one (for the report of a failed item).
    fn task_id(&self) -> Option<TaskId> {
        let id = match &self.raw {
            Value::Object(fields) => fields.get("task_id")?,
            other => other,
        };
        match id {
            Value::Number(n) => n.as_i64().map(TaskId::new),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// The status of an item that did not happen.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Failed {
    Failed,
}

/// An item that did not happen, and why; the other items are not affected.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ItemError {
    /// The task the item named, when it named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    pub status: Failed,
    /// What went wrong, as the one-task tool would have said it.
    pub error: String,
}

/// What one item of a batch did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ItemResult {
    Done(TaskChange),
    Failed(ItemError),
}

/// The result of a batch tool.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BatchResult {
    /// One entry per item, in the order the items were given.
    pub results: Vec<ItemResult>,
    /// How many items happened.
    pub succeeded: u32,
    /// How many items failed (each says why in `results`).
    pub failed: u32,
}

impl BatchResult {
    fn new() -> Self {
        Self {
            results: Vec::new(),
            succeeded: 0,
            failed: 0,
        }
    }

    fn push(&mut self, task_id: Option<TaskId>, outcome: Result<TaskChange, ToolError>) {
        match outcome {
            Ok(change) => {
                self.succeeded += 1;
                self.results.push(ItemResult::Done(change));
            }
            Err(error) => {
                self.failed += 1;
                self.results.push(ItemResult::Failed(ItemError {
                    task_id,
                    status: Failed::Failed,
                    error: error.to_string(),
                }));
            }
        }
    }
}

/// Refuses an empty batch or one over [`MAX_BATCH`] (the schema says so too).
fn check_size(field: &str, len: usize) -> Result<(), ToolError> {
    if len == 0 || len > MAX_BATCH {
        return Err(ToolError::InvalidArguments(format!(
            "{field}: give 1 to {MAX_BATCH} items (split a longer list into several calls)"
        )));
    }
    Ok(())
}

/// Runs `run` on each item in order, collecting what each did. A server fault ends the batch
/// with that fault (items already done stay done; the error says to try again).
async fn each<T, F, Fut>(
    items: Vec<Item<T>>,
    known: Option<&JsonObject>,
    mut run: F,
) -> Result<BatchResult, ToolError>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<TaskChange, ToolError>>,
{
    let mut result = BatchResult::new();
    for item in items {
        let task_id = item.task_id();
        let outcome = match item.read(known) {
            Ok(args) => run(args).await,
            Err(error) => Err(error),
        };
        // A fault of ours stops the batch: the items after it would likely meet it too, and
        // the model learns only to try again.
        if let Err(ToolError::Internal(cause)) = outcome {
            return Err(ToolError::Internal(cause));
        }
        result.push(task_id, outcome);
    }
    Ok(result)
}

/// `add_tasks`: each item as `add_task` takes it.
#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct AddTasksArgs {
    /// The tasks to add (1–100), each with the fields add_task takes.
    #[schemars(length(min = 1, max = 100))]
    tasks: Vec<Item<TaskInput>>,
}

/// `complete_tasks`: several task ids, done (or not done again) together.
#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct CompleteTasksArgs {
    /// The tasks' ids (1–100).
    #[schemars(length(min = 1, max = 100))]
    task_ids: Vec<Item<TaskId>>,
    /// `false` marks them as not done again; default `true`.
    #[serde(default)]
    completed: Option<bool>,
}

/// `update_tasks`: each item as `update_task` takes it.
#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct UpdateTasksArgs {
    /// The changes (1–100), each a `task_id` with the fields update_task takes.
    #[schemars(length(min = 1, max = 100))]
    tasks: Vec<Item<UpdateTaskArgs>>,
}

/// `reschedule_tasks`: new dues for several tasks, one of four ways.
#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct RescheduleTasksArgs {
    /// The tasks' ids (1–100).
    #[schemars(length(min = 1, max = 100))]
    task_ids: Vec<Item<TaskId>>,
    /// Due on this day, all day (YYYY-MM-DD).
    #[serde(default)]
    due_date: Option<NaiveDate>,
    /// Due at this wall-clock time (`2026-12-01T09:30`), in the task's pinned zone if it has
    /// one, else the user's.
    #[serde(default)]
    due_local: Option<WallClock>,
    /// Due at this moment (RFC 3339 with an offset).
    #[serde(default)]
    due_at: Option<chrono::DateTime<Utc>>,
    /// Moves each task's current due by this many days (negative: earlier), keeping its time
    /// of day; a task without a due fails.
    #[serde(default)]
    #[schemars(range(min = -3653, max = 3653))]
    days: Option<i32>,
}

/// Where `reschedule_tasks` puts each due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewDue {
    Date(NaiveDate),
    Local(NaiveDateTime),
    At(chrono::DateTime<Utc>),
    Shift(i32),
}

impl RescheduleTasksArgs {
    fn new_due(&self) -> Result<NewDue, ToolError> {
        let given = [
            self.due_date.map(NewDue::Date),
            self.due_local.map(|WallClock(local)| NewDue::Local(local)),
            self.due_at.map(NewDue::At),
            self.days.map(NewDue::Shift),
        ];
        let mut given = given.into_iter().flatten();
        match (given.next(), given.next()) {
            (Some(NewDue::Shift(days)), None) if days == 0 || days.abs() > MAX_SHIFT_DAYS => {
                Err(ToolError::InvalidArguments(format!(
                    "days: a shift of 1 to {MAX_SHIFT_DAYS} days, either way"
                )))
            }
            (Some(due), None) => Ok(due),
            _ => Err(ToolError::InvalidArguments(
                "give exactly one of due_date, due_local, due_at and days".into(),
            )),
        }
    }
}

/// The patch that gives `task` its new due and changes nothing else: its recurrence, its
/// reminders (relative ones follow the due) and a pinned zone stay as they are.
fn reschedule_patch(task: &Task, to: NewDue) -> Result<TaskPatchInput, ToolError> {
    let keep_zone = || {
        task.due_timezone
            .clone()
            .map_or(Patch::Missing, Patch::Value)
    };
    let mut patch = TaskPatchInput::default();
    match to {
        NewDue::Date(date) => patch.due_date = Patch::Value(date),
        NewDue::Local(local) => {
            patch.due_local = Patch::Value(WallClock(local));
            patch.due_timezone = keep_zone();
        }
        NewDue::At(at) => {
            patch.due_at = Patch::Value(at);
            patch.due_timezone = keep_zone();
        }
        NewDue::Shift(days) => {
            let out_of_range =
                || ToolError::InvalidArguments("the shifted due is out of range".into());
            let step = Days::new(u64::from(days.unsigned_abs()));
            let shift_date = |date: NaiveDate| {
                if days >= 0 {
                    date.checked_add_days(step)
                } else {
                    date.checked_sub_days(step)
                }
            };
            match (task.due(), task.due_local) {
                (Due::None, _) => {
                    return Err(ToolError::InvalidArguments(
                        "this task has no due to move; give due_date or due_local instead".into(),
                    ));
                }
                (Due::Date(date), _) => {
                    patch.due_date = Patch::Value(shift_date(date).ok_or_else(out_of_range)?);
                }
                // A timed due keeps its clock time (across a change of daylight saving time).
                (Due::At(_), Some(local)) => {
                    let moved = shift_date(local.date()).ok_or_else(out_of_range)?;
                    patch.due_local = Patch::Value(WallClock(moved.and_time(local.time())));
                    patch.due_timezone = keep_zone();
                }
                (Due::At(at), None) => {
                    let moved = at
                        .checked_add_signed(TimeDelta::days(i64::from(days)))
                        .ok_or_else(out_of_range)?;
                    patch.due_at = Patch::Value(moved);
                    patch.due_timezone = keep_zone();
                }
            }
        }
    }
    Ok(patch)
}

/// The item schema's properties of a batch field, to refuse unknown fields in items.
fn item_fields<'a>(input_schema: &'a JsonObject, field: &str) -> Option<&'a JsonObject> {
    let items = input_schema.get("properties")?.get(field)?.get("items")?;
    let items = match items.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.strip_prefix("#/$defs/")?;
            input_schema.get("$defs")?.get(name)?
        }
        None => items,
    };
    items.get("properties")?.as_object()
}

pub(super) async fn add_tasks(
    todo: &Todo,
    user: &UserId,
    schema: &JsonObject,
    args: AddTasksArgs,
) -> Result<BatchResult, ToolError> {
    check_size("tasks", args.tasks.len())?;
    each(
        args.tasks,
        item_fields(schema, "tasks"),
        |input| async move {
            let task = todo.create_task(user, input).await?;
            Ok(TaskChange::of(&task, ChangeStatus::Created))
        },
    )
    .await
}

pub(super) async fn complete_tasks(
    todo: &Todo,
    user: &UserId,
    args: CompleteTasksArgs,
) -> Result<BatchResult, ToolError> {
    check_size("task_ids", args.task_ids.len())?;
    let completed = args.completed;
    each(args.task_ids, None, |task_id| async move {
        super::complete(todo, user, CompleteTaskArgs { task_id, completed }).await
    })
    .await
}

pub(super) async fn update_tasks(
    todo: &Todo,
    user: &UserId,
    schema: &JsonObject,
    args: UpdateTasksArgs,
) -> Result<BatchResult, ToolError> {
    check_size("tasks", args.tasks.len())?;
    each(
        args.tasks,
        item_fields(schema, "tasks"),
        |item| async move { super::update(todo, user, item).await },
    )
    .await
}

pub(super) async fn reschedule_tasks(
    todo: &Todo,
    user: &UserId,
    args: RescheduleTasksArgs,
) -> Result<BatchResult, ToolError> {
    check_size("task_ids", args.task_ids.len())?;
    let to = args.new_due()?;
    each(args.task_ids, None, |task_id| async move {
        let task = todo.get_task(user, task_id).await?;
        let patch = reschedule_patch(&task, to)?;
        let task = todo.patch_task(user, task_id, patch).await?;
        let mut change = TaskChange::of(&task, ChangeStatus::Updated);
        change.message = Some(format!("Now due {}.", describe_due(&task, task.due())));
        Ok(change)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use serde_json::json;

    fn task(due_date: Option<&str>, due_local: Option<&str>, zone: Option<&str>) -> Task {
        let local = due_local
            .map(|l| NaiveDateTime::parse_from_str(l, "%Y-%m-%dT%H:%M").expect("wall clock"));
        Task {
            id: TaskId::new(1),
            user_id: UserId::new("u1"),
            project_id: crate::project::ProjectId::new(1),
            section_id: None,
            parent_id: None,
            title: "Water plants".into(),
            description: None,
            completed: false,
            completed_at: None,
            priority: crate::task::Priority::None,
            due_at: local.map(|l| l.and_utc()),
            due_local: local,
            due_timezone: zone.map(str::to_owned),
            due_date: due_date.map(|d| d.parse().expect("date")),
            recurrence: Some("FREQ=WEEKLY;BYDAY=MO".into()),
            recurrence_mode: crate::recurrence::RecurrenceMode::Due,
            position: 0,
            assignee_id: None,
            tags: Vec::new(),
            reminders: Vec::new(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_reschedule_changes_the_due_alone_and_keeps_the_recurrence_and_the_zone() {
        let pinned = task(None, Some("2026-12-07T09:30"), Some("Europe/Paris"));

        let patch = reschedule_patch(&pinned, NewDue::Shift(7)).expect("shifted");

        assert_eq!(
            patch.due_local,
            Patch::Value(WallClock(
                NaiveDateTime::parse_from_str("2026-12-14T09:30", "%Y-%m-%dT%H:%M").expect("time")
            ))
        );
        assert_eq!(patch.due_timezone, Patch::Value("Europe/Paris".to_owned()));
        assert!(
            patch.recurrence.is_missing() && patch.recurrence_mode.is_missing(),
            "the recurrence is left as it is"
        );
        assert!(patch.reminders.is_missing() && patch.title.is_missing());
    }

    #[test]
    fn a_shift_moves_an_all_day_due_by_days_and_refuses_a_task_without_a_due() {
        let all_day = task(Some("2026-12-31"), None, None);
        let patch = reschedule_patch(&all_day, NewDue::Shift(-31)).expect("shifted");
        assert_eq!(
            patch.due_date,
            Patch::Value("2026-11-30".parse().expect("date"))
        );
        assert!(patch.due_timezone.is_missing());

        let undated = task(None, None, None);
        let refused = reschedule_patch(&undated, NewDue::Shift(1));
        assert!(matches!(refused, Err(ToolError::InvalidArguments(m)) if m.contains("no due")));
    }

    #[test]
    fn a_reschedule_takes_exactly_one_new_due() {
        let read = |args: Value| -> Result<NewDue, ToolError> {
            serde_json::from_value::<RescheduleTasksArgs>(args)
                .map_err(|e| ToolError::InvalidArguments(e.to_string()))
                .and_then(|args| args.new_due())
        };
        assert_eq!(
            read(json!({"task_ids": [1], "days": 2})).ok(),
            Some(NewDue::Shift(2))
        );
        for wrong in [
            json!({"task_ids": [1]}),
            json!({"task_ids": [1], "days": 1, "due_date": "2026-12-01"}),
            json!({"task_ids": [1], "days": 0}),
            json!({"task_ids": [1], "days": 100000}),
        ] {
            assert!(
                matches!(read(wrong.clone()), Err(ToolError::InvalidArguments(_))),
                "{wrong}"
            );
        }
    }

    #[tokio::test]
    async fn one_bad_item_fails_alone_and_the_rest_happen_in_order() {
        let args: AddTasksArgs = serde_json::from_value(json!({"tasks": [
            {"title": "One"},
            {"title": 7},
            {"title": "Two", "colour": "red"},
            {"title": "Missing"},
            {"title": "Three"}
        ]}))
        .expect("the batch itself is well formed");
        let known: JsonObject = ["title".to_owned(), "due_date".to_owned()]
            .into_iter()
            .map(|k| (k, json!({})))
            .collect();
        let mut next_id = 0;

        let result = each(args.tasks, Some(&known), |input: TaskInput| {
            next_id += 1;
            let id = next_id;
            async move {
                if input.title == "Missing" {
                    return Err(ToolError::from(Error::NotFound("project")));
                }
                Ok(TaskChange {
                    task_id: TaskId::new(id),
                    status: ChangeStatus::Created,
                    title: input.title,
                    message: None,
                })
            }
        })
        .await
        .expect("no server fault");

        let report = serde_json::to_value(&result).expect("json");
        assert_eq!(report["succeeded"], 2);
        assert_eq!(report["failed"], 3);
        assert_eq!(report["results"][0]["title"], "One");
        assert_eq!(report["results"][1]["status"], "failed");
        assert!(
            report["results"][1]["error"]
                .as_str()
                .is_some_and(|e| e.contains("invalid type")),
            "{report}"
        );
        assert!(
            report["results"][2]["error"]
                .as_str()
                .is_some_and(|e| e.contains("colour")),
            "{report}"
        );
        assert!(
            report["results"][3]["error"]
                .as_str()
                .is_some_and(|e| e.contains("no project")),
            "{report}"
        );
        assert_eq!(report["results"][4]["title"], "Three");
    }

    #[test]
    fn a_batch_holds_one_to_a_hundred_items_and_failed_items_name_their_task() {
        assert!(check_size("tasks", 0).is_err());
        assert!(check_size("tasks", MAX_BATCH).is_ok());
        assert!(check_size("tasks", MAX_BATCH + 1).is_err());
        let args: CompleteTasksArgs =
            serde_json::from_value(json!({"task_ids": [5, "6", "x"]})).expect("well formed");
        let ids: Vec<_> = args.task_ids.iter().map(Item::task_id).collect();
        assert_eq!(ids, [Some(TaskId::new(5)), Some(TaskId::new(6)), None]);
    }
}
