//! Members, invitations, comments, activity and account deletion on PostgreSQL (the
//! statements are `todo_store_sql::sharing`'s; the rules `todo_core::sharing`'s). Every write
//! that changes who is in a project takes the locks of everyone it reaches first
//! (`tx::begin`), so events keep their order for each member.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
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
use todo_store_sql::tree::numbered;

use crate::rows::{conflict, db_error};
use crate::tasks::{lock_with_role, select_task};
use crate::{PostgresStore, events, sql, tx};

macro_rules! numbered {
    ($($name:ident),* $(,)?) => {
        $(static $name: LazyLock<String> = LazyLock::new(|| numbered(&statements::$name));)*
    };
}

numbered!(
    MEMBERS,
    SET_ROLE,
    SET_OWNER,
    REMOVE_MEMBER,
    PROJECT_INVITATIONS,
    INVITATIONS_FOR,
    INVITATION_FOR,
    PROJECT_INVITATION,
    IS_MEMBER_EMAIL,
    COUNT_MEMBERS_AND_PENDING,
    INSERT_INVITATION,
    CANCEL_INVITATION,
    ACCEPT_INVITATION,
    DECLINE_INVITATION,
    COMMENTS,
    COMMENT_AND_ROLE,
    COMMENT,
    COUNT_COMMENTS,
    INSERT_COMMENT,
    EDIT_COMMENT,
    DELETE_COMMENT,
    ACTIVITY,
    OWNED_PROJECTS,
    HAND_OVER_TASKS,
    DELETE_PROJECT,
    DELETE_USER,
);
static LEAVING: LazyLock<Vec<String>> =
    LazyLock::new(|| statements::LEAVING.iter().map(|s| numbered(s)).collect());
static INSERT_MEMBER: LazyLock<String> =
    LazyLock::new(|| numbered(todo_store_sql::projects::INSERT_MEMBER));

async fn project(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: ProjectId,
) -> Result<Option<Project>> {
    crate::projects::project(&mut *tx, user_id, id).await
}

async fn members(tx: &mut PgConnection, project: ProjectId) -> Result<Vec<Member>> {
    sql::rows::<MemberRow, _>(&mut *tx, MEMBERS.as_str(), [project.into()]).await
}

/// Takes `target` out of the project with what goes with them.
async fn leave(tx: &mut PgConnection, project: ProjectId, target: &UserId) -> Result<()> {
    for statement in LEAVING.iter() {
        sql::run(
            &mut *tx,
            statement.as_str(),
            [project.into(), target.into()],
        )
        .await?;
    }
    sql::run(
        &mut *tx,
        REMOVE_MEMBER.as_str(),
        [project.into(), target.into()],
    )
    .await?;
    Ok(())
}

