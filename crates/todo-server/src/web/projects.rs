//! Projects in the web app: the sidebar (Inbox, Today, Upcoming, the projects with their open
//! counts), a project's page (its tasks, its sections, subtasks as an indented tree), the forms
//! that add, rename, recolour, archive and delete projects and sections, and moving a task
//! (the "Move…" page, the move up/down buttons, and the script's drag and drop all post to
//! `/tasks/{id}/move`, which calls `Todo::move_task`). Which role may do what, where a task may
//! go and what the Inbox refuses are the core's rules; this module only shows and asks.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use chrono_tz::Tz;
use serde::Deserialize;
use todo_core::page::ListTasksRequest;
use todo_core::patch::Patch;
use todo_core::placement::MoveInput;
use todo_core::project::{
    Action, Project, ProjectId, ProjectInput, ProjectPatchInput, SectionId, SectionInput,
    SectionPatchInput,
};
use todo_core::task::{Task, TaskId};
use todo_core::time::now;

use super::sharing::{Access, SharePanel};
use super::tasks::user_zone;
use super::view::{Spot, TaskView};
use super::{
    Layout, PageError, PageResult, WebUser, failure, is_fragment, redirect_with_error, render,
    render_with, safe_return,
};
use crate::AppState;
use crate::extract::{Path, Query};

/// Pages of 500 read for one project's tree; a project bigger than this shows its first part.
const MAX_TREE_PAGES: usize = 10;

/// The colours the forms offer (Todoist's palette, a few of it); a colour set elsewhere is
/// kept and offered too.
pub const COLORS: &[(&str, &str)] = &[
    ("", "No colour"),
    ("#db4035", "Red"),
    ("#ff9933", "Orange"),
    ("#fad000", "Yellow"),
    ("#299438", "Green"),
    ("#158fad", "Teal"),
    ("#4073ff", "Blue"),
    ("#af38eb", "Violet"),
    ("#808080", "Grey"),
];

/// A project as the sidebar lists it.
pub struct SideProject {
    pub id: ProjectId,
    pub name: String,
    pub color: String,
    pub open: i64,
    pub current: bool,
    /// It has other members than the reader.
    pub shared: bool,
    /// The reader only views it (no task may be added or moved there).
    pub viewer: bool,
}

pub struct Sidebar {
    /// `today`, `upcoming`, or empty (a project is marked by its `current`).
    pub current: &'static str,
    pub inbox: Option<SideProject>,
    pub projects: Vec<SideProject>,
    pub archived: Vec<SideProject>,
    pub colors: &'static [(&'static str, &'static str)],
    pub return_to: String,
    /// Invitations waiting for the reader's answer.
    pub invitations: usize,
}

/// The layout of a task page: the top bar and the sidebar.
pub async fn task_layout(
    state: &AppState,
    user: &WebUser,
    name: String,
    current: &'static str,
    project: Option<ProjectId>,
    return_to: &str,
) -> Result<Layout, PageError> {
    let projects = state.todo.list_projects(user.id()).await?;
    task_layout_with(state, user, name, current, project, return_to, &projects).await
}

/// [`task_layout`] over the projects the page has already read.
pub async fn task_layout_with(
    state: &AppState,
    user: &WebUser,
    name: String,
    current: &'static str,
    project: Option<ProjectId>,
    return_to: &str,
    projects: &[Project],
) -> Result<Layout, PageError> {
    let mut layout = user.layout(name, "tasks");
    let mut sidebar = Sidebar {
        current,
        inbox: None,
        projects: Vec::new(),
        archived: Vec::new(),
        colors: COLORS,
        return_to: return_to.to_owned(),
        invitations: state.todo.my_invitations(user.id()).await?.len(),
    };
    for p in projects {
        let entry = SideProject {
            current: Some(p.id) == project,
            id: p.id,
            color: p.color.clone().unwrap_or_default(),
            open: p.open_tasks,
            shared: p.members > 1,
            viewer: p.role == todo_core::project::Role::Viewer,
            name: p.name.clone(),
        };
        if p.inbox {
            sidebar.inbox = Some(entry);
        } else if p.archived {
            sidebar.archived.push(entry);
        } else {
            sidebar.projects.push(entry);
        }
    }
    layout.sidebar = Some(sidebar);
    Ok(layout)
}

