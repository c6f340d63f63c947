//! The chat across a real restart: a conversation held with one `todo` process continues in
//! the next, on SQLite and PostgreSQL, with the model a scripted OpenAI-compatible server on
//! loopback. Nothing but the database carries the conversation over.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Client, Server};

#[derive(Clone, Default)]
struct Provider {
    replies: Arc<Mutex<VecDeque<Value>>>,
    requests: Arc<Mutex<Vec<Value>>>,
}

async fn completions(State(provider): State<Provider>, Json(request): Json<Value>) -> Json<Value> {
    provider.requests.lock().expect("requests").push(request);
    let message = provider
        .replies
        .lock()
        .expect("replies")
        .pop_front()
        .unwrap_or_else(|| json!({"role": "assistant", "content": "(unscripted)"}));
    Json(json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "model": "scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]
    }))
}

impl Provider {
    async fn start(replies: Vec<Value>) -> (Self, String) {
        let provider = Self::default();
        provider.replies.lock().expect("replies").extend(replies);
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/v1", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (provider, url)
    }

    fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("requests").clone()
    }
}

async fn conversation_survives_a_restart(dir: &Path, database_url: &str) {
    let (provider, base_url) = Provider::start(vec![
        json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
               "function": {"name": "add_task", "arguments": "{\"title\": \"Buy milk\"}"}}]}),
        json!({"role": "assistant", "content": "Added \"Buy milk\"."}),
        json!({"role": "assistant", "content": "You asked me to add \"Buy milk\"."}),
    ])
    .await;
    let env = [
        ("LLM_BASE_URL", base_url.as_str()),
        ("LLM_MODEL", "scripted-model"),
        ("LLM_API_KEY", "sk-scripted-server-key"),
    ];
    let server = Server::start_with(dir, database_url, &env).await;
    let mut client = Client::new(&server);
    let (status, body) = client
        .send(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "chat@example.com", "password": "a fine password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    client.token = body["token"].as_str().map(str::to_owned);
    let (status, first) = client
        .send(
            Method::POST,
            "/api/v1/chat",
            Some(json!({"message": "Add buy milk"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["response"], "Added \"Buy milk\".");
    let conversation = first["conversation_id"]
        .as_i64()
        .expect("an integer conversation_id");
    server.stop();

    let server = Server::start_with(dir, database_url, &env).await;
    client.base = server.base.clone();
    let (status, second) = client
        .send(
            Method::POST,
            "/api/v1/chat",
            Some(json!({"conversation_id": conversation, "message": "What did I ask?"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["response"], "You asked me to add \"Buy milk\".");
    let requests = provider.requests();
    assert_eq!(requests.len(), 3);
    let history: Vec<(String, String)> = requests[2]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default().to_owned(),
                m["content"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let roles: Vec<&str> = history.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        roles,
        vec!["system", "user", "assistant", "tool", "assistant", "user"],
        "the restarted server sends the whole history: {history:?}"
    );
    assert_eq!(history[1].1, "Add buy milk");
    assert_eq!(history[4].1, "Added \"Buy milk\".");

    let (_, tasks) = client.send(Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(tasks[0]["title"], "Buy milk");
    let (_, stored) = client
        .send(
            Method::GET,
            &format!("/api/v1/conversations/{conversation}"),
            None,
        )
        .await;
    assert_eq!(
        stored["messages"].as_array().map(Vec::len),
        Some(6),
        "{stored}"
    );
    server.stop();
}

#[tokio::test]
async fn a_chat_conversation_continues_after_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    conversation_survives_a_restart(dir.path(), "sqlite://data/todo.db").await;
}

#[tokio::test]
async fn a_chat_conversation_continues_after_a_restart_on_postgres() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    conversation_survives_a_restart(dir.path(), &db.url).await;
}
