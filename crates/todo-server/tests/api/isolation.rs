//! Every route: no credential → 401; someone else's object → 404; someone else's path → 403.

use axum::http::{Method, StatusCode};
use serde_json::json;

use todo_server::Settings;

use crate::helpers::{TestApp, auth_settings};

/// Every documented operation that needs a credential, with `{…}` parameters filled in.
fn protected_operations() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(todo_server::api::openapi()).expect("openapi");
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            if operation.get("security").is_none() {
                continue;
            }
            let uri = path.replace("{id}", "1");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            operations.push((method, uri));
        }
    }
    assert!(
        operations.len() >= 12,
        "expected every protected route, got {operations:?}"
    );
    operations
}

#[tokio::test]
async fn every_protected_route_needs_a_credential_in_both_shapes() {
    // Two shapes of every route are more anonymous writes than a minute's quota allows.
    let mut settings = Settings::new(auth_settings());
    settings.rate_limit.enabled = false;
    let app = TestApp::spawn_configured(settings).await;
    let user = app.signup("ada@example.com").await;
    for (method, uri) in protected_operations() {
        let mut shapes = vec![uri.clone()];
        if !uri.starts_with("/api/v1/auth/") {
            shapes.push(uri.replacen("/api/v1/", &format!("/api/{}/", user.id), 1));
        }
        for uri in shapes {
            let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
            let response = app.send(method.clone(), &uri, None, body).await;
            response.problem(StatusCode::UNAUTHORIZED);
            assert_eq!(
                response.header("www-authenticate"),
                Some("Bearer"),
                "{method} {uri}"
            );
        }
    }
}

#[tokio::test]
async fn nobody_can_read_change_or_delete_another_users_task() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let id = app.task(&alice, "alice's secret").await;
    let uri = format!("/api/v1/tasks/{id}");

    app.get(&uri, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.put(&uri, &bob.token, json!({"title": "mine"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.patch(&uri, &bob.token, json!({"title": "mine"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.send(
        Method::PATCH,
        &format!("{uri}/complete"),
        Some(&bob.token),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.delete(&uri, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/tasks", &bob.token).await.body, json!([]));
    assert_eq!(
        app.get("/api/v1/tasks", &bob.token)
            .await
            .header("x-total-count"),
        Some("0")
    );

    let untouched = app.get(&uri, &alice.token).await;
    assert_eq!(untouched.body["title"], "alice's secret");
    assert_eq!(untouched.body["completed"], false);
}

#[tokio::test]
async fn nobody_can_revoke_another_users_api_key() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let created = app
        .post("/api/v1/api-keys", &alice.token, json!({"name": "alice's"}))
        .await;
    let id = created.body["id"].as_str().expect("id");

    app.delete(&format!("/api/v1/api-keys/{id}"), &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/api-keys", &bob.token).await.body,
        json!([])
    );
    let secret = created.body["secret"].as_str().expect("secret");
    assert_eq!(
        app.get("/api/v1/me", secret).await.status,
        StatusCode::OK,
        "still works"
    );
}

#[tokio::test]
async fn the_user_path_shape_serves_the_same_handlers() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let base = format!("/api/{}", user.id);

    let created = app
        .post(
            &format!("{base}/tasks"),
            &user.token,
            json!({"title": "via user path"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/tasks/{id}").as_str())
    );
    let listed = app.get(&format!("{base}/tasks"), &user.token).await;
    assert_eq!(listed.body[0]["id"], id);
    let done = app
        .send(
            Method::PATCH,
            &format!("{base}/tasks/{id}/complete"),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(done.body["completed"], true);
    assert_eq!(
        app.get(&format!("/api/v1/tasks/{id}"), &user.token)
            .await
            .body["completed"],
        true
    );
    assert_eq!(
        app.delete(&format!("{base}/tasks/{id}"), &user.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn another_users_path_is_forbidden() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let id = app.task(&alice, "alice's").await;

    for (method, uri) in [
        (Method::GET, format!("/api/{}/tasks", alice.id)),
        (Method::GET, format!("/api/{}/tasks/{id}", alice.id)),
        (Method::DELETE, format!("/api/{}/tasks/{id}", alice.id)),
        (Method::GET, "/api/someone-else/me".to_owned()),
    ] {
        let response = app.send(method, &uri, Some(&bob.token), None).await;
        assert_eq!(
            response.problem(StatusCode::FORBIDDEN)["type"],
            "urn:todo:problem:wrong-user"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/tasks/{id}"), &alice.token)
            .await
            .status,
        StatusCode::OK
    );
}
