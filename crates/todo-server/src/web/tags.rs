//! Settings → Tags: the user's tags with how many tasks carry each; rename, colour (from a
//! fixed palette) and delete, over the same use cases as `PATCH|DELETE /api/v1/tags/{id}`.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use todo_core::patch::Patch;
use todo_core::tag::{TagId, TagPatchInput};

use super::view::{TAG_COLORS, tag_color_class};
use super::{Layout, PageResult, WebUser, failure, redirect_with_error, render_with};
use crate::AppState;
use crate::extract::{Path, Query};

/// One tag as the page lists it, with what was typed when a change was refused.
struct TagRow {
    id: TagId,
    name: String,
    /// The name in the rename field: the tag's, or what was typed and refused.
    typed: String,
    /// `#rrggbb`, or empty for the default.
    color: String,
    /// A colour outside the palette (set through the API), offered as it is.
    custom: String,
    class: &'static str,
    count: i64,
    error: String,
}

#[derive(Template)]
#[template(path = "tags.html")]
struct TagsPage {
    layout: Layout,
    tags: Vec<TagRow>,
    palette: &'static [(&'static str, &'static str, &'static str)],
    csrf: String,
    notice: String,
    error: String,
}

#[derive(Deserialize, Default)]
pub struct Notices {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    error: String,
}

/// A refused rename or recolour: which tag, what was typed, and why.
struct Refusal {
    id: TagId,
    name: String,
    color: String,
    message: String,
}

async fn tags_page(
    state: &AppState,
    user: &WebUser,
    notices: Notices,
    refusal: Option<Refusal>,
) -> PageResult {
    let me = state.todo.me(user.id()).await?;
    let tags = state
        .todo
        .list_tags(user.id())
        .await?
        .into_iter()
        .map(|t| {
            let class = tag_color_class(t.color.as_deref());
            let mut row = TagRow {
                id: t.id,
                typed: t.name.clone(),
                name: t.name,
                class,
                custom: t
                    .color
                    .clone()
                    .filter(|_| class.is_empty())
                    .unwrap_or_default(),
                color: t.color.unwrap_or_default(),
                count: t.task_count,
                error: String::new(),
            };
            if let Some(refusal) = refusal.as_ref().filter(|r| r.id == row.id) {
                row.typed = refusal.name.clone();
                row.color = refusal.color.clone();
                row.error = refusal.message.clone();
            }
            row
        })
        .collect();
    let status = if refusal.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let display = me.name.or(me.email).unwrap_or_default();
    render_with(
        status,
        &TagsPage {
            layout: user.layout(display, "settings"),
            tags,
            palette: TAG_COLORS,
            csrf: user.csrf.clone(),
            notice: notices.notice,
            error: notices.error,
        },
    )
}

pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Query(notices): Query<Notices>,
) -> PageResult {
    tags_page(&state, &user, notices, None).await
}

#[derive(Deserialize)]
pub struct TagPath {
    id: TagId,
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    /// A palette colour, or empty for the default.
    #[serde(default)]
    color: String,
}

/// Renames and recolours a tag; every task carrying it follows. A refusal (an empty name,
/// one another tag has) comes back on the page with what was typed.
pub async fn update(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(TagPath { id }): Path<TagPath>,
    Form(form): Form<TagForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let color = form.color.trim();
    // The page offers the palette (and a colour set through the API, kept as it is); the
    // core checks the value.
    let color = if color.is_empty() {
        Patch::Null
    } else {
        Patch::Value(color.to_owned())
    };
    let input = TagPatchInput {
        name: Some(form.name.clone()),
        color,
    };
    match state.todo.update_tag(user.id(), id, input).await {
        Ok(tag) => {
            let notice = format!("Saved #{}", tag.name);
            let query =
                serde_html_form::to_string([("notice", notice.as_str())]).unwrap_or_default();
            Ok(Redirect::to(&format!("/settings/tags?{query}#tag-{}", tag.id)).into_response())
        }
        Err(todo_core::Error::Conflict(_)) => {
            let typed = form.name.trim().trim_start_matches('#').to_owned();
            let message = format!(
                "You already have a tag “#{typed}”: pick another name, or delete one of the two."
            );
            refuse(&state, &user, id, form, message).await
        }
        Err(todo_core::Error::NotFound(what)) => Err(todo_core::Error::NotFound(what).into()),
        Err(err) => {
            let message = failure(err).1;
            refuse(&state, &user, id, form, message).await
        }
    }
}

async fn refuse(
    state: &AppState,
    user: &WebUser,
    id: TagId,
    form: TagForm,
    message: String,
) -> PageResult {
    let refusal = Refusal {
        id,
        name: form.name,
        color: form.color,
        message,
    };
    tags_page(state, user, Notices::default(), Some(refusal)).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// Deletes a tag and takes it off every task (asked first on the page).
pub async fn delete(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(TagPath { id }): Path<TagPath>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    match state.todo.delete_tag(user.id(), id).await {
        Ok(()) => Ok(Redirect::to("/settings/tags?notice=Tag+deleted").into_response()),
        Err(todo_core::Error::NotFound(what)) => Err(todo_core::Error::NotFound(what).into()),
        Err(err) => Ok(redirect_with_error("/settings/tags", &failure(err).1)),
    }
}
