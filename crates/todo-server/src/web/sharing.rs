//! Sharing in the web app: a project page's share panel (members and their roles, invitations
//! by email, leaving), the reader's own invitations, assignees' initials on rows, and a
//! project's activity. Who may do what is `todo_core::sharing`'s rule; this module shows and
//! asks, and a refusal comes back as the core says it (404 for a non-member, the 403 page for
//! a role that does not allow it, the message for the rest).

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use todo_core::events::{Activity, EventId};
use todo_core::ids::{InvitationId, ProjectId, UserId};
use todo_core::project::{Action, Project, Role};
use todo_core::sharing::{InvitationInput, Member, MemberPatchInput};
use todo_core::task::Task;
use todo_core::time::now;

use super::projects::{Notice, refused, task_layout, task_layout_with};
use super::tasks::user_zone;
use super::view::{Person, TagColors, TaskView, moment_label};
use super::{Layout, PageError, PageResult, WebUser, failure, render};
use crate::AppState;
use crate::api::sharing::{InvitationPath, MemberPath, ProjectInvitationPath, ProjectPath};
use crate::extract::{Path, Query};

/// Activity entries per page.
const ACTIVITY_PAGE: u32 = 50;

/// What the reader may do with the tasks a page shows, and who those tasks are assigned to.
#[derive(Default)]
pub struct Access {
    roles: HashMap<ProjectId, Role>,
    people: HashMap<UserId, Person>,
    tags: TagColors,
}

impl Access {
    /// From the reader's projects (listed once for the sidebar) and the members of the shared
    /// projects whose tasks are assigned.
    pub async fn load(
        state: &AppState,
        user: &WebUser,
        projects: &[Project],
        tasks: &[Task],
    ) -> Result<Self, PageError> {
        let roles = projects.iter().map(|p| (p.id, p.role)).collect();
        let assigned: HashSet<ProjectId> = tasks
            .iter()
            .filter(|t| t.assignee_id.is_some())
            .map(|t| t.project_id)
            .collect();
        let mut people = HashMap::new();
        for project in assigned {
            for member in state.todo.members(user.id(), project).await? {
                people.insert(member.user_id.clone(), person(&member));
            }
        }
        let tags = if tasks.iter().any(|t| !t.tags.is_empty()) {
            TagColors::new(&state.todo.list_tags(user.id()).await?)
        } else {
            TagColors::default()
        };
        Ok(Self {
            roles,
            people,
            tags,
        })
    }

    /// With the reader's tag colours, for the chips.
    pub async fn with_tags(mut self, state: &AppState, user: &WebUser) -> Result<Self, PageError> {
        self.tags = TagColors::new(&state.todo.list_tags(user.id()).await?);
        Ok(self)
    }

    /// For one task (a row rendered alone).
    pub async fn for_task(
        state: &AppState,
        user: &WebUser,
        task: &Task,
    ) -> Result<Self, PageError> {
        let project = state.todo.get_project(user.id(), task.project_id).await?;
        Self::load(state, user, &[project], std::slice::from_ref(task)).await
    }

    /// For one project's page, whose members the share panel has read.
    pub fn for_project(project: &Project, share: Option<&SharePanel>) -> Self {
        let people = share
            .into_iter()
            .flat_map(|s| &s.members)
            .map(|m| (UserId::new(m.user_id.clone()), m.person.clone()))
            .collect();
        Self {
            roles: HashMap::from([(project.id, project.role)]),
            people,
            tags: TagColors::default(),
        }
    }

    /// The task as a row shows it to this reader.
    pub fn view(&self, task: &Task, tz: Tz, at: DateTime<Utc>) -> TaskView {
        let mut view = TaskView::new(task, tz, at);
        view.can_edit = self
            .roles
            .get(&task.project_id)
            .is_none_or(|role| role.allows(Action::Edit));
        view.assignee = task
            .assignee_id
            .as_ref()
            .and_then(|id| self.people.get(id).cloned());
        view.color_tags(&self.tags);
        view
    }
}

pub fn person(member: &Member) -> Person {
    Person::new(member.name.as_deref(), member.email.as_deref())
}

pub struct MemberView {
    pub user_id: String,
    pub person: Person,
    pub email: String,
    pub role: &'static str,
    pub is_me: bool,
    pub is_owner: bool,
}

pub struct InvitationView {
    pub id: InvitationId,
    pub email: String,
    pub role: &'static str,
}

/// A project page's share panel: everyone sees the members; the owner also changes roles,
/// removes, hands over, invites and withdraws invitations; a member can leave.
pub struct SharePanel {
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationView>,
    pub can_manage: bool,
    /// Opened by a sharing form's answer, with its message and the address typed.
    pub open: bool,
    pub error: String,
    pub email: String,
}

