use todo_core::Error;
use todo_core::tag::{TagChanges, TagName};
use todo_core::task::{NewTask, TaskChanges};
use todo_core::time::now;

use crate::context;
use crate::tasks::new_task;
use crate::user;

fn tag(name: &str) -> TagName {
    TagName::parse(name).expect("tag")
}

#[tokio::test]
async fn tags_are_unique_per_user_regardless_of_case() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, bob) = (user(store).await, user(store).await);
        let home = store
            .insert_tag(&alice, &tag("Home"), Some("#3b82f6"), now())
            .await
            .expect("insert");
        assert_eq!(
            (home.name.as_str(), home.color.as_deref(), home.task_count),
            ("Home", Some("#3b82f6"), 0)
        );
        let again = store.insert_tag(&alice, &tag("HOME"), None, now()).await;
        assert!(
            matches!(again, Err(Error::Conflict(_))),
            "{}: {again:?}",
            db.backend
        );
        store
            .insert_tag(&bob, &tag("home"), None, now())
            .await
            .expect("bob has his own");
        assert_eq!(store.list_tags(&bob).await.expect("list").len(), 1);
    }
}

#[tokio::test]
async fn tasks_create_tags_on_the_fly_and_reuse_existing_ones() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let existing = store
            .insert_tag(&owner, &tag("Work"), Some("#ff0000"), now())
            .await
            .expect("tag");
        let task = store
            .insert_task(
                &owner,
                &NewTask {
                    tags: vec![tag("work"), tag("urgent-ish")],
                    ..new_task("t")
                },
                now(),
            )
            .await
            .expect("insert");
        assert_eq!(
            task.tags,
            ["urgent-ish", "Work"],
            "{}: the existing tag keeps its spelling",
            db.backend
        );
        let listed = store.list_tags(&owner).await.expect("list");
        let summary: Vec<_> = listed
            .iter()
            .map(|t| (t.name.as_str(), t.task_count))
            .collect();
        assert_eq!(summary, [("urgent-ish", 1), ("Work", 1)]);
        assert_eq!(listed[1].id, existing.id);

        let retag = TaskChanges {
            tags: Some(vec![tag("home")]),
            ..TaskChanges::default()
        };
        let updated = store
            .update_task(&owner, task.id, &retag, &context(now()))
            .await
            .expect("update")
            .expect("found");
        assert_eq!(updated.tags, ["home"], "{}", db.backend);
        let clear = TaskChanges {
            tags: Some(Vec::new()),
            ..TaskChanges::default()
        };
        let cleared = store
            .update_task(&owner, task.id, &clear, &context(now()))
            .await
            .expect("update")
            .expect("found");
        assert!(cleared.tags.is_empty());
        let untouched = store
            .update_task(
                &owner,
                task.id,
                &TaskChanges {
                    title: Some("renamed".into()),
                    ..TaskChanges::default()
                },
                &context(now()),
            )
            .await
            .expect("update")
            .expect("found");
        assert!(untouched.tags.is_empty());
    }
}

#[tokio::test]
async fn renaming_recoloring_and_deleting_tags() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (owner, other) = (user(store).await, user(store).await);
        let task = store
            .insert_task(
                &owner,
                &NewTask {
                    tags: vec![tag("hme"), tag("work")],
                    ..new_task("t")
                },
                now(),
            )
            .await
            .expect("insert");
        let tags = store.list_tags(&owner).await.expect("list");
        let (typo, work) = (&tags[0], &tags[1]);

        let fix = TagChanges {
            name: Some(tag("Home")),
            color: Some(Some("#00ff00".into())),
        };
        let fixed = store
            .update_tag(&owner, typo.id, &fix)
            .await
            .expect("update")
            .expect("found");
        assert_eq!(
            (fixed.name.as_str(), fixed.color.as_deref()),
            ("Home", Some("#00ff00")),
            "{}",
            db.backend
        );
        assert_eq!(
            store
                .get_task(&owner, task.id)
                .await
                .expect("get")
                .expect("found")
                .tags,
            ["Home", "work"]
        );

        let clash = TagChanges {
            name: Some(tag("WORK")),
            color: None,
        };
        let result = store.update_tag(&owner, typo.id, &clash).await;
        assert!(
            matches!(result, Err(Error::Conflict(_))),
            "{}: {result:?}",
            db.backend
        );
        assert!(
            store
                .update_tag(&other, typo.id, &fix)
                .await
                .expect("update")
                .is_none(),
            "not the other user's"
        );
        assert!(!store.delete_tag(&other, work.id).await.expect("delete"));

        assert!(store.delete_tag(&owner, work.id).await.expect("delete"));
        assert_eq!(
            store
                .get_task(&owner, task.id)
                .await
                .expect("get")
                .expect("found")
                .tags,
            ["Home"]
        );
        assert_eq!(store.list_tags(&owner).await.expect("list").len(), 1);
    }
}

/// Concurrent writes (on SQLite they commit together, each in a savepoint of one transaction):
/// a write that fails is undone alone, and every other write of its batch is kept.
#[tokio::test]
async fn concurrent_writes_keep_their_own_outcomes_when_some_fail() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let owner = &owner;
        let at = now();
        let tag_writes = futures::future::join_all((0..40).map(|n| async move {
            let name = tag(&format!("tag-{}", n % 10));
            store.insert_tag(owner, &name, None, at).await
        }));
        let task_writes = futures::future::join_all((0..20).map(|n| async move {
            let task = new_task(&format!("task {n}"));
            store.insert_task(owner, &task, at).await
        }));
        let (tag_results, task_results) = tokio::join!(tag_writes, task_writes);
        let created = tag_results.iter().filter(|r| r.is_ok()).count();
        let conflicts = tag_results
            .iter()
            .filter(|r| matches!(r, Err(Error::Conflict(_))))
            .count();
        assert_eq!((created, conflicts), (10, 30), "{}", db.backend);
        assert!(task_results.iter().all(Result::is_ok), "{}", db.backend);
        assert_eq!(store.list_tags(owner).await.expect("tags").len(), 10);
        let listed = store
            .list_tasks(owner, &Default::default(), 100)
            .await
            .expect("list");
        assert_eq!(listed.total, 20, "{}", db.backend);
    }
}
