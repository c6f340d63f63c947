//! Sharing through the REST API: invitations, roles, comments, activity, events that reach
//! every member, leaving and handing over (docs/sharing.md).

use axum::http::StatusCode;
use serde_json::{Value, json};
use todo_core::ids::UserId;

use crate::helpers::{TestApp, TestUser};

/// Alice's project "Home", shared with Bob (editor) and Carol (viewer) by invitations they
/// accepted.
struct Household {
    app: TestApp,
    alice: TestUser,
    bob: TestUser,
    carol: TestUser,
    project: i64,
}

async fn household() -> Household {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let carol = app.signup("carol@example.com").await;
    let created = app
        .post("/api/v1/projects", &alice.token, json!({"name": "Home"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let project = created.body["id"].as_i64().expect("id");
    for (who, email, role) in [
        (&bob, "Bob@Example.com", "editor"),
        (&carol, "carol@example.com", "viewer"),
    ] {
        let invited = app
            .post(
                &format!("/api/v1/projects/{project}/invitations"),
                &alice.token,
                json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
        let mine = app.get("/api/v1/invitations", &who.token).await;
        assert_eq!(mine.body[0]["project_name"], "Home", "{}", mine.body);
        assert_eq!(mine.body[0]["invited_by_email"], "alice@example.com");
        assert_eq!(mine.body[0]["role"], role);
        let id = mine.body[0]["id"].as_i64().expect("id");
        let joined = app
            .post(
                &format!("/api/v1/invitations/{id}/accept"),
                &who.token,
                json!({}),
            )
            .await;
        assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
        assert_eq!(joined.body["role"], role);
    }
    Household {
        app,
        alice,
        bob,
        carol,
        project,
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn members_see_and_change_a_shared_project_as_their_roles_allow() {
    let Household {
        app,
        alice,
        bob,
        carol,
        project,
    } = household().await;
    let members = app
        .get(&format!("/api/v1/projects/{project}/members"), &carol.token)
        .await;
    let roles: Vec<_> = members
        .body
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["role"].clone())
        .collect();
    assert_eq!(roles, [json!("owner"), json!("editor"), json!("viewer")]);

    // Bob (editor) adds a task; everyone sees it.
    let made = app
        .post(
            "/api/v1/tasks",
            &bob.token,
            json!({"title": "Buy milk", "project_id": project}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let task = made.body["id"].as_i64().expect("id");
    for who in [&alice, &bob, &carol] {
        let list = app
            .get(&format!("/api/v1/tasks?project={project}"), &who.token)
            .await;
        assert_eq!(ids(&list.body), [task]);
    }

    // Carol (viewer) reads and comments but changes nothing.
    for (method, uri, body) in [
        (
            "PATCH",
            format!("/api/v1/tasks/{task}"),
            json!({"title": "Buy oat milk"}),
        ),
        (
            "PATCH",
            format!("/api/v1/tasks/{task}/complete"),
            json!({"completed": true}),
        ),
        (
            "POST",
            "/api/v1/tasks".to_owned(),
            json!({"title": "x", "project_id": project}),
        ),
        (
            "POST",
            format!("/api/v1/projects/{project}/sections"),
            json!({"name": "Aisle"}),
        ),
    ] {
        let response = app
            .send(
                method.parse().expect("method"),
                &uri,
                Some(&carol.token),
                Some(body),
            )
            .await;
        assert_eq!(
            response.problem(StatusCode::FORBIDDEN)["type"],
            "urn:todo:problem:insufficient-role",
            "{method} {uri}"
        );
    }
    let said = app
        .post(
            &format!("/api/v1/tasks/{task}/comments"),
            &carol.token,
            json!({"body": " The 2 l one "}),
        )
        .await;
    assert_eq!(said.status, StatusCode::CREATED, "{}", said.body);
    assert_eq!(said.body["body"], "The 2 l one");
    let comment = said.body["id"].as_i64().expect("id");

    // Only the author edits; the owner may delete anyone's; an editor may not.
    let edit = app
        .patch(
            &format!("/api/v1/comments/{comment}"),
            &bob.token,
            json!({"body": "no"}),
        )
        .await;
    edit.problem(StatusCode::FORBIDDEN);
    app.delete(&format!("/api/v1/comments/{comment}"), &bob.token)
        .await
        .problem(StatusCode::FORBIDDEN);
    let edited = app
        .patch(
            &format!("/api/v1/comments/{comment}"),
            &carol.token,
            json!({"body": "The 1 l one"}),
        )
        .await;
    assert_eq!(edited.body["body"], "The 1 l one");
    let gone = app
        .delete(&format!("/api/v1/comments/{comment}"), &alice.token)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);

    // Editors do not manage: no invitations, no role changes, no rename.
    app.post(
        &format!("/api/v1/projects/{project}/invitations"),
        &bob.token,
        json!({"email": "dan@example.com"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    app.patch(
        &format!("/api/v1/projects/{project}/members/{}", carol.id),
        &bob.token,
        json!({"role": "editor"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    app.patch(
        &format!("/api/v1/projects/{project}"),
        &bob.token,
        json!({"name": "Mine"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);

    // Activity: who did what, newest first.
    let done = app
        .patch(
            &format!("/api/v1/tasks/{task}/complete"),
            &bob.token,
            json!({"completed": true}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let activity = app
        .get(
            &format!("/api/v1/projects/{project}/activity"),
            &carol.token,
        )
        .await;
    let entries: Vec<(String, String)> = activity
        .body
        .as_array()
        .expect("activity")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_owned(),
                e["user_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("completed".to_owned(), bob.id.clone()),
            ("commented".to_owned(), carol.id.clone()),
            ("created".to_owned(), bob.id.clone()),
        ]
    );
    assert_eq!(activity.body[0]["task_title"], "Buy milk");
}

#[tokio::test]
async fn a_change_reaches_every_member_s_event_stream_and_stops_for_who_left() {
    let Household {
        app,
        alice,
        bob,
        carol,
        project,
    } = household().await;
    let user = |u: &TestUser| UserId::new(u.id.clone());
    let before: Vec<i64> = futures_last(&app, &[&alice, &bob, &carol]).await;
    let task = app
        .post(
            "/api/v1/tasks",
            &bob.token,
            json!({"title": "Shared", "project_id": project}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    for (who, after) in [&alice, &bob, &carol].into_iter().zip(&before) {
        let events = app
            .todo
            .events_after(&user(who), *after)
            .await
            .expect("events");
        assert_eq!(events.len(), 1, "{} hears of Bob's task", who.id);
        assert_eq!(events[0].task_id.get(), task);
        assert_eq!(events[0].user_id, user(&bob), "the event names who acted");
    }
    // An Inbox task reaches only its owner.
    let mark = futures_last(&app, &[&alice, &bob]).await;
    app.task(&bob, "private").await;
    assert!(
        app.todo
            .events_after(&user(&alice), mark[0])
            .await
            .expect("events")
            .is_empty()
    );
    assert_eq!(
        app.todo
            .events_after(&user(&bob), mark[1])
            .await
            .expect("events")
            .len(),
        1
    );

    // Carol leaves: the project and its tasks are gone for her, and so are their events.
    let left = app
        .delete(
            &format!("/api/v1/projects/{project}/members/{}", carol.id),
            &carol.token,
        )
        .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT, "{}", left.body);
    app.get(&format!("/api/v1/projects/{project}"), &carol.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/tasks/{task}"), &carol.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/tasks/{task}/comments"), &carol.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    let mark = futures_last(&app, &[&carol]).await;
    app.patch(
        &format!("/api/v1/tasks/{task}"),
        &bob.token,
        json!({"title": "Shared 2"}),
    )
    .await;
    assert!(
        app.todo
            .events_after(&user(&carol), mark[0])
            .await
            .expect("events")
            .is_empty()
    );
}

/// Each user's newest event id.
async fn futures_last(app: &TestApp, users: &[&TestUser]) -> Vec<i64> {
    let mut last = Vec::new();
    for user in users {
        last.push(
            app.todo
                .last_event_id(&UserId::new(user.id.clone()))
                .await
                .expect("last"),
        );
    }
    last
}

#[tokio::test]
async fn the_owner_hands_over_cannot_leave_and_removes_members() {
    let Household {
        app,
        alice,
        bob,
        carol,
        project,
    } = household().await;
    let members = format!("/api/v1/projects/{project}/members");
    app.delete(&format!("{members}/{}", alice.id), &alice.token)
        .await
        .problem(StatusCode::CONFLICT);
    // Removing Carol unassigns nothing of hers but takes her out.
    let removed = app
        .delete(&format!("{members}/{}", carol.id), &alice.token)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    app.get(&members, &carol.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    // A non-member learns nothing, not even whether someone is a member.
    app.delete(&format!("{members}/{}", bob.id), &carol.token)
        .await
        .problem(StatusCode::NOT_FOUND);

    let handed = app
        .patch(
            &format!("{members}/{}", bob.id),
            &alice.token,
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(handed.status, StatusCode::OK, "{}", handed.body);
    let roles: Vec<_> = handed
        .body
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["user_id"].clone(), m["role"].clone()))
        .collect();
    assert_eq!(
        roles,
        [
            (json!(bob.id), json!("owner")),
            (json!(alice.id), json!("editor"))
        ]
    );
    app.patch(
        &format!("/api/v1/projects/{project}"),
        &alice.token,
        json!({"name": "Ours"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let left = app
        .delete(&format!("{members}/{}", alice.id), &alice.token)
        .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn invitations_wait_for_sign_up_refuse_the_inbox_and_can_be_declined_or_withdrawn() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let project = app
        .post("/api/v1/projects", &alice.token, json!({"name": "Trip"}))
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let invitations = format!("/api/v1/projects/{project}/invitations");
    let sent = app
        .post(
            &invitations,
            &alice.token,
            json!({"email": "later@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    app.post(
        &invitations,
        &alice.token,
        json!({"email": "LATER@example.com"}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    app.post(
        &invitations,
        &alice.token,
        json!({"email": "alice@example.com"}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    app.post(
        &invitations,
        &alice.token,
        json!({"email": "x@example.com", "role": "owner"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let inbox = app.get("/api/v1/projects", &alice.token).await.body[0]["id"]
        .as_i64()
        .expect("inbox");
    app.post(
        &format!("/api/v1/projects/{inbox}/invitations"),
        &alice.token,
        json!({"email": "x@example.com"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);

    // The address signs up afterwards and finds it; someone else cannot answer it.
    let later = app.signup("later@example.com").await;
    let other = app.signup("other@example.com").await;
    let mine = app.get("/api/v1/invitations", &later.token).await;
    let id = mine.body[0]["id"].as_i64().expect("waiting");
    app.post(
        &format!("/api/v1/invitations/{id}/accept"),
        &other.token,
        json!({}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let declined = app
        .post(
            &format!("/api/v1/invitations/{id}/decline"),
            &later.token,
            json!({}),
        )
        .await;
    assert_eq!(declined.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/invitations", &later.token).await.body,
        json!([])
    );
    app.get(&format!("/api/v1/projects/{project}"), &later.token)
        .await
        .problem(StatusCode::NOT_FOUND);

    // Withdrawn by the owner: it is gone for the invitee.
    let again = app
        .post(
            &invitations,
            &alice.token,
            json!({"email": "later@example.com"}),
        )
        .await;
    let again = again.body["id"].as_i64().expect("id");
    let pending = app.get(&invitations, &alice.token).await;
    assert_eq!(ids(&pending.body), [again]);
    let withdrawn = app
        .delete(&format!("{invitations}/{again}"), &alice.token)
        .await;
    assert_eq!(withdrawn.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/invitations", &later.token).await.body,
        json!([])
    );
}

#[tokio::test]
async fn a_deleted_owner_s_shared_project_goes_to_the_longest_standing_editor() {
    let Household {
        app,
        alice,
        bob,
        carol,
        project,
    } = household().await;
    let task = app
        .post(
            "/api/v1/tasks",
            &alice.token,
            json!({"title": "Alice's", "project_id": project}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let alone = app
        .post("/api/v1/projects", &alice.token, json!({"name": "Alone"}))
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let deleted = app
        .send(
            axum::http::Method::DELETE,
            "/api/v1/me",
            Some(&alice.token),
            Some(json!({"password": "correct horse battery"})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let members = app
        .get(&format!("/api/v1/projects/{project}/members"), &carol.token)
        .await;
    let roles: Vec<_> = members
        .body
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["user_id"].clone(), m["role"].clone()))
        .collect();
    assert_eq!(
        roles,
        [
            (json!(bob.id), json!("owner")),
            (json!(carol.id), json!("viewer"))
        ]
    );
    let kept = app.get(&format!("/api/v1/tasks/{task}"), &bob.token).await;
    assert_eq!(
        kept.body["title"], "Alice's",
        "the shared project keeps its tasks"
    );
    assert!(
        app.db
            .store
            .project(
                &UserId::new(bob.id.clone()),
                todo_core::ids::ProjectId::new(alone)
            )
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn tasks_are_assigned_to_members_and_unassigned_when_they_leave_or_move() {
    let Household {
        app,
        alice,
        bob,
        carol,
        project,
    } = household().await;
    let outsider = app.signup("dan@example.com").await;
    let made = app
        .post(
            "/api/v1/tasks",
            &alice.token,
            json!({"title": "Mow", "project_id": project, "assignee_id": bob.id}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.body["assignee_id"], json!(bob.id));
    let task = made.body["id"].as_i64().expect("id");
    let refused = app
        .post(
            "/api/v1/tasks",
            &alice.token,
            json!({"title": "x", "project_id": project, "assignee_id": outsider.id}),
        )
        .await;
    assert_eq!(refused.invalid_fields(), ["assignee_id"]);
    let other = app
        .post(
            "/api/v1/tasks",
            &alice.token,
            json!({"title": "Rake", "project_id": project}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let mine = app.get("/api/v1/tasks?assignee=me", &bob.token).await;
    assert_eq!(ids(&mine.body), [task]);
    let by_id = app
        .get(&format!("/api/v1/tasks?assignee={}", bob.id), &carol.token)
        .await;
    assert_eq!(ids(&by_id.body), [task]);
    let nobody = app
        .get(
            &format!("/api/v1/tasks?assignee=none&project={project}"),
            &alice.token,
        )
        .await;
    assert_eq!(ids(&nobody.body), [other]);

    let reassigned = app
        .patch(
            &format!("/api/v1/tasks/{other}"),
            &alice.token,
            json!({"assignee_id": carol.id}),
        )
        .await;
    assert_eq!(reassigned.body["assignee_id"], json!(carol.id));
    app.patch(
        &format!("/api/v1/tasks/{other}"),
        &alice.token,
        json!({"assignee_id": outsider.id}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);

    // Carol leaves: her task is unassigned. Bob's moves to Alice's Inbox: unassigned too.
    app.delete(
        &format!("/api/v1/projects/{project}/members/{}", carol.id),
        &carol.token,
    )
    .await;
    let after = app
        .get(&format!("/api/v1/tasks/{other}"), &alice.token)
        .await;
    assert_eq!(after.body["assignee_id"], Value::Null);
    let inbox = app.get("/api/v1/projects", &alice.token).await.body[0]["id"]
        .as_i64()
        .expect("inbox");
    let moved = app
        .post(
            &format!("/api/v1/tasks/{task}/move"),
            &alice.token,
            json!({"project_id": inbox}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let after = app
        .get(&format!("/api/v1/tasks/{task}"), &alice.token)
        .await;
    assert_eq!(after.body["assignee_id"], Value::Null);
}

#[tokio::test]
async fn labels_and_reminders_are_each_member_s_own_and_follow_the_shared_due() {
    let Household {
        app, alice, bob, ..
    } = household().await;
    let project = app.get("/api/v1/projects", &alice.token).await.body[1]["id"]
        .as_i64()
        .expect("the shared project");
    let made = app
        .post(
            "/api/v1/tasks",
            &bob.token,
            json!({
                "title": "Call the plumber", "project_id": project,
                "due_at": "2030-05-01T10:00:00Z", "tags": ["bob-label"],
                "reminders": [{"minutes_before": 30}]
            }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let task = made.body["id"].as_i64().expect("id");
    let url = format!("/api/v1/tasks/{task}");
    let seen = app.get(&url, &alice.token).await;
    assert_eq!(seen.body["tags"], json!([]), "Bob's labels are his");
    assert_eq!(seen.body["reminders"], json!([]), "Bob's reminders are his");

    let mine = app
        .patch(
            &url,
            &alice.token,
            json!({"tags": ["alice-label"], "reminders": [{"minutes_before": 10}]}),
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["tags"], json!(["alice-label"]));
    let bobs = app.get(&url, &bob.token).await;
    assert_eq!(bobs.body["tags"], json!(["bob-label"]));
    assert_eq!(bobs.body["reminders"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        bobs.body["reminders"][0]["minutes_before"], 30,
        "Alice's reminders replaced only hers"
    );

    // Alice moves the due: Bob's relative reminder follows it.
    let moved = app
        .patch(
            &url,
            &alice.token,
            json!({"due_at": "2030-05-02T10:00:00Z"}),
        )
        .await;
    assert_eq!(
        moved.body["reminders"][0]["remind_at"],
        "2030-05-02T09:50:00Z"
    );
    let bobs = app.get(&url, &bob.token).await;
    assert_eq!(
        bobs.body["reminders"][0]["remind_at"],
        "2030-05-02T09:30:00Z"
    );
    let list = app
        .get(&format!("/api/v1/tasks?project={project}"), &bob.token)
        .await;
    assert_eq!(
        list.body[0]["tags"],
        json!(["bob-label"]),
        "lists show the reader's own too"
    );
}

#[tokio::test]
async fn only_the_owner_scopes_a_webhook_to_a_project() {
    let Household {
        app,
        alice,
        bob,
        project,
        ..
    } = household().await;
    let outsider = app.signup("dan@example.com").await;
    let body = json!({"url": "https://example.com/hook", "project_id": project});
    app.post("/api/v1/webhooks", &bob.token, body.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    let refused = app.post("/api/v1/webhooks", &outsider.token, body).await;
    assert_eq!(
        refused.invalid_fields(),
        ["project_id"],
        "someone else's project is no project, as for a task"
    );
    let made = app
        .todo
        .clone()
        .with_private_webhooks(true)
        .create_webhook(
            &UserId::new(alice.id.clone()),
            todo_core::webhooks::WebhookInput {
                url: "http://127.0.0.1:9/hook".into(),
                project_id: Some(todo_core::ids::ProjectId::new(project)),
            },
        )
        .await
        .expect("the owner scopes a webhook");
    let listed = app.get("/api/v1/webhooks", &alice.token).await;
    assert_eq!(listed.body[0]["id"], json!(made.webhook.id.get()));
    assert_eq!(listed.body[0]["project_id"], json!(project));
}

#[tokio::test]
async fn a_bulk_change_naming_a_task_the_caller_only_views_changes_none_of_them() {
    let Household {
        app,
        alice,
        carol,
        project,
        ..
    } = household().await;
    let shared = app
        .post(
            "/api/v1/tasks",
            &alice.token,
            json!({"title": "Buy milk", "project_id": project}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let own = app.task(&carol, "carol's own").await;
    for body in [
        json!({"action": "complete", "ids": [own, shared]}),
        json!({"action": "delete", "ids": [own, shared]}),
        json!({"action": "reschedule", "ids": [own, shared], "due_date": "2030-01-01"}),
    ] {
        let refused = app
            .post("/api/v1/tasks/bulk", &carol.token, body.clone())
            .await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{body}: {}",
            refused.body
        );
        // Her own task, named first, is untouched: the refusal came before any change.
        let mine = app.get(&format!("/api/v1/tasks/{own}"), &carol.token).await;
        assert_eq!(mine.status, StatusCode::OK, "{body}");
        assert_eq!(mine.body["completed"], false, "{body}");
        assert_eq!(mine.body["due_date"], Value::Null, "{body}");
    }
    // Without the viewed task, the same request goes through.
    let done = app
        .post(
            "/api/v1/tasks/bulk",
            &carol.token,
            json!({"action": "complete", "ids": [own]}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body, json!([{"id": own, "status": "completed"}]));
}
