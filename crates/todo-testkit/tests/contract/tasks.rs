use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use todo_core::Store;
use todo_core::ids::UserId;
use todo_core::page::{Cursor, Sort, Status, TaskFilter, TaskQuery};
use todo_core::tag::TagName;
use todo_core::task::{Due, DueChange, NewTask, Priority, Task, TaskChanges, TaskId};
use todo_core::time::now;
use todo_core::transfer::ImportBatch;

use crate::context;
use crate::user;

pub fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        description: None,
        priority: Priority::None,
        due: Due::None,
        due_key: None,
        tags: Vec::new(),
        recurrence: None,
        completed: false,
        import_key: None,
        ..NewTask::default()
    }
}

pub async fn add(store: &dyn Store, user_id: &UserId, title: &str) -> Task {
    store
        .insert_task(user_id, &new_task(title), now())
        .await
        .expect("insert task")
}

#[tokio::test]
async fn a_task_round_trips_every_field() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let at = now();
        let due = at + Duration::days(1);
        let new = NewTask {
            title: "Pay rent".into(),
            description: Some("before noon".into()),
            priority: Priority::Urgent,
            due: Due::At(due),
            due_key: Some(due),
            tags: vec![
                TagName::parse("Home").expect("tag"),
                TagName::parse("bills").expect("tag"),
            ],
            recurrence: Some("FREQ=MONTHLY;BYMONTHDAY=1".into()),
            completed: true,
            import_key: None,
            ..NewTask::default()
        };
        let task = store.insert_task(&owner, &new, at).await.expect("insert");
        assert_eq!(task.title, "Pay rent");
        assert_eq!(task.description.as_deref(), Some("before noon"));
        assert_eq!(task.priority, Priority::Urgent);
        assert_eq!((task.due_at, task.due_date), (Some(due), None));
        assert_eq!(
            (task.completed, task.completed_at),
            (true, Some(at)),
            "{}",
            db.backend
        );
        assert_eq!((task.created_at, task.updated_at), (at, at));
        assert_eq!(
            store.get_task(&owner, task.id).await.expect("get"),
            Some(task)
        );
    }
}

#[tokio::test]
async fn ids_are_global_and_positions_grow_per_user() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, bob) = (user(store).await, user(store).await);
        let a1 = add(store, &alice, "a1").await;
        let b1 = add(store, &bob, "b1").await;
        let a2 = add(store, &alice, "a2").await;
        assert!(a1.id < b1.id && b1.id < a2.id, "{}", db.backend);
        assert!(a2.position > a1.position);
        assert_eq!(b1.position, a1.position, "positions are per user");
    }
}

#[tokio::test]
async fn nobody_reaches_another_users_task() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, mallory) = (user(store).await, user(store).await);
        let task = add(store, &alice, "secret").await;
        let changes = TaskChanges {
            title: Some("mine now".into()),
            ..TaskChanges::default()
        };
        assert!(
            store
                .get_task(&mallory, task.id)
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            store
                .update_task(&mallory, task.id, &changes, &context(now()))
                .await
                .expect("update")
                .is_none()
        );
        assert!(
            store
                .set_task_completed(&mallory, task.id, None, &context(now()))
                .await
                .expect("complete")
                .is_none()
        );
        assert!(!store.delete_task(&mallory, task.id).await.expect("delete"));
        let query = TaskQuery {
            limit: 10,
            ..TaskQuery::default()
        };
        assert!(
            store
                .list_tasks(&mallory, &query, 10)
                .await
                .expect("list")
                .tasks
                .is_empty()
        );
        assert_eq!(
            store.get_task(&alice, task.id).await.expect("get"),
            Some(task),
            "{}",
            db.backend
        );
    }
}

