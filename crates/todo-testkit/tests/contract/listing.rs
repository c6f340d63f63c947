//! Every filter and every sort order, on every backend.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use todo_core::Store;
use todo_core::ids::UserId;
use todo_core::page::{Cursor, Sort, Status, TaskFilter, TaskQuery, search_terms};
use todo_core::tag::TagName;
use todo_core::task::{Due, NewTask, Priority, Task};
use todo_core::time::now;

use crate::context;
use crate::tasks::new_task;
use crate::user;

fn tags(names: &[&str]) -> Vec<TagName> {
    names
        .iter()
        .map(|n| TagName::parse(n).expect("tag"))
        .collect()
}

/// Title, description, priority, due, tags.
type Spec<'a> = (&'a str, Option<&'a str>, Priority, Due, &'a [&'a str]);

/// A varied list: ties, missing dues, all-day and timed dues, several priorities and tags.
async fn seed(store: &dyn Store, owner: &UserId) -> Vec<Task> {
    let base = now();
    let day = |d: u32| NaiveDate::from_ymd_opt(2030, 1, d).expect("date");
    let specs: Vec<Spec> = vec![
        (
            "Pay rent",
            Some("transfer to landlord"),
            Priority::High,
            Due::Date(day(1)),
            &["home", "bills"],
        ),
        ("buy milk", None, Priority::None, Due::None, &["home"]),
        (
            "Call mom",
            Some("about the holidays"),
            Priority::Medium,
            Due::At(base + Duration::days(2)),
            &["family"],
        ),
        (
            "Write report",
            Some("quarterly numbers"),
            Priority::Urgent,
            Due::At(base - Duration::days(1)),
            &["work"],
        ),
        ("archive mail", None, Priority::Low, Due::None, &[]),
        (
            "Book dentist",
            Some("call before noon"),
            Priority::High,
            Due::At(base + Duration::days(2)),
            &["health"],
        ),
        (
            "Renew passport",
            None,
            Priority::Medium,
            Due::Date(day(3)),
            &["home", "travel"],
        ),
    ];
    let mut tasks = Vec::new();
    for (i, (title, description, priority, due, tag_names)) in specs.into_iter().enumerate() {
        let new = NewTask {
            description: description.map(str::to_owned),
            priority,
            due,
            due_key: due.key(Tz::UTC),
            tags: tags(tag_names),
            ..new_task(title)
        };
        // Two pairs share a creation time, so id tie-breaks are exercised.
        let at = base + Duration::seconds(i as i64 / 2);
        tasks.push(store.insert_task(owner, &new, at).await.expect("insert"));
    }
    let done = tasks[3].id; // "Write report": overdue, but completed
    store
        .set_task_completed(owner, done, Some(true), &context(base))
        .await
        .expect("complete");
    tasks[3] = store
        .get_task(owner, done)
        .await
        .expect("get")
        .expect("found");
    tasks
}

async fn collect(
    store: &dyn Store,
    owner: &UserId,
    filter: &TaskFilter,
    sort: Sort,
    page: u32,
) -> Vec<String> {
    let mut titles = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let query = TaskQuery {
            filter: filter.clone(),
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

/// The order the backends must produce, computed here from the documented rules.
fn expected_order(tasks: &[Task], sort: Sort) -> Vec<String> {
    let far = DateTime::<Utc>::MAX_UTC;
    let mut sorted = tasks.to_vec();
    sorted.sort_by(|a, b| {
        use todo_core::page::SortField as F;
        let key = match sort.field {
            F::CreatedAt => a.created_at.cmp(&b.created_at),
            F::DueAt => a
                .due_key(Tz::UTC)
                .unwrap_or(far)
                .cmp(&b.due_key(Tz::UTC).unwrap_or(far)),
            F::Priority => a.priority.cmp(&b.priority),
            F::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            F::Position => a.position.cmp(&b.position),
            F::CompletedAt => a
                .completed_at
                .unwrap_or(far)
                .cmp(&b.completed_at.unwrap_or(far)),
        };
        key.then(a.id.cmp(&b.id))
    });
    if sort.descending {
        sorted.reverse();
    }
    sorted.into_iter().map(|t| t.title).collect()
}

#[tokio::test]
async fn every_sort_order_pages_without_skips_or_repeats() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let tasks = seed(store, &owner).await;
        for name in [
            "created_at",
            "due_at",
            "priority",
            "title",
            "position",
            "completed_at",
        ] {
            for sort in [name.to_owned(), format!("-{name}")] {
                let sort: Sort = sort.parse().expect("sort");
                let expected = expected_order(&tasks, sort);
                for page in [2, 3, 50] {
                    let titles = collect(store, &owner, &TaskFilter::default(), sort, page).await;
                    assert_eq!(
                        titles,
                        expected,
                        "{}: sort {} page {page}",
                        db.backend,
                        sort.as_param()
                    );
                }
                // Tag filters take another path (matches first, then the page).
                let home: Vec<Task> = tasks
                    .iter()
                    .filter(|t| t.tags.iter().any(|n| n == "home"))
                    .cloned()
                    .collect();
                let tagged = TaskFilter {
                    tags: vec!["home".into()],
                    ..TaskFilter::default()
                };
                let titles = collect(store, &owner, &tagged, sort, 2).await;
                assert_eq!(
                    titles,
                    expected_order(&home, sort),
                    "{}: tag, sort {}",
                    db.backend,
                    sort.as_param()
                );
            }
        }
    }
}

#[tokio::test]
async fn completions_list_newest_first_and_page_by_completion_time() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let base = now();
        let mut ids = Vec::new();
        for title in ["first made", "second made", "third made", "still open"] {
            let task = store
                .insert_task(&owner, &new_task(title), base)
                .await
                .expect("insert");
            ids.push(task.id);
        }
        // Completed in another order than made: third, then first, then second.
        for (n, i) in [2, 0, 1].into_iter().enumerate() {
            store
                .set_task_completed(
                    &owner,
                    ids[i],
                    Some(true),
                    &context(base + Duration::minutes(n as i64 + 1)),
                )
                .await
                .expect("complete");
        }
        let done = TaskFilter {
            status: Status::Completed,
            ..TaskFilter::default()
        };
        let newest: Sort = "-completed_at".parse().expect("sort");
        for page in [1, 2, 10] {
            assert_eq!(
                collect(store, &owner, &done, newest, page).await,
                ["second made", "first made", "third made"],
                "{}: page {page}",
                db.backend
            );
        }
        // Open tasks sort after every completion.
        let oldest: Sort = "completed_at".parse().expect("sort");
        assert_eq!(
            collect(store, &owner, &TaskFilter::default(), oldest, 2).await,
            ["third made", "first made", "second made", "still open"],
            "{}",
            db.backend
        );
    }
}

