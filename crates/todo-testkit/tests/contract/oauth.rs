//! OAuth clients, grants and tokens: what the use cases rely on the stores for — each
//! conditional write wins once, even when two requests race (a code is spent once, a refresh
//! token rotates once), revoking a grant deletes its tokens, and unused registrations are
//! bounded and forgotten.

use chrono::Duration;
use todo_core::Store;
use todo_core::oauth::{Client, Grant, NewTokens, OAuthScope, TokenKind};
use todo_core::time::now;

use crate::user;

fn client(id: &str, at: chrono::DateTime<chrono::Utc>) -> Client {
    Client {
        id: id.into(),
        name: "App".into(),
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1/cb".into(),
        ],
        created_at: at,
        used: false,
    }
}

async fn grant(store: &dyn Store, client_id: &str, code_hash: &str) -> Grant {
    let at = now();
    let grant = Grant {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user(store).await,
        client_id: client_id.into(),
        scopes: vec![OAuthScope::TasksRead],
        resource: "https://todo.example/mcp".into(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: "c".repeat(43),
        code_expires_at: at + Duration::minutes(5),
        code_used_at: None,
        created_at: at,
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_grant(&grant, code_hash).await.expect("grant");
    grant
}

fn tokens(grant_id: &str, tag: &str) -> NewTokens {
    let at = now();
    NewTokens {
        grant_id: grant_id.into(),
        scopes: vec![OAuthScope::TasksRead],
        access_hash: format!("access-{tag}"),
        access_expires_at: at + Duration::hours(1),
        refresh_hash: format!("refresh-{tag}"),
        refresh_expires_at: at + Duration::days(30),
    }
}

#[tokio::test]
async fn clients_round_trip_and_unused_ones_are_bounded_and_forgotten() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let at = now();
        let old = client("old", at - Duration::days(2));
        assert!(
            store
                .insert_client(&old, at - Duration::days(3), 10)
                .await
                .expect("old")
        );
        let fresh = client("fresh", at);
        assert!(
            store
                .insert_client(&fresh, at - Duration::days(1), 10)
                .await
                .expect("fresh")
        );
        assert_eq!(
            store.oauth_client("old").await.expect("get"),
            None,
            "{}: an unused client older than the cut-off is forgotten",
            db.backend
        );
        assert_eq!(
            store.oauth_client("fresh").await.expect("get"),
            Some(fresh.clone())
        );
        let full = client("full", at);
        assert!(
            !store
                .insert_client(&full, at - Duration::days(1), 1)
                .await
                .expect("full"),
            "{}: at the bound of unused clients",
            db.backend
        );
        grant(store, "fresh", "code-fresh").await;
        let used = store
            .oauth_client("fresh")
            .await
            .expect("get")
            .expect("client");
        assert!(used.used, "{}", db.backend);
        let mut renamed = client("https://app.example/client.json", at);
        store.upsert_client(&renamed).await.expect("upsert");
        renamed.name = "Renamed".into();
        store.upsert_client(&renamed).await.expect("upsert again");
        assert_eq!(
            store
                .oauth_client("https://app.example/client.json")
                .await
                .expect("get")
                .map(|c| c.name),
            Some("Renamed".into())
        );
    }
}

