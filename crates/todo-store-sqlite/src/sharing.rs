//! Members, invitations, comments, activity and account deletion on SQLite (the statements
//! are `todo_store_sql::sharing`'s; the rules `todo_core::sharing`'s). One writer at a time,
//! so events keep their order for every member without locks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::events::{Activity, EventId, task_data};
use todo_core::ids::{CommentId, InvitationId, ProjectId, UserId};
use todo_core::project::{Action, Project, Role};
use todo_core::sharing::{
    self, ActivityEntry, Comment, Invitation, InvitationInput, Member, RoleChange,
};
use todo_core::store::SharingStore;
use todo_core::task::TaskId;
use todo_core::{Error, Result};
use todo_store_sql::sharing::{
    self as statements, ActivityRow, CommentAndRoleRow, CommentRow, INVITATION_CONFLICT,
    InvitationRow, MEMBER_CONFLICT, MemberRow,
};

use crate::projects::project;
use crate::rows::{conflict, db_error};
use crate::tasks::{select_task, select_with_role};
use crate::{SqliteStore, events, savepoint, sql};

fn members(conn: &Connection, project: ProjectId) -> Result<Vec<Member>> {
    sql::rows::<MemberRow, _>(conn, statements::MEMBERS, [project.into()])
}

/// Takes `target` out of the project with what goes with them.
fn leave(conn: &Connection, project: ProjectId, target: &UserId) -> Result<()> {
    for statement in statements::LEAVING {
        sql::run(conn, statement, [project.into(), target.into()])?;
    }
    sql::run(
        conn,
        statements::REMOVE_MEMBER,
        [project.into(), target.into()],
    )?;
    Ok(())
}

/// Hands `project` to `to`, making `from` an editor.
fn transfer(
    conn: &Connection,
    project: ProjectId,
    from: &UserId,
    to: &UserId,
    now: DateTime<Utc>,
) -> Result<()> {
    let values = [project.into(), to.into(), Role::Owner.as_str().into()];
    sql::run(conn, statements::SET_ROLE, values)?;
    let values = [project.into(), from.into(), Role::Editor.as_str().into()];
    sql::run(conn, statements::SET_ROLE, values)?;
    sql::run(
        conn,
        statements::SET_OWNER,
        [project.into(), to.into(), now.into()],
    )?;
    Ok(())
}

fn comment_and_role(
    conn: &Connection,
    user_id: &UserId,
    id: CommentId,
) -> Result<Option<(Comment, Role)>> {
    let values = [id.into(), user_id.into()];
    Ok(
        sql::row::<CommentAndRoleRow, _>(conn, &statements::COMMENT_AND_ROLE, values)?
            .map(|CommentAndRoleRow(comment, role)| (comment, role)),
    )
}

fn pending_for(
    conn: &Connection,
    user_id: &UserId,
    id: InvitationId,
) -> Result<Option<Invitation>> {
    let values = [user_id.into(), id.into()];
    sql::row::<InvitationRow, _>(conn, &statements::INVITATION_FOR, values)
}

