//! The chat agent against a scripted OpenAI-compatible server: conversations that really
//! change tasks, streaming, failures of the provider and of tools, restarts, isolation, and
//! users' own keys.

use std::time::Duration;

use http_body_util::BodyExt;
use tower::ServiceExt;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use todo_core::chat::ChatConfig;
use todo_core::chat::model::Secret;
use todo_server::Settings;
use todo_server::llm::LlmSettings;

use crate::helpers::{TestApp, TestUser, auth_settings};
use crate::scripted_llm::{
    Reply, ScriptedLlm, calls, chunk, messages, streamed_calls, streamed_text, streaming_text,
    text, tool_names,
};

const SERVER_KEY: &str = "sk-server-key-0123456789abcdef";
const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn settings(llm: &ScriptedLlm) -> Settings {
    let mut settings = Settings::new(auth_settings());
    settings.llm = LlmSettings {
        chat: ChatConfig {
            base_url: Some(llm.base_url.clone()),
            api_key: Some(Secret::new(SERVER_KEY)),
            model: Some("scripted-model".into()),
            ..ChatConfig::default()
        },
        timeout: Duration::from_secs(5),
        encryption_key: Some(Secret::new(ENCRYPTION_KEY)),
    };
    settings
}

async fn chat(app: &TestApp, user: &TestUser, body: Value) -> crate::helpers::TestResponse {
    app.post("/api/v1/chat", &user.token, body).await
}

async fn titles(app: &TestApp, user: &TestUser, status: &str) -> Vec<String> {
    let listed = app
        .get(&format!("/api/v1/tasks?status={status}"), &user.token)
        .await;
    listed
        .body
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect()
}