#[tokio::test]
async fn an_update_changes_only_what_it_names() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let task = store
            .insert_task(
                &owner,
                &NewTask {
                    description: Some("keep me".into()),
                    due: Due::At(now()),
                    ..new_task("draft")
                },
                now(),
            )
            .await
            .expect("insert");
        let later = now() + Duration::seconds(1);
        let day = NaiveDate::from_ymd_opt(2026, 12, 24).expect("date");
        let changes = TaskChanges {
            title: Some("final".into()),
            priority: Some(Priority::High),
            due: Some(DueChange::new(Due::Date(day), None, Tz::UTC)),
            ..TaskChanges::default()
        };
        let updated = store
            .update_task(&owner, task.id, &changes, &context(later))
            .await
            .expect("update")
            .expect("found");
        assert_eq!(updated.title, "final");
        assert_eq!(updated.description.as_deref(), Some("keep me"));
        assert_eq!(updated.priority, Priority::High);
        assert_eq!(
            (updated.due_at, updated.due_date),
            (None, Some(day)),
            "{}",
            db.backend
        );
        assert_eq!(
            (updated.created_at, updated.updated_at),
            (task.created_at, later)
        );

        let clear = TaskChanges {
            description: Some(None),
            due: Some(DueChange::default()),
            ..TaskChanges::default()
        };
        let cleared = store
            .update_task(&owner, task.id, &clear, &context(later))
            .await
            .expect("update")
            .expect("found");
        assert_eq!(
            (cleared.description, cleared.due_at, cleared.due_date),
            (None, None, None)
        );
        assert_eq!(cleared.title, "final");
    }
}

#[tokio::test]
async fn completion_toggles_sets_and_keeps_its_first_time() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let task = add(store, &owner, "water plants").await;
        let t1 = now() + Duration::seconds(1);
        let t2 = now() + Duration::seconds(2);

        let done = store
            .set_task_completed(&owner, task.id, None, &context(t1))
            .await
            .expect("toggle")
            .expect("found");
        assert_eq!(
            (done.completed, done.completed_at),
            (true, Some(t1)),
            "{}",
            db.backend
        );
        let again = store
            .set_task_completed(&owner, task.id, Some(true), &context(t2))
            .await
            .expect("set")
            .expect("found");
        assert_eq!(
            again.completed_at,
            Some(t1),
            "completing twice keeps the first time"
        );
        let reopened = store
            .set_task_completed(&owner, task.id, None, &context(t2))
            .await
            .expect("toggle")
            .expect("found");
        assert_eq!((reopened.completed, reopened.completed_at), (false, None));
        let still_open = store
            .set_task_completed(&owner, task.id, Some(false), &context(t2))
            .await
            .expect("set")
            .expect("found");
        assert!(!still_open.completed);

        let via_update = TaskChanges {
            completed: Some(true),
            ..TaskChanges::default()
        };
        let done = store
            .update_task(&owner, task.id, &via_update, &context(t2))
            .await
            .expect("update")
            .expect("found");
        assert_eq!((done.completed, done.completed_at), (true, Some(t2)));
    }
}

#[tokio::test]
async fn deleted_tasks_are_gone() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let task = add(store, &owner, "temporary").await;
        assert!(store.delete_task(&owner, task.id).await.expect("delete"));
        assert!(
            store
                .get_task(&owner, task.id)
                .await
                .expect("get")
                .is_none(),
            "{}",
            db.backend
        );
        assert!(
            !store
                .delete_task(&owner, task.id)
                .await
                .expect("delete twice")
        );
    }
}

async fn collect_pages(
    store: &dyn Store,
    owner: &UserId,
    sort: Sort,
    status: Status,
    page: u32,
) -> Vec<String> {
    let mut titles = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let query = TaskQuery {
            filter: TaskFilter {
                status,
                ..TaskFilter::default()
            },
            sort,
            limit: page,
            after: after.clone(),
        };
        let items = store
            .list_tasks(owner, &query, page)
            .await
            .expect("list")
            .tasks;
        titles.extend(items.iter().map(|t| t.title.clone()));
        match items.last() {
            Some(last) if items.len() == page as usize => {
                after = Some(Cursor::after(last, &sort, Tz::UTC))
            }
            _ => return titles,
        }
    }
}

