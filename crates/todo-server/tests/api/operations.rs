use axum::http::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.send(Method::GET, "/health", None, None).await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let ready = app.send(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], "ok");
}

#[tokio::test]
async fn the_interactive_docs_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.send(Method::GET, "/docs/", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .as_str()
            .is_some_and(|html| html.contains("swagger-ui"))
    );
    let script = app
        .send(Method::GET, "/docs/swagger-ui-bundle.js", None, None)
        .await;
    assert_eq!(script.status, StatusCode::OK);
    let served = app.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.body["openapi"], "3.1.0");
}

/// An accidental change to the API shows up here, and in review as a snapshot diff.
#[test]
fn the_openapi_document_is_unchanged() {
    let doc = serde_json::to_value(todo_server::api::openapi()).expect("serialize");
    insta::assert_json_snapshot!("openapi", doc);
}

/// The rules of docs/api-design.md ("The OpenAPI document") that generators and linters rely on:
/// every operation has a unique camelCase operationId, declares its security, and describes
/// every response; each `/api/v1` route on the caller's data has its `/api/{user_id}` twin.
#[test]
fn every_operation_is_named_secured_and_described() {
    let doc = serde_json::to_value(todo_server::api::openapi()).expect("serialize");
    let paths = doc["paths"].as_object().expect("paths");
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let at = format!("{method} {path}");
            let id = operation["operationId"].as_str().expect(&at);
            assert!(
                id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{at}: operationId {id} is not camelCase"
            );
            assert!(ids.insert(id.to_owned()), "{at}: operationId {id} twice");
            assert!(operation["security"].is_array(), "{at}: no security");
            for (status, response) in operation["responses"].as_object().expect(&at) {
                let described = response["description"].as_str().unwrap_or_default();
                assert!(!described.is_empty(), "{at} {status}: no description");
            }
            if let Some(rest) = path.strip_prefix("/api/{user_id}") {
                assert!(paths.contains_key(&format!("/api/v1{rest}")), "{at}");
                assert_eq!(id.strip_suffix("ForUser").map(|_| ()), Some(()), "{at}");
                assert!(operation["responses"]["403"].is_object(), "{at}: no 403");
            }
        }
    }
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap_or_default();
        let pointer = target.trim_start_matches('#');
        assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
    }
    for shared in [
        "/tasks",
        "/tasks/{id}/complete",
        "/projects/{id}/members",
        "/conversations",
    ] {
        assert!(
            paths.contains_key(&format!("/api/{{user_id}}{shared}")),
            "{shared}"
        );
    }
}
