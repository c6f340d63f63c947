//! CalDAV's objects (`todo_core::caldav`), the statements in `todo_store_sql::dav`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::Result;
use todo_core::caldav::DavObject;
use todo_core::ids::{ProjectId, UserId};
use todo_core::store::DavStore;
use todo_core::task::TaskId;
use todo_core::time::now;
use todo_store_sql::dav::{self, DavRow};
use todo_store_sql::tree::numbered;

use crate::PostgresStore;
use crate::rows::{conflict, db_error};
use crate::sql;

#[async_trait]
impl DavStore for PostgresStore {
    async fn dav_objects(&self, project: ProjectId) -> Result<Vec<DavObject>> {
        sql::rows::<DavRow, _>(&self.pool, numbered(dav::OF_PROJECT), [project.into()]).await
    }

    async fn dav_object(&self, task: TaskId) -> Result<Option<DavObject>> {
        sql::row::<DavRow, _>(&self.pool, numbered(dav::OF_TASK), [task.into()]).await
    }

    async fn dav_task_named(&self, project: ProjectId, name: &str) -> Result<Option<TaskId>> {
        let values = [project.into(), name.into()];
        let id: Option<i64> = sql::scalar(&self.pool, numbered(dav::NAMED), values).await?;
        Ok(id.map(TaskId::new))
    }

    async fn put_dav_object(&self, object: &DavObject) -> Result<()> {
        let values = [
            object.task_id.into(),
            (&object.name).into(),
            (&object.uid).into(),
            (&object.extra).into(),
            now().into(),
        ];
        sql::run(&self.pool, numbered(dav::PUT), values).await?;
        Ok(())
    }

    async fn prune_dav_objects(&self, before: DateTime<Utc>) -> Result<u64> {
        sql::run(&self.pool, numbered(dav::PRUNE), [before.into()]).await
    }

    async fn dav_collections(&self, user_id: &UserId) -> Result<Vec<(String, ProjectId)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(numbered(dav::COLLECTIONS)))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(name, id)| (name, ProjectId::new(id)))
            .collect())
    }

    async fn put_dav_collection(
        &self,
        user_id: &UserId,
        name: &str,
        project: ProjectId,
    ) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(numbered(dav::PUT_COLLECTION)))
            .bind(user_id)
            .bind(name)
            .bind(project.get())
            .execute(&self.pool)
            .await
            .map_err(conflict(dav::COLLECTION_CONFLICT))?;
        Ok(())
    }
}