/// The id of a tool result in the request's last tool messages.
fn last_content(request: &Value) -> String {
    messages(request)
        .last()
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_conversation_adds_lists_completes_and_deletes_tasks_and_continues_by_its_integer_id_after_a_restart()
 {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    app.patch(
        "/api/v1/me",
        &ada.token,
        json!({"name": "Ada", "timezone": "Asia/Tokyo"}),
    )
    .await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d")
        .to_string();

    // Turn 1: two tasks at once (parallel tool calls).
    llm.expect(
        move |headers, request| {
            assert_eq!(
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
                Some(format!("Bearer {SERVER_KEY}").as_str())
            );
            assert_eq!(request["model"], "scripted-model");
            let names = tool_names(request);
            for tool in [
                "add_task",
                "list_tasks",
                "complete_task",
                "delete_task",
                "update_task",
            ] {
                assert!(
                    names.iter().any(|n| n == tool),
                    "{tool} not offered: {names:?}"
                );
            }
            let add = &request["tools"][0]["function"]["parameters"];
            assert!(add["properties"].get("user_id").is_none(), "{add}");
            let system = messages(request)[0]["content"].as_str().expect("system");
            assert_eq!(messages(request)[0]["role"], "system");
            assert!(system.contains(&today), "no local date {today} in {system}");
            assert!(system.contains("Ada"), "{system}");
            assert!(system.contains("Asia/Tokyo"), "{system}");
            assert!(
                system.contains("ask which one"),
                "ambiguity rule missing: {system}"
            );
            assert!(
                system.contains("confirm"),
                "confirmation rule missing: {system}"
            );
            assert_eq!(messages(request).len(), 2);
            assert_eq!(messages(request)[1]["content"], "Add buy milk and call mom");
        },
        calls(&[
            ("call_a", "add_task", r#"{"title": "Buy milk"}"#),
            (
                "call_b",
                "add_task",
                r#"{"title": "Call mom", "priority": "high"}"#,
            ),
        ]),
    )
    .expect(
        |_, request| {
            let all = messages(request);
            let assistant = &all[all.len() - 3];
            assert_eq!(assistant["role"], "assistant");
            assert_eq!(assistant["tool_calls"][1]["id"], "call_b");
            assert_eq!(all[all.len() - 2]["tool_call_id"], "call_a");
            assert!(
                all[all.len() - 2]["content"]
                    .as_str()
                    .expect("result")
                    .contains("\"status\":\"created\"")
            );
            assert_eq!(all[all.len() - 1]["tool_call_id"], "call_b");
        },
        text("Added \"Buy milk\" and \"Call mom\"."),
    );
    let first = chat(&app, &ada, json!({"message": "Add buy milk and call mom"})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        first.body["response"],
        "Added \"Buy milk\" and \"Call mom\"."
    );
    let outcomes = first.body["tool_calls"].as_array().expect("tool calls");
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0]["tool"], "add_task");
    assert_eq!(outcomes[0]["arguments"], json!({"title": "Buy milk"}));
    assert_eq!(outcomes[0]["result"]["status"], "created");
    let milk = outcomes[0]["result"]["task_id"].as_i64().expect("id");
    let mom = outcomes[1]["result"]["task_id"].as_i64().expect("id");
    let conversation = first.body["conversation_id"]
        .as_i64()
        .expect("an integer conversation_id, as the brief's clients send it");
    assert_eq!(
        titles(&app, &ada, "all").await,
        vec!["Buy milk", "Call mom"]
    );
    assert_eq!(
        app.get(&format!("/api/v1/tasks/{mom}"), &ada.token)
            .await
            .body["priority"],
        "high"
    );

    // Turn 2: the model sees the history and lists tasks.
    llm.expect(
        |_, request| {
            let all = messages(request);
            assert_eq!(all[1]["content"], "Add buy milk and call mom");
            assert!(
                all.iter()
                    .any(|m| m["content"] == "Added \"Buy milk\" and \"Call mom\".")
            );
            assert_eq!(all.last().expect("last")["content"], "What is left?");
        },
        calls(&[("call_c", "list_tasks", r#"{"status": "pending"}"#)]),
    )
    .expect(
        |_, request| {
            let result: Value = serde_json::from_str(&last_content(request)).expect("JSON result");
            assert_eq!(result["total"], 2, "{result}");
        },
        text("Buy milk and Call mom."),
    );
    let second = chat(
        &app,
        &ada,
        json!({"conversation_id": conversation, "message": "What is left?"}),
    )
    .await;
    assert_eq!(second.body["conversation_id"], conversation);
    assert_eq!(second.body["tool_calls"][0]["result"]["total"], 2);

    // Turn 3: complete.
    llm.then(calls(&[(
        "call_d",
        "complete_task",
        &format!(r#"{{"task_id": {milk}}}"#),
    )]))
    .then(text("Marked \"Buy milk\" as done."));
    let third = chat(
        &app,
        &ada,
        json!({"conversation_id": conversation, "message": "I bought the milk"}),
    )
    .await;
    assert_eq!(third.body["tool_calls"][0]["result"]["status"], "completed");
    assert_eq!(titles(&app, &ada, "completed").await, vec!["Buy milk"]);

    // Turn 4: delete.
    llm.then(calls(&[(
        "call_e",
        "delete_task",
        &format!(r#"{{"task_id": {mom}}}"#),
    )]))
    .then(text("Deleted \"Call mom\"."));
    let fourth = chat(
        &app,
        &ada,
        json!({"conversation_id": conversation, "message": "Forget about calling mom"}),
    )
    .await;
    assert_eq!(fourth.body["tool_calls"][0]["result"]["status"], "deleted");
    assert_eq!(titles(&app, &ada, "all").await, vec!["Buy milk"]);

    // A restart: nothing in memory survives, the conversation does.
    let restarted = app.restarted(&settings(&llm)).await;
    drop(app);
    llm.expect(
        |_, request| {
            let all = messages(request);
            assert_eq!(all[1]["content"], "Add buy milk and call mom");
            let tool_results = all.iter().filter(|m| m["role"] == "tool").count();
            assert_eq!(
                tool_results, 5,
                "every earlier tool result is in the history"
            );
            assert_eq!(
                all.last().expect("last")["content"],
                "What did I ask first?"
            );
        },
        text("You asked me to add two tasks."),
    );
    let fifth = chat(
        &restarted,
        &ada,
        json!({"conversation_id": conversation, "message": "What did I ask first?"}),
    )
    .await;
    assert_eq!(fifth.status, StatusCode::OK, "{}", fifth.body);
    assert_eq!(fifth.body["response"], "You asked me to add two tasks.");

    let stored = restarted
        .get(&format!("/api/v1/conversations/{conversation}"), &ada.token)
        .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    assert_eq!(stored.body["title"], "Add buy milk and call mom");
    let roles: Vec<&str> = stored.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles.iter().filter(|r| **r == "user").count(), 5);
    assert_eq!(roles.iter().filter(|r| **r == "tool").count(), 5);
    assert_eq!(roles.first(), Some(&"user"));
    assert_eq!(roles.last(), Some(&"assistant"));
    llm.assert_done();
}

#[tokio::test]
async fn malformed_tool_arguments_go_back_to_the_model_which_recovers() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    llm.then(calls(&[("call_1", "add_task", r#"{"title": "Pay rent"#)]))
        .expect(
            |_, request| {
                let result = last_content(request);
                assert!(result.contains("not valid JSON"), "{result}");
            },
            calls(&[("call_2", "add_task", r#"{"title": "Pay rent"}"#)]),
        )
        .then(text("Added \"Pay rent\"."));
    let answer = chat(&app, &ada, json!({"message": "add pay rent"})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let outcomes = answer.body["tool_calls"].as_array().expect("calls");
    assert_eq!(outcomes[0]["arguments"], r#"{"title": "Pay rent"#);
    assert!(outcomes[0]["result"]["error"].is_string());
    assert_eq!(outcomes[1]["result"]["status"], "created");
    assert_eq!(titles(&app, &ada, "all").await, vec!["Pay rent"]);
    let metrics = app.send(Method::GET, "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    let counted = |name: &str, labels: &[&str]| {
        text.lines().any(|line| {
            line.starts_with(&format!("{name}{{")) && labels.iter().all(|l| line.contains(l))
        })
    };
    assert!(
        counted(
            "todo_chat_tool_calls_total",
            &["tool=\"add_task\"", "outcome=\"error\""]
        ),
        "{text}"
    );
    assert!(counted(
        "todo_chat_tool_calls_total",
        &["tool=\"add_task\"", "outcome=\"ok\""]
    ));
    assert!(counted("todo_chat_turns_total", &["outcome=\"answered\""]));
    llm.assert_done();
}

#[tokio::test]
async fn a_tool_error_is_shown_to_the_model_not_to_the_user_as_a_crash() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    llm.then(calls(&[
        ("call_1", "complete_task", r#"{"task_id": 987654}"#),
        ("call_2", "no_such_tool", "{}"),
    ]))
    .expect(
        |_, request| {
            let all = messages(request);
            let first = all[all.len() - 2]["content"].as_str().expect("result");
            assert!(first.contains("no task"), "{first}");
            let second = all[all.len() - 1]["content"].as_str().expect("result");
            assert!(second.contains("unknown tool"), "{second}");
        },
        text("I could not find that task. Which one do you mean?"),
    );
    let answer = chat(&app, &ada, json!({"message": "complete task 987654"})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["response"],
        "I could not find that task. Which one do you mean?"
    );
    llm.assert_done();
}

#[tokio::test]
async fn the_agent_stops_after_its_round_limit() {
    let llm = ScriptedLlm::start().await;
    let mut settings = settings(&llm);
    settings.llm.chat.max_rounds = 2;
    let app = TestApp::spawn_configured(settings).await;
    let ada = app.signup("ada@example.com").await;
    llm.then(calls(&[("c1", "list_tags", "{}")]))
        .then(calls(&[("c2", "list_tags", "{}")]));
    let answer = chat(&app, &ada, json!({"message": "loop forever"})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body["response"]
            .as_str()
            .is_some_and(|r| r.contains("stopped after 2 steps")),
        "{}",
        answer.body
    );
    llm.assert_done();
}

#[tokio::test]
async fn a_streamed_turn_stopped_at_the_round_limit_streams_what_it_answers() {
    let llm = ScriptedLlm::start().await;
    let mut settings = settings(&llm);
    settings.llm.chat.max_rounds = 1;
    let app = TestApp::spawn_configured(settings).await;
    let ada = app.signup("ada@example.com").await;
    // One round that both says something and calls a tool, streamed.
    llm.then(Reply::Stream(vec![
        chunk(
            json!({"role": "assistant", "content": "Let me look."}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                   "function": {"name": "list_tags", "arguments": "{}"}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ]));
    let (status, body) = stream_chat(&app, &ada, json!({"message": "loop"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = sse_events(&body);
    let streamed: String = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .map(|(_, d)| d["text"].as_str().expect("text"))
        .collect();
    let done = &events.last().expect("done").1;
    assert!(streamed.contains("stopped after 1 steps"), "{body}");
    assert_eq!(done["response"].as_str(), Some(streamed.as_str()), "{body}");
    llm.assert_done();
}

async fn only_conversation(app: &TestApp, user: &TestUser) -> Value {
    let listed = app.get("/api/v1/conversations", &user.token).await;
    let all = listed.body.as_array().expect("conversations");
    assert_eq!(all.len(), 1, "{}", listed.body);
    let id = all[0]["id"].as_i64().expect("id");
    app.get(&format!("/api/v1/conversations/{id}"), &user.token)
        .await
        .body
}

#[tokio::test]
async fn a_provider_error_or_garbage_is_a_502_and_the_message_is_kept() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    llm.then(Reply::Status(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"error": {"message": "The server had an error", "type": "server_error"}}),
    ));
    let failed = chat(&app, &ada, json!({"message": "add milk"})).await;
    assert_eq!(
        failed.problem(StatusCode::BAD_GATEWAY)["type"],
        "urn:todo:problem:llm-failed"
    );
    let conversation = only_conversation(&app, &ada).await;
    assert_eq!(conversation["messages"][0]["content"], "add milk");
    assert_eq!(conversation["messages"].as_array().map(Vec::len), Some(1));

    llm.then(Reply::Garbage("<html>Bad gateway</html>"));
    let id = conversation["id"].as_i64().expect("id");
    let garbage = chat(
        &app,
        &ada,
        json!({"conversation_id": id, "message": "add milk, please"}),
    )
    .await;
    garbage.problem(StatusCode::BAD_GATEWAY);
    let conversation = only_conversation(&app, &ada).await;
    assert_eq!(conversation["messages"].as_array().map(Vec::len), Some(2));
    llm.assert_done();
}

#[tokio::test]
async fn a_provider_that_hangs_is_a_504_and_the_message_is_kept() {
    let llm = ScriptedLlm::start().await;
    let mut settings = settings(&llm);
    settings.llm.timeout = Duration::from_millis(500);
    let app = TestApp::spawn_configured(settings).await;
    let ada = app.signup("ada@example.com").await;
    // A turn is bounded by the model's timeout, not by the general request time limit.
    let mut strict = self::settings(&llm);
    strict.llm.timeout = Duration::from_millis(500);
    strict.http.request_timeout = Duration::from_millis(100);
    let strict = app.replica(&strict);
    llm.then(Reply::Hang);
    let started = std::time::Instant::now();
    let answer = chat(&strict, &ada, json!({"message": "are you there?"})).await;
    assert_eq!(
        answer.problem(StatusCode::GATEWAY_TIMEOUT)["type"],
        "urn:todo:problem:llm-timeout"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let conversation = only_conversation(&app, &ada).await;
    assert_eq!(conversation["messages"][0]["content"], "are you there?");
    llm.assert_done();
}

#[tokio::test]
async fn without_a_model_the_chat_says_what_to_set_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let answer = chat(&app, &ada, json!({"message": "hello"})).await;
    let problem = answer.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["type"], "urn:todo:problem:llm-not-configured");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(
        detail.contains("LLM_BASE_URL") && detail.contains("LLM_MODEL"),
        "{detail}"
    );
    assert_eq!(
        app.get("/api/v1/conversations", &ada.token).await.body,
        json!([])
    );
}

#[tokio::test]
async fn bad_chat_input_is_a_clear_problem() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    assert_eq!(
        chat(&app, &ada, json!({"message": "   "}))
            .await
            .invalid_fields(),
        vec!["message"]
    );
    chat(&app, &ada, json!({"text": "hi"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    chat(
        &app,
        &ada,
        json!({"conversation_id": 987_654_321, "message": "hi"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    // The id is an integer; a UUID of before (or any text) is the wrong type.
    let problem = chat(
        &app,
        &ada,
        json!({"conversation_id": "0190b2c4-0000-7000-8000-000000000000", "message": "hi"}),
    )
    .await;
    let problem = problem.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("conversation_id")),
        "{problem}"
    );
    app.get("/api/v1/conversations?limit=0", &ada.token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/api/v1/conversations", &ada.token).await.body,
        json!([]),
        "a refused turn stores nothing"
    );
    llm.assert_done();
}

/// The events of an SSE body, as (event, data) pairs.
fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = Some(name.trim().to_owned());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            Some((event?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

async fn stream_chat(app: &TestApp, user: &TestUser, body: Value) -> (StatusCode, String) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/chat")
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = app.raw(request).await;
    if response.status == StatusCode::OK {
        assert_eq!(response.header("content-type"), Some("text/event-stream"));
    }
    let text = match response.body {
        Value::String(text) => text,
        other => other.to_string(),
    };
    (response.status, text)
}

#[tokio::test]
async fn a_streamed_turn_sends_deltas_tool_calls_and_done() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    llm.then(streamed_calls(&[
        ("call_1", "add_task", r#"{"title": "Water plants"}"#),
        (
            "call_2",
            "add_task",
            r#"{"title": "Feed cat", "priority": "urgent"}"#,
        ),
    ]))
    .expect(
        |_, request| {
            assert_eq!(request["stream"], true);
            let all = messages(request);
            assert_eq!(
                all[all.len() - 3]["tool_calls"][0]["function"]["arguments"],
                r#"{"title": "Water plants"}"#
            );
        },
        streamed_text(&["Added ", "both", " tasks."]),
    );
    let (status, body) =
        stream_chat(&app, &ada, json!({"message": "water plants, feed cat"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = sse_events(&body);
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names,
        vec!["tool_call", "tool_call", "delta", "delta", "delta", "done"],
        "{body}"
    );
    assert_eq!(events[1].1["arguments"]["priority"], "urgent");
    assert_eq!(events[1].1["result"]["status"], "created");
    let streamed: String = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .map(|(_, d)| d["text"].as_str().expect("text"))
        .collect();
    let done = &events[5].1;
    assert_eq!(streamed, "Added both tasks.");
    assert_eq!(done["response"], "Added both tasks.");
    assert_eq!(done["tool_calls"].as_array().map(Vec::len), Some(2));
    assert!(done["conversation_id"].is_i64(), "{done}");
    assert_eq!(
        titles(&app, &ada, "all").await,
        vec!["Water plants", "Feed cat"]
    );
    llm.assert_done();
}

#[tokio::test]
async fn text_of_each_round_streams_as_a_paragraph_of_the_answer() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    llm.then(Reply::Stream(vec![
        chunk(json!({"role": "assistant", "content": "Let me "}), None),
        chunk(json!({"content": "look."}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                   "function": {"name": "list_tags", "arguments": "{}"}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ]))
    .then(streamed_text(&["No tags ", "yet."]));

    let (status, body) = stream_chat(&app, &ada, json!({"message": "my tags?"})).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let events = sse_events(&body);
    let streamed: String = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .map(|(_, d)| d["text"].as_str().expect("text"))
        .collect();
    assert_eq!(streamed, "Let me look.\n\nNo tags yet.");
    let (last, done) = events.last().expect("events");
    assert_eq!(last, "done");
    assert_eq!(done["response"].as_str(), Some(streamed.as_str()));
    let conversation = only_conversation(&app, &ada).await;
    let stored = conversation["messages"].as_array().expect("messages");
    assert_eq!(stored.last().expect("answer")["content"], "No tags yet.");
    llm.assert_done();
}

#[tokio::test]
async fn streamed_text_reaches_the_client_while_the_model_is_still_writing() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    llm.then(streaming_text(&["Thinking", " about it"]));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/chat")
        .header(header::AUTHORIZATION, format!("Bearer {}", ada.token))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream")
        .body(Body::from(json!({"message": "hm?"}).to_string()))
        .expect("request");

    let response = app.router.clone().oneshot(request).await.expect("response");

    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut seen = String::new();
    let deltas = |seen: &str| -> String {
        sse_events(seen)
            .iter()
            .filter(|(e, _)| e == "delta")
            .filter_map(|(_, d)| d["text"].as_str().map(str::to_owned))
            .collect()
    };
    // The turn cannot end before the model's timeout (5 s): text seen sooner was streamed.
    let read = tokio::time::timeout(Duration::from_secs(4), async {
        while deltas(&seen) != "Thinking about it" {
            let Some(Ok(frame)) = body.frame().await else {
                return;
            };
            if let Ok(data) = frame.into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no text while the model writes: {seen:?}");
    assert_eq!(deltas(&seen), "Thinking about it", "{seen}");
    assert!(
        sse_events(&seen).iter().all(|(e, _)| e == "delta"),
        "the turn is not over: {seen}"
    );
}

#[tokio::test]
async fn a_streamed_turn_reports_a_provider_failure_as_an_error_event_or_a_problem() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    // After the message is stored the stream has begun: the failure is an `error` event.
    llm.then(Reply::Status(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"error": "overloaded"}),
    ));
    let (status, body) = stream_chat(&app, &ada, json!({"message": "hi"})).await;
    assert_eq!(status, StatusCode::OK);
    let events = sse_events(&body);
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0].0, "error");
    assert_eq!(events[0].1["problem"]["status"], 502);
    assert_eq!(
        events[0].1["problem"]["type"],
        "urn:todo:problem:llm-failed"
    );
    // Refused before anything is stored: a plain problem.
    let (status, body) = stream_chat(&app, &ada, json!({"message": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    llm.assert_done();
}

#[tokio::test]
async fn another_users_conversation_is_not_found() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    llm.then(text("Hello Alice."));
    let answer = chat(&app, &alice, json!({"message": "my secret plans"})).await;
    let id = answer.body["conversation_id"].as_i64().expect("id");
    let uri = format!("/api/v1/conversations/{id}");

    app.get(&uri, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.delete(&uri, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    chat(
        &app,
        &bob,
        json!({"conversation_id": id, "message": "let me in"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/conversations", &bob.token).await.body,
        json!([])
    );
    app.get(&format!("/api/{}/conversations/{id}", bob.id), &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);

    let alices = app.get(&uri, &alice.token).await;
    assert_eq!(alices.body["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        app.delete(&uri, &alice.token).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&uri, &alice.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    llm.assert_done();
}

#[tokio::test]
async fn conversations_and_messages_are_paged_through_link_headers() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        llm.then(text(&format!("answer {i}")));
        let answer = chat(&app, &ada, json!({"message": format!("question {i}")})).await;
        ids.push(answer.body["conversation_id"].as_i64().expect("id"));
    }
    let first = app.get("/api/v1/conversations?limit=2", &ada.token).await;
    assert_eq!(first.body[0]["id"], ids[2]);
    assert_eq!(first.body[1]["title"], "question 1");
    let next = first.header("link").expect("a next page");
    let next = next.trim_start_matches('<').split('>').next().expect("url");
    let second = app.get(next, &ada.token).await;
    assert_eq!(second.body.as_array().map(Vec::len), Some(1));
    assert_eq!(second.body[0]["id"], ids[0]);
    assert!(second.header("link").is_none());

    llm.then(text("answer 3"));
    chat(
        &app,
        &ada,
        json!({"conversation_id": ids[0], "message": "more"}),
    )
    .await;
    let page = app
        .get(
            &format!("/api/v1/conversations/{}?limit=3", ids[0]),
            &ada.token,
        )
        .await;
    let contents: Vec<&str> = page.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].as_str().expect("content"))
        .collect();
    assert_eq!(contents, vec!["answer 0", "more", "answer 3"]);
    let next = page.header("link").expect("older messages");
    let next = next.trim_start_matches('<').split('>').next().expect("url");
    let older = app.get(next, &ada.token).await;
    assert_eq!(older.body["messages"][0]["content"], "question 0");
    llm.assert_done();
}

#[tokio::test]
async fn a_users_own_key_is_sealed_used_instead_of_the_servers_and_never_shown_or_logged() {
    let captured = crate::logs::captured();
    let user_key = "sk-user-own-key-MUST-NOT-LEAK-9f8e7d6c";
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;

    app.get("/api/v1/llm-credentials", &ada.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    let stored = app
        .put(
            "/api/v1/llm-credentials",
            &ada.token,
            json!({"api_key": user_key, "model": "user-model"}),
        )
        .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    assert_eq!(stored.body["api_key"], "••••7d6c");
    assert_eq!(stored.body["model"], "user-model");
    let shown = app.get("/api/v1/llm-credentials", &ada.token).await;
    assert_eq!(shown.body["api_key"], "••••7d6c");

    let sealed = app
        .db
        .store
        .llm_credential(&ada.id.clone().into())
        .await
        .expect("read")
        .expect("stored");
    assert!(!sealed.api_key_ciphertext.contains(user_key));

    let expected = format!("Bearer {user_key}");
    llm.expect(
        move |headers, request| {
            assert_eq!(
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
                Some(expected.as_str())
            );
            assert_eq!(request["model"], "user-model");
        },
        text("Hi with your key."),
    );
    let answer = chat(&app, &ada, json!({"message": "hi"})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // A provider that echoes the key in its error: the log gets it redacted.
    llm.then(Reply::Status(
        StatusCode::UNAUTHORIZED,
        json!({"error": {"message": format!("Incorrect API key provided: {user_key}")}}),
    ));
    let refused = chat(&app, &ada, json!({"message": "again"})).await;
    refused.problem(StatusCode::BAD_GATEWAY);

    for response in [&stored, &shown, &answer, &refused] {
        assert!(
            !response.body.to_string().contains(user_key),
            "{}",
            response.body
        );
        assert!(!format!("{:?}", response.headers).contains(user_key));
    }
    let logs = captured.text();
    assert!(logs.contains("chat turn failed"), "the failure is logged");
    assert!(!logs.contains(user_key), "the key was logged: {logs}");
    assert!(!logs.contains(SERVER_KEY));

    assert_eq!(
        app.delete("/api/v1/llm-credentials", &ada.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.get("/api/v1/llm-credentials", &ada.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    llm.assert_done();
}

#[tokio::test]
async fn without_an_encryption_key_no_llm_key_can_be_stored() {
    let llm = ScriptedLlm::start().await;
    let mut settings = settings(&llm);
    settings.llm.encryption_key = None;
    let app = TestApp::spawn_configured(settings).await;
    let ada = app.signup("ada@example.com").await;
    let refused = app
        .put(
            "/api/v1/llm-credentials",
            &ada.token,
            json!({"api_key": "sk-0123456789abcdef"}),
        )
        .await;
    let problem = refused.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("TODO_ENCRYPTION_KEY")),
        "{problem}"
    );
    app.put(
        "/api/v1/llm-credentials",
        &ada.token,
        json!({"api_key": ""}),
    )
    .await
    .problem(StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_key_sealed_under_a_former_encryption_key_asks_to_be_stored_again() {
    let llm = ScriptedLlm::start().await;
    let app = TestApp::spawn_configured(settings(&llm)).await;
    let ada = app.signup("ada@example.com").await;
    let stored = app
        .put(
            "/api/v1/llm-credentials",
            &ada.token,
            json!({"api_key": "sk-0123456789abcdef"}),
        )
        .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);

    // The operator replaces TODO_ENCRYPTION_KEY; the same database is served again.
    let mut rotated = settings(&llm);
    rotated.llm.encryption_key = Some(Secret::new("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="));
    let app = app.replica(&rotated);
    let refused = chat(&app, &ada, json!({"message": "hello"})).await;
    let problem = refused.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("store it again")),
        "{problem}"
    );
    // Deleting the stored key falls back to the server's model.
    let deleted = app.delete("/api/v1/llm-credentials", &ada.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    llm.expect(
        |headers, _| {
            assert_eq!(
                headers.get("authorization").and_then(|v| v.to_str().ok()),
                Some(format!("Bearer {SERVER_KEY}").as_str())
            );
        },
        text("Hi Ada"),
    );
    let answered = chat(&app, &ada, json!({"message": "hello"})).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    assert_eq!(answered.body["response"], "Hi Ada");
    llm.assert_done();
}

#[tokio::test]
async fn open_streams_end_with_an_error_event_when_the_server_shuts_down() {
    let llm = ScriptedLlm::start().await;
    let mut settings = settings(&llm);
    settings.llm.timeout = Duration::from_secs(60);
    let db = todo_testkit::selected().await;
    let todo = todo_core::Todo::new(db.store.clone());
    let state = todo_server::AppState::new(todo.clone(), &settings).expect("state");
    let shutdown = state.shutdown.clone();
    let app = TestApp {
        router: todo_server::app(state).expect("router"),
        todo,
        db: std::sync::Arc::new(db),
    };
    let ada = app.signup("ada@example.com").await;
    llm.then(Reply::Hang);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        shutdown.cancel();
    });
    let started = std::time::Instant::now();
    let (status, body) = stream_chat(&app, &ada, json!({"message": "still there?"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stream ended on shutdown"
    );
    let events = sse_events(&body);
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0].0, "error");
    assert_eq!(
        events[0].1["problem"]["type"],
        "urn:todo:problem:shutting-down"
    );
    let conversation = only_conversation(&app, &ada).await;
    assert_eq!(conversation["messages"][0]["content"], "still there?");
    llm.assert_done();
}
