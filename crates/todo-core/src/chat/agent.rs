//! The agent loop of one chat turn, in four steps that [`Chat::turn`] lists: accept the
//! message (every refusal comes before anything is stored; then the message is stored), build
//! the first model request (system prompt, the history that fits, the task tools), play rounds
//! — the model answers, the tools it asks for run through the registry ([`crate::tools::call`],
//! the same one MCP uses) — until it answers in words or the round limit is hit, and finish
//! (store the answer, or say that the agent stopped). Every message is stored as it happens, so
//! no state lives in memory between turns: any replica can take the next one, and a restart
//! loses nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use super::model::{
    LanguageModel, ModelError, ModelMessage, ModelReply, ModelRequest, ModelTarget, ModelTool,
    ModelToolCall, Secret,
};
use super::prompt::{estimate_tokens, fit_history, system_prompt};
use super::secret::{Cipher, key_hint, masked};
use super::store::StoredCredential;
use super::{
    ConversationId, Message, MessageToolCall, NewConversation, NewMessage, Role, title_from,
};
use crate::Todo;
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::metrics;
use crate::time::now;
use crate::tools::{self, ToolError};
use crate::user::User;

/// Longest user message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 10_000;
/// How many earlier messages are read before trimming to the token budget.
const HISTORY_WINDOW: u32 = 200;

/// The server's side of the chat configuration, resolved once at start.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// `LLM_BASE_URL`: the OpenAI-compatible endpoint every turn goes to.
    pub base_url: Option<String>,
    /// `LLM_API_KEY`: used when the user stored no key of their own.
    pub api_key: Option<Secret>,
    /// `LLM_MODEL`: used when the user's credential names none.
    pub model: Option<String>,
    /// Model calls per turn before the agent stops and says so.
    pub max_rounds: usize,
    /// Tokens of history (system prompt aside) sent with each turn.
    pub history_tokens: usize,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            model: None,
            max_rounds: 8,
            history_tokens: 12_000,
        }
    }
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ChatInput {
    /// Continue this conversation; a new one starts when absent.
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    /// What the user says, 1–10 000 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub message: String,
}

/// A tool the agent ran during the turn, with what it returned.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ToolCallOutcome {
    pub tool: String,
    /// As the model sent them: an object, or the raw text when it was not JSON.
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// The tool's result, or `{"error": "…"}` (which the model saw too).
    #[schema(value_type = Object)]
    pub result: Value,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChatReply {
    pub conversation_id: ConversationId,
    /// The assistant's answer.
    pub response: String,
    pub tool_calls: Vec<ToolCallOutcome>,
}