struct ProjectView {
    id: ProjectId,
    name: String,
    color: String,
    archived: bool,
    inbox: bool,
    open: i64,
    can_edit: bool,
    can_manage: bool,
    /// It has other members than the reader.
    shared: bool,
}

impl ProjectView {
    fn new(p: &Project) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            color: p.color.clone().unwrap_or_default(),
            archived: p.archived,
            inbox: p.inbox,
            open: p.open_tasks,
            can_edit: p.role.allows(Action::Edit),
            can_manage: p.role.allows(Action::Manage),
            shared: p.members > 1,
        }
    }
}

struct SectionView {
    id: SectionId,
    name: String,
    tasks: Vec<TaskView>,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    layout: Layout,
    /// Today in the account's zone, for the bulk bar (see `TasksPage::today`).
    today: String,
    project: ProjectView,
    colors: Vec<(String, String)>,
    top: Vec<TaskView>,
    sections: Vec<SectionView>,
    csrf: String,
    return_to: String,
    error: String,
    /// The members and, for the owner, the pending invitations (not for the Inbox).
    share: Option<SharePanel>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub return_to: String,
    /// Set by the sharing forms: the share panel opens, with the address that was typed.
    #[serde(default)]
    pub share: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Deserialize)]
pub struct ProjectPath {
    id: ProjectId,
}

#[derive(Deserialize)]
pub struct SectionPath {
    id: SectionId,
}

#[derive(Deserialize)]
pub struct TaskPath {
    id: TaskId,
}

/// The colour choices, with `current` added when it is not one of ours.
fn colors_with(current: &str) -> Vec<(String, String)> {
    let mut colors: Vec<(String, String)> = COLORS
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect();
    if !current.is_empty() && !COLORS.iter().any(|(v, _)| *v == current) {
        colors.push((current.to_owned(), format!("Custom ({current})")));
    }
    colors
}

/// Every task of a project, completed ones too (a move counts them among the siblings), in
/// sibling order.
async fn project_tasks(
    state: &AppState,
    user: &WebUser,
    project: ProjectId,
) -> Result<Vec<Task>, PageError> {
    let mut request = ListTasksRequest {
        project: Some(project.to_string()),
        status: Some("all".into()),
        sort: Some("position".into()),
        limit: Some(todo_core::page::MAX_LIMIT),
        ..ListTasksRequest::default()
    };
    let mut tasks = Vec::new();
    for _ in 0..MAX_TREE_PAGES {
        let page = state.todo.list_tasks(user.id(), &request).await?;
        tasks.extend(page.items);
        match page.next {
            Some(next) => request.cursor = Some(next.encode()),
            None => break,
        }
    }
    Ok(tasks)
}

/// A project's tasks as rows: the top-level ones of each section (`None`: outside any
/// section), each followed by its open subtasks, depth first.
struct Tree<'a> {
    tops: HashMap<Option<SectionId>, Vec<&'a Task>>,
    kids: HashMap<TaskId, Vec<&'a Task>>,
    tz: Tz,
    at: chrono::DateTime<chrono::Utc>,
    access: Access,
}

impl<'a> Tree<'a> {
    fn new(tasks: &'a [Task], tz: Tz, access: Access) -> Self {
        let mut tops: HashMap<Option<SectionId>, Vec<&Task>> = HashMap::new();
        let mut kids: HashMap<TaskId, Vec<&Task>> = HashMap::new();
        for task in tasks {
            match task.parent_id {
                Some(parent) => kids.entry(parent).or_default().push(task),
                None => tops.entry(task.section_id).or_default().push(task),
            }
        }
        Self {
            tops,
            kids,
            tz,
            at: now(),
            access,
        }
    }

    fn rows(&self, section: Option<SectionId>) -> Vec<TaskView> {
        let mut rows = Vec::new();
        if let Some(group) = self.tops.get(&section) {
            self.emit(group, 0, &mut rows);
        }
        rows
    }

