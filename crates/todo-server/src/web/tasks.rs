//! The task list page and its forms: quick add, check off, edit, delete.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use todo_core::ids::UserId;
use todo_core::page::ListTasksRequest;
use todo_core::patch::Patch;
use todo_core::placement::MoveInput;
use todo_core::project::{Action, ProjectId, SectionId};
use todo_core::task::Task;
use todo_core::task::{Priority, TaskId, TaskPatchInput};
use todo_core::tasks::{ClientKey, QuickInput};
use todo_core::time::{local_to_utc, now};

use super::comments::CommentView;
use super::projects::{self, task_layout_with};
use super::sharing::{Access, person};
use super::view::{OccurrenceView, PRIORITIES, RULE_PRESETS, TaskView, day_heading, tomorrow};

/// How many earlier occurrences of recurring tasks the Done view lists.
const OCCURRENCES_SHOWN: u32 = 50;
use super::{
    Layout, PageError, PageResult, WebUser, failure, is_fragment, redirect_with_error, render,
    render_with, safe_return,
};
use crate::AppState;
use crate::extract::{Path, Query};

/// Rows per page: one screen and a bit; "Load more" fetches the next page by keyset cursor.
const PAGE_SIZE: u32 = 50;

/// Overdue tasks shown above today's: few enough that today's stay on the first screen; the
/// rest are one link away (the Overdue view), and "Reschedule to today" moves them all.
const OVERDUE_SHOWN: u32 = 5;

/// The views the list's own navigation offers: (name, label). Today and Upcoming are in the
/// sidebar, beside the Inbox and the projects.
const VIEWS: &[(&str, &str)] = &[
    ("pending", "Open"),
    ("overdue", "Overdue"),
    ("completed", "Done"),
    ("all", "All"),
];

/// The sort select's choices. Each names its order explicitly, so the one selected is the
/// order the list is in (Today, Upcoming and Overdue sort by due date unless told otherwise).
const SORTS: &[(&str, &str)] = &[
    ("created_at", "Oldest first"),
    ("-created_at", "Newest first"),
    ("due_at", "Due date"),
    ("-priority", "Priority"),
    ("title", "Title"),
];

/// The Done view's choices: by completion first (its own order), then the others.
const DONE_SORTS: &[(&str, &str)] = &[
    ("-completed_at", "Recently completed"),
    ("completed_at", "Completed, oldest first"),
    ("created_at", "Oldest first"),
    ("-created_at", "Newest first"),
    ("due_at", "Due date"),
    ("-priority", "Priority"),
    ("title", "Title"),
];

/// The most rows a live refresh reads back at once (the rows "Load more" had shown).
const MAX_SHOWN: u32 = 500;

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct ListParams {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    view: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    priority: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    tag: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    sort: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    cursor: String,
    /// With a cursor in Upcoming: the day of the last row already shown, whose heading is
    /// not repeated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    day: String,
    /// A live refresh of a list that "Load more" lengthened: how many rows to read back (from
    /// `PAGE_SIZE` up to `MAX_SHOWN`), so the rows shown stay shown. Never in a link.
    #[serde(default, skip_serializing)]
    shown: Option<u32>,
    #[serde(default, skip_serializing)]
    error: String,
    #[serde(default, skip_serializing)]
    notice: String,
}

impl ListParams {
    fn view(&self) -> &str {
        if self.view.is_empty() {
            "pending"
        } else {
            &self.view
        }
    }

    /// The order the list is in: the one asked for, else the view's own.
    fn sort(&self) -> &str {
        match (self.sort.as_str(), self.view()) {
            ("", "today" | "upcoming" | "overdue") => "due_at",
            ("", "completed") => "-completed_at",
            ("", _) => "created_at",
            (sort, _) => sort,
        }
    }

    fn is_filtered(&self) -> bool {
        !(self.q.is_empty() && self.priority.is_empty() && self.tag.is_empty())
    }

