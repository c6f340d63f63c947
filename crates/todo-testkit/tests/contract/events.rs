//! Events, reminders, jobs and webhooks: the outbox written with each change, the next
//! occurrence created once, reminders fired once, leases, retries and pruning.

use std::sync::Arc;

use chrono::{Days, Duration, NaiveDate};
use todo_core::Store;
use todo_core::events::EventType;
use todo_core::ids::{TaskId, UserId};
use todo_core::jobs::{JobKind, Sends};
use todo_core::recurrence::RecurrenceMode;
use todo_core::reminders::NewReminder;
use todo_core::task::{Due, NewTask, TaskChanges};
use todo_core::time::now;
use todo_core::transfer::ImportBatch;

use crate::context;
use crate::tasks::{add, new_task};
use crate::user;

fn kinds(events: &[todo_core::events::Event]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

#[tokio::test]
async fn every_task_change_writes_one_event_in_order_for_its_owner_only() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let other = user(store).await;
        add(store, &other, "not yours").await;
        let task = add(store, &owner, "Read").await;
        let changes = TaskChanges {
            title: Some("Read more".into()),
            ..TaskChanges::default()
        };
        store
            .update_task(&owner, task.id, &changes, &context(now()))
            .await
            .expect("update");
        store
            .set_task_completed(&owner, task.id, Some(true), &context(now()))
            .await
            .expect("complete");
        // Completing a completed task changes nothing and says nothing.
        store
            .set_task_completed(&owner, task.id, Some(true), &context(now()))
            .await
            .expect("complete again");
        assert!(store.delete_task(&owner, task.id).await.expect("delete"));
        assert!(
            !store
                .delete_task(&owner, task.id)
                .await
                .expect("delete again")
        );

        let events = store.events_after(&owner, 0, 100).await.expect("events");
        assert_eq!(
            kinds(&events),
            [
                EventType::Created,
                EventType::Updated,
                EventType::Completed,
                EventType::Deleted
            ],
            "{}",
            db.backend
        );
        assert!(events.windows(2).all(|w| w[0].id < w[1].id));
        assert!(
            events
                .iter()
                .all(|e| e.user_id == owner && e.task_id == task.id)
        );
        assert_eq!(events[1].task_data["title"], "Read more");
        assert_eq!(
            events[3].task_data["title"], "Read more",
            "deleted carries the task"
        );
        assert_eq!(
            store.last_event_id(&owner).await.expect("last"),
            events[3].id
        );
        let after = store
            .events_after(&owner, events[1].id, 100)
            .await
            .expect("after");
        assert_eq!(kinds(&after), [EventType::Completed, EventType::Deleted]);
        assert_eq!(
            store
                .events_after(&other, 0, 100)
                .await
                .expect("other")
                .len(),
            1
        );
    }
}

/// A user id is any text an identity provider gives (`sub`); PostgreSQL takes the user's write
/// lock on it (a bound parameter), and its events must read back under the same text.
#[tokio::test]
async fn a_user_whose_id_has_quotes_and_backslashes_writes_under_a_lock_of_their_own() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let odd = UserId::new(format!(r"o'k\'; {}", uuid::Uuid::now_v7()));
        let new = crate::new_user(&odd, None, now());
        store.insert_user(&new).await.expect("insert user");
        let task = add(store, &odd, "Quoted").await;
        store
            .set_task_completed(&odd, task.id, Some(true), &context(now()))
            .await
            .expect("complete");
        let events = store.events_after(&odd, 0, 10).await.expect("events");
        assert_eq!(
            kinds(&events),
            [EventType::Created, EventType::Completed],
            "{}",
            db.backend
        );
        assert!(
            events
                .iter()
                .all(|e| e.user_id == odd && e.task_id == task.id)
        );
    }
}