#[tokio::test]
async fn pages_follow_the_sort_and_never_skip_or_repeat() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        // Same creation time for several tasks: the id breaks the tie.
        let at = now();
        for i in 0..7 {
            store
                .insert_task(&owner, &new_task(&format!("t{i}")), at)
                .await
                .expect("insert");
        }
        let ascending = collect_pages(store, &owner, Sort::default(), Status::All, 3).await;
        assert_eq!(
            ascending,
            ["t0", "t1", "t2", "t3", "t4", "t5", "t6"],
            "{}",
            db.backend
        );
        let descending: Sort = "-created_at".parse().expect("sort");
        let titles = collect_pages(store, &owner, descending, Status::All, 2).await;
        assert_eq!(
            titles,
            ["t6", "t5", "t4", "t3", "t2", "t1", "t0"],
            "{}",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_cursor_stays_correct_when_tasks_are_added() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        for i in 0..4 {
            add(store, &owner, &format!("t{i}")).await;
        }
        let sort = Sort::default();
        let first = TaskQuery {
            limit: 2,
            ..TaskQuery::default()
        };
        let page = store
            .list_tasks(&owner, &first, 2)
            .await
            .expect("page 1")
            .tasks;
        add(store, &owner, "late").await;
        let second = TaskQuery {
            after: page.last().map(|t| Cursor::after(t, &sort, Tz::UTC)),
            ..first
        };
        let titles: Vec<_> = store
            .list_tasks(&owner, &second, 10)
            .await
            .expect("page 2")
            .tasks
            .into_iter()
            .map(|t| t.title)
            .collect();
        assert_eq!(titles, ["t2", "t3", "late"], "{}", db.backend);
    }
}

#[tokio::test]
async fn status_filters_the_list_and_the_count() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        for i in 0..5 {
            let task = add(store, &owner, &format!("t{i}")).await;
            if i % 2 == 0 {
                store
                    .set_task_completed(&owner, task.id, Some(true), &context(now()))
                    .await
                    .expect("complete");
            }
        }
        add(store, &user(store).await, "someone else's").await;
        for (status, expected) in [
            (Status::All, 5),
            (Status::Completed, 3),
            (Status::Pending, 2),
        ] {
            let filter = TaskFilter {
                status,
                ..TaskFilter::default()
            };
            let query = TaskQuery {
                filter,
                limit: 1,
                ..TaskQuery::default()
            };
            let total = store
                .list_tasks(&owner, &query, 1)
                .await
                .expect("list")
                .total;
            assert_eq!(total, expected, "{}", db.backend);
            let titles = collect_pages(store, &owner, Sort::default(), status, 50).await;
            assert_eq!(titles.len() as u64, expected);
        }
    }
}

#[tokio::test]
async fn an_import_key_is_taken_once_per_user() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, bob) = (user(store).await, user(store).await);
        let imported = NewTask {
            import_key: Some("todoist:abc:1".into()),
            ..new_task("imported")
        };
        store
            .insert_task(&alice, &imported, now())
            .await
            .expect("first");
        let again = store.insert_task(&alice, &imported, now()).await;
        assert!(
            matches!(again, Err(todo_core::Error::Conflict(_))),
            "{}: {again:?}",
            db.backend
        );
        store
            .insert_task(&bob, &imported, now())
            .await
            .expect("another user may use the key");
        // Tasks without a key never clash.
        store
            .insert_task(&alice, &new_task("a"), now())
            .await
            .expect("a");
        store
            .insert_task(&alice, &new_task("a"), now())
            .await
            .expect("a again");
    }
}

