//! Chat storage on PostgreSQL: conversations, messages, users' sealed provider keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::chat::store::{ChatStore, StoredCredential};
use todo_core::chat::{
    Conversation, ConversationCursor, Message, MessageId, NewConversation, NewMessage,
};
use todo_core::ids::{ConversationId, UserId};
use todo_core::{Error, Result};
use todo_store_sql::{
    CONVERSATION_COLUMNS, CREDENTIAL_COLUMNS, ConversationRow, CredentialRow, MESSAGE_COLUMNS,
    MessageRow, Sql, tool_calls_json,
};

use crate::PostgresStore;
use crate::rows::db_error;
use crate::sql::{self, DIALECT};

#[async_trait]
impl ChatStore for PostgresStore {
    async fn insert_conversation(&self, c: &NewConversation) -> Result<Conversation> {
        let sql = format!(
            "INSERT INTO conversations (user_id, title, created_at, updated_at) \
             VALUES ($1, $2, $3, $4) RETURNING {CONVERSATION_COLUMNS}"
        );
        let values = [
            (&c.user_id).into(),
            (&c.title).into(),
            c.created_at.into(),
            c.updated_at.into(),
        ];
        sql::row::<ConversationRow, _>(&self.pool, sql, values)
            .await?
            .ok_or_else(|| Error::internal("insert returned no row"))
    }

    async fn get_conversation(
        &self,
        user_id: &UserId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = $1 AND id = $2"
        );
        sql::row::<ConversationRow, _>(&self.pool, sql, [user_id.into(), id.into()]).await
    }

    async fn list_conversations(
        &self,
        user_id: &UserId,
        after: Option<&ConversationCursor>,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        let mut sql = Sql::new(
            &DIALECT,
            format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = "),
        );
        sql.bind(user_id);
        if let Some(after) = after {
            sql.push(" AND (updated_at, id) < (").bind(after.updated_at);
            sql.push(", ").bind(&after.id).push(")");
        }
        // A literal limit, as listings have (todo_store_sql::list::push_page says why).
        sql.push(&format!(" ORDER BY updated_at DESC, id DESC LIMIT {limit}"));
        let (text, values) = sql.into_parts();
        sql::rows::<ConversationRow, _>(&self.pool, text, values).await
    }

    async fn delete_conversation(&self, user_id: &UserId, id: &ConversationId) -> Result<bool> {
        let sql = "DELETE FROM conversations WHERE user_id = $1 AND id = $2";
        let done = sql::run(&self.pool, sql, [user_id.into(), id.into()]).await?;
        Ok(done > 0)
    }

    async fn append_messages(
        &self,
        user_id: &UserId,
        conversation_id: &ConversationId,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<Vec<Message>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let sql = "UPDATE conversations SET updated_at = $1 WHERE user_id = $2 AND id = $3";
        let values = [now.into(), user_id.into(), conversation_id.into()];
        if sql::run(&mut *tx, sql, values).await? == 0 {
            return Err(Error::NotFound("conversation"));
        }
        let sql = format!(
            "INSERT INTO messages (conversation_id, user_id, role, content, tool_calls, \
             tool_call_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING {MESSAGE_COLUMNS}"
        );
        let mut stored = Vec::with_capacity(messages.len());
        for message in messages {
            let values = [
                conversation_id.into(),
                user_id.into(),
                message.role.as_str().into(),
                (&message.content).into(),
                tool_calls_json(message)?.into(),
                (&message.tool_call_id).into(),
                now.into(),
            ];
            let row = sql::row::<MessageRow, MessageRow>(&mut *tx, sql.clone(), values).await?;
            stored.push(
                row.ok_or_else(|| Error::internal("insert returned no row"))?
                    .try_into()?,
            );
        }
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }

    async fn recent_messages(
        &self,
        user_id: &UserId,
        conversation_id: &ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND user_id = $2 \
             AND id < $3 ORDER BY id DESC LIMIT $4"
        );
        let values = [
            conversation_id.into(),
            user_id.into(),
            before.unwrap_or(i64::MAX).into(),
            i64::from(limit).into(),
        ];
        let rows = sql::rows::<MessageRow, MessageRow>(&self.pool, sql, values).await?;
        rows.into_iter().map(Message::try_from).collect()
    }

    async fn put_llm_credential(&self, c: &StoredCredential) -> Result<()> {
        let sql = "INSERT INTO llm_credentials (user_id, api_key_ciphertext, key_hint, model, \
                   created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                   ON CONFLICT (user_id) DO UPDATE SET \
                   api_key_ciphertext = excluded.api_key_ciphertext, \
                   key_hint = excluded.key_hint, model = excluded.model, \
                   updated_at = excluded.updated_at";
        let values = [
            (&c.user_id).into(),
            (&c.api_key_ciphertext).into(),
            (&c.key_hint).into(),
            (&c.model).into(),
            c.created_at.into(),
            c.updated_at.into(),
        ];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn llm_credential(&self, user_id: &UserId) -> Result<Option<StoredCredential>> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM llm_credentials WHERE user_id = $1");
        sql::row::<CredentialRow, _>(&self.pool, sql, [user_id.into()]).await
    }

    async fn delete_llm_credential(&self, user_id: &UserId) -> Result<bool> {
        let sql = "DELETE FROM llm_credentials WHERE user_id = $1";
        let done = sql::run(&self.pool, sql, [user_id.into()]).await?;
        Ok(done > 0)
    }
}