/// Many changes of one user at once (one after another under the user's lock on PostgreSQL,
/// batched by the one writer on SQLite): each keeps its own outcome, one that fails leaves
/// neither its row nor its event, and the events of the others are there once each, in order.
#[tokio::test]
async fn concurrent_changes_of_a_user_keep_their_events_and_a_failing_one_leaves_nothing() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let owner = &owner;
        let at = now();
        let results = futures::future::join_all((0..30).map(|n| async move {
            let mut task = new_task(&format!("task {n}"));
            if n % 3 == 0 {
                // No such parent: the insert is refused.
                task.destination.parent = Some(TaskId::new(i64::MAX));
            }
            store.insert_task(owner, &task, at).await
        }))
        .await;
        let created: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(created.len(), 20, "{}: {results:?}", db.backend);
        let events = store.events_after(owner, 0, 100).await.expect("events");
        assert!(events.windows(2).all(|w| w[0].id < w[1].id));
        let mut evented: Vec<_> = events.iter().map(|e| e.task_id).collect();
        let mut ids: Vec<_> = created.iter().map(|t| t.id).collect();
        evented.sort_unstable();
        ids.sort_unstable();
        assert_eq!(evented, ids, "{}", db.backend);
        let listed = store
            .list_tasks(owner, &Default::default(), 100)
            .await
            .expect("list");
        assert_eq!(listed.total, 20, "{}", db.backend);
        assert!(listed.tasks.iter().all(|t| t.parent_id.is_none()));
    }
}

/// Changes of one user made at once (a batch on SQLite, one after another under the user's
/// lock on PostgreSQL) have their events in the order of the changes, as their tasks' ids are.
#[tokio::test]
async fn events_of_changes_committed_together_keep_the_order_of_the_changes() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let owner = &owner;
        let at = now();
        let created = futures::future::join_all((0..20).map(|n| async move {
            store
                .insert_task(owner, &new_task(&format!("task {n}")), at)
                .await
        }))
        .await;
        assert!(created.iter().all(Result::is_ok), "{}", db.backend);
        let events = store.events_after(owner, 0, 100).await.expect("events");
        assert_eq!(events.len(), 20, "{}", db.backend);
        assert!(
            events.windows(2).all(|w| w[0].task_id < w[1].task_id),
            "{}: {:?}",
            db.backend,
            events.iter().map(|e| e.task_id).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn imports_write_a_created_event_per_new_task() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let keyed = |key: &str| NewTask {
            import_key: Some(key.into()),
            ..new_task(key)
        };
        let created = store
            .import_tasks(
                &owner,
                &ImportBatch::inbox(vec![], vec![keyed("a"), keyed("b")]),
                now(),
            )
            .await
            .expect("import");
        assert_eq!(created, 2);
        store
            .import_tasks(&owner, &ImportBatch::inbox(vec![], vec![keyed("a")]), now())
            .await
            .expect("import again");
        let events = store.events_after(&owner, 0, 100).await.expect("events");
        assert_eq!(
            kinds(&events),
            [EventType::Created, EventType::Created],
            "{}",
            db.backend
        );
    }
}

/// Completions at once are one after another: a task is completed once (the others find it
/// completed and change nothing), while each completion of a recurring task moves that one
/// row on by one occurrence and is recorded.
#[tokio::test]
async fn completions_at_once_complete_a_task_once_and_move_a_recurring_one_each() {
    for db in todo_testkit::all().await {
        let store: Arc<dyn Store> = db.store.clone();
        let owner = user(store.as_ref()).await;
        let complete_at_once = |id, times| {
            let (store, owner) = (store.clone(), owner.clone());
            async move {
                let completions = (0..times).map(|_| {
                    let (store, owner) = (store.clone(), owner.clone());
                    tokio::spawn(async move {
                        store
                            .set_task_completed(&owner, id, Some(true), &context(now()))
                            .await
                            .expect("complete")
                            .expect("found")
                    })
                });
                futures::future::join_all(completions).await
            }
        };
        let once = store
            .insert_task(&owner, &new_task("Once"), now())
            .await
            .expect("insert");
        for done in complete_at_once(once.id, 4).await {
            assert!(done.expect("joined").completed);
        }
        let events = store.events_after(&owner, 0, 100).await.expect("events");
        assert_eq!(
            kinds(&events),
            [EventType::Created, EventType::Completed],
            "{}",
            db.backend
        );

        let day = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
        let daily = NewTask {
            recurrence: Some("FREQ=DAILY".into()),
            recurrence_mode: RecurrenceMode::Due,
            due: Due::Date(day),
            ..new_task("Daily")
        };
        let daily = store
            .insert_task(&owner, &daily, now())
            .await
            .expect("insert");
        for done in complete_at_once(daily.id, 2).await {
            assert!(
                !done.expect("joined").completed,
                "a recurring task stays open"
            );
        }
        let after = store
            .get_task(&owner, daily.id)
            .await
            .expect("get")
            .expect("one row");
        assert_eq!(
            after.due_date,
            day.checked_add_days(Days::new(2)),
            "{}",
            db.backend
        );
        let events = store
            .events_after(&owner, events[1].id, 100)
            .await
            .expect("events");
        assert_eq!(
            kinds(&events),
            [
                EventType::Created,
                EventType::Completed,
                EventType::Completed
            ],
            "{}",
            db.backend
        );
        assert!(events.iter().all(|e| e.task_id == daily.id));
        let slice = store
            .list_tasks(&owner, &Default::default(), 10)
            .await
            .expect("list");
        assert_eq!(slice.total, 2, "{}: no second row, ever", db.backend);
    }
}

