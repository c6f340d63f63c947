//! Projects, their members and sections on SQLite (the statements are
//! `todo_store_sql::projects`'; the rules `todo_core::project`'s).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::ids::UserId;
use todo_core::project::{
    self, Action, INBOX_NAME, NewProject, Project, ProjectChanges, ProjectId, Role, Section,
    SectionChanges, SectionId,
};
use todo_core::store::ProjectStore;
use todo_core::task::TaskId;
use todo_core::{Error, Result};
use todo_store_sql::projects as statements;
use todo_store_sql::tree::position_at;
use todo_store_sql::{ProjectRow, SectionRow};

use crate::rows::{db_error, decode};
use crate::sql::{self, DIALECT, Run};
use crate::tasks::{delete_tree, select_task};
use crate::{SqliteStore, savepoint};

/// A new user's Inbox, in the transaction that creates the user.
pub(crate) fn insert_inbox(conn: &Connection, user_id: &UserId, now: DateTime<Utc>) -> Result<()> {
    let values = [
        user_id.into(),
        INBOX_NAME.into(),
        None::<String>.into(),
        true.into(),
        now.into(),
    ];
    let id: ProjectId = sql::scalar(conn, statements::INSERT, values)?
        .ok_or_else(|| Error::internal("insert returned no row"))?;
    let values = [
        id.into(),
        user_id.into(),
        Role::Owner.as_str().into(),
        now.into(),
    ];
    sql::run(conn, statements::INSERT_MEMBER, values).map(drop)
}

pub(crate) fn project(
    conn: &Connection,
    user_id: &UserId,
    id: ProjectId,
) -> Result<Option<Project>> {
    sql::row::<ProjectRow, _>(conn, &statements::ONE, [user_id.into(), id.into()])
}

fn section_and_role(
    conn: &Connection,
    user_id: &UserId,
    id: SectionId,
) -> Result<Option<(Section, Role)>> {
    let row = sql::one(conn, &statements::SECTION_AND_ROLE, (id, user_id), |row| {
        Ok((decode::<SectionRow>(row)?, row.get::<_, String>(6)?))
    })
    .map_err(db_error)?;
    Ok(row.map(|(section, role)| (section.into(), role.parse().unwrap_or(Role::Viewer))))
}

/// Deletes tasks (each with its subtasks), recording `deleted` for each.
fn delete_tasks(conn: &Connection, user_id: &UserId, ids: &[TaskId]) -> Result<()> {
    let now = todo_core::time::now();
    for id in ids {
        if let Some(task) = select_task(conn, user_id, *id)? {
            delete_tree(conn, user_id, task, now)?;
        }
    }
    Ok(())
}

