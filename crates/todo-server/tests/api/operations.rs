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