#[tokio::test]
async fn a_due_reminder_job_fires_once_and_a_lease_keeps_others_off_until_it_ends() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let at = now() - Duration::seconds(1);
        let new = NewTask {
            due: Due::At(at + Duration::minutes(10)),
            reminders: vec![NewReminder::At(at), NewReminder::Before(10)],
            reminder_anchor: Some(at + Duration::minutes(10)),
            ..new_task("Call")
        };
        let task = store
            .insert_task(&owner, &new, now())
            .await
            .expect("insert");
        assert_eq!(task.reminders.len(), 2);
        assert_eq!(task.reminders[0].remind_at, at);
        assert_eq!(task.reminders[1].minutes_before, Some(10));
        assert!(
            store
                .next_job_at(JobKind::Reminder)
                .await
                .expect("next")
                .is_some_and(|n| n <= now())
        );

        let t = now();
        let claimed = store
            .claim_jobs(JobKind::Reminder, t, Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 2, "{}: both reminders are due", db.backend);
        assert!(
            claimed
                .iter()
                .all(|j| j.kind == JobKind::Reminder && j.attempts == 1)
        );
        // Leased: nobody else gets them until the lease ends.
        assert!(
            store
                .claim_jobs(JobKind::Reminder, t, Duration::seconds(30), 10)
                .await
                .expect("claim")
                .is_empty()
        );
        let reclaimed = store
            .claim_jobs(
                JobKind::Reminder,
                t + Duration::seconds(31),
                Duration::seconds(30),
                10,
            )
            .await
            .expect("after the lease");
        assert_eq!(reclaimed.len(), 2);
        assert!(reclaimed.iter().all(|j| j.attempts == 2));

        let mut fired = Vec::new();
        let sends = Sends {
            email: true,
            push: true,
        };
        for job in claimed.iter().chain(&reclaimed) {
            if let Some(event) = store.fire_reminder(job, sends, now()).await.expect("fire") {
                assert_eq!(event.event_type, EventType::Reminder);
                assert!(event.task_data["reminder"]["sent_at"].is_string());
                fired.push(event.id);
            }
        }
        let fired = fired.len();
        // The owner's email channel is on by default: one email job per reminder, with it.
        let emails = store
            .claim_jobs(JobKind::Email, now(), Duration::seconds(30), 10)
            .await
            .expect("claim email");
        assert_eq!(emails.len(), 2, "{}: an email per reminder", db.backend);
        assert!(
            emails
                .iter()
                .all(|j| j.event_id.is_some() && j.user_id == owner)
        );
        for job in &emails {
            store.finish_job(job.id, now(), None).await.expect("finish");
        }
        assert_eq!(
            fired, 2,
            "{}: each reminder once, however often its job runs",
            db.backend
        );
        let task = store
            .get_task(&owner, task.id)
            .await
            .expect("get")
            .expect("task");
        assert!(task.reminders.iter().all(|r| r.sent_at.is_some()));
        assert_eq!(
            store.next_job_at(JobKind::Reminder).await.expect("next"),
            None,
            "all jobs done"
        );

        // Sending the same list back, or the same due, does not fire them again.
        let same = TaskChanges {
            reminders: Some(vec![NewReminder::At(at), NewReminder::Before(10)]),
            reminder_anchor: Some(Some(at + Duration::minutes(10))),
            ..TaskChanges::default()
        };
        let kept = store
            .update_task(&owner, task.id, &same, &context(now()))
            .await
            .expect("update")
            .expect("task");
        assert!(
            kept.reminders.iter().all(|r| r.sent_at.is_some()),
            "{}",
            db.backend
        );
        let same_due = TaskChanges {
            reminder_anchor: Some(Some(at + Duration::minutes(10))),
            ..TaskChanges::default()
        };
        store
            .update_task(&owner, task.id, &same_due, &context(now()))
            .await
            .expect("update");
        assert_eq!(
            store.next_job_at(JobKind::Reminder).await.expect("next"),
            None,
            "nothing to fire"
        );
        // A due that really moves makes the relative reminder fire again.
        let moved = TaskChanges {
            reminder_anchor: Some(Some(at + Duration::minutes(20))),
            ..TaskChanges::default()
        };
        let moved = store
            .update_task(&owner, task.id, &moved, &context(now()))
            .await
            .expect("update")
            .expect("task");
        let relative = moved
            .reminders
            .iter()
            .find(|r| r.minutes_before.is_some())
            .expect("relative");
        assert_eq!(relative.remind_at, at + Duration::minutes(10));
        assert_eq!(relative.sent_at, None);
        assert!(
            store
                .next_job_at(JobKind::Reminder)
                .await
                .expect("next")
                .is_some()
        );
    }
}