/// What happens during a turn, in order, for interfaces that stream.
#[derive(Debug)]
pub enum ChatEvent<'a> {
    /// The message is accepted and stored in this conversation; the model is next.
    Started(ConversationId),
    Delta(&'a str),
    ToolCall(&'a ToolCallOutcome),
}

/// Hears a turn's events; `Fn`, so that streamed text can reach it from inside a model call.
pub type Events<'a> = &'a (dyn Fn(ChatEvent<'_>) + Send + Sync);

/// What separates the text of two rounds, streamed and in the reply.
const PARAGRAPH: &str = "\n\n";

/// An accepted turn as it goes: for whom, where it is stored, what the model is reached
/// with, and what the user has been shown so far.
struct Turn<'p> {
    principal: &'p Principal,
    conversation_id: ConversationId,
    target: ModelTarget,
    /// The answer's paragraphs: the words of each round that said something.
    said: Vec<String>,
    outcomes: Vec<ToolCallOutcome>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Domain(#[from] Error),
    /// Neither the server nor the user configured a model; the text says what to set.
    #[error("{0}")]
    NotConfigured(String),
    /// The model did not answer in time. The user's message (and any tool calls made) are
    /// stored.
    #[error("the model did not answer in time")]
    ModelTimeout { conversation_id: ConversationId },
    /// The provider failed or answered nonsense. The user's message is stored.
    #[error("the model provider failed")]
    ModelFailed { conversation_id: ConversationId },
}

/// What the server's configuration makes possible (see [`Chat::availability`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    /// A language model's endpoint is configured: chat turns can be sent somewhere.
    pub endpoint: bool,
    /// The server names a model; without one, only a user who stored a key with a model can
    /// chat.
    pub default_model: bool,
    /// Users' own provider keys can be stored (the server has an encryption key).
    pub own_keys: bool,
}

/// The chat use cases. Cheap to clone.
#[derive(Clone)]
pub struct Chat {
    todo: Todo,
    model: Arc<dyn LanguageModel>,
    config: Arc<ChatConfig>,
    cipher: Option<Arc<Cipher>>,
}

/// A user's stored provider key, as shown to them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    /// The key with all but its last characters hidden, e.g. `••••wxyz`.
    pub api_key: String,
    /// The model used with it; the server's default when null.
    pub model: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CredentialInput {
    /// The provider's API key; sent to the server's `LLM_BASE_URL` and nowhere else. 1–1000
    /// bytes without spaces (provider keys are visible ASCII).
    #[schema(pattern = "^[!-~]{1,1000}$")]
    pub api_key: String,
    /// A model name for this key, e.g. `gpt-4.1-mini`; the server's `LLM_MODEL` when absent.
    #[serde(default)]
    pub model: Option<String>,
}

impl Chat {
    pub fn new(
        todo: Todo,
        model: Arc<dyn LanguageModel>,
        config: ChatConfig,
        cipher: Option<Cipher>,
    ) -> Self {
        Self {
            todo,
            model,
            config: Arc::new(config),
            cipher: cipher.map(Arc::new),
        }
    }

    /// What this server's chat can offer, for a page to show the assistant or say plainly
    /// why not (rather than an operator's setting).
    pub fn availability(&self) -> Availability {
        Availability {
            endpoint: self.config.base_url.is_some(),
            default_model: self.config.model.is_some(),
            own_keys: self.cipher.is_some(),
        }
    }

    /// The endpoint, key and model this user's turns use.
    async fn target(&self, user_id: &UserId) -> std::result::Result<ModelTarget, ChatError> {
        let base_url = self.config.base_url.clone().ok_or_else(|| {
            ChatError::NotConfigured(
                "no language model is configured: the operator sets LLM_BASE_URL and \
                 LLM_MODEL (and LLM_API_KEY, or each user stores a key with PUT \
                 /api/v1/llm-credentials)"
                    .into(),
            )
        })?;
        let own = match self.todo.store().llm_credential(user_id).await? {
            Some(stored) => Some(self.open(&stored)?),
            None => None,
        };
        let (api_key, own_model) = match own {
            Some((key, model)) => (Some(key), model),
            None => (self.config.api_key.clone(), None),
        };
        let model = own_model
            .or_else(|| self.config.model.clone())
            .ok_or_else(|| {
                ChatError::NotConfigured(
                    "no model is named: the operator sets LLM_MODEL, or you name one with PUT \
                 /api/v1/llm-credentials {\"api_key\", \"model\"}"
                        .into(),
                )
            })?;
        Ok(ModelTarget {
            base_url,
            api_key,
            model,
        })
    }

    /// Opens the user's sealed key. One that no longer opens (the operator changed or removed
    /// TODO_ENCRYPTION_KEY) is the user's to replace, so it is told as such, not as a 500.
    fn open(
        &self,
        stored: &StoredCredential,
    ) -> std::result::Result<(Secret, Option<String>), ChatError> {
        let opened = match self.cipher.as_ref() {
            Some(cipher) => cipher.open(stored.user_id.as_str(), &stored.api_key_ciphertext),
            None => Err("TODO_ENCRYPTION_KEY is not set".into()),
        };
        match opened {
            Ok(key) => Ok((Secret::new(key), stored.model.clone())),
            Err(cause) => {
                tracing::warn!(user_id = %stored.user_id, %cause, "a stored LLM key does not open");
                Err(ChatError::NotConfigured(
                    "your stored LLM key can no longer be read (the server's encryption key \
                     changed): store it again with PUT /api/v1/llm-credentials, or delete it \
                     to use the server's model"
                        .into(),
                ))
            }
        }
    }

    /// Stores (or replaces) the user's own provider key, sealed.
    pub async fn put_credential(
        &self,
        user_id: &UserId,
        input: CredentialInput,
    ) -> std::result::Result<CredentialView, ChatError> {
        let cipher = self.cipher.as_ref().ok_or_else(|| {
            ChatError::NotConfigured(
                "this server cannot store LLM keys: the operator must set TODO_ENCRYPTION_KEY \
                 (32 random bytes in base64, e.g. `openssl rand -base64 32`)"
                    .into(),
            )
        })?;
        let mut v = crate::validation::Validator::new();
        let key = input.api_key.trim();
        if key.is_empty() || key.len() > 1000 || key.chars().any(char::is_whitespace) {
            v.fail("api_key", "must be 1–1000 characters without spaces");
        }
        let model = match input.model.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) if m.len() > 200 => {
                v.fail("model", "must be at most 200 characters");
                None
            }
            Some(m) => Some(m.to_owned()),
        };
        v.finish()?;
        let at = now();
        let existing = self.todo.store().llm_credential(user_id).await?;
        let stored = StoredCredential {
            user_id: user_id.to_owned(),
            api_key_ciphertext: cipher
                .seal(user_id.as_str(), key)
                .map_err(Error::internal)?,
            key_hint: key_hint(key),
            model,
            created_at: existing.map_or(at, |e| e.created_at),
            updated_at: at,
        };
        self.todo.store().put_llm_credential(&stored).await?;
        Ok(view(&stored))
    }

    pub async fn credential(&self, user_id: &UserId) -> Result<CredentialView> {
        self.todo
            .store()
            .llm_credential(user_id)
            .await?
            .map(|c| view(&c))
            .ok_or(Error::NotFound("LLM credential"))
    }

    pub async fn delete_credential(&self, user_id: &UserId) -> Result<()> {
        if self.todo.store().delete_llm_credential(user_id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("LLM credential"))
        }
    }

    /// One turn of the conversation. `events` hears text and tool calls as they happen.
    pub async fn turn(
        &self,
        principal: &Principal,
        input: ChatInput,
        stream: bool,
        events: Events<'_>,
    ) -> std::result::Result<ChatReply, ChatError> {
        let (mut turn, user, history) = self.accept(principal, input).await?;
        events(ChatEvent::Started(turn.conversation_id));
        let system = system_prompt(user.name.as_deref(), &user.timezone, now());
        let mut request = first_request(system, &history, self.config.history_tokens, stream);
        let mut answer = None;
        for _ in 0..self.config.max_rounds {
            answer = self.round(&mut turn, &mut request, events).await?;
            if answer.is_some() {
                break;
            }
        }
        self.finish(turn, answer, events).await
    }

    /// The first step of a turn. Everything that may refuse it comes before anything is
    /// stored (a message out of bounds, someone else's conversation, no model); then a new
    /// conversation is created and the user's message stored. Returns the turn, the user (for
    /// the system prompt) and the conversation's recent messages, oldest first, the new one
    /// last.
    async fn accept<'p>(
        &self,
        principal: &'p Principal,
        input: ChatInput,
    ) -> std::result::Result<(Turn<'p>, User, Vec<Message>), ChatError> {
        let user_id = &principal.user_id;
        let text = valid_message(&input.message)?;
        let store = self.todo.store();
        let earlier = match &input.conversation_id {
            Some(id) => Some(
                store
                    .get_conversation(user_id, id)
                    .await?
                    .ok_or(Error::NotFound("conversation"))?,
            ),
            None => None,
        };
        let target = self.target(user_id).await?;
        let user = self.todo.me(user_id).await?;

        let (conversation_id, mut history) = match earlier {
            Some(conversation) => {
                let mut history = store
                    .recent_messages(user_id, &conversation.id, None, HISTORY_WINDOW)
                    .await?;
                history.reverse();
                (conversation.id, history)
            }
            None => {
                let conversation = store
                    .insert_conversation(&NewConversation {
                        user_id: user_id.clone(),
                        title: title_from(text),
                        created_at: now(),
                        updated_at: now(),
                    })
                    .await?;
                (conversation.id, Vec::new())
            }
        };
        history.extend(
            store
                .append_messages(user_id, &conversation_id, &[NewMessage::user(text)], now())
                .await?,
        );
        let turn = Turn {
            principal,
            conversation_id,
            target,
            said: Vec::new(),
            outcomes: Vec::new(),
        };
        Ok((turn, user, history))
    }

    /// One round: the model answers `request` in words, which end the turn (returned), or
    /// with tool calls, which run; the calls and their results are stored and added to
    /// `request` for the next round. Text streams to `events` as it arrives.
    async fn round(
        &self,
        turn: &mut Turn<'_>,
        request: &mut ModelRequest,
        events: Events<'_>,
    ) -> std::result::Result<Option<String>, ChatError> {
        let said_before = !turn.said.is_empty();
        let began = AtomicBool::new(false);
        let on_text = |piece: &str| {
            if piece.is_empty() {
                return;
            }
            // Text of a later round is a new paragraph.
            if said_before && !began.swap(true, Ordering::Relaxed) {
                events(ChatEvent::Delta(PARAGRAPH));
            }
            events(ChatEvent::Delta(piece));
        };
        let ModelReply {
            content,
            tool_calls,
        } = self
            .model
            .complete(&turn.target, request, &on_text)
            .await
            .map_err(|e| model_error(e, &turn.conversation_id))?;
        if !content.trim().is_empty() {
            turn.said.push(content.trim().to_owned());
        }
        if tool_calls.is_empty() {
            return Ok(Some(content));
        }

        let mut stored = vec![NewMessage::assistant(
            content.clone(),
            tool_calls.iter().map(to_message_call).collect(),
        )];
        let mut results = Vec::new();
        for call in &tool_calls {
            let outcome = self.run_tool(turn.principal, call).await;
            events(ChatEvent::ToolCall(&outcome));
            let result_text = outcome.result.to_string();
            stored.push(NewMessage::tool(&call.id, &result_text));
            results.push(ModelMessage::Tool {
                tool_call_id: call.id.clone(),
                content: result_text,
            });
            turn.outcomes.push(outcome);
        }
        self.record(turn, &stored).await?;
        request.messages.push(ModelMessage::Assistant {
            content,
            tool_calls,
        });
        request.messages.extend(results);
        Ok(None)
    }

    /// The last step: stores the model's `answer`, or without one (the rounds ran out) a
    /// message saying the agent stopped, streamed as a paragraph of its own.
    async fn finish(
        &self,
        mut turn: Turn<'_>,
        answer: Option<String>,
        events: Events<'_>,
    ) -> std::result::Result<ChatReply, ChatError> {
        let (content, outcome) = match answer {
            Some(answer) => (answer, "answered"),
            None => {
                let stop = format!(
                    "I stopped after {} steps without finishing. Tell me how to go on.",
                    self.config.max_rounds
                );
                if !turn.said.is_empty() {
                    events(ChatEvent::Delta(PARAGRAPH));
                }
                events(ChatEvent::Delta(&stop));
                turn.said.push(stop.clone());
                (stop, "stopped")
            }
        };
        self.record(&turn, &[NewMessage::assistant(content, Vec::new())])
            .await?;
        metrics::chat_turn(outcome);
        Ok(ChatReply {
            conversation_id: turn.conversation_id,
            response: turn.said.join(PARAGRAPH),
            tool_calls: turn.outcomes,
        })
    }

    /// Stores `messages` in the turn's conversation.
    async fn record(&self, turn: &Turn<'_>, messages: &[NewMessage]) -> Result<()> {
        self.todo
            .store()
            .append_messages(
                &turn.principal.user_id,
                &turn.conversation_id,
                messages,
                now(),
            )
            .await?;
        Ok(())
    }

    /// Runs one tool call. Whatever goes wrong becomes a result the model can read and act
    /// on: malformed arguments, an unknown tool, a rule broken, a task not found.
    async fn run_tool(&self, principal: &Principal, call: &ModelToolCall) -> ToolCallOutcome {
        let raw = if call.arguments.trim().is_empty() {
            "{}"
        } else {
            call.arguments.as_str()
        };
        let (arguments, result) = match serde_json::from_str::<Value>(raw) {
            Err(e) => (
                Value::String(call.arguments.clone()),
                json!({"error": format!("the arguments are not valid JSON ({e}); send one JSON object")}),
            ),
            Ok(arguments) => {
                let result = match tools::call(&self.todo, principal, &call.name, arguments.clone())
                    .await
                {
                    Ok(value) => value,
                    Err(error) => {
                        if let ToolError::Internal(cause) = &error {
                            tracing::error!(tool = %call.name, error = %cause, "chat tool failed");
                        }
                        json!({"error": error.to_string()})
                    }
                };
                (arguments, result)
            }
        };
        metrics::chat_tool_call(&call.name, result.get("error").is_none());
        ToolCallOutcome {
            tool: call.name.clone(),
            arguments,
            result,
        }
    }
}