    fn emit(&self, group: &[&Task], depth: u32, rows: &mut Vec<TaskView>) {
        // Completed tasks are hidden, with their subtasks, but keep their index.
        let shown: Vec<usize> = (0..group.len()).filter(|&i| !group[i].completed).collect();
        for (k, &i) in shown.iter().enumerate() {
            let task = group[i];
            let children = self.kids.get(&task.id);
            let mut view = self.access.view(task, self.tz, self.at);
            view.spot = Some(Spot {
                depth,
                parent: task.parent_id,
                section: task.section_id,
                index: i,
                // Above the previous shown sibling: take its index. Below the next one: its
                // index once this task is out of the list is one less, and one after that.
                up: k.checked_sub(1).map(|p| shown[p]),
                down: shown.get(k + 1).copied(),
                has_children: children.is_some_and(|c| c.iter().any(|t| !t.completed)),
            });
            rows.push(view);
            if let Some(children) = children {
                self.emit(children, depth + 1, rows);
            }
        }
    }

    /// The task and everything under it.
    fn subtree(&self, id: TaskId) -> HashSet<TaskId> {
        let mut seen = HashSet::from([id]);
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            for kid in self.kids.get(&next).into_iter().flatten() {
                if seen.insert(kid.id) {
                    stack.push(kid.id);
                }
            }
        }
        seen
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(ProjectPath { id }): Path<ProjectPath>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let (name, tz) = user_zone(&state, &user).await?;
    let projects = state.todo.list_projects(user.id()).await?;
    // One not in the list is asked for alone: a non-member's 404 comes from there.
    let project = match projects.iter().find(|p| p.id == id) {
        Some(project) => project.clone(),
        None => state.todo.get_project(user.id(), id).await?,
    };
    let sections = state.todo.list_sections(user.id(), id).await?;
    let tasks = project_tasks(&state, &user, id).await?;
    let share = SharePanel::load(&state, &user, &project, &notice).await?;
    let access = Access::for_project(&project, share.as_ref())
        .with_tags(&state, &user)
        .await?;
    let tree = Tree::new(&tasks, tz, access);
    let return_to = format!("/projects/{id}");
    let layout = task_layout_with(&state, &user, name, "", Some(id), &return_to, &projects).await?;
    let project = ProjectView::new(&project);
    render(&ProjectPage {
        today: super::tasks::today(tz),
        share,
        layout,
        colors: colors_with(&project.color),
        project,
        top: tree.rows(None),
        sections: sections
            .into_iter()
            .map(|s| SectionView {
                tasks: tree.rows(Some(s.id)),
                id: s.id,
                name: s.name,
            })
            .collect(),
        csrf: user.csrf.clone(),
        return_to,
        // A sharing form's message shows in the share panel.
        error: if notice.share.is_empty() {
            notice.error
        } else {
            String::new()
        },
    })
}

/// A small form on a page of its own: the first view of a form that has no room inline, and
/// any form again after a refusal, with the message and what was typed.
pub struct Field {
    pub label: &'static str,
    pub name: &'static str,
    pub value: String,
    /// A select's (value, label) choices; empty for a text box.
    pub options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub fields: Vec<Field>,
    pub hidden: Vec<(&'static str, String)>,
    pub submit: &'static str,
    pub cancel: String,
    pub csrf: String,
    pub error: String,
}

impl FormPage {
    /// Renders with the status of `err` (or 200 for a first view).
    pub fn answer(&self, err: Option<(StatusCode, String)>) -> PageResult {
        match err {
            Some((status, _)) => render_with(status, self),
            None => render(self),
        }
    }
}

/// A form page for `user`, with the sidebar.
#[allow(clippy::too_many_arguments)]
pub async fn form_page(
    state: &AppState,
    user: &WebUser,
    heading: String,
    action: String,
    fields: Vec<Field>,
    hidden: Vec<(&'static str, String)>,
    submit: &'static str,
    cancel: &str,
    err: Option<todo_core::Error>,
) -> PageResult {
    let err = match err {
        // A refusal for who the caller is, not for what they typed, is its own page.
        Some(err @ (todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_))) => {
            return Err(err.into());
        }
        Some(err) => Some(failure(err)),
        None => None,
    };
    let (name, _) = user_zone(state, user).await?;
    let layout = task_layout(state, user, name, "", None, cancel).await?;
    let page = FormPage {
        layout,
        heading,
        action,
        fields,
        hidden,
        submit,
        cancel: cancel.to_owned(),
        csrf: user.csrf.clone(),
        error: err.as_ref().map(|(_, m)| m.clone()).unwrap_or_default(),
    };
    page.answer(err)
}

fn project_fields(name: Option<String>, color: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    if let Some(name) = name {
        fields.push(Field {
            label: "Project name",
            name: "name",
            value: name,
            options: Vec::new(),
        });
    }
    fields.push(Field {
        label: "Colour",
        name: "color",
        value: color.to_owned(),
        options: colors_with(color),
    });
    fields
}

#[derive(Deserialize)]
pub struct ProjectForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    name: Option<String>,
    color: Option<String>,
    #[serde(default)]
    return_to: String,
}

