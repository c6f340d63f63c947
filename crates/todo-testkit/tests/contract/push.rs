//! Web Push subscriptions: one row per endpoint (subscribing it again replaces its keys, from
//! another account moves it), a bound per user, and a fired reminder's `push` job per
//! subscription naming what to send.

use chrono::Duration;
use todo_core::Store;
use todo_core::events::EventType;
use todo_core::jobs::{JobKind, Sends};
use todo_core::push::PushSubscription;
use todo_core::reminders::NewReminder;
use todo_core::task::NewTask;
use todo_core::time::now;
use todo_core::user::UserId;

use crate::tasks::new_task;
use crate::user;

async fn subscriptions(store: &dyn Store, user: &UserId) -> Vec<PushSubscription> {
    store.list_push_subscriptions(user).await.expect("list")
}

#[tokio::test]
async fn an_endpoint_is_one_row_that_follows_whoever_subscribed_it_last_within_a_bound() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (ada, bob) = (user(store).await, user(store).await);
        let upsert = |who: &UserId, endpoint: &str, key: &str| {
            let (who, endpoint, key) = (who.clone(), endpoint.to_owned(), key.to_owned());
            async move {
                store
                    .upsert_push_subscription(&who, &endpoint, &key, "auth", now(), 2)
                    .await
                    .expect("upsert")
            }
        };
        let first = upsert(&ada, "https://push.example/1", "k1")
            .await
            .expect("stored");
        assert!(first.created, "{}", db.backend);
        let again = upsert(&ada, "https://push.example/1", "k2")
            .await
            .expect("stored");
        assert!(!again.created, "{}: the same endpoint is kept", db.backend);
        assert_eq!(again.subscription.id, first.subscription.id);
        assert_eq!(subscriptions(store, &ada).await[0].p256dh, "k2");

        assert!(upsert(&ada, "https://push.example/2", "k").await.is_some());
        assert!(
            upsert(&ada, "https://push.example/3", "k").await.is_none(),
            "{}: a third is over the bound",
            db.backend
        );
        assert!(
            upsert(&ada, "https://push.example/2", "k3").await.is_some(),
            "{}: one already there may be subscribed again at the bound",
            db.backend
        );

        let moved = upsert(&bob, "https://push.example/1", "kb")
            .await
            .expect("moved");
        assert!(moved.created, "{}: new to bob", db.backend);
        let adas: Vec<String> = subscriptions(store, &ada)
            .await
            .into_iter()
            .map(|s| s.endpoint)
            .collect();
        assert_eq!(adas, ["https://push.example/2"], "{}", db.backend);
        assert_eq!(subscriptions(store, &bob).await[0].user_id, bob);

        let bobs = moved.subscription.id;
        assert!(
            !store
                .delete_push_subscription(&ada, bobs)
                .await
                .expect("delete")
        );
        assert!(
            store
                .delete_push_subscription(&bob, bobs)
                .await
                .expect("delete")
        );
        assert!(subscriptions(store, &bob).await.is_empty());
    }
}

#[tokio::test]
async fn a_fired_reminder_queues_a_push_per_subscription_that_names_it_until_the_subscription_goes()
{
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (ada, bob) = (user(store).await, user(store).await);
        for n in 0..2 {
            store
                .upsert_push_subscription(
                    &ada,
                    &format!("https://push.example/{n}"),
                    "k",
                    "a",
                    now(),
                    20,
                )
                .await
                .expect("subscribe");
        }
        let new = NewTask {
            reminders: vec![NewReminder::At(now() - Duration::seconds(1))],
            ..new_task("Water the ferns")
        };
        let task = store.insert_task(&ada, &new, now()).await.expect("insert");
        let reminders = store
            .claim_jobs(JobKind::Reminder, now(), Duration::seconds(30), 10)
            .await
            .expect("claim");
        let sends = Sends {
            email: false,
            push: true,
        };
        let event = store
            .fire_reminder(&reminders[0], sends, now())
            .await
            .expect("fire")
            .expect("fired");
        let pushes = store
            .claim_jobs(JobKind::Push, now(), Duration::seconds(30), 10)
            .await
            .expect("claim pushes");
        assert_eq!(pushes.len(), 2, "{}: one per subscription", db.backend);
        let (subscription, pushed) = store
            .push_delivery(&pushes[0])
            .await
            .expect("delivery")
            .expect("named");
        assert_eq!(Some(subscription.id), pushes[0].subscription_id);
        assert_eq!(
            (pushed.id, pushed.event_type),
            (event.id, EventType::Reminder)
        );
        assert_eq!(pushed.task_id, task.id);

        // Moved to another account, or dropped: the job names nothing any more.
        store
            .upsert_push_subscription(&bob, &subscription.endpoint, "k", "a", now(), 20)
            .await
            .expect("move");
        assert!(
            store
                .push_delivery(&pushes[0])
                .await
                .expect("delivery")
                .is_none()
        );
        let other = store
            .push_delivery(&pushes[1])
            .await
            .expect("delivery")
            .expect("named");
        store
            .drop_push_subscription(other.0.id)
            .await
            .expect("drop");
        assert!(
            store
                .push_delivery(&pushes[1])
                .await
                .expect("delivery")
                .is_none()
        );
        assert!(
            subscriptions(store, &ada).await.is_empty(),
            "{}",
            db.backend
        );
    }
}
