//! Task use cases, shared by every interface.

use crate::Todo;
use crate::error::{Error, Result};
use crate::page::{Cursor, ListTasksRequest, Page};
use crate::task::{Task, TaskChanges, TaskId, TaskInput, TaskPatchInput};
use crate::time::now;

const NOT_FOUND: Error = Error::NotFound("task");

impl Todo {
    pub async fn create_task(&self, user_id: &str, input: TaskInput) -> Result<Task> {
        let task = input.validate()?;
        let task = self.store.insert_task(user_id, &task, now()).await?;
        crate::metrics::task_created();
        Ok(task)
    }

    pub async fn get_task(&self, user_id: &str, id: TaskId) -> Result<Task> {
        self.store.get_task(user_id, id).await?.ok_or(NOT_FOUND)
    }

    pub async fn list_tasks(
        &self,
        user_id: &str,
        request: &ListTasksRequest,
    ) -> Result<Page<Task>> {
        let query = request.validate()?;
        // One extra row tells whether another page follows.
        let mut items = self
            .store
            .list_tasks(user_id, &query, query.limit + 1)
            .await?;
        let next = if items.len() > query.limit as usize {
            items.truncate(query.limit as usize);
            items.last().map(|last| Cursor::after(last, &query.sort))
        } else {
            None
        };
        let total = self.store.count_tasks(user_id, &query.filter).await?;
        Ok(Page { items, next, total })
    }

    pub async fn replace_task(&self, user_id: &str, id: TaskId, input: TaskInput) -> Result<Task> {
        self.apply(user_id, id, input.validate_as_replacement()?)
            .await
    }

    pub async fn patch_task(
        &self,
        user_id: &str,
        id: TaskId,
        input: TaskPatchInput,
    ) -> Result<Task> {
        self.apply(user_id, id, input.validate()?).await
    }

    async fn apply(&self, user_id: &str, id: TaskId, changes: TaskChanges) -> Result<Task> {
        self.store
            .update_task(user_id, id, &changes, now())
            .await?
            .ok_or(NOT_FOUND)
    }

    /// Sets completion to `completed`, or toggles it when `None`.
    pub async fn complete_task(
        &self,
        user_id: &str,
        id: TaskId,
        completed: Option<bool>,
    ) -> Result<Task> {
        let at = now();
        let task = self
            .store
            .set_task_completed(user_id, id, completed, at)
            .await?
            .ok_or(NOT_FOUND)?;
        // Completing a completed task keeps its first `completed_at`: count it once.
        if task.completed && task.completed_at == Some(at) {
            crate::metrics::task_completed();
        }
        Ok(task)
    }

    pub async fn delete_task(&self, user_id: &str, id: TaskId) -> Result<()> {
        if self.store.delete_task(user_id, id).await? {
            Ok(())
        } else {
            Err(NOT_FOUND)
        }
    }
}