pub async fn new_page(
    State(state): State<AppState>,
    user: WebUser,
    Query(notice): Query<Notice>,
) -> PageResult {
    let cancel = safe_return(&notice.return_to);
    form_page(
        &state,
        &user,
        "New project".into(),
        "/projects".into(),
        project_fields(Some(String::new()), ""),
        vec![("return_to", cancel.to_owned())],
        "Add project",
        cancel,
        None,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<ProjectForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let name = form.name.unwrap_or_default();
    let color = form.color.unwrap_or_default();
    let input = ProjectInput {
        name: name.clone(),
        color: Some(color.clone()).filter(|c| !c.is_empty()),
    };
    match state.todo.create_project(user.id(), input).await {
        Ok(project) => Ok(Redirect::to(&format!("/projects/{}", project.id)).into_response()),
        Err(err) => {
            let back = safe_return(&form.return_to);
            form_page(
                &state,
                &user,
                "New project".into(),
                "/projects".into(),
                project_fields(Some(name), &color),
                vec![("return_to", back.to_owned())],
                "Add project",
                back,
                Some(err),
            )
            .await
        }
    }
}

/// Rename and recolour (the fields the form sends; the Inbox's form sends no name).
pub async fn update(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(ProjectPath { id }): Path<ProjectPath>,
    Form(form): Form<ProjectForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let color = form.color.clone().unwrap_or_default();
    let input = ProjectPatchInput {
        name: form.name.clone().map_or(Patch::Missing, Patch::Value),
        color: match &form.color {
            None => Patch::Missing,
            Some(c) if c.is_empty() => Patch::Null,
            Some(c) => Patch::Value(c.clone()),
        },
        ..ProjectPatchInput::default()
    };
    let back = format!("/projects/{id}");
    match state.todo.update_project(user.id(), id, input).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(err) => {
            form_page(
                &state,
                &user,
                "Edit project".into(),
                back.clone(),
                project_fields(form.name, &color),
                Vec::new(),
                "Save project",
                &back,
                Some(err),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct ArchiveForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    /// `true` archives, `false` brings the project back.
    #[serde(default)]
    archived: String,
}

pub async fn archive(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(ProjectPath { id }): Path<ProjectPath>,
    Form(form): Form<ArchiveForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let back = format!("/projects/{id}");
    let archived = match form.archived.as_str() {
        "true" => true,
        "false" => false,
        _ => return Ok(redirect_with_error(&back, "archived: use true or false")),
    };
    let input = ProjectPatchInput {
        archived: Patch::Value(archived),
        ..ProjectPatchInput::default()
    };
    match state.todo.update_project(user.id(), id, input).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(err) => refused(&back, err),
    }
}

/// A refused button (no text typed to keep): the page again with the message, or the 404
/// and 403 pages.
pub(super) fn refused(back: &str, err: todo_core::Error) -> PageResult {
    match err {
        todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_) => Err(err.into()),
        err => Ok(redirect_with_error(back, &failure(err).1)),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    return_to: String,
}

/// Deletes the project and its tasks (the page asked first).
pub async fn delete(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(ProjectPath { id }): Path<ProjectPath>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    match state.todo.delete_project(user.id(), id).await {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(err) => refused(&format!("/projects/{id}"), err),
    }
}

#[derive(Deserialize)]
pub struct SectionForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    return_to: String,
}

fn section_field(name: String) -> Vec<Field> {
    vec![Field {
        label: "Section name",
        name: "name",
        value: name,
        options: Vec::new(),
    }]
}

pub async fn create_section(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(ProjectPath { id }): Path<ProjectPath>,
    Form(form): Form<SectionForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let input = SectionInput {
        name: form.name.clone(),
        position: None,
    };
    let back = format!("/projects/{id}");
    match state.todo.create_section(user.id(), id, input).await {
        Ok(section) => Ok(Redirect::to(&format!("{back}#section-{}", section.id)).into_response()),
        Err(err) => {
            form_page(
                &state,
                &user,
                "New section".into(),
                format!("/projects/{id}/sections"),
                section_field(form.name),
                Vec::new(),
                "Add section",
                &back,
                Some(err),
            )
            .await
        }
    }
}

pub async fn rename_section(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(SectionPath { id }): Path<SectionPath>,
    Form(form): Form<SectionForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let input = SectionPatchInput {
        name: Patch::Value(form.name.clone()),
        ..SectionPatchInput::default()
    };
    let back = safe_return(&form.return_to).to_owned();
    match state.todo.update_section(user.id(), id, input).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(err) => {
            form_page(
                &state,
                &user,
                "Rename section".into(),
                format!("/sections/{id}"),
                section_field(form.name),
                vec![("return_to", back.clone())],
                "Rename section",
                &back,
                Some(err),
            )
            .await
        }
    }
}