    /// This list's URL, without a cursor: where forms return to.
    fn url(&self) -> String {
        let params = ListParams {
            cursor: String::new(),
            day: String::new(),
            ..self.clone()
        };
        match serde_html_form::to_string(&params) {
            Ok(query) if !query.is_empty() => format!("/?{query}"),
            _ => "/".into(),
        }
    }

    fn request(&self, tz: Tz) -> ListTasksRequest {
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        let mut request = ListTasksRequest {
            q: some(&self.q),
            priority: some(&self.priority).into_iter().collect(),
            tag: some(&self.tag).into_iter().collect(),
            sort: Some(self.sort().to_owned()),
            limit: Some(
                self.shown
                    .map_or(PAGE_SIZE, |n| n.clamp(PAGE_SIZE, MAX_SHOWN)),
            ),
            cursor: some(&self.cursor),
            ..ListTasksRequest::default()
        };
        let tomorrow = tomorrow(tz, now()).format("%Y-%m-%d").to_string();
        match self.view() {
            // Due today; what fell due before today is the Overdue section above it.
            "today" => {
                request.status = Some("pending".into());
                request.due_after = Some(today(tz));
                request.due_before = Some(tomorrow);
            }
            "upcoming" => {
                request.status = Some("pending".into());
                request.due_after = Some(tomorrow);
            }
            // The same rule as Today's section: open and due before today.
            "overdue" => {
                request.status = Some("pending".into());
                request.overdue = Some(true);
            }
            "assigned" => {
                request.status = Some("pending".into());
                request.assignee = Some("me".into());
            }
            "completed" => request.status = Some("completed".into()),
            "all" => request.status = Some("all".into()),
            _ => request.status = Some("pending".into()),
        }
        request
    }

    /// Today's Overdue section: open tasks due before today, with the list's filters, the
    /// oldest due first.
    fn overdue_request(&self) -> ListTasksRequest {
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        ListTasksRequest {
            q: some(&self.q),
            priority: some(&self.priority).into_iter().collect(),
            tag: some(&self.tag).into_iter().collect(),
            sort: Some("due_at".into()),
            limit: Some(OVERDUE_SHOWN),
            status: Some("pending".into()),
            overdue: Some(true),
            ..ListTasksRequest::default()
        }
    }
}

/// Today in the user's zone, as the list filters take a date.
pub(super) fn today(tz: Tz) -> String {
    now().with_timezone(&tz).format("%Y-%m-%d").to_string()
}

/// Gives the first task of each day its heading (Upcoming), except a day whose heading the
/// previous page already showed (`shown`).
fn add_day_headings(tasks: &mut [TaskView], shown: &str, tz: Tz) {
    let today = now().with_timezone(&tz).date_naive();
    let mut last = shown.to_owned();
    for task in tasks {
        if task.due_date.is_empty() || task.due_date == last {
            continue;
        }
        last.clone_from(&task.due_date);
        if let Ok(date) = NaiveDate::parse_from_str(&task.due_date, "%Y-%m-%d") {
            task.heading = Some(day_heading(date, today));
        }
    }
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    layout: Layout,
    /// Today in the account's zone: the bulk bar's "Today", "Tomorrow" and "Next week" count
    /// from it, not from the browser's calendar.
    today: String,
    params: ListParams,
    view: String,
    views: &'static [(&'static str, &'static str)],
    sorts: &'static [(&'static str, &'static str)],
    priorities: &'static [&'static str],
    all_tags: Vec<String>,
    tasks: Vec<TaskView>,
    total: u64,
    more_url: Option<String>,
    csrf: String,
    return_to: String,
    filtered: bool,
    /// The sort the list is in (the select shows it).
    sort: String,
    /// Today's Overdue section: its first rows and how many there are.
    overdue: Vec<TaskView>,
    overdue_total: u64,
    /// In the Done view: the latest earlier occurrences of recurring tasks (each stays one
    /// open task; what was done is its completions).
    occurrences: Vec<OccurrenceView>,
}

/// The next rows of a list, for "Load more".
#[derive(Template)]
#[template(path = "rows.html")]
struct RowsFragment {
    tasks: Vec<TaskView>,
    more_url: Option<String>,
    csrf: String,
    return_to: String,
}