fn view(stored: &StoredCredential) -> CredentialView {
    CredentialView {
        api_key: masked(&stored.key_hint),
        model: stored.model.clone(),
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}

fn model_error(error: ModelError, conversation_id: &ConversationId) -> ChatError {
    tracing::warn!(error = %error, %conversation_id, "chat turn failed at the model");
    let conversation_id = *conversation_id;
    match error {
        ModelError::Timeout => {
            metrics::chat_turn("model_timeout");
            ChatError::ModelTimeout { conversation_id }
        }
        ModelError::Failed(_) => {
            metrics::chat_turn("model_failed");
            ChatError::ModelFailed { conversation_id }
        }
    }
}

/// The user's message, trimmed, or why it is refused.
fn valid_message(raw: &str) -> Result<&str> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > MESSAGE_MAX_CHARS {
        return Err(Error::invalid(
            "message",
            format!("must be 1–{MESSAGE_MAX_CHARS} characters"),
        ));
    }
    crate::validation::storable_text(text).map_err(|e| Error::invalid("message", e))?;
    Ok(text)
}

/// The first request of a turn: the `system` prompt, as much of the `history` as fits the
/// `history_tokens` left beside it, and the tools.
fn first_request(
    system: String,
    history: &[Message],
    history_tokens: usize,
    stream: bool,
) -> ModelRequest {
    let budget = history_tokens.saturating_sub(estimate_tokens(&system));
    let mut messages = vec![ModelMessage::System(system)];
    messages.extend(fit_history(history, budget).iter().map(to_model_message));
    ModelRequest {
        messages,
        tools: offered_tools(),
        stream,
    }
}