#[tokio::test]
async fn a_failed_job_waits_for_its_retry_and_done_jobs_are_pruned() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let at = now() - Duration::seconds(1);
        let new = NewTask {
            reminders: vec![NewReminder::At(at)],
            ..new_task("Retry me")
        };
        store
            .insert_task(&owner, &new, now())
            .await
            .expect("insert");
        let job = store
            .claim_jobs(JobKind::Reminder, now(), Duration::seconds(30), 10)
            .await
            .expect("claim")
            .pop()
            .expect("a job");
        let later = now() + Duration::seconds(20);
        store.retry_job(job.id, later, "boom").await.expect("retry");
        assert!(
            store
                .claim_jobs(JobKind::Reminder, now(), Duration::seconds(30), 10)
                .await
                .expect("claim")
                .is_empty()
        );
        assert_eq!(
            store.next_job_at(JobKind::Reminder).await.expect("next"),
            Some(later)
        );
        let again = store
            .claim_jobs(JobKind::Reminder, later, Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(again.len(), 1);
        store.finish_job(job.id, now(), None).await.expect("finish");
        assert_eq!(
            store
                .prune_jobs(now() + Duration::seconds(1))
                .await
                .expect("prune"),
            1
        );
        assert!(
            store
                .prune_events(now() + Duration::seconds(1))
                .await
                .expect("prune")
                >= 1
        );
        assert!(
            store
                .events_after(&owner, 0, 10)
                .await
                .expect("events")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_change_queues_a_delivery_per_active_webhook_and_failures_disable_it() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let hook = store
            .insert_webhook(
                &owner,
                "https://example.com/hook",
                "whsec_x",
                None,
                now(),
                10,
            )
            .await
            .expect("webhook")
            .expect("under the limit");
        let task = add(store, &owner, "Ping").await;
        let jobs = store
            .claim_jobs(JobKind::Webhook, now(), Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(jobs.len(), 1, "{}", db.backend);
        assert_eq!(jobs[0].kind, JobKind::Webhook);
        let delivery = store
            .delivery(&jobs[0])
            .await
            .expect("delivery")
            .expect("some");
        assert_eq!(delivery.secret, "whsec_x");
        assert_eq!(delivery.event.task_id, task.id);
        assert_eq!(delivery.webhook.id, hook.id);

        for _ in 0..3 {
            store
                .record_delivery(&owner, hook.id, Some("500"), now(), 3)
                .await
                .expect("record");
        }
        let listed = store.list_webhooks(&owner).await.expect("list");
        assert_eq!(listed[0].consecutive_failures, 3);
        assert!(
            listed[0].disabled_at.is_some(),
            "disabled after 3 failures in a row"
        );
        assert_eq!(listed[0].last_error.as_deref(), Some("500"));
        assert!(store.delivery(&jobs[0]).await.expect("delivery").is_none());
        add(store, &owner, "Not delivered").await;
        assert!(
            store
                .claim_jobs(JobKind::Webhook, now(), Duration::seconds(30), 10)
                .await
                .expect("claim")
                .is_empty()
        );

        let other = user(store).await;
        assert!(!store.delete_webhook(&other, hook.id).await.expect("delete"));
        assert!(store.delete_webhook(&owner, hook.id).await.expect("delete"));
    }
}

/// The worker's lanes claim by kind, and a delivery put back because its user or target was
/// busy runs again later with the attempt its claim counted taken back.
#[tokio::test]
async fn jobs_are_claimed_by_kind_and_a_postponed_delivery_keeps_its_attempts() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        store
            .insert_webhook(
                &owner,
                "https://example.com/hook",
                "whsec_x",
                None,
                now(),
                10,
            )
            .await
            .expect("webhook")
            .expect("under the limit");
        let new = NewTask {
            reminders: vec![NewReminder::At(now() - Duration::seconds(1))],
            ..new_task("Both kinds")
        };
        store
            .insert_task(&owner, &new, now())
            .await
            .expect("insert");

        let t = now();
        let lease = Duration::seconds(30);
        let deliveries = store
            .claim_jobs(JobKind::Webhook, t, lease, 10)
            .await
            .expect("claim deliveries");
        assert_eq!(deliveries.len(), 1, "{}", db.backend);
        assert_eq!(
            (deliveries[0].kind, deliveries[0].attempts),
            (JobKind::Webhook, 1)
        );
        assert!(
            store
                .next_job_at(JobKind::Reminder)
                .await
                .expect("next")
                .is_some_and(|at| at <= now()),
            "{}: claiming deliveries leaves the reminder due",
            db.backend
        );
        let reminders = store
            .claim_jobs(JobKind::Reminder, t, lease, 10)
            .await
            .expect("claim reminders");
        assert_eq!(reminders.len(), 1, "{}", db.backend);
        assert_eq!(reminders[0].kind, JobKind::Reminder);

        let later = now() + Duration::seconds(20);
        store
            .postpone_job(deliveries[0].id, later)
            .await
            .expect("postpone");
        assert!(
            store
                .claim_jobs(JobKind::Webhook, now(), lease, 10)
                .await
                .expect("claim")
                .is_empty(),
            "{}: not due before its new time",
            db.backend
        );
        assert_eq!(
            store.next_job_at(JobKind::Webhook).await.expect("next"),
            Some(later)
        );
        let again = store
            .claim_jobs(JobKind::Webhook, later, lease, 10)
            .await
            .expect("claim");
        assert_eq!(again.len(), 1, "{}", db.backend);
        assert_eq!(
            again[0].attempts, 1,
            "{}: the postponed claim did not use up an attempt",
            db.backend
        );
    }
}