/// Where a section goes among its project's others (see `position_at`), room made.
fn section_position(
    conn: &Connection,
    project_id: ProjectId,
    except: SectionId,
    index: Option<u32>,
) -> Result<i64> {
    let positions: Vec<i64> = sql::all(
        conn,
        statements::SECTION_POSITIONS,
        (project_id, except),
        |row| row.get(0),
    )
    .map_err(db_error)?;
    match position_at(&positions, index) {
        Ok(taken) => {
            let values = [project_id.into(), except.into(), taken.into()];
            sql::run(conn, statements::SECTION_MAKE_ROOM, values)?;
            Ok(taken)
        }
        Err(after_last) => Ok(after_last),
    }
}

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn list_projects(&self, user_id: &UserId) -> Result<Vec<Project>> {
        let values = [user_id.into()];
        self.read(move |conn| sql::rows::<ProjectRow, _>(conn, &statements::LIST, values))
            .await
    }

    async fn project(&self, user_id: &UserId, id: ProjectId) -> Result<Option<Project>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| project(conn, &user_id, id)).await
    }

    async fn insert_project(
        &self,
        user_id: &UserId,
        new: &NewProject,
        now: DateTime<Utc>,
    ) -> Result<Project> {
        let (user_id, new) = (user_id.to_owned(), new.clone());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let owned: i64 =
                sql::scalar(&tx, statements::COUNT_OWNED, [(&user_id).into()])?.unwrap_or(0);
            project::check_project_room(u64::try_from(owned).unwrap_or(0))?;
            let values = [
                (&user_id).into(),
                new.name.as_str().into(),
                new.color.clone().into(),
                false.into(),
                now.into(),
            ];
            let id: ProjectId = sql::scalar(&tx, statements::INSERT, values)?
                .ok_or_else(|| Error::internal("insert returned no row"))?;
            let values = [
                id.into(),
                (&user_id).into(),
                Role::Owner.as_str().into(),
                now.into(),
            ];
            sql::run(&tx, statements::INSERT_MEMBER, values)?;
            let created = project(&tx, &user_id, id)?
                .ok_or_else(|| Error::internal("a project vanished inside its write"))?;
            tx.commit().map_err(db_error)?;
            Ok(created)
        })
        .await
    }

    async fn update_project(
        &self,
        user_id: &UserId,
        id: ProjectId,
        changes: &ProjectChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Project>> {
        let (user_id, changes) = (user_id.to_owned(), changes.clone());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some(before) = project(&tx, &user_id, id)? else {
                return Ok(None);
            };
            project::check_change(&before, &changes)?;
            if changes.manages() {
                statements::update(&DIALECT, id, &changes, now)
                    .execute(&tx)
                    .map_err(db_error)?;
            }
            if let Some(index) = changes.position {
                let positions: Vec<i64> =
                    sql::all(&tx, statements::MEMBER_POSITIONS, (&user_id, id), |row| {
                        row.get(0)
                    })
                    .map_err(db_error)?;
                let position = match position_at(&positions, Some(index)) {
                    Ok(taken) => {
                        let values = [(&user_id).into(), id.into(), taken.into()];
                        sql::run(&tx, statements::MEMBER_MAKE_ROOM, values)?;
                        taken
                    }
                    Err(after_last) => after_last,
                };
                let values = [(&user_id).into(), id.into(), position.into()];
                sql::run(&tx, statements::MEMBER_PLACE, values)?;
            }
            let after = project(&tx, &user_id, id)?;
            tx.commit().map_err(db_error)?;
            Ok(after)
        })
        .await
    }

    async fn delete_project(&self, user_id: &UserId, id: ProjectId) -> Result<bool> {
        let owner = user_id.to_owned();
        self.write_announcing(move |conn| {
            let user_id = owner;
            let tx = savepoint(conn)?;
            let Some(before) = project(&tx, &user_id, id)? else {
                return Ok(false);
            };
            project::deletable(&before)?;
            let tasks: Vec<TaskId> =
                sql::all(&tx, statements::TASK_IDS, [id], |row| row.get(0)).map_err(db_error)?;
            delete_tasks(&tx, &user_id, &tasks)?;
            sql::run(&tx, statements::DELETE, [id.into()])?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn list_sections(
        &self,
        user_id: &UserId,
        project_id: ProjectId,
    ) -> Result<Option<Vec<Section>>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            if project(conn, &user_id, project_id)?.is_none() {
                return Ok(None);
            }
            sql::rows::<SectionRow, _>(conn, &statements::SECTIONS, [project_id.into()]).map(Some)
        })
        .await
    }

    async fn insert_section(
        &self,
        user_id: &UserId,
        project_id: ProjectId,
        name: &str,
        position: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Option<Section>> {
        let (user_id, name) = (user_id.to_owned(), name.to_owned());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some(project) = project(&tx, &user_id, project_id)? else {
                return Ok(None);
            };
            project.role.require(Action::Edit)?;
            let count: i64 = sql::scalar(
                &tx,
                "SELECT COUNT(*) FROM sections WHERE project_id = ?1",
                [project_id.into()],
            )?
            .unwrap_or(0);
            project::check_section_room(u64::try_from(count).unwrap_or(0))?;
            let position = section_position(&tx, project_id, SectionId::new(0), position)?;
            let values = [project_id.into(), name.into(), position.into(), now.into()];
            let section = sql::row::<SectionRow, _>(&tx, &statements::INSERT_SECTION, values)?;
            tx.commit().map_err(db_error)?;
            Ok(section)
        })
        .await
    }

    async fn section(&self, user_id: &UserId, id: SectionId) -> Result<Option<Section>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| Ok(section_and_role(conn, &user_id, id)?.map(|(section, _)| section)))
            .await
    }

    async fn update_section(
        &self,
        user_id: &UserId,
        id: SectionId,
        changes: &SectionChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Section>> {
        let (user_id, changes) = (user_id.to_owned(), changes.clone());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let Some((section, role)) = section_and_role(&tx, &user_id, id)? else {
                return Ok(None);
            };
            role.require(Action::Edit)?;
            let position = match changes.position {
                Some(index) => Some(section_position(&tx, section.project_id, id, Some(index))?),
                None => None,
            };
            statements::update_section(&DIALECT, id, changes.name.as_deref(), position, now)
                .execute(&tx)
                .map_err(db_error)?;
            let after = section_and_role(&tx, &user_id, id)?.map(|(section, _)| section);
            tx.commit().map_err(db_error)?;
            Ok(after)
        })
        .await
    }

    async fn delete_section(&self, user_id: &UserId, id: SectionId) -> Result<bool> {
        let owner = user_id.to_owned();
        self.write_announcing(move |conn| {
            let user_id = owner;
            let tx = savepoint(conn)?;
            let Some((_, role)) = section_and_role(&tx, &user_id, id)? else {
                return Ok(false);
            };
            role.require(Action::Edit)?;
            let tasks: Vec<TaskId> =
                sql::all(&tx, statements::SECTION_TASKS, [id], |row| row.get(0))
                    .map_err(db_error)?;
            delete_tasks(&tx, &user_id, &tasks)?;
            sql::run(&tx, statements::DELETE_SECTION, [id.into()])?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }
}
