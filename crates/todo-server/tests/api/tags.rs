use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn tasks_carry_tags_that_are_created_on_the_fly() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "Pay rent", "tags": ["#Home", "bills", "home"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["tags"], json!(["bills", "Home"]));

    let tags = app.get("/api/v1/tags", &user.token).await;
    let summary: Vec<_> = tags
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(|t| (t["name"].clone(), t["task_count"].clone()))
        .collect();
    assert_eq!(
        summary,
        [(json!("bills"), json!(1)), (json!("Home"), json!(1))]
    );

    let uri = format!("/api/v1/tasks/{}", created.body["id"]);
    let retagged = app
        .patch(&uri, &user.token, json!({"tags": ["work"]}))
        .await;
    assert_eq!(retagged.body["tags"], json!(["work"]));
    let untagged = app.patch(&uri, &user.token, json!({"tags": null})).await;
    assert_eq!(untagged.body["tags"], json!([]));
}

#[tokio::test]
async fn tags_are_managed_and_unique_regardless_of_case() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/tags",
            &user.token,
            json!({"name": "Work", "color": "#FF8800"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["color"], "#ff8800");
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/tags/{id}").as_str())
    );
    app.post("/api/v1/tags", &user.token, json!({"name": "work"}))
        .await
        .problem(StatusCode::CONFLICT);

    let task = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "report", "tags": ["work"]}),
        )
        .await;
    let renamed = app
        .patch(
            &format!("/api/v1/tags/{id}"),
            &user.token,
            json!({"name": "Office", "color": null}),
        )
        .await;
    assert_eq!(
        (renamed.body["name"].as_str(), renamed.body["color"].clone()),
        (Some("Office"), json!(null))
    );
    let task_uri = format!("/api/v1/tasks/{}", task.body["id"]);
    assert_eq!(
        app.get(&task_uri, &user.token).await.body["tags"],
        json!(["Office"])
    );

    assert_eq!(
        app.delete(&format!("/api/v1/tags/{id}"), &user.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&task_uri, &user.token).await.body["tags"],
        json!([])
    );
    app.delete(&format!("/api/v1/tags/{id}"), &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_tags_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let response = app
        .post(
            "/api/v1/tags",
            &user.token,
            json!({"name": "two words", "color": "blue"}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["name", "color"]);
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let response = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "x", "tags": many}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["tags"]);
}

#[tokio::test]
async fn nobody_can_see_change_or_delete_another_users_tags() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let tag = app
        .post("/api/v1/tags", &alice.token, json!({"name": "secret"}))
        .await;
    let uri = format!("/api/v1/tags/{}", tag.body["id"]);

    assert_eq!(app.get("/api/v1/tags", &bob.token).await.body, json!([]));
    app.patch(&uri, &bob.token, json!({"name": "mine"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.delete(&uri, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/tags", &alice.token).await.body[0]["name"],
        "secret"
    );
}