#[async_trait]
impl SharingStore for SqliteStore {
    async fn members(&self, user_id: &UserId, id: ProjectId) -> Result<Option<Vec<Member>>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            if project(conn, &user_id, id)?.is_none() {
                return Ok(None);
            }
            members(conn, id).map(Some)
        })
        .await
    }

    async fn change_role(
        &self,
        user_id: &UserId,
        id: ProjectId,
        target: &UserId,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Member>>> {
        let (user_id, target) = (user_id.to_owned(), target.to_owned());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some(project) = project(&tx, &user_id, id)? else {
                return Ok(None);
            };
            let all = members(&tx, id)?;
            let Some(member) = all.iter().find(|m| m.user_id == target) else {
                // A member who cannot manage learns nothing about who else is there.
                project.role.require(Action::Manage)?;
                return Ok(None);
            };
            match sharing::role_change(&user_id, project.role, member, role)? {
                RoleChange::Set(role) => {
                    let values = [id.into(), (&target).into(), role.as_str().into()];
                    sql::run(&tx, statements::SET_ROLE, values)?;
                }
                RoleChange::Transfer => transfer(&tx, id, &user_id, &target, now)?,
            }
            let after = members(&tx, id)?;
            tx.commit().map_err(db_error)?;
            Ok(Some(after))
        })
        .await
    }

    async fn remove_member(
        &self,
        user_id: &UserId,
        id: ProjectId,
        target: &UserId,
    ) -> Result<bool> {
        let (user_id, target) = (user_id.to_owned(), target.to_owned());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some(project) = project(&tx, &user_id, id)? else {
                return Ok(false);
            };
            let all = members(&tx, id)?;
            let Some(member) = all.iter().find(|m| m.user_id == target) else {
                project.role.require(Action::Manage)?;
                return Ok(false);
            };
            sharing::removal(&user_id, project.role, member)?;
            leave(&tx, id, &target)?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn invite(
        &self,
        user_id: &UserId,
        id: ProjectId,
        input: &InvitationInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>> {
        let (user_id, input) = (user_id.to_owned(), input.clone());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some(project) = project(&tx, &user_id, id)? else {
                return Ok(None);
            };
            let invitation = input.validate(&project)?;
            let email = invitation.email.as_str();
            let (members, pending): (i64, i64) =
                sql::one(&tx, statements::COUNT_MEMBERS_AND_PENDING, [id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .map_err(db_error)?
                .unwrap_or((0, 0));
            sharing::check_invitation_room(
                u64::try_from(members).unwrap_or(0),
                u64::try_from(pending).unwrap_or(0),
            )?;
            let already: i64 =
                sql::scalar(&tx, statements::IS_MEMBER_EMAIL, [id.into(), email.into()])?
                    .unwrap_or(0);
            if already > 0 {
                return Err(Error::Conflict(MEMBER_CONFLICT.into()));
            }
            let values = [
                id.into(),
                email.into(),
                invitation.role.as_str().into(),
                (&user_id).into(),
                now.into(),
            ];
            let made: InvitationId = sql::scalar_or(
                &tx,
                statements::INSERT_INVITATION,
                values,
                conflict(INVITATION_CONFLICT),
            )?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
            let values = [id.into(), made.into()];
            let sent = sql::row::<InvitationRow, _>(&tx, &statements::PROJECT_INVITATION, values)?;
            tx.commit().map_err(db_error)?;
            Ok(sent)
        })
        .await
    }

    async fn project_invitations(
        &self,
        user_id: &UserId,
        id: ProjectId,
    ) -> Result<Option<Vec<Invitation>>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let Some(project) = project(conn, &user_id, id)? else {
                return Ok(None);
            };
            project.role.require(Action::Manage)?;
            sql::rows::<InvitationRow, _>(conn, &statements::PROJECT_INVITATIONS, [id.into()])
                .map(Some)
        })
        .await
    }

    async fn cancel_invitation(
        &self,
        user_id: &UserId,
        id: ProjectId,
        invitation: InvitationId,
    ) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some(project) = project(&tx, &user_id, id)? else {
                return Ok(false);
            };
            project.role.require(Action::Manage)?;
            let values = [id.into(), invitation.into()];
            let done = sql::run(&tx, statements::CANCEL_INVITATION, values)?;
            tx.commit().map_err(db_error)?;
            Ok(done > 0)
        })
        .await
    }

    async fn invitations_for(&self, user_id: &UserId) -> Result<Vec<Invitation>> {
        let values = [user_id.into()];
        self.read(move |conn| {
            sql::rows::<InvitationRow, _>(conn, &statements::INVITATIONS_FOR, values)
        })
        .await
    }

    async fn accept_invitation(
        &self,
        user_id: &UserId,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<Option<Project>> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some(invitation) = pending_for(&tx, &user_id, id)? else {
                return Ok(None);
            };
            if project(&tx, &user_id, invitation.project_id)?.is_some() {
                return Err(Error::Conflict(MEMBER_CONFLICT.into()));
            }
            sql::run(&tx, statements::ACCEPT_INVITATION, [id.into(), now.into()])?;
            let values = [
                invitation.project_id.into(),
                (&user_id).into(),
                invitation.role.as_str().into(),
                now.into(),
            ];
            sql::run(&tx, todo_store_sql::projects::INSERT_MEMBER, values)?;
            let joined = project(&tx, &user_id, invitation.project_id)?;
            tx.commit().map_err(db_error)?;
            Ok(joined)
        })
        .await
    }

    async fn decline_invitation(
        &self,
        user_id: &UserId,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            if pending_for(&tx, &user_id, id)?.is_none() {
                return Ok(false);
            }
            sql::run(&tx, statements::DECLINE_INVITATION, [id.into(), now.into()])?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn comments(&self, user_id: &UserId, task: TaskId) -> Result<Option<Vec<Comment>>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            if select_task(conn, &user_id, task)?.is_none() {
                return Ok(None);
            }
            sql::rows::<CommentRow, _>(conn, &statements::COMMENTS, [task.into()]).map(Some)
        })
        .await
    }

    async fn comment(&self, user_id: &UserId, id: CommentId) -> Result<Option<Comment>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| Ok(comment_and_role(conn, &user_id, id)?.map(|(c, _)| c)))
            .await
    }

    async fn add_comment(
        &self,
        user_id: &UserId,
        task: TaskId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Comment>> {
        let (user_id, body) = (user_id.to_owned(), body.to_owned());
        self.write_announcing(move |conn| {
            let tx = savepoint(conn)?;
            // Any member comments, a viewer included.
            let Some((commented, _role)) = select_with_role(&tx, &user_id, task)? else {
                return Ok(None);
            };
            let count: i64 =
                sql::scalar(&tx, statements::COUNT_COMMENTS, [task.into()])?.unwrap_or(0);
            sharing::check_comment_room(u64::try_from(count).unwrap_or(0))?;
            let values = [
                task.into(),
                (&user_id).into(),
                body.as_str().into(),
                now.into(),
            ];
            let id: CommentId = sql::scalar(&tx, statements::INSERT_COMMENT, values)?
                .ok_or_else(|| Error::internal("insert returned no row"))?;
            let written = events::Written {
                actor: &user_id,
                activity: Activity::Commented,
                project: Some(commented.project_id),
                from_project: None,
                task_id: task,
                task_data: &task_data(&commented),
                at: now,
            };
            events::record(&tx, written)?;
            let comment = sql::row::<CommentRow, _>(&tx, &statements::COMMENT, [id.into()])?;
            tx.commit().map_err(db_error)?;
            Ok(comment)
        })
        .await
    }

    async fn edit_comment(
        &self,
        user_id: &UserId,
        id: CommentId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Comment>> {
        let (user_id, body) = (user_id.to_owned(), body.to_owned());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some((comment, _)) = comment_and_role(&tx, &user_id, id)? else {
                return Ok(None);
            };
            sharing::check_comment_edit(&comment, &user_id)?;
            let values = [id.into(), body.as_str().into(), now.into()];
            sql::run(&tx, statements::EDIT_COMMENT, values)?;
            let after = sql::row::<CommentRow, _>(&tx, &statements::COMMENT, [id.into()])?;
            tx.commit().map_err(db_error)?;
            Ok(after)
        })
        .await
    }

    async fn delete_comment(&self, user_id: &UserId, id: CommentId) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some((comment, role)) = comment_and_role(&tx, &user_id, id)? else {
                return Ok(false);
            };
            sharing::check_comment_delete(&comment, &user_id, role)?;
            sql::run(&tx, statements::DELETE_COMMENT, [id.into()])?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn activity(
        &self,
        user_id: &UserId,
        id: ProjectId,
        before: Option<EventId>,
        limit: u32,
    ) -> Result<Option<Vec<ActivityEntry>>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            if project(conn, &user_id, id)?.is_none() {
                return Ok(None);
            }
            let values = [
                id.into(),
                statements::activity_before(before).into(),
                i64::from(limit).into(),
            ];
            sql::rows::<ActivityRow, _>(conn, statements::ACTIVITY, values).map(Some)
        })
        .await
    }

    async fn delete_account(&self, user_id: &UserId) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let owned: Vec<ProjectId> =
                sql::all(&tx, statements::OWNED_PROJECTS, [&user_id], |row| {
                    row.get(0)
                })
                .map_err(db_error)?;
            let now = todo_core::time::now();
            for id in owned {
                let all = members(&tx, id)?;
                match sharing::successor(&all, &user_id) {
                    Some(heir) => transfer(&tx, id, &user_id, heir, now)?,
                    None => {
                        sql::run(&tx, statements::DELETE_PROJECT, [id.into()])?;
                    }
                }
            }
            sql::run(&tx, statements::HAND_OVER_TASKS, [(&user_id).into()])?;
            let deleted = sql::run(&tx, statements::DELETE_USER, [(&user_id).into()])?;
            tx.commit().map_err(db_error)?;
            Ok(deleted > 0)
        })
        .await
    }
}
