//! A scripted OpenAI-compatible server on loopback: the one stand-in the suite allows, for the
//! outside LLM provider. It serves `POST /v1/chat/completions` from a script of expected
//! rounds: each checks the request it receives (the tools offered, the system prompt, the
//! history, the key) and answers as the real APIs do — a JSON completion, an SSE stream of
//! chunks ending in `[DONE]`, an error status, garbage, or no answer at all.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Value, json};

pub enum Reply {
    /// A whole completion (`stream: false`).
    Json(Value),
    /// Chunks sent as `data:` events, then `data: [DONE]` (`stream: true`).
    Stream(Vec<Value>),
    /// Chunks sent as `data:` events, then nothing more: a model still writing.
    StreamOpen(Vec<Value>),
    Status(StatusCode, Value),
    /// A 200 whose body is not a completion.
    Garbage(&'static str),
    /// Never answers.
    Hang,
}

type Check = Box<dyn Fn(&HeaderMap, &Value) + Send + Sync>;

struct Round {
    check: Check,
    reply: Reply,
}

#[derive(Default)]
struct Script {
    rounds: VecDeque<Round>,
    failures: Vec<String>,
}

#[derive(Clone)]
pub struct ScriptedLlm {
    pub base_url: String,
    script: Arc<Mutex<Script>>,
}

impl ScriptedLlm {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{address}/v1"),
            script,
        }
    }

    /// Expects one more round: `check` asserts on its request, `reply` answers it.
    pub fn expect(
        &self,
        check: impl Fn(&HeaderMap, &Value) + Send + Sync + 'static,
        reply: Reply,
    ) -> &Self {
        self.script.lock().expect("script").rounds.push_back(Round {
            check: Box::new(check),
            reply,
        });
        self
    }

    /// Expects a round without looking at it.
    pub fn then(&self, reply: Reply) -> &Self {
        self.expect(|_, _| {}, reply)
    }

    /// Asserts that every round was played and every check held.
    pub fn assert_done(&self) {
        let script = self.script.lock().expect("script");
        assert!(script.failures.is_empty(), "{}", script.failures.join("\n"));
        assert!(
            script.rounds.is_empty(),
            "{} scripted rounds were never requested",
            script.rounds.len()
        );
    }
}

async fn completions(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return fail(&script, "the request body is not JSON".into());
    };
    let round = {
        let mut script = script.lock().expect("script");
        script.rounds.pop_front()
    };
    let Some(round) = round else {
        return fail(&script, format!("an unexpected round: {request}"));
    };
    if let Err(panic) =
        std::panic::catch_unwind(AssertUnwindSafe(|| (round.check)(&headers, &request)))
    {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        return fail(
            &script,
            format!("check failed: {message}\nrequest: {request}"),
        );
    }
    let streaming = request["stream"] == json!(true);
    match round.reply {
        Reply::Json(completion) => {
            if streaming {
                return fail(&script, "a streaming request got a JSON reply".into());
            }
            axum::Json(completion).into_response()
        }
        Reply::Stream(_) | Reply::StreamOpen(_) if !streaming => {
            fail(&script, "a plain request got a stream reply".into())
        }
        Reply::Stream(chunks) => {
            let events = data_events(&chunks).chain(futures::stream::iter([Ok(
                Bytes::from_static(b"data: [DONE]\n\n"),
            )]));
            (
                [(header::CONTENT_TYPE, "text/event-stream")],
                Body::from_stream(events),
            )
                .into_response()
        }
        Reply::StreamOpen(chunks) => {
            let events = data_events(&chunks).chain(futures::stream::pending());
            (
                [(header::CONTENT_TYPE, "text/event-stream")],
                Body::from_stream(events),
            )
                .into_response()
        }
        Reply::Status(status, body) => (status, axum::Json(body)).into_response(),
        Reply::Garbage(text) => {
            ([(header::CONTENT_TYPE, "application/json")], text).into_response()
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

fn data_events(
    chunks: &[Value],
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + use<> {
    let events: Vec<_> = chunks
        .iter()
        .map(|c| Ok(Bytes::from(format!("data: {c}\n\n"))))
        .collect();
    futures::stream::iter(events)
}

fn fail(script: &Arc<Mutex<Script>>, message: String) -> Response {
    script
        .lock()
        .expect("script")
        .failures
        .push(message.clone());
    (StatusCode::IM_A_TEAPOT, message).into_response()
}

/// A completion that answers in words.
pub fn text(content: &str) -> Reply {
    Reply::Json(json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "scripted",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    }))
}

/// A completion that calls tools (several at once: parallel tool calls). Arguments are the
/// raw text the model sends.
pub fn calls(calls: &[(&str, &str, &str)]) -> Reply {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, arguments)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
        })
        .collect();
    Reply::Json(json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "scripted",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": null, "tool_calls": tool_calls},
            "finish_reason": "tool_calls"
        }]
    }))
}

/// One chunk of a streamed completion.
pub fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1_764_000_000,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    })
}

fn text_chunks(pieces: &[&str]) -> Vec<Value> {
    let mut chunks = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    chunks.extend(pieces.iter().map(|p| chunk(json!({"content": p}), None)));
    chunks
}

/// A streamed answer in words, one chunk per piece.
pub fn streamed_text(pieces: &[&str]) -> Reply {
    let mut chunks = text_chunks(pieces);
    chunks.push(chunk(json!({}), Some("stop")));
    Reply::Stream(chunks)
}

/// The first pieces of an answer in words, streamed, and then no more: the model is still
/// writing when the test looks.
pub fn streaming_text(pieces: &[&str]) -> Reply {
    Reply::StreamOpen(text_chunks(pieces))
}

/// Streamed tool calls as OpenAI sends them: a first fragment with id and name per index,
/// then the arguments in two pieces each, interleaved across the calls.
pub fn streamed_calls(calls: &[(&str, &str, &str)]) -> Reply {
    let mut chunks = vec![chunk(json!({"role": "assistant", "content": null}), None)];
    for (index, (id, name, _)) in calls.iter().enumerate() {
        chunks.push(chunk(
            json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                   "function": {"name": name, "arguments": ""}}]}),
            None,
        ));
    }
    for half in 0..2 {
        for (index, (_, _, arguments)) in calls.iter().enumerate() {
            let middle = arguments.len() / 2;
            let piece = if half == 0 {
                &arguments[..middle]
            } else {
                &arguments[middle..]
            };
            chunks.push(chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                None,
            ));
        }
    }
    chunks.push(chunk(json!({}), Some("tool_calls")));
    Reply::Stream(chunks)
}

/// The messages of a request.
pub fn messages(request: &Value) -> &Vec<Value> {
    request["messages"].as_array().expect("messages")
}

/// The names of the tools a request offers.
pub fn tool_names(request: &Value) -> Vec<String> {
    request["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
