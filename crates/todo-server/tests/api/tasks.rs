use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn a_created_task_can_be_read_back_from_its_location() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let body = json!({
        "title": "  Pay rent  ",
        "description": "by transfer",
        "priority": "high",
        "due_at": "2026-12-01T17:00:00+01:00"
    });
    let created = app.post("/api/v1/tasks", &user.token, body).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/tasks/{id}").as_str())
    );
    assert_eq!(created.body["title"], "Pay rent");
    assert_eq!(created.body["priority"], "high");
    assert_eq!(created.body["due_at"], "2026-12-01T16:00:00Z");
    assert_eq!(created.body["completed"], false);
    assert_eq!(created.body["user_id"], user.id.as_str());
    let fetched = app.get(&format!("/api/v1/tasks/{id}"), &user.token).await;
    assert_eq!(fetched.body, created.body);
}

#[tokio::test]
async fn invalid_tasks_are_refused_with_every_reason() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let body = json!({"title": "   ", "description": "x".repeat(10_001), "due_at": "2026-12-01T00:00:00Z", "due_date": "2026-12-01"});
    let response = app.post("/api/v1/tasks", &user.token, body).await;
    assert_eq!(
        response.invalid_fields(),
        ["title", "description", "due_date"]
    );

    let too_long = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "x".repeat(201)}),
        )
        .await;
    assert_eq!(too_long.invalid_fields(), ["title"]);
    let bad_priority = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "x", "priority": "asap"}),
        )
        .await;
    bad_priority.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let bad_date = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "x", "due_at": "tomorrow"}),
        )
        .await;
    bad_date.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let missing_title = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"description": "no title"}),
        )
        .await;
    missing_title.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/api/v1/tasks", &user.token).await.body,
        json!([]),
        "nothing was stored"
    );
}

