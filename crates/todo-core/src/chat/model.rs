//! The language model as the agent sees it: a request of messages and tools, a reply of text
//! and tool calls. The OpenAI-compatible client that implements it lives with the HTTP code
//! (`todo-server`), so the core stays free of HTTP.

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Which endpoint, key and model one turn uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTarget {
    /// The base of an OpenAI-compatible API, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// None for servers that need none (Ollama, vLLM without auth).
    pub api_key: Option<Secret>,
    pub model: String,
}

/// One message sent to the model.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelMessage {
    System(String),
    User(String),
    Assistant {
        content: String,
        tool_calls: Vec<ModelToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A tool call as the model made it; `arguments` is its raw JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTool {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    pub messages: Vec<ModelMessage>,
    pub tools: Vec<ModelTool>,
    /// Ask the provider to stream; text then reaches the caller as it arrives.
    pub stream: bool,
}

/// What the model answered in one round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelReply {
    pub content: String,
    pub tool_calls: Vec<ModelToolCall>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    /// No answer within the configured time.
    #[error("the model did not answer in time")]
    Timeout,
    /// An error status, a refused connection, or an answer that is not a chat completion.
    /// The text is for the log (it never holds the key).
    #[error("the model provider failed: {0}")]
    Failed(String),
}

/// Called with each piece of text as it streams in.
pub type TextSink<'a> = &'a (dyn Fn(&str) + Send + Sync);

#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// One round: sends the request to `target` and returns the whole reply. When the request
    /// streams, text is also passed to `on_text` as it arrives.
    async fn complete(
        &self,
        target: &ModelTarget,
        request: &ModelRequest,
        on_text: TextSink<'_>,
    ) -> Result<ModelReply, ModelError>;
}