#[derive(Template)]
#[template(path = "row.html")]
struct RowFragment {
    task: TaskView,
    csrf: String,
    return_to: String,
}

/// A task's page: the edit form (details only, for a viewer), the assignee in a shared
/// project, and the comments.
#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    layout: Layout,
    task: TaskView,
    presets: &'static [(&'static str, &'static str)],
    priorities: &'static [&'static str],
    csrf: String,
    return_to: String,
    error: String,
    project_name: String,
    /// Whom the task can be assigned to, in a shared project: (user id, name).
    members: Vec<(String, String)>,
    assignee_id: String,
    comments: Vec<CommentView>,
    /// A refused comment, as typed, and why.
    comment_text: String,
    comment_error: String,
}

pub(super) async fn user_zone(state: &AppState, user: &WebUser) -> Result<(String, Tz), PageError> {
    let me = state.todo.me(user.id()).await?;
    let tz = me.timezone.parse::<Tz>().unwrap_or(Tz::UTC);
    let name = me.name.or(me.email).unwrap_or_default();
    Ok((name, tz))
}

pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> PageResult {
    let (name, tz) = user_zone(&state, &user).await?;
    let page = state
        .todo
        .list_tasks(user.id(), &params.request(tz))
        .await?;
    let at = now();
    let projects = state.todo.list_projects(user.id()).await?;
    let access = Access::load(&state, &user, &projects, &page.items).await?;
    let mut tasks: Vec<TaskView> = page.items.iter().map(|t| access.view(t, tz, at)).collect();
    if params.view() == "upcoming" && params.sort() == "due_at" {
        add_day_headings(&mut tasks, &params.day, tz);
    }
    let more_url = page.next.as_ref().map(|next| {
        let next = ListParams {
            cursor: next.encode(),
            day: tasks.last().map(|t| t.due_date.clone()).unwrap_or_default(),
            error: String::new(),
            notice: String::new(),
            ..params.clone()
        };
        format!(
            "/?{}",
            serde_html_form::to_string(&next).unwrap_or_default()
        )
    });
    let return_to = params.url();
    if is_fragment(&headers) {
        return render(&RowsFragment {
            tasks,
            more_url,
            csrf: user.csrf.clone(),
            return_to,
        });
    }
    let all_tags = state
        .todo
        .list_tags(user.id())
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let current = match params.view() {
        "today" => "today",
        "upcoming" => "upcoming",
        "assigned" => "assigned",
        _ => "",
    };
    let (overdue, overdue_total) = if params.view() == "today" && params.cursor.is_empty() {
        let page = state
            .todo
            .list_tasks(user.id(), &params.overdue_request())
            .await?;
        let access = Access::load(&state, &user, &projects, &page.items).await?;
        let rows = page.items.iter().map(|t| access.view(t, tz, at)).collect();
        (rows, page.total)
    } else {
        (Vec::new(), 0)
    };
    let layout =
        task_layout_with(&state, &user, name, current, None, &return_to, &projects).await?;
    let occurrences = if params.view() == "completed" && !params.is_filtered() {
        state
            .todo
            .recurring_completions(user.id(), OCCURRENCES_SHOWN)
            .await?
            .iter()
            .map(|c| OccurrenceView::new(c, tz, at))
            .collect()
    } else {
        Vec::new()
    };
    let sorts = if params.view() == "completed" {
        DONE_SORTS
    } else {
        SORTS
    };
    render(&TasksPage {
        today: today(tz),
        occurrences,
        layout,
        view: params.view().to_owned(),
        filtered: params.is_filtered(),
        sort: params.sort().to_owned(),
        overdue,
        overdue_total,
        params,
        views: VIEWS,
        sorts,
        priorities: PRIORITIES,
        all_tags,
        tasks,
        total: page.total,
        more_url,
        csrf: user.csrf.clone(),
        return_to,
    })
}