/// Hands `project` to `to`, making `from` an editor.
async fn transfer(
    tx: &mut PgConnection,
    project: ProjectId,
    from: &UserId,
    to: &UserId,
    now: DateTime<Utc>,
) -> Result<()> {
    let values = [project.into(), to.into(), Role::Owner.as_str().into()];
    sql::run(&mut *tx, SET_ROLE.as_str(), values).await?;
    let values = [project.into(), from.into(), Role::Editor.as_str().into()];
    sql::run(&mut *tx, SET_ROLE.as_str(), values).await?;
    sql::run(
        &mut *tx,
        SET_OWNER.as_str(),
        [project.into(), to.into(), now.into()],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl SharingStore for PostgresStore {
    async fn members(&self, user_id: &UserId, id: ProjectId) -> Result<Option<Vec<Member>>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        if project(&mut conn, user_id, id).await?.is_none() {
            return Ok(None);
        }
        members(&mut conn, id).await.map(Some)
    }

    async fn change_role(
        &self,
        user_id: &UserId,
        id: ProjectId,
        target: &UserId,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Member>>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(project) = project(&mut tx, user_id, id).await? else {
            return Ok(None);
        };
        let all = members(&mut tx, id).await?;
        let Some(member) = all.iter().find(|m| &m.user_id == target) else {
            // A member who cannot manage learns nothing about who else is there.
            project.role.require(Action::Manage)?;
            return Ok(None);
        };
        match sharing::role_change(user_id, project.role, member, role)? {
            RoleChange::Set(role) => {
                let values = [id.into(), target.into(), role.as_str().into()];
                sql::run(&mut *tx, SET_ROLE.as_str(), values).await?;
            }
            RoleChange::Transfer => transfer(&mut tx, id, user_id, target, now).await?,
        }
        let after = members(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(after))
    }

    async fn remove_member(
        &self,
        user_id: &UserId,
        id: ProjectId,
        target: &UserId,
    ) -> Result<bool> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(project) = project(&mut tx, user_id, id).await? else {
            return Ok(false);
        };
        let all = members(&mut tx, id).await?;
        let Some(member) = all.iter().find(|m| &m.user_id == target) else {
            project.role.require(Action::Manage)?;
            return Ok(false);
        };
        sharing::removal(user_id, project.role, member)?;
        leave(&mut tx, id, target).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn invite(
        &self,
        user_id: &UserId,
        id: ProjectId,
        input: &InvitationInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let Some(project) = project(&mut tx, user_id, id).await? else {
            return Ok(None);
        };
        let invitation = input.validate(&project)?;
        let email = invitation.email.as_str();
        let (members, pending): (i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(COUNT_MEMBERS_AND_PENDING.as_str()))
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        sharing::check_invitation_room(
            u64::try_from(members).unwrap_or(0),
            u64::try_from(pending).unwrap_or(0),
        )?;
        let already: i64 = sql::scalar(
            &mut *tx,
            IS_MEMBER_EMAIL.as_str(),
            [id.into(), email.into()],
        )
        .await?
        .unwrap_or(0);
        if already > 0 {
            return Err(Error::Conflict(MEMBER_CONFLICT.into()));
        }
        let values = [
            id.into(),
            email.into(),
            invitation.role.as_str().into(),
            user_id.into(),
            now.into(),
        ];
        let made: InvitationId = sql::query(INSERT_INVITATION.as_str(), values)?
            .try_map(|row: sqlx::postgres::PgRow| sqlx::Row::try_get(&row, 0))
            .fetch_one(&mut *tx)
            .await
            .map_err(conflict(INVITATION_CONFLICT))?;
        let sent = sql::row::<InvitationRow, _>(
            &mut *tx,
            PROJECT_INVITATION.as_str(),
            [id.into(), made.into()],
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(sent)
    }

    async fn project_invitations(
        &self,
        user_id: &UserId,
        id: ProjectId,
    ) -> Result<Option<Vec<Invitation>>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let Some(project) = project(&mut conn, user_id, id).await? else {
            return Ok(None);
        };
        project.role.require(Action::Manage)?;
        sql::rows::<InvitationRow, _>(&mut *conn, PROJECT_INVITATIONS.as_str(), [id.into()])
            .await
            .map(Some)
    }

    async fn cancel_invitation(
        &self,
        user_id: &UserId,
        id: ProjectId,
        invitation: InvitationId,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let Some(project) = project(&mut tx, user_id, id).await? else {
            return Ok(false);
        };
        project.role.require(Action::Manage)?;
        let values = [id.into(), invitation.into()];
        let done = sql::run(&mut *tx, CANCEL_INVITATION.as_str(), values).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(done > 0)
    }

    async fn invitations_for(&self, user_id: &UserId) -> Result<Vec<Invitation>> {
        sql::rows::<InvitationRow, _>(&self.pool, INVITATIONS_FOR.as_str(), [user_id.into()]).await
    }

    async fn accept_invitation(
        &self,
        user_id: &UserId,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<Option<Project>> {
        let values = [user_id.into(), id.into()];
        let Some(invitation) =
            sql::row::<InvitationRow, Invitation>(&self.pool, INVITATION_FOR.as_str(), values)
                .await?
        else {
            return Ok(None);
        };
        let mut tx = tx::begin_reaching(&self.pool, user_id, Some(invitation.project_id)).await?;
        // Read again under the locks: it may have been answered or cancelled meanwhile.
        let values = [user_id.into(), id.into()];
        if sql::row::<InvitationRow, Invitation>(&mut *tx, INVITATION_FOR.as_str(), values)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        if project(&mut tx, user_id, invitation.project_id)
            .await?
            .is_some()
        {
            return Err(Error::Conflict(MEMBER_CONFLICT.into()));
        }
        sql::run(
            &mut *tx,
            ACCEPT_INVITATION.as_str(),
            [id.into(), now.into()],
        )
        .await?;
        let values = [
            invitation.project_id.into(),
            user_id.into(),
            invitation.role.as_str().into(),
            now.into(),
        ];
        sql::run(&mut *tx, INSERT_MEMBER.as_str(), values).await?;
        let joined = project(&mut tx, user_id, invitation.project_id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(joined)
    }

    async fn decline_invitation(
        &self,
        user_id: &UserId,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let values = [user_id.into(), id.into()];
        if sql::row::<InvitationRow, Invitation>(&mut *tx, INVITATION_FOR.as_str(), values)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        sql::run(
            &mut *tx,
            DECLINE_INVITATION.as_str(),
            [id.into(), now.into()],
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn comments(&self, user_id: &UserId, task: TaskId) -> Result<Option<Vec<Comment>>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        if select_task(&mut *conn, user_id, task).await?.is_none() {
            return Ok(None);
        }
        sql::rows::<CommentRow, _>(&mut *conn, COMMENTS.as_str(), [task.into()])
            .await
            .map(Some)
    }

    async fn comment(&self, user_id: &UserId, id: CommentId) -> Result<Option<Comment>> {
        let values = [id.into(), user_id.into()];
        Ok(
            sql::row::<CommentAndRoleRow, _>(&self.pool, COMMENT_AND_ROLE.as_str(), values)
                .await?
                .map(|CommentAndRoleRow(comment, _)| comment),
        )
    }

    async fn add_comment(
        &self,
        user_id: &UserId,
        task: TaskId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Comment>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        // Any member comments, a viewer included; the task's row lock orders its comments.
        let Some((commented, _role)) = lock_with_role(&mut tx, user_id, task).await? else {
            return Ok(None);
        };
        let count: i64 = sql::scalar(&mut *tx, COUNT_COMMENTS.as_str(), [task.into()])
            .await?
            .unwrap_or(0);
        sharing::check_comment_room(u64::try_from(count).unwrap_or(0))?;
        let values = [task.into(), user_id.into(), body.into(), now.into()];
        let id: CommentId = sql::scalar(&mut *tx, INSERT_COMMENT.as_str(), values)
            .await?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
        let written = events::Written {
            actor: user_id,
            activity: Activity::Commented,
            project: Some(commented.project_id),
            from_project: None,
            task_id: task,
            task_data: &task_data(&commented),
            at: now,
        };
        events::record(&mut tx, written).await?;
        let comment = sql::row::<CommentRow, _>(&mut *tx, COMMENT.as_str(), [id.into()]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(comment)
    }

    async fn edit_comment(
        &self,
        user_id: &UserId,
        id: CommentId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Comment>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let values = [id.into(), user_id.into()];
        let Some(CommentAndRoleRow(comment, _)) =
            sql::row::<CommentAndRoleRow, _>(&mut *tx, COMMENT_AND_ROLE.as_str(), values).await?
        else {
            return Ok(None);
        };
        sharing::check_comment_edit(&comment, user_id)?;
        sql::run(
            &mut *tx,
            EDIT_COMMENT.as_str(),
            [id.into(), body.into(), now.into()],
        )
        .await?;
        let after = sql::row::<CommentRow, _>(&mut *tx, COMMENT.as_str(), [id.into()]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(after)
    }

    async fn delete_comment(&self, user_id: &UserId, id: CommentId) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let values = [id.into(), user_id.into()];
        let Some(CommentAndRoleRow(comment, role)) =
            sql::row::<CommentAndRoleRow, _>(&mut *tx, COMMENT_AND_ROLE.as_str(), values).await?
        else {
            return Ok(false);
        };
        sharing::check_comment_delete(&comment, user_id, role)?;
        sql::run(&mut *tx, DELETE_COMMENT.as_str(), [id.into()]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn activity(
        &self,
        user_id: &UserId,
        id: ProjectId,
        before: Option<EventId>,
        limit: u32,
    ) -> Result<Option<Vec<ActivityEntry>>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        if project(&mut conn, user_id, id).await?.is_none() {
            return Ok(None);
        }
        let values = [
            id.into(),
            statements::activity_before(before).into(),
            i64::from(limit).into(),
        ];
        sql::rows::<ActivityRow, _>(&mut *conn, ACTIVITY.as_str(), values)
            .await
            .map(Some)
    }

    async fn delete_account(&self, user_id: &UserId) -> Result<bool> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let owned: Vec<ProjectId> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(OWNED_PROJECTS.as_str()))
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?;
        let now = todo_core::time::now();
        for id in owned {
            let all = members(&mut tx, id).await?;
            match sharing::successor(&all, user_id) {
                Some(heir) => transfer(&mut tx, id, user_id, heir, now).await?,
                None => {
                    sql::run(&mut *tx, DELETE_PROJECT.as_str(), [id.into()]).await?;
                }
            }
        }
        sql::run(&mut *tx, HAND_OVER_TASKS.as_str(), [user_id.into()]).await?;
        let deleted = sql::run(&mut *tx, DELETE_USER.as_str(), [user_id.into()]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(deleted > 0)
    }
}