async fn titles_matching(store: &dyn Store, owner: &UserId, filter: TaskFilter) -> Vec<String> {
    // Small pages, so the total is checked on pages that do not hold everything.
    let sort: Sort = "title".parse().expect("sort");
    let query = TaskQuery {
        filter: filter.clone(),
        sort,
        limit: 2,
        after: None,
    };
    let total = store
        .list_tasks(owner, &query, 2)
        .await
        .expect("list")
        .total;
    let mut titles = collect(store, owner, &filter, sort, 2).await;
    assert_eq!(
        total as usize,
        titles.len(),
        "total and list agree for {filter:?}"
    );
    titles.sort();
    titles
}

#[tokio::test]
async fn filters_combine_and_the_count_agrees() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        seed(store, &owner).await;
        let other = user(store).await;
        store
            .insert_task(
                &other,
                &NewTask {
                    tags: tags(&["home"]),
                    ..new_task("buy milk elsewhere")
                },
                now(),
            )
            .await
            .expect("other");
        let f = TaskFilter::default;
        let b = db.backend;

        let high_or_urgent = TaskFilter {
            priorities: vec![Priority::High, Priority::Urgent],
            ..f()
        };
        assert_eq!(
            titles_matching(store, &owner, high_or_urgent).await,
            ["Book dentist", "Pay rent", "Write report"],
            "{b}"
        );

        let home = TaskFilter {
            tags: vec!["home".into()],
            ..f()
        };
        assert_eq!(
            titles_matching(store, &owner, home).await,
            ["Pay rent", "Renew passport", "buy milk"],
            "{b}"
        );
        let home_and_travel = TaskFilter {
            tags: vec!["home".into(), "travel".into()],
            ..f()
        };
        assert_eq!(
            titles_matching(store, &owner, home_and_travel).await,
            ["Renew passport"],
            "{b}"
        );
        let unknown_tag = TaskFilter {
            tags: vec!["nope".into()],
            ..f()
        };
        assert!(
            titles_matching(store, &owner, unknown_tag).await.is_empty(),
            "{b}"
        );

        let pending_home = TaskFilter {
            status: Status::Pending,
            tags: vec!["home".into()],
            priorities: vec![Priority::None],
            ..f()
        };
        assert_eq!(
            titles_matching(store, &owner, pending_home).await,
            ["buy milk"],
            "{b}"
        );

        let base = now();
        let soon = TaskFilter {
            due_after: Some(base),
            due_before: Some(base + Duration::days(3)),
            ..f()
        };
        assert_eq!(
            titles_matching(store, &owner, soon).await,
            ["Book dentist", "Call mom"],
            "{b}"
        );
        let overdue = TaskFilter {
            overdue_at: Some(base + Duration::days(365 * 10)),
            ..f()
        };
        let overdue_titles = titles_matching(store, &owner, overdue).await;
        assert_eq!(
            overdue_titles,
            ["Book dentist", "Call mom", "Pay rent", "Renew passport"],
            "{b}: completed and undated tasks are never overdue"
        );
    }
}