#[derive(Deserialize)]
pub struct QuickForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    return_to: String,
    /// Where to add it (a project page's forms): each an id, or absent.
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    section_id: String,
    #[serde(default)]
    parent_id: String,
    /// The page script's own key for this add (its offline queue): sent again, the add is
    /// made once. See docs/web.md (Offline).
    #[serde(default)]
    client_key: String,
}

impl QuickForm {
    /// The place the form names, or `None` for quick add's own (the Inbox).
    fn place(&self) -> Result<Option<MoveInput>, todo_core::Error> {
        fn id(field: &str, raw: &str) -> Result<Option<i64>, todo_core::Error> {
            if raw.is_empty() {
                return Ok(None);
            }
            raw.parse()
                .map(Some)
                .map_err(|_| todo_core::Error::invalid(field, "not an id"))
        }
        let place = MoveInput {
            project_id: id("project_id", &self.project_id)?.map(ProjectId::new),
            section_id: id("section_id", &self.section_id)?.map(SectionId::new),
            parent_id: id("parent_id", &self.parent_id)?.map(TaskId::new),
            position: None,
        };
        let named = place.project_id.is_some() || place.section_id.is_some();
        Ok((named || place.parent_id.is_some()).then_some(place))
    }
}

#[derive(Deserialize)]
pub struct RowForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    return_to: String,
    /// `true` or `false` sets completion (the undo of a recurring task's check sends
    /// `false`); absent toggles it.
    #[serde(default)]
    completed: String,
}

#[derive(Deserialize)]
pub struct TaskPath {
    id: TaskId,
}

/// The answer to a row form: the row itself for the script, a redirect without it.
async fn row_or_redirect(
    state: &AppState,
    user: &WebUser,
    headers: &HeaderMap,
    task: &todo_core::task::Task,
    status: StatusCode,
    return_to: &str,
) -> PageResult {
    if is_fragment(headers) {
        let (_, tz) = user_zone(state, user).await?;
        let access = Access::for_task(state, user, task).await?;
        return render_with(
            status,
            &RowFragment {
                task: access.view(task, tz, now()),
                csrf: user.csrf.clone(),
                return_to: return_to.to_owned(),
            },
        );
    }
    Ok(Redirect::to(return_to).into_response())
}

/// A failed form: the problem for the script, the page again with the message without it.
fn failed(headers: &HeaderMap, return_to: &str, err: todo_core::Error) -> PageResult {
    let refusal = matches!(
        err,
        todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_)
    );
    if is_fragment(headers) || refusal {
        return Err(err.into());
    }
    Ok(redirect_with_error(return_to, &failure(err).1))
}

/// Quick add; with the page script's `client_key`, at most once per key (`None`: a task
/// with that key was saved already).
async fn add_once(
    state: &AppState,
    user: &WebUser,
    input: QuickInput,
    client_key: &str,
) -> Result<Option<Task>, todo_core::Error> {
    if client_key.is_empty() {
        return state.todo.quick_add(user.id(), input).await.map(Some);
    }
    let key = ClientKey::parse(client_key)?;
    state.todo.quick_add_once(user.id(), input, &key).await
}

/// The answer to an add sent again whose first sending was saved: nothing new to show
/// (`X-Already-Saved: 1` tells the script to read the list again).
fn already_saved(headers: &HeaderMap, return_to: &str) -> Response {
    if is_fragment(headers) {
        return (StatusCode::OK, [("x-already-saved", "1")]).into_response();
    }
    Redirect::to(return_to).into_response()
}

pub async fn quick_add(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<QuickForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let return_to = safe_return(&form.return_to);
    match form.place() {
        Ok(Some(place)) => return quick_add_in(state, user, headers, form, place).await,
        Ok(None) => {}
        Err(err) => return failed(&headers, return_to, err),
    }
    let input = QuickInput {
        text: form.text,
        project_id: None,
        section_id: None,
        parent_id: None,
    };
    match add_once(&state, &user, input, &form.client_key).await {
        Ok(None) => Ok(already_saved(&headers, return_to)),
        Ok(Some(task)) => {
            row_or_redirect(
                &state,
                &user,
                &headers,
                &task,
                StatusCode::CREATED,
                return_to,
            )
            .await
        }
        Err(err) => failed(&headers, return_to, err),
    }
}

