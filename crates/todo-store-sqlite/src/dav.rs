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

use crate::rows::{conflict, db_error};
use crate::{SqliteStore, sql};

#[async_trait]
impl DavStore for SqliteStore {
    async fn dav_objects(&self, project: ProjectId) -> Result<Vec<DavObject>> {
        self.read(move |conn| sql::rows::<DavRow, _>(conn, dav::OF_PROJECT, [project.into()]))
            .await
    }

    async fn dav_object(&self, task: TaskId) -> Result<Option<DavObject>> {
        self.read(move |conn| sql::row::<DavRow, _>(conn, dav::OF_TASK, [task.into()]))
            .await
    }

    async fn dav_task_named(&self, project: ProjectId, name: &str) -> Result<Option<TaskId>> {
        let values = [project.into(), name.into()];
        self.read(move |conn| sql::scalar::<i64>(conn, dav::NAMED, values))
            .await
            .map(|id| id.map(TaskId::new))
    }

    async fn put_dav_object(&self, object: &DavObject) -> Result<()> {
        let values = [
            object.task_id.into(),
            (&object.name).into(),
            (&object.uid).into(),
            (&object.extra).into(),
            now().into(),
        ];
        self.write(move |conn| sql::run(conn, dav::PUT, values).map(|_| ()))
            .await
    }

    async fn prune_dav_objects(&self, before: DateTime<Utc>) -> Result<u64> {
        self.write(move |conn| sql::run(conn, dav::PRUNE, [before.into()]).map(|n| n as u64))
            .await
    }

    async fn dav_collections(&self, user_id: &UserId) -> Result<Vec<(String, ProjectId)>> {
        let user_id = user_id.to_string();
        self.read(move |conn| {
            sql::all(conn, dav::COLLECTIONS, [user_id], |row| {
                Ok((row.get::<_, String>(0)?, ProjectId::new(row.get(1)?)))
            })
            .map_err(db_error)
        })
        .await
    }

    async fn put_dav_collection(
        &self,
        user_id: &UserId,
        name: &str,
        project: ProjectId,
    ) -> Result<()> {
        let values = (user_id.to_string(), name.to_owned(), project.get());
        self.write(move |conn| {
            sql::execute(conn, dav::PUT_COLLECTION, values)
                .map(|_| ())
                .map_err(conflict(dav::COLLECTION_CONFLICT))
        })
        .await
    }
}