impl SharePanel {
    /// `None` for the Inbox, which is never shared.
    pub async fn load(
        state: &AppState,
        user: &WebUser,
        project: &Project,
        notice: &Notice,
    ) -> Result<Option<Self>, PageError> {
        if project.inbox {
            return Ok(None);
        }
        let can_manage = project.role.allows(Action::Manage);
        let members = state
            .todo
            .members(user.id(), project.id)
            .await?
            .iter()
            .map(|m| MemberView {
                user_id: m.user_id.to_string(),
                person: person(m),
                email: m.email.clone().unwrap_or_default(),
                role: m.role.as_str(),
                is_me: &m.user_id == user.id(),
                is_owner: m.role == Role::Owner,
            })
            .collect();
        let invitations = if can_manage {
            state
                .todo
                .project_invitations(user.id(), project.id)
                .await?
                .into_iter()
                .map(|i| InvitationView {
                    id: i.id,
                    email: i.email,
                    role: i.role.as_str(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let open = !notice.share.is_empty();
        Ok(Some(Self {
            members,
            invitations,
            can_manage,
            open,
            error: if open {
                notice.error.clone()
            } else {
                String::new()
            },
            email: notice.email.clone(),
        }))
    }
}

/// The project page with its share panel open (and a message, and what was typed).
fn share_page(project: ProjectId, error: &str, email: &str) -> String {
    let mut query = vec![("share", "open")];
    if !error.is_empty() {
        query.push(("error", error));
    }
    if !email.is_empty() {
        query.push(("email", email));
    }
    let query = serde_html_form::to_string(&query).unwrap_or_default();
    format!("/projects/{project}?{query}#share")
}

/// A sharing form's answer: back to the open panel, with the core's message when refused for
/// what was asked; 404 and 403 are their own pages.
fn answered(project: ProjectId, result: Result<(), todo_core::Error>, email: &str) -> PageResult {
    match result {
        Ok(()) => Ok(Redirect::to(&share_page(project, "", "")).into_response()),
        Err(err @ (todo_core::Error::NotFound(_) | todo_core::Error::InsufficientRole(_))) => {
            Err(err.into())
        }
        Err(err) => Ok(Redirect::to(&share_page(project, &failure(err).1, email)).into_response()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    email: String,
    /// `editor` (also when empty) or `viewer`.
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    role: String,
}

fn parse_role(raw: &str) -> Result<Role, todo_core::Error> {
    raw.parse()
        .map_err(|e: String| todo_core::Error::invalid("role", e))
}

pub async fn invite(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(ProjectPath { id }): Path<ProjectPath>,
    Form(form): Form<InviteForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let role = if form.role.is_empty() {
        Ok(Role::Editor)
    } else {
        parse_role(&form.role)
    };
    let result = match role {
        Ok(role) => {
            let input = InvitationInput {
                email: form.email.clone(),
                role,
            };
            state.todo.invite(user.id(), id, input).await.map(|_| ())
        }
        Err(err) => Err(err),
    };
    answered(id, result, &form.email)
}

pub async fn cancel_invitation(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(ProjectInvitationPath { id, invitation_id }): Path<ProjectInvitationPath>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let result = state
        .todo
        .cancel_invitation(user.id(), id, invitation_id)
        .await;
    answered(id, result, "")
}

/// A new role for a member; `owner` hands them the project (the page asked first).
pub async fn change_role(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(MemberPath { id, member_id }): Path<MemberPath>,
    Form(form): Form<RoleForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let result = match parse_role(&form.role) {
        Ok(role) => state
            .todo
            .change_member_role(user.id(), id, &member_id, MemberPatchInput { role })
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    answered(id, result, "")
}

/// The owner removes a member; a member with their own id leaves (and goes home: the
/// project is no longer theirs to see).
pub async fn remove_member(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(MemberPath { id, member_id }): Path<MemberPath>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let result = state.todo.remove_member(user.id(), id, &member_id).await;
    if result.is_ok() && &member_id == user.id() {
        return Ok(Redirect::to("/").into_response());
    }
    answered(id, result, "")
}

struct MyInvitation {
    id: InvitationId,
    project: String,
    role: &'static str,
    from: String,
    from_email: String,
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage {
    layout: Layout,
    invitations: Vec<MyInvitation>,
    csrf: String,
    error: String,
    /// The reader's address, when it must be confirmed before accepting (mail is sent and it
    /// is not confirmed yet): the Accept buttons are off and a new link can be asked for.
    unconfirmed: Option<String>,
    /// A new confirmation link was just queued.
    sent: bool,
}

#[derive(Deserialize, Default)]
pub struct InvitationsQuery {
    #[serde(default)]
    error: String,
    #[serde(default)]
    sent: String,
}

/// The invitations waiting for the reader: who invited them to what, to accept or decline.
pub async fn invitations_page(
    State(state): State<AppState>,
    user: WebUser,
    Query(notice): Query<InvitationsQuery>,
) -> PageResult {
    let (name, _) = user_zone(&state, &user).await?;
    let me = state.todo.me(user.id()).await?;
    let unconfirmed = todo_core::sharing::check_may_accept(state.todo.sends_mail(), &me)
        .is_err()
        .then(|| me.email.unwrap_or_default());
    let invitations = state
        .todo
        .my_invitations(user.id())
        .await?
        .into_iter()
        .map(|i| MyInvitation {
            id: i.id,
            project: i.project_name,
            role: i.role.as_str(),
            from: Person::new(i.invited_by_name.as_deref(), i.invited_by_email.as_deref()).name,
            from_email: i.invited_by_email.unwrap_or_default(),
        })
        .collect();
    let layout = task_layout(&state, &user, name, "invitations", None, "/invitations").await?;
    render(&InvitationsPage {
        layout,
        invitations,
        csrf: user.csrf.clone(),
        error: notice.error,
        sent: notice.sent == "1" && unconfirmed.is_some(),
        unconfirmed,
    })
}

/// "Send the link again": a new link to confirm the reader's address.
pub async fn send_verification(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    match state.todo.send_email_verification(user.id()).await {
        Ok(todo_core::mail::VerificationSent::Sent) => {
            Ok(Redirect::to("/invitations?sent=1").into_response())
        }
        Ok(todo_core::mail::VerificationSent::AlreadyVerified) => {
            Ok(Redirect::to("/invitations").into_response())
        }
        Err(err) => refused("/invitations", err),
    }
}

pub async fn accept(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(InvitationPath { id }): Path<InvitationPath>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    match state.todo.accept_invitation(user.id(), id).await {
        Ok(project) => Ok(Redirect::to(&format!("/projects/{}", project.id)).into_response()),
        Err(err) => refused("/invitations", err),
    }
}

pub async fn decline(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(InvitationPath { id }): Path<InvitationPath>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    match state.todo.decline_invitation(user.id(), id).await {
        Ok(()) => Ok(Redirect::to("/invitations").into_response()),
        Err(err) => refused("/invitations", err),
    }
}

struct ActivityView {
    who: Person,
    /// "added", "completed", "commented on", …
    did: &'static str,
    task_id: todo_core::task::TaskId,
    task_title: String,
    /// Whether the task may still be there to link to.
    linked: bool,
    when: String,
    when_iso: String,
}

fn verb(action: Activity) -> &'static str {
    match action {
        Activity::Created => "added",
        Activity::Updated => "changed",
        Activity::Completed => "completed",
        Activity::Reopened => "reopened",
        Activity::Moved => "moved",
        Activity::Deleted => "deleted",
        Activity::Commented => "commented on",
        Activity::Reminder => "was reminded of",
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    layout: Layout,
    project_id: ProjectId,
    project_name: String,
    entries: Vec<ActivityView>,
    older: Option<String>,
    /// This page, for the task links' way back.
    back: String,
}

#[derive(Deserialize, Default)]
pub struct ActivityParams {
    /// Entries older than this one ("Older" links to the next page).
    #[serde(default)]
    before: Option<EventId>,
}

/// Who did what in the project, newest first, a page at a time.
pub async fn activity(
    State(state): State<AppState>,
    user: WebUser,
    Path(ProjectPath { id }): Path<ProjectPath>,
    Query(params): Query<ActivityParams>,
) -> PageResult {
    let (name, tz) = user_zone(&state, &user).await?;
    let projects = state.todo.list_projects(user.id()).await?;
    let project = match projects.iter().find(|p| p.id == id) {
        Some(project) => project.clone(),
        None => state.todo.get_project(user.id(), id).await?,
    };
    let entries = state
        .todo
        .activity(user.id(), id, params.before, Some(ACTIVITY_PAGE))
        .await?;
    let older = (entries.len() == ACTIVITY_PAGE as usize)
        .then(|| {
            entries
                .last()
                .map(|e| format!("/projects/{id}/activity?before={}", e.id))
        })
        .flatten();
    // Members by their email when they gave no name; someone who left keeps the name they had.
    let people: HashMap<UserId, Person> = state
        .todo
        .members(user.id(), id)
        .await?
        .iter()
        .map(|m| (m.user_id.clone(), person(m)))
        .collect();
    let at = now();
    let deleted: HashSet<_> = entries
        .iter()
        .filter(|e| e.action == Activity::Deleted)
        .map(|e| e.task_id)
        .collect();
    let entries = entries
        .into_iter()
        .map(|e| ActivityView {
            who: people
                .get(&e.user_id)
                .cloned()
                .unwrap_or_else(|| Person::new(e.user_name.as_deref(), None)),
            did: verb(e.action),
            task_id: e.task_id,
            linked: !deleted.contains(&e.task_id),
            task_title: e.task_title,
            when: moment_label(e.timestamp, tz, at),
            when_iso: e.timestamp.to_rfc3339(),
        })
        .collect();
    let back = format!("/projects/{id}/activity");
    let layout = task_layout_with(&state, &user, name, "", Some(id), &back, &projects).await?;
    let back = match params.before {
        Some(before) => format!("{back}?before={before}"),
        None => back,
    };
    render(&ActivityPage {
        layout,
        project_id: id,
        project_name: project.name,
        entries,
        older,
        back,
    })
}
