//! What the chat needs from storage: conversations, their messages and users' provider keys.
//! Every query is scoped by `user_id`, like the tasks.

use crate::ids::ConversationId;
use crate::ids::UserId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Conversation, ConversationCursor, Message, MessageId, NewConversation, NewMessage};
use crate::error::Result;

/// A user's own provider key as stored: encrypted, with what may be shown of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    pub user_id: UserId,
    /// The key sealed by [`super::secret::Cipher`] (versioned text).
    pub api_key_ciphertext: String,
    /// The last characters of the key, to recognise it.
    pub key_hint: String,
    /// The model to use with this key; the server's `LLM_MODEL` when absent.
    pub model: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Stores a new conversation under the next id.
    async fn insert_conversation(&self, conversation: &NewConversation) -> Result<Conversation>;
    async fn get_conversation(
        &self,
        user_id: &UserId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>>;
    /// Up to `limit` conversations, most recently updated first, after `after`.
    async fn list_conversations(
        &self,
        user_id: &UserId,
        after: Option<&ConversationCursor>,
        limit: u32,
    ) -> Result<Vec<Conversation>>;
    /// Deletes the conversation and its messages; false when the user has no such one.
    async fn delete_conversation(&self, user_id: &UserId, id: &ConversationId) -> Result<bool>;
    /// Stores the messages in order in one transaction and moves the conversation's
    /// `updated_at` to `now`. `Error::NotFound` when the user has no such conversation.
    async fn append_messages(
        &self,
        user_id: &UserId,
        conversation_id: &ConversationId,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<Vec<Message>>;
    /// Up to `limit` messages of the conversation before message `before` (or the latest),
    /// newest first.
    async fn recent_messages(
        &self,
        user_id: &UserId,
        conversation_id: &ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>>;

    /// Stores or replaces the user's key.
    async fn put_llm_credential(&self, credential: &StoredCredential) -> Result<()>;
    async fn llm_credential(&self, user_id: &UserId) -> Result<Option<StoredCredential>>;
    async fn delete_llm_credential(&self, user_id: &UserId) -> Result<bool>;
}