/// The registry's tools as the model is offered them. `user_id` (accepted for old agents)
/// and `$schema` are left out: the model acts as the caller anyway.
pub fn offered_tools() -> Vec<ModelTool> {
    tools::tools()
        .iter()
        .map(|tool| {
            let mut schema = tool.input_schema.as_ref().clone();
            schema.remove("$schema");
            if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                properties.remove("user_id");
            }
            let defs = schema.remove("$defs");
            let mut parameters = Value::Object(schema);
            if let Some(Value::Object(defs)) = defs {
                inline_refs(&mut parameters, &defs, 0);
            }
            ModelTool {
                name: tool.name.to_owned(),
                description: tool.description.to_owned(),
                parameters,
            }
        })
        .collect()
}

/// Replaces `{"$ref": "#/$defs/X"}` with X itself: several providers (Gemini's OpenAI
/// endpoint, some guided-decoding servers) accept only self-contained schemas. The registry's
/// types are not recursive; `depth` guards against a future one.
fn inline_refs(schema: &mut Value, defs: &serde_json::Map<String, Value>, depth: usize) {
    match schema {
        Value::Object(object) => {
            let target = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| defs.get(name));
            if let (Some(target), true) = (target, depth < 16) {
                let mut replacement = target.clone();
                inline_refs(&mut replacement, defs, depth + 1);
                object.remove("$ref");
                if let Value::Object(fields) = replacement {
                    for (key, value) in fields {
                        object.entry(key).or_insert(value);
                    }
                }
                return;
            }
            for value in object.values_mut() {
                inline_refs(value, defs, depth);
            }
        }
        Value::Array(items) => {
            for item in items {
                inline_refs(item, defs, depth);
            }
        }
        _ => {}
    }
}

