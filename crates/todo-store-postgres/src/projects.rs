//! Projects, their members and sections on PostgreSQL (the statements are
//! `todo_store_sql::projects`'; the rules `todo_core::project`'s).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, Row};
use todo_core::ids::UserId;
use todo_core::project::{
    self, Action, NewProject, Project, ProjectChanges, ProjectId, Role, Section, SectionChanges,
    SectionId,
};
use todo_core::store::ProjectStore;
use todo_core::task::TaskId;
use todo_core::{Error, Result};
use todo_store_sql::projects as statements;
use todo_store_sql::tree::{numbered, position_at};
use todo_store_sql::{ProjectRow, SectionRow};

use crate::rows::{db_error, decode};
use crate::sql::{self, DIALECT, bound};
use crate::tasks::{delete_tree, select_task};
use crate::{PostgresStore, tx};

static LIST: LazyLock<String> = LazyLock::new(|| numbered(&statements::LIST));
static ONE: LazyLock<String> = LazyLock::new(|| numbered(&statements::ONE));
static COUNT_OWNED: LazyLock<String> = LazyLock::new(|| numbered(statements::COUNT_OWNED));
static INSERT: LazyLock<String> = LazyLock::new(|| numbered(statements::INSERT));
static INSERT_MEMBER: LazyLock<String> = LazyLock::new(|| numbered(statements::INSERT_MEMBER));
static MEMBER_POSITIONS: LazyLock<String> =
    LazyLock::new(|| numbered(statements::MEMBER_POSITIONS));
static MEMBER_MAKE_ROOM: LazyLock<String> =
    LazyLock::new(|| numbered(statements::MEMBER_MAKE_ROOM));
static MEMBER_PLACE: LazyLock<String> = LazyLock::new(|| numbered(statements::MEMBER_PLACE));
static TASK_IDS: LazyLock<String> = LazyLock::new(|| numbered(statements::TASK_IDS));
static DELETE: LazyLock<String> = LazyLock::new(|| numbered(statements::DELETE));
static SECTION_AND_ROLE: LazyLock<String> =
    LazyLock::new(|| numbered(&statements::SECTION_AND_ROLE));
static SECTIONS: LazyLock<String> = LazyLock::new(|| numbered(&statements::SECTIONS));
static SECTION_POSITIONS: LazyLock<String> =
    LazyLock::new(|| numbered(statements::SECTION_POSITIONS));
static SECTION_MAKE_ROOM: LazyLock<String> =
    LazyLock::new(|| numbered(statements::SECTION_MAKE_ROOM));
static INSERT_SECTION: LazyLock<String> = LazyLock::new(|| numbered(&statements::INSERT_SECTION));
static SECTION_TASKS: LazyLock<String> = LazyLock::new(|| numbered(statements::SECTION_TASKS));
static DELETE_SECTION: LazyLock<String> = LazyLock::new(|| numbered(statements::DELETE_SECTION));

pub(crate) async fn project<'e>(
    executor: impl PgExecutor<'e>,
    user_id: &UserId,
    id: ProjectId,
) -> Result<Option<Project>> {
    sql::row::<ProjectRow, _>(executor, ONE.as_str(), [user_id.into(), id.into()]).await
}

async fn section_and_role(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: SectionId,
) -> Result<Option<(Section, Role)>> {
    let row = sql::query(SECTION_AND_ROLE.as_str(), [id.into(), user_id.into()])?
        .try_map(|row: sqlx::postgres::PgRow| {
            Ok((decode::<SectionRow>(&row)?, row.try_get::<String, _>(6)?))
        })
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(row.map(|(section, role)| (section.into(), role.parse().unwrap_or(Role::Viewer))))
}

/// Deletes tasks (each with its subtasks), recording `deleted` for each.
async fn delete_tasks(tx: &mut PgConnection, user_id: &UserId, ids: &[TaskId]) -> Result<()> {
    let now = todo_core::time::now();
    for id in ids {
        if let Some(task) = select_task(&mut *tx, user_id, *id).await? {
            delete_tree(tx, user_id, task, now).await?;
        }
    }
    Ok(())
}

async fn ids(tx: &mut PgConnection, text: &str, of: i64) -> Result<Vec<TaskId>> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(text.to_owned()))
        .bind(of)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)
}

/// Where a section goes among its project's others (see `position_at`), room made.
async fn section_position(
    tx: &mut PgConnection,
    project_id: ProjectId,
    except: SectionId,
    index: Option<u32>,
) -> Result<i64> {
    let positions: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(SECTION_POSITIONS.as_str()))
        .bind(project_id)
        .bind(except)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    match position_at(&positions, index) {
        Ok(taken) => {
            let values = [project_id.into(), except.into(), taken.into()];
            sql::run(&mut *tx, SECTION_MAKE_ROOM.as_str(), values).await?;
            Ok(taken)
        }
        Err(after_last) => Ok(after_last),
    }
}

#[async_trait]
impl ProjectStore for PostgresStore {
    async fn list_projects(&self, user_id: &UserId) -> Result<Vec<Project>> {
        sql::rows::<ProjectRow, _>(&self.pool, LIST.as_str(), [user_id.into()]).await
    }