/// Quick add into a project, section or under a task (a project page's forms). Refused,
/// the form comes back with the message and the text as typed.
async fn quick_add_in(
    state: AppState,
    user: WebUser,
    headers: HeaderMap,
    form: QuickForm,
    place: MoveInput,
) -> PageResult {
    let return_to = safe_return(&form.return_to);
    let input = QuickInput {
        text: form.text.clone(),
        project_id: place.project_id,
        section_id: place.section_id,
        parent_id: place.parent_id,
    };
    match add_once(&state, &user, input, &form.client_key).await {
        Ok(None) => Ok(already_saved(&headers, return_to)),
        Ok(Some(task)) => {
            row_or_redirect(
                &state,
                &user,
                &headers,
                &task,
                StatusCode::CREATED,
                return_to,
            )
            .await
        }
        Err(err) if is_fragment(&headers) => Err(err.into()),
        Err(err) => match place.parent_id {
            Some(parent) => {
                let parent = state.todo.get_task(user.id(), parent).await?;
                projects::subtask_form(&state, &user, &parent, form.text, return_to, Some(err))
                    .await
            }
            None => {
                let mut hidden = vec![("return_to", return_to.to_owned())];
                if let Some(project) = place.project_id {
                    hidden.push(("project_id", project.to_string()));
                }
                if let Some(section) = place.section_id {
                    hidden.push(("section_id", section.to_string()));
                }
                let field = projects::Field {
                    label: "New task",
                    name: "text",
                    value: form.text,
                    options: Vec::new(),
                };
                projects::form_page(
                    &state,
                    &user,
                    "Add a task".into(),
                    "/tasks".into(),
                    vec![field],
                    hidden,
                    "Add task",
                    return_to,
                    Some(err),
                )
                .await
            }
        },
    }
}

pub async fn complete(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(TaskPath { id }): Path<TaskPath>,
    Form(form): Form<RowForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let return_to = safe_return(&form.return_to);
    let completed = match form.completed.as_str() {
        "" => None,
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            let err = todo_core::Error::invalid("completed", "use true or false");
            return failed(&headers, return_to, err);
        }
    };
    match state.todo.complete_task(user.id(), id, completed).await {
        Ok(task) => {
            row_or_redirect(&state, &user, &headers, &task, StatusCode::OK, return_to).await
        }
        Err(err) => failed(&headers, return_to, err),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(TaskPath { id }): Path<TaskPath>,
    Form(form): Form<RowForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let return_to = safe_return(&form.return_to);
    match state.todo.delete_task(user.id(), id).await {
        Ok(()) if is_fragment(&headers) => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(()) => Ok(Redirect::to(return_to).into_response()),
        Err(err) => failed(&headers, return_to, err),
    }
}

/// One row, rendered as the list renders it: for live updates and inline edits.
pub async fn row(
    State(state): State<AppState>,
    user: WebUser,
    Path(TaskPath { id }): Path<TaskPath>,
    Query(params): Query<ListParams>,
) -> PageResult {
    let (_, tz) = user_zone(&state, &user).await?;
    let task = state.todo.get_task(user.id(), id).await?;
    let access = Access::for_task(&state, &user, &task).await?;
    render(&RowFragment {
        task: access.view(&task, tz, now()),
        csrf: user.csrf.clone(),
        return_to: params.url(),
    })
}

#[derive(Deserialize, Default)]
pub struct EditQuery {
    #[serde(default)]
    return_to: String,
    #[serde(default)]
    error: String,
}

pub async fn edit(
    State(state): State<AppState>,
    user: WebUser,
    Path(TaskPath { id }): Path<TaskPath>,
    Query(query): Query<EditQuery>,
) -> PageResult {
    let return_to = safe_return(&query.return_to).to_owned();
    task_page(
        &state,
        &user,
        id,
        &return_to,
        query.error,
        String::new(),
        None,
    )
    .await
}

