//! The chat agent's domain: conversations and their messages as stored, the use cases that
//! read and delete them, and (in the submodules) the storage trait, the model interface, the
//! agent loop, the system prompt and history budget, and the encryption of users' provider
//! keys. Nothing here speaks HTTP: the model is behind [`model::LanguageModel`].

pub mod agent;
pub mod model;
pub mod prompt;
pub mod secret;
pub mod store;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Todo;
use crate::error::{Error, Result};
use crate::ids::UserId;

pub use agent::{Chat, ChatConfig, ChatError, ChatEvent, ChatInput, ChatReply, ToolCallOutcome};
pub use store::ChatStore;

/// A conversation's id: a 64-bit integer, increasing in the order conversations began.
pub use crate::ids::ConversationId;
/// A message's id: increasing within a conversation, in the order messages were stored.
pub type MessageId = i64;

/// Longest title kept, in characters (taken from the first message).
const TITLE_MAX_CHARS: usize = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    #[serde(skip)]
    pub user_id: UserId,
    /// The first words of the first message.
    pub title: String,
    pub created_at: DateTime<Utc>,
    /// When the last message was stored.
    pub updated_at: DateTime<Utc>,
}

/// A conversation about to begin; the store gives it its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    pub user_id: UserId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            "tool" => Some(Role::Tool),
            _ => None,
        }
    }
}

/// A tool call an assistant message asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageToolCall {
    /// The provider's id of the call, which the tool message answering it names.
    pub id: String,
    pub tool: String,
    /// The arguments as the model sent them: an object, or the raw text when it was not JSON.
    #[schema(value_type = Object)]
    pub arguments: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub role: Role,
    /// The text; for a `tool` message, the tool's result as JSON text.
    pub content: String,
    /// The tools an `assistant` message called.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<MessageToolCall>,
    /// The call a `tool` message answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A message about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub role: Role,
    pub content: String,
    pub tool_calls: Vec<MessageToolCall>,
    pub tool_call_id: Option<String>,
}

impl NewMessage {
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// The model's words, which we do not control: a NUL (which PostgreSQL cannot store)
    /// becomes U+FFFD.
    pub fn assistant(content: impl Into<String>, tool_calls: Vec<MessageToolCall>) -> Self {
        Self {
            role: Role::Assistant,
            content: without_nul(content.into()),
            tool_calls,
            tool_call_id: None,
        }
    }

    /// A tool's answer to the model's call `call_id` (the model's text: see [`Self::assistant`]).
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: Role::Tool,
            content: without_nul(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: Some(without_nul(call_id.into())),
        }
    }
}

fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    }
}

/// Where a page of conversations continues: after this (updated_at, id), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationCursor {
    pub updated_at: DateTime<Utc>,
    pub id: ConversationId,
}

impl ConversationCursor {
    pub fn of(conversation: &Conversation) -> Self {
        Self {
            updated_at: conversation.updated_at,
            id: conversation.id,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.updated_at.to_rfc3339(), self.id))
    }

    pub fn decode(raw: &str) -> Result<Self> {
        let bad = || Error::invalid("cursor", "not a cursor this listing gave out");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once('|').ok_or_else(bad)?;
        let updated_at = DateTime::parse_from_rfc3339(at)
            .map_err(|_| bad())?
            .with_timezone(&Utc);
        let id = id.parse().map_err(|_| bad())?;
        Ok(Self { updated_at, id })
    }
}

/// Page sizes of the conversation and message listings.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// One page of a listing and whether more follows.
#[derive(Debug, Clone)]
pub struct Paged<T, C> {
    pub items: Vec<T>,
    /// Where the next page starts, when there is one.
    pub next: Option<C>,
}

/// A conversation with one page of its messages, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationWithMessages {
    #[serde(flatten)]
    pub conversation: Conversation,
    /// The newest messages (or those before `before`), in the order they were written.
    pub messages: Vec<Message>,
}

fn page_size(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n @ 1..=MAX_PAGE) => Ok(n),
        Some(_) => Err(Error::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        )),
    }
}

/// The title of a conversation that starts with `message`: its first words, whole.
pub fn title_from(message: &str) -> String {
    let words = message.split_whitespace();
    let mut title = String::new();
    for word in words {
        let len = title.chars().count() + word.chars().count() + 1;
        if len > TITLE_MAX_CHARS {
            if title.is_empty() {
                title = word.chars().take(TITLE_MAX_CHARS - 1).collect();
            }
            title.push('…');
            return title;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    title
}

impl Todo {
    /// The user's conversations, most recently active first.
    pub async fn list_conversations(
        &self,
        user_id: &UserId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Paged<Conversation, ConversationCursor>> {
        let limit = page_size(limit)?;
        let after = cursor.map(ConversationCursor::decode).transpose()?;
        let mut items = self
            .store()
            .list_conversations(user_id, after.as_ref(), limit + 1)
            .await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = more
            .then(|| items.last().map(ConversationCursor::of))
            .flatten();
        Ok(Paged { items, next })
    }

    /// A conversation with its latest messages (or those before message `before`).
    pub async fn get_conversation(
        &self,
        user_id: &UserId,
        id: &ConversationId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<Paged<ConversationWithMessages, MessageId>> {
        let limit = page_size(limit)?;
        let conversation = self
            .store()
            .get_conversation(user_id, id)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        let mut messages = self
            .store()
            .recent_messages(user_id, id, before, limit + 1)
            .await?;
        let more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        let next = more.then(|| messages.last().map(|m| m.id)).flatten();
        messages.reverse();
        Ok(Paged {
            items: vec![ConversationWithMessages {
                conversation,
                messages,
            }],
            next,
        })
    }

    /// Deletes a conversation and its messages.
    pub async fn delete_conversation(&self, user_id: &UserId, id: &ConversationId) -> Result<()> {
        if self.store().delete_conversation(user_id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("conversation"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_the_first_whole_words_of_the_message() {
        assert_eq!(title_from("  add   milk\nplease "), "add milk please");
        let long = "word ".repeat(30);
        let title = title_from(&long);
        assert!(title.chars().count() <= TITLE_MAX_CHARS, "{title}");
        assert!(title.ends_with("word…"), "{title}");
        let one = "x".repeat(100);
        assert_eq!(title_from(&one).chars().count(), TITLE_MAX_CHARS);
    }

    #[test]
    fn conversation_cursors_round_trip_and_refuse_garbage() {
        let cursor = ConversationCursor {
            updated_at: crate::time::now(),
            id: ConversationId::new(42),
        };
        assert_eq!(
            ConversationCursor::decode(&cursor.encode()).expect("decodes"),
            cursor
        );
        assert!(ConversationCursor::decode("not a cursor").is_err());
        // A cursor of before the ids were numbers (a UUIDv7 after the `|`) is refused.
        let old = URL_SAFE_NO_PAD.encode(format!("{}|0192-abc", crate::time::now().to_rfc3339()));
        assert!(ConversationCursor::decode(&old).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).ok(), Some(DEFAULT_PAGE));
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(MAX_PAGE + 1)).is_err());
    }
}