    async fn project(&self, user_id: &UserId, id: ProjectId) -> Result<Option<Project>> {
        project(&self.pool, user_id, id).await
    }

    async fn insert_project(
        &self,
        user_id: &UserId,
        new: &NewProject,
        now: DateTime<Utc>,
    ) -> Result<Project> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let owned: i64 = sql::scalar(&mut *tx, COUNT_OWNED.as_str(), [user_id.into()])
            .await?
            .unwrap_or(0);
        project::check_project_room(u64::try_from(owned).unwrap_or(0))?;
        let values = [
            user_id.into(),
            new.name.as_str().into(),
            new.color.clone().into(),
            false.into(),
            now.into(),
        ];
        let id: ProjectId = sql::scalar(&mut *tx, INSERT.as_str(), values)
            .await?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
        let values = [
            id.into(),
            user_id.into(),
            Role::Owner.as_str().into(),
            now.into(),
        ];
        sql::run(&mut *tx, INSERT_MEMBER.as_str(), values).await?;
        let created = project(&mut *tx, user_id, id)
            .await?
            .ok_or_else(|| Error::internal("a project vanished inside its write"))?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn update_project(
        &self,
        user_id: &UserId,
        id: ProjectId,
        changes: &ProjectChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Project>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(before) = project(&mut *tx, user_id, id).await? else {
            return Ok(None);
        };
        project::check_change(&before, changes)?;
        if changes.manages() {
            bound(statements::update(&DIALECT, id, changes, now))?
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        if let Some(index) = changes.position {
            let positions: Vec<i64> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(MEMBER_POSITIONS.as_str()))
                    .bind(user_id)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_error)?;
            let position = match position_at(&positions, Some(index)) {
                Ok(taken) => {
                    let values = [user_id.into(), id.into(), taken.into()];
                    sql::run(&mut *tx, MEMBER_MAKE_ROOM.as_str(), values).await?;
                    taken
                }
                Err(after_last) => after_last,
            };
            let values = [user_id.into(), id.into(), position.into()];
            sql::run(&mut *tx, MEMBER_PLACE.as_str(), values).await?;
        }
        let after = project(&mut *tx, user_id, id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(after)
    }

    async fn delete_project(&self, user_id: &UserId, id: ProjectId) -> Result<bool> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(before) = project(&mut *tx, user_id, id).await? else {
            return Ok(false);
        };
        project::deletable(&before)?;
        let tasks = ids(&mut tx, TASK_IDS.as_str(), id.get()).await?;
        delete_tasks(&mut tx, user_id, &tasks).await?;
        sql::run(&mut *tx, DELETE.as_str(), [id.into()]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn list_sections(
        &self,
        user_id: &UserId,
        project_id: ProjectId,
    ) -> Result<Option<Vec<Section>>> {
        if project(&self.pool, user_id, project_id).await?.is_none() {
            return Ok(None);
        }
        sql::rows::<SectionRow, _>(&self.pool, SECTIONS.as_str(), [project_id.into()])
            .await
            .map(Some)
    }

    async fn insert_section(
        &self,
        user_id: &UserId,
        project_id: ProjectId,
        name: &str,
        position: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Option<Section>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(project) = project(&mut *tx, user_id, project_id).await? else {
            return Ok(None);
        };
        project.role.require(Action::Edit)?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sections WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        project::check_section_room(u64::try_from(count).unwrap_or(0))?;
        let position = section_position(&mut tx, project_id, SectionId::new(0), position).await?;
        let values = [project_id.into(), name.into(), position.into(), now.into()];
        let section = sql::row::<SectionRow, _>(&mut *tx, INSERT_SECTION.as_str(), values).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(section)
    }

    async fn section(&self, user_id: &UserId, id: SectionId) -> Result<Option<Section>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        Ok(section_and_role(&mut conn, user_id, id)
            .await?
            .map(|(section, _)| section))
    }

    async fn update_section(
        &self,
        user_id: &UserId,
        id: SectionId,
        changes: &SectionChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Section>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some((section, role)) = section_and_role(&mut tx, user_id, id).await? else {
            return Ok(None);
        };
        role.require(Action::Edit)?;
        let position = match changes.position {
            Some(index) => {
                Some(section_position(&mut tx, section.project_id, id, Some(index)).await?)
            }
            None => None,
        };
        bound(statements::update_section(
            &DIALECT,
            id,
            changes.name.as_deref(),
            position,
            now,
        ))?
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = section_and_role(&mut tx, user_id, id)
            .await?
            .map(|(section, _)| section);
        tx.commit().await.map_err(db_error)?;
        Ok(after)
    }

    async fn delete_section(&self, user_id: &UserId, id: SectionId) -> Result<bool> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some((_, role)) = section_and_role(&mut tx, user_id, id).await? else {
            return Ok(false);
        };
        role.require(Action::Edit)?;
        let tasks = ids(&mut tx, SECTION_TASKS.as_str(), id.get()).await?;
        delete_tasks(&mut tx, user_id, &tasks).await?;
        sql::run(&mut *tx, DELETE_SECTION.as_str(), [id.into()]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }
}
