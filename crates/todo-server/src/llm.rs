//! The OpenAI-compatible Chat Completions client behind the core's [`LanguageModel`]: one
//! `POST {base}/chat/completions` per round, with the task tools, plain JSON or streamed
//! (Server-Sent Events whose tool-call fragments are assembled by index). Written on reqwest
//! and serde rather than a typed SDK so that the quirks of the providers people point it at
//! (Gemini's OpenAI endpoint, Ollama, vLLM, OpenRouter) are tolerated in one place: arguments
//! sent as objects, missing call ids or indexes, JSON answers to a streaming request.

mod stream;

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use todo_core::chat::ChatConfig;
use todo_core::chat::model::{
    LanguageModel, ModelError, ModelMessage, ModelReply, ModelRequest, ModelTarget, ModelToolCall,
    Secret, TextSink,
};

use self::stream::{Assembler, SseLines};

/// The chat's settings, resolved once at start.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// `LLM_BASE_URL`, `LLM_API_KEY`, `LLM_MODEL` and the agent's bounds.
    pub chat: ChatConfig,
    /// `LLM_TIMEOUT_SECS`: longest wait for one model answer (or, streaming, one chunk).
    pub timeout: Duration,
    /// `TODO_ENCRYPTION_KEY`: seals users' own provider keys; without it none can be stored.
    pub encryption_key: Option<Secret>,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            chat: ChatConfig::default(),
            timeout: Duration::from_secs(60),
            encryption_key: None,
        }
    }
}

/// Longest stretch of provider error text kept for the log.
const ERROR_TEXT_CHARS: usize = 300;

/// Talks to any OpenAI-compatible endpoint; one per process (it pools connections).
pub struct OpenAiCompatible {
    http: reqwest::Client,
    /// For a whole answer; when streaming, for the headers and then between two chunks.
    timeout: Duration,
}

impl OpenAiCompatible {
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("building the LLM HTTP client: {e}"))?;
        Ok(Self { http, timeout })
    }
}

#[async_trait]
impl LanguageModel for OpenAiCompatible {
    async fn complete(
        &self,
        target: &ModelTarget,
        request: &ModelRequest,
        on_text: TextSink<'_>,
    ) -> Result<ModelReply, ModelError> {
        let url = format!("{}/chat/completions", target.base_url.trim_end_matches('/'));
        let mut builder = self.http.post(&url).json(&body(target, request));
        if let Some(key) = &target.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        let redact = |text: &str| match &target.api_key {
            Some(key) if !key.expose().is_empty() => text.replace(key.expose(), "[redacted]"),
            _ => text.to_owned(),
        };
        let sent = match request.stream {
            // Streaming: the timeout covers the headers here and then each chunk.
            true => tokio::time::timeout(self.timeout, builder.send()).await,
            false => tokio::time::timeout(self.timeout, builder.timeout(self.timeout).send()).await,
        };
        let response = match sent {
            Err(_) => return Err(ModelError::Timeout),
            Ok(Err(e)) if e.is_timeout() => return Err(ModelError::Timeout),
            Ok(Err(e)) => return Err(ModelError::Failed(redact(&format!("{url}: {e}")))),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !status.is_success() {
            let text = read_text(response, self.timeout).await.unwrap_or_default();
            let text: String = redact(&text).chars().take(ERROR_TEXT_CHARS).collect();
            return Err(ModelError::Failed(format!(
                "{url} answered {status}: {text}"
            )));
        }
        if is_sse {
            return self.read_stream(response, on_text, &redact).await;
        }
        let text = read_text(response, self.timeout).await?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            ModelError::Failed(format!("{url} answered something that is not JSON: {e}"))
        })?;
        let reply = parse_completion(&value).ok_or_else(|| {
            let text: String = redact(&text).chars().take(ERROR_TEXT_CHARS).collect();
            ModelError::Failed(format!(
                "{url} answered JSON that is not a chat completion: {text}"
            ))
        })?;
        on_text(&reply.content);
        Ok(reply)
    }
}