#[tokio::test]
async fn search_finds_word_prefixes_in_title_and_description_of_the_owner_only() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        seed(store, &owner).await;
        let other = user(store).await;
        store
            .insert_task(&other, &new_task("Call the bank"), now())
            .await
            .expect("other");
        let search = |q: &str| TaskFilter {
            search: search_terms(q),
            ..TaskFilter::default()
        };
        let b = db.backend;

        assert_eq!(
            titles_matching(store, &owner, search("call")).await,
            ["Book dentist", "Call mom"],
            "{b}: title and description"
        );
        assert_eq!(
            titles_matching(store, &owner, search("CAL")).await,
            ["Book dentist", "Call mom"],
            "{b}: prefix, any case"
        );
        assert_eq!(
            titles_matching(store, &owner, search("call noon")).await,
            ["Book dentist"],
            "{b}: every word"
        );
        assert_eq!(
            titles_matching(store, &owner, search("landlord")).await,
            ["Pay rent"],
            "{b}"
        );
        assert!(
            titles_matching(store, &owner, search("bank"))
                .await
                .is_empty(),
            "{b}: other users' tasks"
        );
        assert!(
            titles_matching(store, &owner, search("zebra"))
                .await
                .is_empty(),
            "{b}"
        );
        let injection = search("\" OR owner:* NEAR(x) 'a' & | !b:*");
        let _ = titles_matching(store, &owner, injection).await; // must not fail

        // The index follows edits and deletes.
        let page = collect(store, &owner, &TaskFilter::default(), Sort::default(), 50).await;
        assert_eq!(page.len(), 7);
        let milk = store
            .list_tasks(
                &owner,
                &TaskQuery {
                    filter: search("milk"),
                    limit: 5,
                    ..TaskQuery::default()
                },
                5,
            )
            .await
            .expect("list")
            .tasks
            .remove(0);
        let rename = todo_core::task::TaskChanges {
            title: Some("buy oat drink".into()),
            ..Default::default()
        };
        store
            .update_task(&owner, milk.id, &rename, &context(now()))
            .await
            .expect("update");
        assert!(
            titles_matching(store, &owner, search("milk"))
                .await
                .is_empty(),
            "{b}"
        );
        assert_eq!(
            titles_matching(store, &owner, search("oat")).await,
            ["buy oat drink"],
            "{b}"
        );
        store.delete_task(&owner, milk.id).await.expect("delete");
        assert!(
            titles_matching(store, &owner, search("oat"))
                .await
                .is_empty(),
            "{b}"
        );
    }
}

#[tokio::test]
async fn all_day_due_moments_can_be_moved_to_another_zone() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let day = NaiveDate::from_ymd_opt(2030, 6, 1).expect("date");
        let all_day = store
            .insert_task(
                &owner,
                &NewTask {
                    due: Due::Date(day),
                    due_key: Due::Date(day).key(Tz::UTC),
                    ..new_task("all day")
                },
                now(),
            )
            .await
            .expect("insert");
        store
            .insert_task(
                &owner,
                &NewTask {
                    due: Due::At(now()),
                    due_key: Some(now()),
                    ..new_task("timed")
                },
                now(),
            )
            .await
            .expect("insert");

        let dates = store.all_day_due_dates(&owner).await.expect("dates");
        assert_eq!(dates, [(all_day.id, day)], "{}", db.backend);
        let tokyo_end = todo_core::task::end_of_day(day, chrono_tz::Asia::Tokyo);
        store
            .set_due_keys(&owner, &[(all_day.id, tokyo_end)])
            .await
            .expect("set");
        let before_tokyo_end = TaskFilter {
            due_before: Some(tokyo_end + Duration::microseconds(1)),
            due_after: Some(tokyo_end),
            ..TaskFilter::default()
        };
        assert_eq!(
            titles_matching(store, &owner, before_tokyo_end).await,
            ["all day"],
            "{}",
            db.backend
        );
    }
}
