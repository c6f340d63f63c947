//! The chat agent's routes: a turn (`POST /chat`, JSON or streamed as Server-Sent Events),
//! the stored conversations, and the user's own LLM key. Thin: the agent loop is
//! [`todo_core::chat::Chat`].

use std::convert::Infallible;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use todo_core::chat::agent::{CredentialInput, CredentialView};
use todo_core::chat::{
    ChatError, ChatEvent, ChatInput, ChatReply, Conversation, ConversationWithMessages, MessageId,
};
use todo_core::ids::ConversationId;
use tokio::sync::mpsc;

use crate::AppState;
use crate::api::link_next;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::Domain(e) => e.into(),
            ChatError::NotConfigured(detail) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "llm-not-configured",
                detail,
            ),
            ChatError::ModelTimeout { conversation_id } => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "llm-timeout",
                format!(
                    "the language model did not answer in time; your message is kept in \
                     conversation {conversation_id}: try again"
                ),
            ),
            ChatError::ModelFailed { conversation_id } => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "llm-failed",
                format!(
                    "the language model provider failed or answered something unreadable; \
                     your message is kept in conversation {conversation_id}: try again"
                ),
            ),
        }
    }
}

fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}

/// Say something to the assistant, which manages the tasks with tools. With `Accept:
/// text/event-stream` the answer streams as events `delta` {text}, `tool_call` {tool,
/// arguments, result}, `done` (the JSON answer) and `error` {problem}.
#[utoipa::path(
    post,
    path = "/chat",
    operation_id = "sendChatMessage",
    tag = "chat",
    security(("bearer" = [])),
    request_body(content = ChatInput, example = json!({"conversation_id": 12, "message": "What is due this week?"})),
    responses(
        (status = 200, body = ChatReply, description = "The answer, or an event stream"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json", description = "The model provider failed; the message is kept"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "No model configured"),
        (status = 504, body = Problem, content_type = "application/problem+json", description = "The model did not answer in time; the message is kept"),
    )
)]
pub async fn chat(
    State(state): State<AppState>,
    Auth(principal): Auth,
    headers: HeaderMap,
    Json(input): Json<ChatInput>,
) -> Response {
    // The turn runs on its own task, so it finishes (and is stored) even if the client goes:
    // a tool that ran always has its messages in the conversation.
    if !wants_stream(&headers) {
        let chat = state.chat.clone();
        let turn = tokio::spawn(async move {
            let ignore = |_: ChatEvent<'_>| {};
            chat.turn(&principal, input, false, &ignore).await
        });
        return match turn.await {
            Ok(Ok(reply)) => axum::Json(reply).into_response(),
            Ok(Err(e)) => ApiError::from(e).into_response(),
            Err(e) => ApiError::internal(&e).into_response(),
        };
    }

    let (sender, receiver) = mpsc::unbounded_channel::<Event>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Result<(), ApiError>>();
    let chat = state.chat.clone();
    tokio::spawn(async move {
        let started = std::sync::Mutex::new(Some(started_tx));
        let events = |event: ChatEvent<'_>| {
            let sse = match event {
                ChatEvent::Started(_) => {
                    if let Some(tx) = started.lock().ok().and_then(|mut s| s.take()) {
                        let _ = tx.send(Ok(()));
                    }
                    return;
                }
                ChatEvent::Delta(text) => json_event("delta", &json!({ "text": text })),
                ChatEvent::ToolCall(outcome) => json_event("tool_call", outcome),
            };
            let _ = sender.send(sse);
        };
        let result = chat.turn(&principal, input, true, &events).await;
        let early = started.lock().ok().and_then(|mut s| s.take());
        match (result, early) {
            // Failed before the stream began: answered as a plain problem.
            (Err(e), Some(tx)) => {
                let _ = tx.send(Err(e.into()));
            }
            (Err(e), None) => {
                let problem = ApiError::from(e).problem();
                let _ = sender.send(json_event("error", &json!({ "problem": problem })));
            }
            (Ok(reply), _) => {
                let _ = sender.send(json_event("done", &reply));
            }
        }
    });
    match started_rx.await {
        Ok(Ok(())) => {}
        Ok(Err(problem)) => return problem.into_response(),
        Err(_) => return ApiError::internal(&"the chat turn ended without a word").into_response(),
    }

    let shutdown = state.shutdown.clone();
    let stream = futures_util::stream::unfold(Some(receiver), move |open| {
        let shutdown = shutdown.clone();
        async move {
            let mut receiver = open?;
            tokio::select! {
                event = receiver.recv() => event.map(|e| (Ok::<_, Infallible>(e), Some(receiver))),
                () = shutdown.cancelled() => {
                    let problem = ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "shutting-down",
                        "the server is shutting down; the conversation is stored, continue it later",
                    )
                    .problem();
                    Some((Ok(json_event("error", &json!({ "problem": problem }))), None))
                }
            }
        }
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    // Tell proxies (nginx) not to buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn json_event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConversationQuery {
    /// Page size, 1–200 (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `cursor` of the `Link: rel="next"` header of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

/// The caller's conversations, most recently active first. More pages follow through the
/// `Link: <…>; rel="next"` header.
#[utoipa::path(
    get,
    path = "/conversations",
    operation_id = "listConversations",
    tag = "chat",
    security(("bearer" = [])),
    params(ConversationQuery),
    responses((status = 200, description = "One page of conversations, newest activity first", body = [Conversation]), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ConversationQuery>,
) -> ApiResult<(HeaderMap, axum::Json<Vec<Conversation>>)> {
    let page = state
        .todo
        .list_conversations(&principal.user_id, query.cursor.as_deref(), query.limit)
        .await?;
    let mut headers = HeaderMap::new();
    if let Some(next) = page.next {
        link_next(&mut headers, &uri, "cursor", &next.encode());
    }
    Ok((headers, axum::Json(page.items)))
}

#[derive(Deserialize)]
pub struct ConversationPath {
    id: ConversationId,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Messages per page, 1–200 (default 50): the newest ones, or those before `before`.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Only messages older than this message id (from the `Link: rel="next"` header).
    #[serde(default)]
    before: Option<MessageId>,
}

/// A conversation with its latest messages, oldest first. Older messages: follow the
/// `Link: <…?before=…>; rel="next"` header.
#[utoipa::path(
    get,
    path = "/conversations/{id}",
    operation_id = "getConversation",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation's id"), MessagesQuery),
    responses((status = 200, description = "The conversation and its newest messages", body = ConversationWithMessages), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn get(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<ConversationPath>,
    Query(query): Query<MessagesQuery>,
) -> ApiResult<(HeaderMap, axum::Json<ConversationWithMessages>)> {
    let page = state
        .todo
        .get_conversation(&principal.user_id, &path.id, query.before, query.limit)
        .await?;
    let mut headers = HeaderMap::new();
    if let Some(before) = page.next {
        link_next(&mut headers, &uri, "before", &before.to_string());
    }
    let conversation = page
        .items
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("conversation not found"))?;
    Ok((headers, axum::Json(conversation)))
}

/// Delete a conversation and all its messages.
#[utoipa::path(
    delete,
    path = "/conversations/{id}",
    operation_id = "deleteConversation",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 204, description = "Deleted, with its messages"), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<ConversationPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .delete_conversation(&principal.user_id, &path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Store your own LLM provider key (replacing any earlier one). It is encrypted at rest, used
/// for your chat turns instead of the server's key, and never shown again: only masked.
#[utoipa::path(
    put,
    path = "/llm-credentials",
    operation_id = "putLlmCredential",
    tag = "chat",
    security(("bearer" = [])),
    request_body = CredentialInput,
    responses(
        (status = 200, description = "The stored key, masked", body = CredentialView),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "The server has no TODO_ENCRYPTION_KEY"),
    )
)]
pub async fn put_credential(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<CredentialInput>,
) -> ApiResult<axum::Json<CredentialView>> {
    Ok(axum::Json(
        state.chat.put_credential(&principal.user_id, input).await?,
    ))
}

/// Your stored LLM key, masked.
#[utoipa::path(
    get,
    path = "/llm-credentials",
    operation_id = "getLlmCredential",
    tag = "chat",
    security(("bearer" = [])),
    responses((status = 200, description = "The stored key, masked", body = CredentialView), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn get_credential(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> ApiResult<axum::Json<CredentialView>> {
    Ok(axum::Json(state.chat.credential(&principal.user_id).await?))
}

/// Forget your LLM key; the server's key is used again.
#[utoipa::path(
    delete,
    path = "/llm-credentials",
    operation_id = "deleteLlmCredential",
    tag = "chat",
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn delete_credential(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> ApiResult<StatusCode> {
    state.chat.delete_credential(&principal.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