impl OpenAiCompatible {
    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        on_text: TextSink<'_>,
        redact: &(dyn Fn(&str) -> String + Send + Sync),
    ) -> Result<ModelReply, ModelError> {
        let mut lines = SseLines::default();
        let mut assembler = Assembler::default();
        loop {
            let chunk = match tokio::time::timeout(self.timeout, response.chunk()).await {
                Err(_) => return Err(ModelError::Timeout),
                Ok(Err(e)) if e.is_timeout() => return Err(ModelError::Timeout),
                Ok(Err(e)) => return Err(ModelError::Failed(format!("reading the stream: {e}"))),
                // The stream ended without [DONE]; what arrived is the answer.
                Ok(Ok(None)) => return assembler.finish(),
                Ok(Ok(Some(bytes))) => bytes,
            };
            for data in lines.push(&chunk) {
                if data == "[DONE]" {
                    return assembler.finish();
                }
                let value: Value = serde_json::from_str(&data).map_err(|e| {
                    ModelError::Failed(format!(
                        "a stream event is not JSON ({e}): {}",
                        redact(&data)
                    ))
                })?;
                if let Some(error) = value.get("error") {
                    return Err(ModelError::Failed(format!(
                        "the provider sent an error: {}",
                        redact(&error.to_string())
                    )));
                }
                if let Some(text) = assembler.push(&value) {
                    on_text(&text);
                }
            }
        }
    }
}

async fn read_text(response: reqwest::Response, timeout: Duration) -> Result<String, ModelError> {
    match tokio::time::timeout(timeout, response.text()).await {
        Err(_) => Err(ModelError::Timeout),
        Ok(Err(e)) if e.is_timeout() => Err(ModelError::Timeout),
        Ok(Err(e)) => Err(ModelError::Failed(format!("reading the answer: {e}"))),
        Ok(Ok(text)) => Ok(text),
    }
}

/// The request body of one round.
fn body(target: &ModelTarget, request: &ModelRequest) -> Value {
    let messages: Vec<Value> = request.messages.iter().map(message).collect();
    let tools: Vec<Value> = request
        .tools
        .iter()
        .map(|tool| {
            json!({
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                }
            })
        })
        .collect();
    let mut body = json!({
        "model": target.model,
        "messages": messages,
        "stream": request.stream,
    });
    if !tools.is_empty() {
        body["tools"] = Value::Array(tools);
        body["tool_choice"] = json!("auto");
    }
    body
}

fn message(message: &ModelMessage) -> Value {
    match message {
        ModelMessage::System(content) => json!({"role": "system", "content": content}),
        ModelMessage::User(content) => json!({"role": "user", "content": content}),
        ModelMessage::Assistant {
            content,
            tool_calls,
        } if tool_calls.is_empty() => json!({"role": "assistant", "content": content}),
        ModelMessage::Assistant {
            content,
            tool_calls,
        } => json!({
            "role": "assistant",
            // Some providers refuse "" next to tool calls; null is what OpenAI sends.
            "content": if content.is_empty() { Value::Null } else { json!(content) },
            "tool_calls": tool_calls.iter().map(|call| json!({
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            })).collect::<Vec<_>>(),
        }),
        ModelMessage::Tool {
            tool_call_id,
            content,
        } => json!({"role": "tool", "tool_call_id": tool_call_id, "content": content}),
    }
}

/// Reads a non-streamed completion; `None` when it is not one.
fn parse_completion(value: &Value) -> Option<ModelReply> {
    let message = value.get("choices")?.get(0)?.get("message")?;
    let content = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let tool_calls = match message.get("tool_calls") {
        Some(Value::Array(calls)) => calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                let function = call.get("function")?;
                Some(ModelToolCall {
                    id: call
                        .get("id")
                        .and_then(Value::as_str)
                        .filter(|id| !id.is_empty())
                        .map_or_else(|| format!("call_{i}"), str::to_owned),
                    name: function.get("name")?.as_str()?.to_owned(),
                    arguments: arguments_text(function.get("arguments")),
                })
            })
            .collect::<Option<Vec<_>>>()?,
        _ => Vec::new(),
    };
    Some(ModelReply {
        content,
        tool_calls,
    })
}

/// Arguments as JSON text: OpenAI sends a string, some servers an object.
fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_with_object_arguments_and_no_ids_are_read() {
        let value = json!({"choices": [{"message": {"content": null, "tool_calls": [
            {"type": "function", "function": {"name": "add_task", "arguments": {"title": "x"}}},
            {"id": "b", "function": {"name": "list_tasks", "arguments": "{}"}}
        ]}}]});
        let reply = parse_completion(&value).expect("a completion");
        assert_eq!(reply.content, "");
        assert_eq!(reply.tool_calls[0].id, "call_0");
        assert_eq!(reply.tool_calls[0].arguments, r#"{"title":"x"}"#);
        assert_eq!(reply.tool_calls[1].id, "b");
        assert!(parse_completion(&json!({"hello": "world"})).is_none());
    }
}