#[tokio::test]
async fn a_code_is_redeemed_once_even_by_two_requests_at_once() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        store
            .insert_client(&client("c", now()), now(), 10)
            .await
            .expect("client");
        let grant = grant(store, "c", "code-1").await;
        assert_eq!(
            store
                .grant_by_code("code-1")
                .await
                .expect("by code")
                .map(|g| g.id),
            Some(grant.id.clone())
        );
        let (a, b) = (tokens(&grant.id, "a"), tokens(&grant.id, "b"));
        let (first, second) = tokio::join!(
            store.redeem_code(&grant.id, now(), &a),
            store.redeem_code(&grant.id, now(), &b)
        );
        let outcomes = [first.expect("first"), second.expect("second")];
        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "{}: {outcomes:?}",
            db.backend
        );
        let winner = if outcomes[0] { "a" } else { "b" };
        let loser = if outcomes[0] { "b" } else { "a" };
        let (record, found) = store
            .oauth_token(&format!("access-{winner}"))
            .await
            .expect("token")
            .expect("the winner's token");
        assert_eq!(record.kind, TokenKind::Access);
        assert!(found.code_used_at.is_some(), "{}", db.backend);
        assert!(
            store
                .oauth_token(&format!("access-{loser}"))
                .await
                .expect("token")
                .is_none(),
            "{}: the loser stored nothing",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_refresh_token_rotates_once_and_a_revoked_grant_keeps_no_tokens() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        store
            .insert_client(&client("c", now()), now(), 10)
            .await
            .expect("client");
        let grant = grant(store, "c", "code-2").await;
        assert!(
            store
                .redeem_code(&grant.id, now(), &tokens(&grant.id, "0"))
                .await
                .expect("redeem")
        );
        let (x, y) = (tokens(&grant.id, "x"), tokens(&grant.id, "y"));
        let (first, second) = tokio::join!(
            store.rotate_refresh("refresh-0", now(), &x),
            store.rotate_refresh("refresh-0", now(), &y)
        );
        let outcomes = [first.expect("first"), second.expect("second")];
        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "{}",
            db.backend
        );
        let (spent, _) = store
            .oauth_token("refresh-0")
            .await
            .expect("get")
            .expect("kept");
        assert!(
            spent.spent_at.is_some(),
            "{}: kept to recognise reuse",
            db.backend
        );
        assert!(
            !store
                .rotate_refresh("access-0", now(), &tokens(&grant.id, "z"))
                .await
                .expect("access"),
            "{}: an access token never rotates",
            db.backend
        );

        let other_user = user(store).await;
        assert!(
            !store
                .revoke_grant(&grant.id, Some(&other_user), now())
                .await
                .expect("other"),
            "{}: another user's grant is not theirs to revoke",
            db.backend
        );
        assert!(
            store
                .revoke_grant(&grant.id, Some(&grant.user_id), now())
                .await
                .expect("revoke")
        );
        assert!(
            !store
                .revoke_grant(&grant.id, None, now())
                .await
                .expect("again")
        );
        for hash in ["access-0", "refresh-0", "access-x", "access-y"] {
            assert!(
                store.oauth_token(hash).await.expect("get").is_none(),
                "{}: {hash} outlived its grant",
                db.backend
            );
        }
        assert!(
            store
                .list_grants(&grant.user_id)
                .await
                .expect("list")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn pruning_drops_only_what_nothing_can_use() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let at = now();
        store
            .insert_client(&client("c", at), at, 10)
            .await
            .expect("client");
        let stale = client("stale", at - Duration::days(2));
        assert!(
            store
                .insert_client(&stale, at - Duration::days(3), 10)
                .await
                .expect("stale")
        );
        let live = grant(store, "c", "code-live").await;
        assert!(
            store
                .redeem_code(&live.id, at, &tokens(&live.id, "live"))
                .await
                .expect("redeem")
        );
        grant(store, "c", "code-never").await;
        let revoked = grant(store, "c", "code-revoked").await;
        assert!(
            store
                .revoke_grant(&revoked.id, None, at)
                .await
                .expect("revoke")
        );

        // After the access token's hour, within the refresh token's month.
        let later = at + Duration::hours(2);
        let gone = store
            .prune_oauth(later, at - Duration::days(1))
            .await
            .expect("prune");

        assert_eq!(gone, 4, "{}: a token, two grants, a client", db.backend);
        assert!(
            store.oauth_client("stale").await.expect("get").is_none(),
            "{}",
            db.backend
        );
        assert!(store.oauth_client("c").await.expect("get").is_some());
        assert!(
            store
                .grant_by_code("code-never")
                .await
                .expect("get")
                .is_none(),
            "{}",
            db.backend
        );
        assert!(
            store
                .grant_by_code("code-revoked")
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            store
                .oauth_token("access-live")
                .await
                .expect("get")
                .is_none(),
            "expired"
        );
        assert!(
            store
                .oauth_token("refresh-live")
                .await
                .expect("get")
                .is_some(),
            "{}",
            db.backend
        );
        assert_eq!(
            store.list_grants(&live.user_id).await.expect("list").len(),
            1
        );
    }
}