/// The task's page; `typed` and `refusal`: a comment that was refused, and why.
pub(super) async fn task_page(
    state: &AppState,
    user: &WebUser,
    id: TaskId,
    return_to: &str,
    error: String,
    typed: String,
    refusal: Option<(StatusCode, String)>,
) -> PageResult {
    task_page_as_typed(state, user, id, return_to, error, typed, refusal, None).await
}

/// The task's page, its edit form showing `edit` (a refused save, as typed) over the task.
#[allow(clippy::too_many_arguments)]
async fn task_page_as_typed(
    state: &AppState,
    user: &WebUser,
    id: TaskId,
    return_to: &str,
    error: String,
    typed: String,
    refusal: Option<(StatusCode, String)>,
    edit: Option<&EditForm>,
) -> PageResult {
    let (name, tz) = user_zone(state, user).await?;
    let task = state.todo.get_task(user.id(), id).await?;
    let projects = state.todo.list_projects(user.id()).await?;
    let project = match projects.iter().find(|p| p.id == task.project_id) {
        Some(project) => project.clone(),
        None => state.todo.get_project(user.id(), task.project_id).await?,
    };
    let members = state.todo.members(user.id(), task.project_id).await?;
    let comments = state.todo.comments(user.id(), id).await?;
    let at = now();
    let mut view = TaskView::new(&task, tz, at);
    view.can_edit = project.role.allows(Action::Edit);
    view.assignee = task
        .assignee_id
        .as_ref()
        .and_then(|a| members.iter().find(|m| &m.user_id == a))
        .map(person);
    let comments = comments
        .iter()
        .map(|c| CommentView::new(c, &members, user.id(), project.role, tz, at))
        .collect();
    let mut assignee_id = task
        .assignee_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    if let Some(edit) = edit {
        edit.show_as_typed(&mut view, &mut assignee_id);
    }
    let layout = task_layout_with(
        state,
        user,
        name,
        "",
        Some(task.project_id),
        return_to,
        &projects,
    )
    .await?;
    let page = EditPage {
        layout,
        task: view,
        presets: RULE_PRESETS,
        priorities: PRIORITIES,
        csrf: user.csrf.clone(),
        return_to: return_to.to_owned(),
        error,
        project_name: project.name.clone(),
        members: if members.len() > 1 {
            members
                .iter()
                .map(|m| (m.user_id.to_string(), person(m).name))
                .collect()
        } else {
            Vec::new()
        },
        assignee_id,
        comments,
        comment_text: typed,
        comment_error: refusal.as_ref().map(|(_, m)| m.clone()).unwrap_or_default(),
    };
    match refusal {
        Some((status, _)) => render_with(status, &page),
        None => render(&page),
    }
}

/// The edit form. Only the fields it sends change: the inline editor sends the title alone.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    return_to: String,
    title: Option<String>,
    /// The inline editor's title, read as quick add reads a line (`Todo::quick_edit`):
    /// "Call mum tomorrow #Home p1" also sets the due, project and priority.
    text: Option<String>,
    description: Option<String>,
    priority: Option<String>,
    due_date: Option<String>,
    due_time: Option<String>,
    tags: Option<String>,
    recurrence: Option<String>,
    /// A member's user id; empty unassigns (sent only in a shared project).
    assignee_id: Option<String>,
}

impl EditForm {
    /// A refused save shows every field as it was typed, not as stored.
    fn show_as_typed(&self, view: &mut TaskView, assignee_id: &mut String) {
        if let Some(title) = &self.title {
            view.title.clone_from(title);
        }
        if let Some(description) = &self.description {
            view.description.clone_from(description);
        }
        if let Some(known) = self
            .priority
            .as_deref()
            .and_then(|p| PRIORITIES.iter().find(|known| **known == p))
        {
            view.priority = known;
        }
        if let Some(date) = &self.due_date {
            view.due_date.clone_from(date);
        }
        if let Some(time) = &self.due_time {
            view.due_time.clone_from(time);
        }
        if let Some(rule) = &self.recurrence {
            view.recurrence.clone_from(rule);
            view.recurrence_label = super::view::describe_rule(rule);
        }
        if let Some(tags) = &self.tags {
            view.tags = tags
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
        }
        if let Some(id) = &self.assignee_id {
            assignee_id.clone_from(id);
        }
    }