/// Deletes the section and its tasks, as Todoist does (the page asked first).
pub async fn delete_section(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(SectionPath { id }): Path<SectionPath>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let back = safe_return(&form.return_to);
    match state.todo.delete_section(user.id(), id).await {
        Ok(()) => Ok(Redirect::to(back).into_response()),
        Err(err) => refused(back, err),
    }
}

/// A page whose only use is changing the task (moving it, adding under it) is the 403 page
/// for a role that may not, as its form's post would be.
async fn require_edit(state: &AppState, user: &WebUser, task: &Task) -> Result<(), PageError> {
    let project = state.todo.get_project(user.id(), task.project_id).await?;
    project.role.require(Action::Edit)?;
    Ok(())
}

/// "Add subtask": a form of its own, posted to quick add with the parent.
pub async fn subtask_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(TaskPath { id }): Path<TaskPath>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let task = state.todo.get_task(user.id(), id).await?;
    require_edit(&state, &user, &task).await?;
    let back = safe_return(&notice.return_to).to_owned();
    subtask_form(&state, &user, &task, String::new(), &back, None).await
}

pub async fn subtask_form(
    state: &AppState,
    user: &WebUser,
    parent: &Task,
    typed: String,
    back: &str,
    err: Option<todo_core::Error>,
) -> PageResult {
    form_page(
        state,
        user,
        format!("Add a subtask to “{}”", parent.title),
        "/tasks".into(),
        vec![Field {
            label: "New subtask",
            name: "text",
            value: typed,
            options: Vec::new(),
        }],
        vec![
            ("parent_id", parent.id.to_string()),
            ("return_to", back.to_owned()),
        ],
        "Add subtask",
        back,
        err,
    )
    .await
}

/// One choice of the move page: `project:ID`, `section:ID` or `parent:ID`.
struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "move.html")]
struct MovePage {
    layout: Layout,
    task: TaskView,
    choices: Vec<Choice>,
    selected: String,
    csrf: String,
    return_to: String,
    error: String,
}

/// Where a task is, as a choice of the move page.
fn place_of(task: &Task) -> String {
    match (task.parent_id, task.section_id) {
        (Some(parent), _) => format!("parent:{parent}"),
        (None, Some(section)) => format!("section:{section}"),
        (None, None) => format!("project:{}", task.project_id),
    }
}

