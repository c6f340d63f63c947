//! CalDAV's stored names: a calendar's path per user, taken once.

use todo_core::Store;
use todo_core::error::Error;
use todo_core::ids::UserId;
use todo_core::project::NewProject;
use todo_core::time::now;

use crate::user;

async fn project(store: &dyn Store, owner: &UserId, name: &str) -> todo_core::ids::ProjectId {
    store
        .insert_project(
            owner,
            &NewProject {
                name: name.into(),
                color: None,
            },
            now(),
        )
        .await
        .expect("project")
        .id
}

#[tokio::test]
async fn a_calendar_path_is_taken_once_per_user() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let backend = db.backend;
        let (ada, bob) = (user(store).await, user(store).await);
        let first = project(store, &ada, "Groceries").await;
        let second = project(store, &ada, "Other").await;
        let theirs = project(store, &bob, "Groceries").await;

        store
            .put_dav_collection(&ada, "uuid-1", first)
            .await
            .expect("named");
        let again = store.put_dav_collection(&ada, "uuid-1", second).await;
        assert!(
            matches!(again, Err(Error::Conflict(_))),
            "{backend}: {again:?}"
        );
        store
            .put_dav_collection(&bob, "uuid-1", theirs)
            .await
            .expect("another user's path is their own");

        let named = store.dav_collections(&ada).await.expect("read");
        assert_eq!(named, [("uuid-1".to_owned(), first)], "{backend}");
    }
}
