use chrono::Duration;
use serde_json::json;
use todo_core::Error;
use todo_core::chat::store::StoredCredential;
use todo_core::chat::{ConversationCursor, MessageToolCall, NewConversation, NewMessage, Role};
use todo_core::ids::UserId;
use todo_core::time::now;

use crate::user;

fn conversation(user_id: &UserId, title: &str) -> NewConversation {
    NewConversation {
        user_id: user_id.to_owned(),
        title: title.to_owned(),
        created_at: now(),
        updated_at: now(),
    }
}

#[tokio::test]
async fn messages_come_back_in_order_with_their_tool_calls() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let c = store
            .insert_conversation(&conversation(&owner, "groceries"))
            .await
            .expect("insert");
        let call = MessageToolCall {
            id: "call_1".into(),
            tool: "add_task".into(),
            arguments: json!({"title": "milk"}),
        };
        let later = now() + Duration::seconds(5);
        let stored = store
            .append_messages(
                &owner,
                &c.id,
                &[
                    NewMessage::user("add milk"),
                    NewMessage::assistant("", vec![call.clone()]),
                    NewMessage::tool("call_1", r#"{"task_id":1}"#),
                    NewMessage::assistant("Added milk.", vec![]),
                ],
                later,
            )
            .await
            .expect("append");
        assert_eq!(stored.len(), 4, "{}", db.backend);
        assert!(stored.windows(2).all(|w| w[0].id < w[1].id));

        let newest_first = store
            .recent_messages(&owner, &c.id, None, 10)
            .await
            .expect("read");
        let roles: Vec<Role> = newest_first.iter().rev().map(|m| m.role).collect();
        assert_eq!(
            roles,
            vec![Role::User, Role::Assistant, Role::Tool, Role::Assistant],
            "{}",
            db.backend
        );
        assert_eq!(newest_first[2].tool_calls, vec![call], "{}", db.backend);
        assert_eq!(newest_first[1].tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(newest_first[0].content, "Added milk.");

        let older = store
            .recent_messages(&owner, &c.id, Some(newest_first[1].id), 2)
            .await
            .expect("page");
        assert_eq!(
            older.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![newest_first[2].id, newest_first[3].id]
        );
        let touched = store
            .get_conversation(&owner, &c.id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(touched.updated_at, later, "{}", db.backend);
    }
}

#[tokio::test]
async fn conversations_belong_to_their_user_alone() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, bob) = (user(store).await, user(store).await);
        let c = store
            .insert_conversation(&conversation(&alice, "alice's"))
            .await
            .expect("insert");

        assert_eq!(
            store.get_conversation(&bob, &c.id).await.expect("get"),
            None
        );
        let appended = store
            .append_messages(&bob, &c.id, &[NewMessage::user("hi")], now())
            .await;
        assert!(
            matches!(appended, Err(Error::NotFound(_))),
            "{}: {appended:?}",
            db.backend
        );
        assert!(
            store
                .recent_messages(&bob, &c.id, None, 10)
                .await
                .expect("read")
                .is_empty()
        );
        assert!(
            !store
                .delete_conversation(&bob, &c.id)
                .await
                .expect("delete")
        );
        assert!(
            store
                .list_conversations(&bob, None, 10)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(
            store
                .get_conversation(&alice, &c.id)
                .await
                .expect("get")
                .is_some()
        );
    }
}

#[tokio::test]
async fn conversations_list_most_recent_first_in_stable_pages() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            let mut c = conversation(&owner, &format!("c{i}"));
            c.updated_at = now() + Duration::seconds(i);
            let c = store.insert_conversation(&c).await.expect("insert");
            ids.push(c.id);
        }
        // Talking in the oldest moves it to the top.
        store
            .append_messages(
                &owner,
                &ids[0],
                &[NewMessage::user("again")],
                now() + Duration::minutes(1),
            )
            .await
            .expect("append");
        let first = store
            .list_conversations(&owner, None, 3)
            .await
            .expect("list");
        let titles: Vec<&str> = first.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, vec!["c0", "c4", "c3"], "{}", db.backend);
        let cursor = ConversationCursor::of(&first[2]);
        let rest = store
            .list_conversations(&owner, Some(&cursor), 3)
            .await
            .expect("list");
        let titles: Vec<&str> = rest.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, vec!["c2", "c1"], "{}", db.backend);
    }
}

#[tokio::test]
async fn deleting_a_conversation_deletes_its_messages() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let c = store
            .insert_conversation(&conversation(&owner, "gone"))
            .await
            .expect("insert");
        store
            .append_messages(&owner, &c.id, &[NewMessage::user("hi")], now())
            .await
            .expect("append");
        assert!(
            store
                .delete_conversation(&owner, &c.id)
                .await
                .expect("delete")
        );
        assert!(
            store
                .get_conversation(&owner, &c.id)
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            store
                .recent_messages(&owner, &c.id, None, 10)
                .await
                .expect("read")
                .is_empty(),
            "{}",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_users_llm_credential_is_stored_replaced_and_deleted() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (alice, bob) = (user(store).await, user(store).await);
        let at = now();
        let credential = StoredCredential {
            user_id: alice.clone(),
            api_key_ciphertext: "v1.sealed".into(),
            key_hint: "wxyz".into(),
            model: None,
            created_at: at,
            updated_at: at,
        };
        store.put_llm_credential(&credential).await.expect("put");
        assert_eq!(
            store.llm_credential(&alice).await.expect("get"),
            Some(credential.clone()),
            "{}",
            db.backend
        );
        let replaced = StoredCredential {
            api_key_ciphertext: "v1.other".into(),
            model: Some("gpt-x".into()),
            updated_at: at + Duration::seconds(1),
            ..credential.clone()
        };
        store.put_llm_credential(&replaced).await.expect("replace");
        assert_eq!(
            store.llm_credential(&alice).await.expect("get"),
            Some(replaced)
        );
        assert_eq!(store.llm_credential(&bob).await.expect("get"), None);
        assert!(!store.delete_llm_credential(&bob).await.expect("delete"));
        assert!(store.delete_llm_credential(&alice).await.expect("delete"));
        assert_eq!(store.llm_credential(&alice).await.expect("get"), None);
    }
}