    fn patch(&self, tz: Tz) -> Result<TaskPatchInput, todo_core::Error> {
        let mut patch = TaskPatchInput::default();
        if let Some(title) = &self.title {
            patch.title = Patch::Value(title.clone());
        }
        if let Some(description) = &self.description {
            patch.description = Patch::Value(description.clone());
        }
        if let Some(priority) = &self.priority {
            let priority: Priority = priority
                .parse()
                .map_err(|e: String| todo_core::Error::invalid("priority", e))?;
            patch.priority = Patch::Value(priority);
        }
        if let Some(tags) = &self.tags {
            patch.tags = Patch::Value(
                tags.split(',')
                    .map(|t| t.trim().trim_start_matches('#').to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            );
        }
        if let Some(rule) = &self.recurrence {
            patch.recurrence = Patch::Value(rule.clone());
        }
        match self.assignee_id.as_deref().map(str::trim) {
            None => {}
            Some("") => patch.assignee_id = Patch::Null,
            Some(id) => patch.assignee_id = Patch::Value(UserId::new(id)),
        }
        if let Some(date) = self.due_date.as_deref().map(str::trim) {
            let time = self.due_time.as_deref().map(str::trim).unwrap_or("");
            if date.is_empty() {
                patch.due_at = Patch::Null;
            } else {
                let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    .map_err(|_| todo_core::Error::invalid("due_date", "not a date"))?;
                if time.is_empty() {
                    patch.due_date = Patch::Value(day);
                } else {
                    let at = NaiveTime::parse_from_str(time, "%H:%M")
                        .map_err(|_| todo_core::Error::invalid("due_time", "not a time"))?;
                    patch.due_at = Patch::Value(local_to_utc(day.and_time(at), tz));
                }
            }
        }
        Ok(patch)
    }
}

pub async fn save(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(TaskPath { id }): Path<TaskPath>,
    Form(form): Form<EditForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let return_to = safe_return(&form.return_to).to_owned();
    let (_, tz) = user_zone(&state, &user).await?;
    let result = match (&form.text, form.patch(tz)) {
        (Some(text), _) => state.todo.quick_edit(user.id(), id, text).await,
        (None, Ok(patch)) => state.todo.patch_task(user.id(), id, patch).await,
        (None, Err(err)) => Err(err),
    };
    match result {
        Ok(task) => {
            row_or_redirect(&state, &user, &headers, &task, StatusCode::OK, &return_to).await
        }
        Err(err)
            if is_fragment(&headers)
                || matches!(
                    err,
                    todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_)
                ) =>
        {
            Err(err.into())
        }
        Err(err) => {
            // Without script, the edit form again with the message and every field as typed
            // (refilled from the database, the user's other changes would be lost).
            let (status, message) = failure(err);
            task_page_as_typed(
                &state,
                &user,
                id,
                &return_to,
                message,
                String::new(),
                Some((status, String::new())),
                Some(&form),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// Today's "Reschedule to today": every overdue task moves to today
/// (`Todo::reschedule_overdue_to_today`), then back to Today with what was done.
pub async fn reschedule_overdue(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    match state.todo.reschedule_overdue_to_today(user.id()).await {
        Ok((moved, left)) => {
            let plural = |n: usize| if n == 1 { "task" } else { "tasks" };
            let mut notice = format!("Moved {moved} {} to today.", plural(moved));
            if left > 0 {
                notice.push_str(&format!(
                    " {left} {} in projects you may only view stayed as they were.",
                    plural(left)
                ));
            }
            let query = serde_html_form::to_string([("view", "today"), ("notice", &notice)])
                .unwrap_or_default();
            Ok(Redirect::to(&format!("/?{query}")).into_response())
        }
        Err(err) => Ok(redirect_with_error("/?view=today", &failure(err).1)),
    }
}
