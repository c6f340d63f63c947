use chrono::Duration;
use todo_core::Error;
use todo_core::accounts::Session;
use todo_core::api_key::{ApiKey, Scope, generate_secret};
use todo_core::ids::UserId;
use todo_core::store::ProfileChanges;
use todo_core::time::now;

use crate::{new_user, user};

#[tokio::test]
async fn a_setting_keeps_the_first_value_stored() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let first = store
            .setting_get_or_insert("jwt", "one")
            .await
            .expect("insert");
        let second = store
            .setting_get_or_insert("jwt", "two")
            .await
            .expect("get");
        assert_eq!(
            (first.as_str(), second.as_str()),
            ("one", "one"),
            "{}",
            db.backend
        );
    }
}

#[tokio::test]
async fn users_round_trip_and_emails_are_unique() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let at = now();
        let mut new = new_user(&"u1".into(), Some("ada@example.com"), at);
        new.name = Some("Ada".into());
        let user = store.insert_user(&new).await.expect("insert");
        assert_eq!(user.email.as_deref(), Some("ada@example.com"));
        assert_eq!(
            (user.created_at, user.updated_at),
            (at, at),
            "{}",
            db.backend
        );
        assert_eq!(
            store.user_by_id(&"u1".into()).await.expect("get"),
            Some(user.clone())
        );

        let taken = store
            .insert_user(&new_user(&"u2".into(), Some("ada@example.com"), at))
            .await;
        assert!(
            matches!(taken, Err(Error::Conflict(_))),
            "{}: {taken:?}",
            db.backend
        );

        // Several users may have no email at all.
        store
            .insert_user(&new_user(&"u3".into(), None, at))
            .await
            .expect("no email");
        store
            .insert_user(&new_user(&"u4".into(), None, at))
            .await
            .expect("no email again");

        let (found, hash) = store
            .user_with_password("ada@example.com")
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(
            (found.id.as_str(), hash.as_deref()),
            ("u1", Some("$argon2id$stub"))
        );
        assert!(
            store
                .user_with_password("nobody@example.com")
                .await
                .expect("lookup")
                .is_none()
        );
        assert_eq!(store.list_users().await.expect("list").len(), 3);
    }
}

#[tokio::test]
async fn profiles_change_only_the_given_fields() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let id = user(store).await;
        let later = now() + Duration::seconds(5);
        let changes = ProfileChanges {
            name: Some(Some("Grace".into())),
            timezone: Some("Europe/Paris".into()),
        };
        let updated = store
            .update_user(&id, &changes, later)
            .await
            .expect("update")
            .expect("exists");
        assert_eq!(updated.name.as_deref(), Some("Grace"));
        assert_eq!(updated.timezone, "Europe/Paris");
        assert_eq!(updated.updated_at, later);

        let clear_name = ProfileChanges {
            name: Some(None),
            timezone: None,
        };
        let updated = store
            .update_user(&id, &clear_name, later)
            .await
            .expect("update")
            .expect("exists");
        assert_eq!(
            (updated.name, updated.timezone.as_str()),
            (None, "Europe/Paris"),
            "{}",
            db.backend
        );
        assert!(
            store
                .update_user(&"ghost".into(), &clear_name, later)
                .await
                .expect("update")
                .is_none()
        );
    }
}

#[tokio::test]
async fn sessions_end_when_deleted_or_expired() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let id = user(store).await;
        let at = now();
        let session = Session {
            id: "s1".into(),
            user_id: id.clone(),
            created_at: at,
            expires_at: at + Duration::hours(1),
        };
        store.insert_session(&session).await.expect("insert");
        let found = store.session_user("s1", at).await.expect("lookup");
        assert_eq!(found.map(|u| u.id), Some(id), "{}", db.backend);
        let after_expiry = at + Duration::hours(2);
        assert!(
            store
                .session_user("s1", after_expiry)
                .await
                .expect("lookup")
                .is_none()
        );
        store.delete_session("s1").await.expect("delete");
        assert!(
            store
                .session_user("s1", at)
                .await
                .expect("lookup")
                .is_none()
        );
    }
}

fn key(id: &str, user_id: &UserId, scopes: Vec<Scope>) -> ApiKey {
    ApiKey {
        id: id.into(),
        user_id: user_id.clone(),
        name: "laptop".into(),
        prefix: "todo_abcdefg".into(),
        scopes,
        created_at: now(),
        last_used_at: None,
        expires_at: Some(now() + Duration::days(1)),
        revoked_at: None,
    }
}

#[tokio::test]
async fn api_keys_are_found_by_hash_and_revoked_only_by_their_owner() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, bob) = (user(store).await, user(store).await);
        let secret = generate_secret();
        let k = key("k1", &alice, vec![Scope::Read]);
        store
            .insert_api_key(&k, &secret.hash)
            .await
            .expect("insert");

        let found = store.api_key_by_hash(&secret.hash).await.expect("lookup");
        assert_eq!(found.as_ref(), Some(&k), "{}", db.backend);
        assert_eq!(
            store.list_api_keys(&alice).await.expect("list"),
            vec![k.clone()]
        );
        assert!(store.list_api_keys(&bob).await.expect("list").is_empty());

        let used = now() + Duration::minutes(3);
        store
            .touch_api_key(&"k1".into(), used)
            .await
            .expect("touch");
        let touched = store
            .api_key_by_hash(&secret.hash)
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(touched.last_used_at, Some(used));

        assert!(
            !store
                .revoke_api_key(&bob, &"k1".into(), now())
                .await
                .expect("revoke")
        );
        assert!(
            store
                .revoke_api_key(&alice, &"k1".into(), now())
                .await
                .expect("revoke")
        );
        assert!(
            !store
                .revoke_api_key(&alice, &"k1".into(), now())
                .await
                .expect("twice")
        );
        assert!(store.list_api_keys(&alice).await.expect("list").is_empty());
        let revoked = store
            .api_key_by_hash(&secret.hash)
            .await
            .expect("lookup")
            .expect("kept");
        assert!(revoked.revoked_at.is_some(), "{}", db.backend);
    }
}

#[tokio::test]
async fn api_keys_of_one_user_never_show_up_for_another() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, bob) = (user(store).await, user(store).await);
        store
            .insert_api_key(
                &key("a", &alice, vec![Scope::Read]),
                &generate_secret().hash,
            )
            .await
            .expect("a");
        store
            .insert_api_key(&key("b", &bob, vec![Scope::Write]), &generate_secret().hash)
            .await
            .expect("b");
        let ids: Vec<_> = store
            .list_api_keys(&bob)
            .await
            .expect("list")
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(ids, ["b"], "{}", db.backend);
    }
}