fn to_message_call(call: &ModelToolCall) -> MessageToolCall {
    MessageToolCall {
        id: call.id.clone(),
        tool: call.name.clone(),
        arguments: serde_json::from_str(&call.arguments)
            .unwrap_or_else(|_| Value::String(call.arguments.clone())),
    }
}

fn to_model_message(message: &Message) -> ModelMessage {
    match message.role {
        Role::User => ModelMessage::User(message.content.clone()),
        Role::Assistant => ModelMessage::Assistant {
            content: message.content.clone(),
            tool_calls: message
                .tool_calls
                .iter()
                .map(|call| ModelToolCall {
                    id: call.id.clone(),
                    name: call.tool.clone(),
                    arguments: match &call.arguments {
                        Value::String(raw) => raw.clone(),
                        other => other.to_string(),
                    },
                })
                .collect(),
        },
        Role::Tool => ModelMessage::Tool {
            tool_call_id: message.tool_call_id.clone().unwrap_or_default(),
            content: message.content.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_tools_are_self_contained_and_act_as_the_caller() {
        let tools = offered_tools();
        assert_eq!(tools.len(), tools::tools().len());
        for tool in &tools {
            let text = tool.parameters.to_string();
            assert!(
                !text.contains("$ref") && !text.contains("$defs"),
                "{}: {text}",
                tool.name
            );
            assert!(!text.contains("$schema"), "{}", tool.name);
            assert!(tool.parameters["properties"].get("user_id").is_none());
        }
        let add = tools
            .iter()
            .find(|t| t.name == "add_task")
            .expect("add_task");
        let priority = add.parameters["properties"]["priority"].to_string();
        assert!(
            priority.contains("urgent"),
            "priority values inlined: {priority}"
        );
    }

    #[test]
    fn a_message_is_trimmed_and_refused_when_blank_too_long_or_unstorable() {
        assert_eq!(valid_message("  add milk \n").ok(), Some("add milk"));
        for refused in [
            " \n ".to_owned(),
            "x".repeat(MESSAGE_MAX_CHARS + 1),
            "nul\0".to_owned(),
        ] {
            assert!(
                matches!(valid_message(&refused), Err(Error::Validation(_))),
                "{refused:?} accepted"
            );
        }
        assert!(valid_message(&"é".repeat(MESSAGE_MAX_CHARS)).is_ok());
    }

    fn message(id: i64, role: Role, content: &str) -> Message {
        Message {
            id,
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            created_at: now(),
        }
    }

    #[test]
    fn the_first_request_is_the_system_prompt_the_history_that_fits_beside_it_and_the_tools() {
        let long = "x".repeat(400); // about 100 tokens each
        let history = [
            message(1, Role::User, &long),
            message(2, Role::Assistant, &long),
            message(3, Role::User, "and now?"),
        ];
        let system = "s".repeat(400);

        let roomy = first_request(system.clone(), &history, 10_000, true);
        assert_eq!(roomy.messages.len(), 4);
        assert_eq!(roomy.messages[0], ModelMessage::System(system.clone()));
        assert_eq!(roomy.messages[3], ModelMessage::User("and now?".into()));
        assert_eq!(roomy.tools, offered_tools());
        assert!(roomy.stream);

        // 250 tokens hold the history but not beside a prompt of 100.
        let tight = first_request(system, &history, 250, false);
        assert_eq!(tight.messages.len(), 3, "{:?}", tight.messages);
        assert_eq!(
            tight.messages[1],
            ModelMessage::Assistant {
                content: long,
                tool_calls: Vec::new(),
            }
        );
        assert!(!tight.stream);
    }

    #[test]
    fn stored_tool_calls_replay_their_arguments_as_sent() {
        let call = ModelToolCall {
            id: "c".into(),
            name: "add_task".into(),
            arguments: "{not json".into(),
        };
        let stored = to_message_call(&call);
        assert_eq!(stored.arguments, Value::String("{not json".into()));
        let message = Message {
            id: 1,
            role: Role::Assistant,
            content: String::new(),
            tool_calls: vec![stored],
            tool_call_id: None,
            created_at: now(),
        };
        match to_model_message(&message) {
            ModelMessage::Assistant { tool_calls, .. } => assert_eq!(tool_calls, vec![call]),
            other => panic!("not an assistant message: {other:?}"),
        }
    }
}
