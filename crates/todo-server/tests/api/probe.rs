//! Inputs an outside probe sent (December 2026): each is refused with a 422 problem, never a
//! 500 or a long stall, at every door, on both databases (`TODO_TEST_DATABASE`).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

async fn task_count(app: &TestApp, user: &TestUser) -> usize {
    let listed = app.get("/api/v1/tasks?status=all", &user.token).await;
    listed.body.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_hundred_thousand_tags_are_refused_by_count_at_once() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let tags: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();

    let created = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "t", "tags": tags}),
        )
        .await;
    assert_eq!(
        created.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "tags"
    );
    let id = app.task(&user, "plain").await;
    app.patch(
        &format!("/api/v1/tasks/{id}"),
        &user.token,
        json!({"tags": tags}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let rule = format!("FREQ=WEEKLY;BYDAY={}MO", "MO,".repeat(100_000));
    app.post(
        "/api/v1/tasks",
        &user.token,
        json!({"title": "t", "recurrence": rule}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let many_tags: String = (0..21).map(|i| format!("tag=t{i}&")).collect();
    app.get(&format!("/api/v1/tasks?{many_tags}"), &user.token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(task_count(&app, &user).await, 1);
}

#[tokio::test]
async fn nul_characters_are_refused_at_every_door() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let id = app.task(&user, "plain").await;
    let task = format!("/api/v1/tasks/{id}");

    for (method, uri, body) in [
        ("POST", "/api/v1/tasks", json!({"title": "a\u{0}b"})),
        (
            "POST",
            "/api/v1/tasks",
            json!({"title": "ok", "description": "\u{0}"}),
        ),
        (
            "POST",
            "/api/v1/tasks/quick",
            json!({"text": "call\u{0} mom tomorrow"}),
        ),
        ("PATCH", task.as_str(), json!({"title": "\u{0}"})),
        (
            "PUT",
            task.as_str(),
            json!({"title": "x", "description": "a\u{0}"}),
        ),
        ("POST", "/api/v1/api-keys", json!({"name": "key\u{0}"})),
        ("POST", "/api/v1/tags", json!({"name": "a\u{0}"})),
        ("PATCH", "/api/v1/me", json!({"name": "Ada\u{0}"})),
    ] {
        let response = match method {
            "POST" => app.post(uri, &user.token, body.clone()).await,
            "PATCH" => app.patch(uri, &user.token, body.clone()).await,
            _ => app.put(uri, &user.token, body.clone()).await,
        };
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {uri} {body}: {}",
            response.body
        );
    }
    let signup = app
        .send(
            axum::http::Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "b@example.com", "password": "pass\u{0}word", "name": "B\u{0}"})),
        )
        .await;
    assert_eq!(
        signup.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        signup.body
    );
    let import = app
        .post(
            "/api/v1/import",
            &user.token,
            json!({"tasks": [{"title": "fine"}, {"title": "bad\u{0}"}]}),
        )
        .await;
    assert_eq!(
        import.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        import.body
    );
    assert_eq!(app.get(&task, &user.token).await.body["title"], "plain");
    assert_eq!(task_count(&app, &user).await, 1, "nothing was stored");
}

#[tokio::test]
async fn nul_characters_are_refused_by_the_mcp_tools() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "add_task", "arguments": {"title": "a\u{0}b"}}});
    let request = axum::http::Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .header("authorization", format!("Bearer {}", user.token))
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    let response = app.raw(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.body["result"]["isError"], true,
        "{}",
        response.body
    );
    assert_eq!(task_count(&app, &user).await, 0);
}

#[tokio::test]
async fn dates_outside_years_1_to_9999_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let id = app.task(&user, "plain").await;
    let task = format!("/api/v1/tasks/{id}");
    for body in [
        json!({"title": "t", "due_date": "10000-01-01"}),
        json!({"title": "t", "due_date": "+10000-01-01"}),
        json!({"title": "t", "due_date": "0000-12-31"}),
        json!({"title": "t", "due_date": "-0001-01-01"}),
        json!({"title": "t", "due_at": "+10000-01-01T00:00:00Z"}),
        json!({"title": "t", "due_at": "9999-12-31T23:00:00-05:00"}),
        json!({"title": "t", "due_at": "0000-06-01T00:00:00Z"}),
        json!({"title": "t", "reminders": [{"remind_at": "+20000-01-01T00:00:00Z"}]}),
    ] {
        let created = app.post("/api/v1/tasks", &user.token, body.clone()).await;
        assert_eq!(
            created.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            created.body
        );
        let patched = app.patch(&task, &user.token, body.clone()).await;
        assert_eq!(
            patched.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            patched.body
        );
    }
    app.post(
        "/api/v1/api-keys",
        &user.token,
        json!({"name": "k", "expires_at": "+10000-01-01T00:00:00Z"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    for query in [
        "due_before=10000-01-01",
        "due_after=%2B10000-01-01",
        "due_before=0000-01-01",
    ] {
        let listed = app
            .get(&format!("/api/v1/tasks?{query}"), &user.token)
            .await;
        assert_eq!(
            listed.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            listed.body
        );
    }
    assert_eq!(task_count(&app, &user).await, 1);
}

#[tokio::test]
async fn a_yearly_task_completed_on_the_last_day_ends_its_series() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for body in [
        json!({"title": "last day", "due_date": "9999-12-31", "recurrence": "FREQ=YEARLY"}),
        json!({"title": "last moment", "due_at": "9999-12-31T12:00:00Z", "recurrence": "FREQ=DAILY"}),
    ] {
        let created = app.post("/api/v1/tasks", &user.token, body.clone()).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{body}: {}",
            created.body
        );
        let id = created.body["id"].as_i64().expect("id");
        let done = app
            .patch(
                &format!("/api/v1/tasks/{id}/complete"),
                &user.token,
                json!({"completed": true}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.body["completed"], true);
    }
    let listed = app
        .get("/api/v1/tasks?status=all&sort=due_at", &user.token)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let titles: Vec<&Value> = listed
        .body
        .as_array()
        .expect("list")
        .iter()
        .map(|t| &t["title"])
        .collect();
    assert_eq!(
        titles.len(),
        2,
        "no occurrence after 9999-12-31: {titles:?}"
    );
}