/// The per-user limit holds when webhooks are created at the same time through two stores
/// over the same data (two replicas): no count is read before another insert commits.
#[tokio::test]
async fn webhooks_created_at_once_on_two_replicas_stop_at_the_limit() {
    for db in todo_testkit::all().await {
        let replicas = [db.store.clone(), db.reopen().await];
        let owner = user(replicas[0].as_ref()).await;
        let owner = &owner;
        let created = futures::future::join_all((0..16).map(|n| {
            let store = replicas[n % 2].clone();
            async move {
                store
                    .insert_webhook(
                        owner,
                        &format!("https://example.com/{n}"),
                        "whsec_x",
                        None,
                        now(),
                        5,
                    )
                    .await
            }
        }))
        .await;
        let created: Vec<_> = created
            .into_iter()
            .flat_map(|r| r.expect("insert"))
            .collect();
        assert_eq!(created.len(), 5, "{}", db.backend);
        let listed = replicas[1].list_webhooks(owner).await.expect("list");
        assert_eq!(listed.len(), 5, "{}", db.backend);
        let other = user(replicas[1].as_ref()).await;
        assert!(
            replicas[1]
                .insert_webhook(
                    &other,
                    "https://example.com/other",
                    "whsec_y",
                    None,
                    now(),
                    5
                )
                .await
                .expect("insert")
                .is_some(),
            "{}: the limit is each user's own",
            db.backend
        );
    }
}
