//! Queued email, password resets and email confirmations: an email job carries its payload
//! and is leased once; a reset or a confirmation is used once, before it expires, and a
//! confirmation confirms only the address it was sent to.

use chrono::Duration;
use todo_core::jobs::JobKind;
use todo_core::time::now;

use crate::user;

#[tokio::test]
async fn an_email_job_carries_its_message_and_is_leased_once() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let t = now();
        store
            .enqueue_mail(&owner, r#"{"to":"a@example.com"}"#, t)
            .await
            .expect("enqueue");
        let claimed = store
            .claim_jobs(JobKind::Email, t, Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "{}", db.backend);
        assert_eq!(claimed[0].kind, JobKind::Email);
        assert_eq!(claimed[0].user_id, owner);
        assert!(
            store
                .claim_jobs(JobKind::Email, t, Duration::seconds(30), 10)
                .await
                .expect("claim")
                .is_empty(),
            "{}: leased",
            db.backend
        );
        assert_eq!(
            store.mail_payload(claimed[0].id).await.expect("payload"),
            Some(r#"{"to":"a@example.com"}"#.to_owned()),
            "{}",
            db.backend
        );
        assert!(
            store
                .claim_jobs(JobKind::Reminder, t, Duration::seconds(30), 10)
                .await
                .expect("claim")
                .is_empty(),
            "{}: another kind's lane never takes it",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_password_reset_is_used_once_and_not_after_it_expires() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let t = now();
        store
            .insert_password_reset("hash-1", &owner, t, t + Duration::hours(1))
            .await
            .expect("insert");
        store
            .insert_password_reset("hash-2", &owner, t, t + Duration::hours(1))
            .await
            .expect("insert");
        assert_eq!(
            store
                .use_password_reset("hash-1", t + Duration::minutes(59))
                .await
                .expect("use"),
            Some(owner.clone()),
            "{}",
            db.backend
        );
        assert_eq!(
            store.use_password_reset("hash-1", t).await.expect("again"),
            None,
            "{}: once",
            db.backend
        );
        assert_eq!(
            store
                .use_password_reset("hash-2", t + Duration::hours(1))
                .await
                .expect("late"),
            None,
            "{}: expired",
            db.backend
        );
        assert_eq!(
            store
                .use_password_reset("unknown", t)
                .await
                .expect("unknown"),
            None
        );
    }
}

#[tokio::test]
async fn an_email_confirmation_is_used_once_before_it_expires_for_the_address_it_was_sent_to() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let email = store
            .user_by_id(&owner)
            .await
            .expect("user")
            .and_then(|u| u.email)
            .expect("an address");
        let verified = |id| async move {
            store
                .user_by_id(&id)
                .await
                .expect("user")
                .expect("exists")
                .email_verified
        };
        let t = now();
        assert!(
            !verified(owner.clone()).await,
            "{}: not at first",
            db.backend
        );
        let ttl = Duration::days(7);
        for (hash, to) in [
            ("v-1", email.as_str()),
            ("v-other", "someone-else@example.com"),
            ("v-old", email.as_str()),
        ] {
            let at = if hash == "v-old" { t - ttl * 2 } else { t };
            let stored = store
                .insert_email_verification(hash, &owner, to, at, at + ttl, 3)
                .await
                .expect("insert");
            assert!(stored, "{}: {hash}", db.backend);
        }
        // Two made in the hour already (the old one long before): a third is not stored.
        let stored = store
            .insert_email_verification("v-3", &owner, &email, t, t + ttl, 2)
            .await
            .expect("insert");
        assert!(
            !stored,
            "{}: the account had its links for the hour",
            db.backend
        );
        assert_eq!(
            store.use_email_verification("v-old", t).await.expect("use"),
            None,
            "{}: expired",
            db.backend
        );
        assert_eq!(
            store
                .use_email_verification("v-other", t)
                .await
                .expect("use"),
            None,
            "{}: sent to another address",
            db.backend
        );
        assert!(!verified(owner.clone()).await, "{}", db.backend);
        assert_eq!(
            store.use_email_verification("v-1", t).await.expect("use"),
            Some(owner.clone()),
            "{}",
            db.backend
        );
        assert!(verified(owner.clone()).await, "{}", db.backend);
        assert_eq!(
            store.use_email_verification("v-1", t).await.expect("again"),
            None,
            "{}: once",
            db.backend
        );
        assert_eq!(
            store.use_password_reset("v-1", t).await.expect("reset"),
            None,
            "{}: never a reset token",
            db.backend
        );

        let other = user(store).await;
        store.mark_email_verified(&other, t).await.expect("mark");
        assert!(verified(other).await, "{}: a reset's proof", db.backend);
    }
}