#[tokio::test]
async fn patch_keeps_absent_fields_and_clears_null_ones() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "draft", "description": "notes", "due_date": "2026-12-24"}),
        )
        .await;
    let uri = format!("/api/v1/tasks/{}", created.body["id"]);

    let renamed = app
        .patch(
            &uri,
            &user.token,
            json!({"title": "final", "priority": "urgent"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(
        (
            renamed.body["title"].as_str(),
            renamed.body["description"].as_str()
        ),
        (Some("final"), Some("notes"))
    );
    assert_eq!(renamed.body["due_date"], "2026-12-24");

    let cleared = app
        .patch(
            &uri,
            &user.token,
            json!({"description": null, "due_date": null}),
        )
        .await;
    assert_eq!(cleared.body["description"], Value::Null);
    assert_eq!(cleared.body["due_date"], Value::Null);
    assert_eq!(cleared.body["priority"], "urgent");

    let timed = app
        .patch(&uri, &user.token, json!({"due_at": "2026-12-24T09:00:00Z"}))
        .await;
    assert_eq!(timed.body["due_at"], "2026-12-24T09:00:00Z");
    app.patch(&uri, &user.token, json!({"title": null}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn put_replaces_every_editable_field() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "old", "description": "d", "priority": "low"}),
        )
        .await;
    let uri = format!("/api/v1/tasks/{}", created.body["id"]);
    app.patch(
        &format!("{uri}/complete"),
        &user.token,
        json!({"completed": true}),
    )
    .await;

    let replaced = app.put(&uri, &user.token, json!({"title": "new"})).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["title"], "new");
    assert_eq!(replaced.body["description"], Value::Null);
    assert_eq!(replaced.body["priority"], "none");
    assert_eq!(replaced.body["completed"], true, "absent completed is kept");
    app.put(&uri, &user.token, json!({"description": "no title"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn complete_toggles_without_a_body_and_sets_with_one() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let id = app.task(&user, "water plants").await;
    let uri = format!("/api/v1/tasks/{id}/complete");

    let toggled = app.send(Method::PATCH, &uri, Some(&user.token), None).await;
    assert_eq!(toggled.status, StatusCode::OK);
    assert_eq!(toggled.body["completed"], true);
    assert!(toggled.body["completed_at"].is_string());

    let set = app
        .patch(&uri, &user.token, json!({"completed": true}))
        .await;
    assert_eq!(set.body["completed"], true, "setting is idempotent");
    assert_eq!(set.body["completed_at"], toggled.body["completed_at"]);

    let toggled_back = app.send(Method::PATCH, &uri, Some(&user.token), None).await;
    assert_eq!(toggled_back.body["completed"], false);
    assert_eq!(toggled_back.body["completed_at"], Value::Null);

    app.patch(&uri, &user.token, json!({"completed": "yes"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_deleted_task_is_gone() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let id = app.task(&user, "temporary").await;
    let uri = format!("/api/v1/tasks/{id}");
    assert_eq!(
        app.delete(&uri, &user.token).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&uri, &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.delete(&uri, &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
}

fn titles(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("array")
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect()
}

/// The URI in a `Link: <uri>; rel="next"` header.
fn next_link(link: Option<&str>) -> Option<String> {
    let link = link?;
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    Some(link.trim_start_matches('<').split('>').next()?.to_owned())
}

#[tokio::test]
async fn pages_are_linked_and_counted() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for i in 0..5 {
        app.task(&user, &format!("t{i}")).await;
    }

    let mut uri = Some("/api/v1/tasks?limit=2&sort=-created_at".to_owned());
    let mut seen = Vec::new();
    while let Some(next) = uri {
        let page = app.get(&next, &user.token).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(page.header("x-total-count"), Some("5"));
        seen.extend(titles(&page.body));
        uri = next_link(page.header("link"));
        assert!(
            uri.as_ref()
                .is_none_or(|u| u.contains("sort=-created_at") && u.contains("limit=2"))
        );
    }
    assert_eq!(seen, ["t4", "t3", "t2", "t1", "t0"]);
}

#[tokio::test]
async fn status_filters_pending_and_completed_tasks() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let done = app.task(&user, "done").await;
    app.task(&user, "open").await;
    app.patch(
        &format!("/api/v1/tasks/{done}/complete"),
        &user.token,
        json!({"completed": true}),
    )
    .await;

    let pending = app.get("/api/v1/tasks?status=pending", &user.token).await;
    assert_eq!(titles(&pending.body), ["open"]);
    assert_eq!(pending.header("x-total-count"), Some("1"));
    let completed = app.get("/api/v1/tasks?status=completed", &user.token).await;
    assert_eq!(titles(&completed.body), ["done"]);
    let all = app.get("/api/v1/tasks?status=all", &user.token).await;
    assert_eq!(titles(&all.body), ["done", "open"]);
}

#[tokio::test]
async fn bad_list_parameters_are_client_errors() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for query in [
        "status=done",
        "sort=colour",
        "limit=0",
        "limit=10000",
        "cursor=garbage",
    ] {
        let response = app
            .get(&format!("/api/v1/tasks?{query}"), &user.token)
            .await;
        response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    app.get("/api/v1/tasks?limit=abc", &user.token)
        .await
        .problem(StatusCode::BAD_REQUEST);
    app.get("/api/v1/tasks?limit=-1", &user.token)
        .await
        .problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn quick_add_reads_title_date_priority_tags_and_rule() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let response = app
        .post(
            "/api/v1/tasks/quick",
            &user.token,
            json!({"text": "Pay rent on the 1st every month !high #home"}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let id = response.body["id"].as_i64().expect("id");
    assert_eq!(
        response.header("location"),
        Some(format!("/api/v1/tasks/{id}").as_str())
    );
    assert_eq!(response.body["title"], "Pay rent");
    assert_eq!(response.body["priority"], "high");
    assert_eq!(response.body["tags"], json!(["home"]));
    assert_eq!(response.body["recurrence"], "FREQ=MONTHLY;BYMONTHDAY=1");
    assert!(
        response.body["due_date"]
            .as_str()
            .is_some_and(|d| d.ends_with("-01")),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn quick_add_reads_times_in_the_users_time_zone() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    app.patch("/api/v1/me", &user.token, json!({"timezone": "Asia/Tokyo"}))
        .await;
    let response = app
        .post(
            "/api/v1/tasks/quick",
            &user.token,
            json!({"text": "call mom tomorrow 6pm"}),
        )
        .await;
    assert_eq!(response.body["title"], "call mom");
    // 18:00 in Tokyo (UTC+9) is 09:00 UTC.
    assert!(
        response.body["due_at"]
            .as_str()
            .is_some_and(|d| d.ends_with("T09:00:00Z")),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn quick_add_needs_a_title() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let response = app
        .post(
            "/api/v1/tasks/quick",
            &user.token,
            json!({"text": "tomorrow #home !high"}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["text"]);
    let response = app
        .post(
            "/api/v1/tasks/quick",
            &user.token,
            json!({"text": "x".repeat(501)}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["text"]);
}

#[tokio::test]
async fn recurrence_rules_are_validated_and_stored_in_canonical_form() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "standup", "recurrence": "RRULE:freq=weekly;byday=mo,fr"}),
        )
        .await;
    assert_eq!(created.body["recurrence"], "FREQ=WEEKLY;BYDAY=MO,FR");
    let uri = format!("/api/v1/tasks/{}", created.body["id"]);
    let bad = app
        .patch(&uri, &user.token, json!({"recurrence": "FREQ=HOURLY"}))
        .await;
    assert_eq!(bad.invalid_fields(), ["recurrence"]);
    let stopped = app
        .patch(&uri, &user.token, json!({"recurrence": null}))
        .await;
    assert_eq!(stopped.body["recurrence"], Value::Null);
}

#[tokio::test]
async fn a_patch_that_names_no_field_is_refused_at_every_door() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let id = app.task(&ada, "mine").await;
    let uri = format!("/api/v1/tasks/{id}");

    let empty = app.patch(&uri, &ada.token, json!({})).await;
    assert_eq!(
        empty.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "body"
    );
    app.patch(&uri, &bob.token, json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    let tool = app
        .todo
        .patch_task(
            &ada.id.clone().into(),
            todo_core::task::TaskId::new(id),
            todo_core::task::TaskPatchInput::default(),
        )
        .await;
    assert!(
        matches!(tool, Err(todo_core::Error::Validation(_))),
        "the rule is the core's, so MCP and chat refuse it too: {tool:?}"
    );
    assert_eq!(app.get(&uri, &ada.token).await.body["title"], "mine");
}