async fn move_form(
    state: &AppState,
    user: &WebUser,
    id: TaskId,
    selected: Option<String>,
    back: &str,
    err: Option<todo_core::Error>,
) -> PageResult {
    let (name, tz) = user_zone(state, user).await?;
    let task = state.todo.get_task(user.id(), id).await?;
    require_edit(state, user, &task).await?;
    let mut choices = Vec::new();
    for project in state.todo.list_projects(user.id()).await? {
        if project.archived || !project.role.allows(Action::Edit) {
            continue;
        }
        choices.push(Choice {
            value: format!("project:{}", project.id),
            label: project.name.clone(),
        });
        let sections = state.todo.list_sections(user.id(), project.id).await?;
        if project.id == task.project_id {
            // Under another task of its own project (its own subtree aside).
            let tasks = project_tasks(state, user, project.id).await?;
            let tree = Tree::new(&tasks, tz, Access::default());
            let own = tree.subtree(task.id);
            let parents = |section: Option<SectionId>, choices: &mut Vec<Choice>| {
                for row in tree.rows(section) {
                    if own.contains(&row.id) {
                        continue;
                    }
                    let depth = row.spot.as_ref().map_or(0, |s| s.depth as usize);
                    choices.push(Choice {
                        value: format!("parent:{}", row.id),
                        // No-break spaces: a select's labels lose ordinary leading ones.
                        label: format!("{}↳ under “{}”", "\u{a0}\u{a0}".repeat(depth), row.title),
                    });
                }
            };
            parents(None, &mut choices);
            for section in &sections {
                choices.push(Choice {
                    value: format!("section:{}", section.id),
                    label: format!("{} / {}", project.name, section.name),
                });
                parents(Some(section.id), &mut choices);
            }
        } else {
            for section in &sections {
                choices.push(Choice {
                    value: format!("section:{}", section.id),
                    label: format!("{} / {}", project.name, section.name),
                });
            }
        }
    }
    let err = err.map(failure);
    let layout = task_layout(state, user, name, "", Some(task.project_id), back).await?;
    let page = MovePage {
        layout,
        selected: selected.unwrap_or_else(|| place_of(&task)),
        task: TaskView::new(&task, tz, now()),
        choices,
        csrf: user.csrf.clone(),
        return_to: back.to_owned(),
        error: err.as_ref().map(|(_, m)| m.clone()).unwrap_or_default(),
    };
    match err {
        Some((status, _)) => render_with(status, &page),
        None => render(&page),
    }
}

/// "Move…": the keyboard's (and the script-less) way to move a task.
pub async fn move_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(TaskPath { id }): Path<TaskPath>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let back = safe_return(&notice.return_to).to_owned();
    move_form(&state, &user, id, None, &back, None).await
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    /// `project:ID`, `section:ID`, `parent:ID`, or empty to stay among the same siblings.
    #[serde(default)]
    to: String,
    /// The index among the new siblings; empty: last (or, staying, where it is).
    #[serde(default)]
    position: String,
    #[serde(default)]
    return_to: String,
}

impl MoveForm {
    fn input(&self) -> Result<MoveInput, todo_core::Error> {
        let bad_to = || todo_core::Error::invalid("to", "choose a project, section or task");
        let mut input = MoveInput::default();
        if !self.to.is_empty() {
            let (kind, raw) = self.to.split_once(':').ok_or_else(bad_to)?;
            let number: i64 = raw.parse().map_err(|_| bad_to())?;
            match kind {
                "project" => input.project_id = Some(ProjectId::new(number)),
                "section" => input.section_id = Some(SectionId::new(number)),
                "parent" => input.parent_id = Some(TaskId::new(number)),
                _ => return Err(bad_to()),
            }
        }
        if !self.position.is_empty() {
            let position = self
                .position
                .parse()
                .map_err(|_| todo_core::Error::invalid("position", "not an index"))?;
            input.position = Some(position);
        }
        Ok(input)
    }
}

pub async fn move_task(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(TaskPath { id }): Path<TaskPath>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let back = safe_return(&form.return_to).to_owned();
    let result = match form.input() {
        Ok(input) => state.todo.move_task(user.id(), id, input).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(_) if is_fragment(&headers) => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(err) if is_fragment(&headers) => Err(err.into()),
        Err(err @ (todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_))) => {
            Err(err.into())
        }
        Err(err) => {
            let selected = Some(form.to.clone()).filter(|t| !t.is_empty());
            move_form(&state, &user, id, selected, &back, Some(err)).await
        }
    }
}
