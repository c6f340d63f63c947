//! Comments on a task, on its page: the thread, add, edit and delete. Any member comments (a
//! viewer too); only its author edits a comment, and its author or the project's owner deletes
//! it: the core's rules (`todo_core::sharing`), shown here as which buttons a comment has.

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use todo_core::ids::{CommentId, UserId};
use todo_core::project::Role;
use todo_core::sharing::{Comment, CommentInput, Member};
use todo_core::task::TaskId;

use super::sharing::person;
use super::tasks::task_page;
use super::view::{Person, moment_label};
use super::{PageResult, WebUser, failure, redirect_with_error, safe_return};
use crate::AppState;
use crate::extract::Path;

pub struct CommentView {
    pub id: CommentId,
    pub author: Person,
    pub body: String,
    /// "Today 14:02".
    pub when: String,
    pub when_iso: String,
    pub edited: bool,
    pub can_edit: bool,
    pub can_delete: bool,
}

impl CommentView {
    pub fn new(
        comment: &Comment,
        members: &[Member],
        reader: &UserId,
        role: Role,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Self {
        let author = members
            .iter()
            .find(|m| m.user_id == comment.author_id)
            .map(person)
            .unwrap_or_else(|| Person::new(comment.author_name.as_deref(), None));
        let mine = &comment.author_id == reader;
        Self {
            id: comment.id,
            author,
            body: comment.body.clone(),
            when: moment_label(comment.created_at, tz, now),
            when_iso: comment.created_at.to_rfc3339(),
            edited: comment.updated_at > comment.created_at,
            can_edit: mine,
            can_delete: mine || role == Role::Owner,
        }
    }
}

#[derive(Deserialize)]
pub struct TaskPath {
    id: TaskId,
}

#[derive(Deserialize)]
pub struct CommentPath {
    id: CommentId,
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    body: String,
    /// The task whose page to go back to (the edit and delete forms).
    #[serde(default)]
    task_id: String,
    /// Where the task page itself returns to.
    #[serde(default)]
    return_to: String,
}

/// The task's page, at its comments.
fn task_url(task: &str, return_to: &str, anchor: &str) -> String {
    let query = serde_html_form::to_string(&[("return_to", return_to)][..]).unwrap_or_default();
    format!("/tasks/{task}/edit?{query}{anchor}")
}

pub async fn add(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(TaskPath { id }): Path<TaskPath>,
    Form(form): Form<CommentForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let return_to = safe_return(&form.return_to).to_owned();
    let input = CommentInput {
        body: form.body.clone(),
    };
    match state.todo.add_comment(user.id(), id, input).await {
        Ok(comment) => {
            let anchor = format!("#comment-{}", comment.id);
            Ok(Redirect::to(&task_url(&id.to_string(), &return_to, &anchor)).into_response())
        }
        Err(err @ (todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_))) => {
            Err(err.into())
        }
        // Refused for what was typed: the page again with the text and the message.
        Err(err) => {
            task_page(
                &state,
                &user,
                id,
                &return_to,
                String::new(),
                form.body,
                Some(failure(err)),
            )
            .await
        }
    }
}

/// The task page a comment form came from (its `task_id`), or home.
fn back_of(form: &CommentForm) -> String {
    let return_to = safe_return(&form.return_to);
    match form.task_id.parse::<i64>() {
        Ok(task) => task_url(&task.to_string(), return_to, ""),
        Err(_) => "/".into(),
    }
}

fn answered(form: &CommentForm, result: Result<(), todo_core::Error>) -> PageResult {
    let back = back_of(form);
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{back}#comments")).into_response()),
        Err(err @ (todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_))) => {
            Err(err.into())
        }
        Err(err) => Ok(redirect_with_error(&back, &failure(err).1)),
    }
}

pub async fn edit(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(CommentPath { id }): Path<CommentPath>,
    Form(form): Form<CommentForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let input = CommentInput {
        body: form.body.clone(),
    };
    let result = state.todo.edit_comment(user.id(), id, input).await;
    answered(&form, result.map(|_| ()))
}

pub async fn delete(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(CommentPath { id }): Path<CommentPath>,
    Form(form): Form<CommentForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let result = state.todo.delete_comment(user.id(), id).await;
    answered(&form, result)
}