#[tokio::test]
async fn an_import_batch_stores_new_keys_with_their_tags_and_skips_known_ones() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let keyed = |key: &str, title: &str| NewTask {
            import_key: Some(key.into()),
            tags: vec![TagName::parse("imported").expect("tag")],
            ..new_task(title)
        };
        let first = [keyed("k1", "one"), keyed("k2", "two")];
        assert_eq!(
            store
                .import_tasks(&owner, &ImportBatch::inbox(vec![], first.to_vec()), now())
                .await
                .expect("import"),
            2,
            "{}",
            db.backend
        );
        let second = [
            keyed("k2", "two again"),
            keyed("k3", "three"),
            keyed("k3", "three twice"),
        ];
        assert_eq!(
            store
                .import_tasks(&owner, &ImportBatch::inbox(vec![], second.to_vec()), now())
                .await
                .expect("import"),
            1,
            "{}",
            db.backend
        );
        let query = TaskQuery {
            limit: 10,
            ..TaskQuery::default()
        };
        let slice = store.list_tasks(&owner, &query, 10).await.expect("list");
        let titles: Vec<_> = slice.tasks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["one", "two", "three"], "{}", db.backend);
        assert!(slice.tasks.iter().all(|t| t.tags == ["imported"]));
    }
}

/// An import is one transaction: a row that fails in the middle (here a parent that does not
/// exist) leaves nothing of it, neither its tasks nor its tags.
#[tokio::test]
async fn an_import_with_a_failing_row_stores_nothing() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let keyed = |key: &str| NewTask {
            import_key: Some(key.into()),
            tags: vec![TagName::parse("imported").expect("tag")],
            ..new_task(key)
        };
        let mut tasks: Vec<NewTask> = (0..600).map(|i| keyed(&format!("k{i}"))).collect();
        tasks[450].destination.parent = Some(TaskId::new(999_999_999));
        let tags = [(
            TagName::parse("colourful").expect("tag"),
            Some("#112233".to_owned()),
        )];
        let failed = store
            .import_tasks(
                &owner,
                &ImportBatch::inbox(tags.to_vec(), tasks.clone()),
                now(),
            )
            .await;
        assert!(
            failed.is_err(),
            "{}: the bad row fails the import",
            db.backend
        );
        let query = TaskQuery {
            limit: 10,
            ..TaskQuery::default()
        };
        let slice = store.list_tasks(&owner, &query, 10).await.expect("list");
        assert_eq!(slice.total, 0, "{}: no task of the import", db.backend);
        assert!(
            store.list_tags(&owner).await.expect("tags").is_empty(),
            "{}: no tag of the import",
            db.backend
        );

        // Without the bad row it goes in whole, tags and all.
        tasks[450].destination.parent = None;
        let created = store
            .import_tasks(
                &owner,
                &ImportBatch::inbox(tags.to_vec(), tasks.clone()),
                now(),
            )
            .await
            .expect("import");
        assert_eq!(created, 600, "{}", db.backend);
        let tags = store.list_tags(&owner).await.expect("tags");
        let colour = tags
            .iter()
            .find(|t| t.name == "colourful")
            .and_then(|t| t.color.clone());
        assert_eq!(colour.as_deref(), Some("#112233"), "{}", db.backend);
    }
}

/// A caller that stops waiting (a client abort or a request timeout drops the future) leaves
/// nothing of its import, even though the store's transaction runs on without it.
#[tokio::test]
async fn an_import_whose_caller_gives_up_stores_nothing() {
    for db in todo_testkit::all().await {
        let owner = user(db.store.as_ref()).await;
        let tasks: Vec<NewTask> = (0..5_000)
            .map(|i| NewTask {
                import_key: Some(format!("k{i}")),
                ..new_task(&format!("task {i}"))
            })
            .collect();
        let store = db.store.clone();
        let user_id = owner.clone();
        let import = tokio::spawn(async move {
            store
                .import_tasks(&user_id, &ImportBatch::inbox(vec![], tasks), now())
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        import.abort();
        assert!(
            import.await.is_err_and(|e| e.is_cancelled()),
            "{}",
            db.backend
        );

        // A write of the same user after it: it runs once the import's transaction has ended.
        add(db.store.as_ref(), &owner, "marker").await;
        let query = TaskQuery {
            limit: 10,
            ..TaskQuery::default()
        };
        let slice = db.store.list_tasks(&owner, &query, 10).await.expect("list");
        assert_eq!(
            slice.total, 1,
            "{}: only the marker; nothing of the abandoned import",
            db.backend
        );
    }
}
