//! Chat storage on PostgreSQL: conversations, messages, users' sealed provider keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::chat::store::{ChatStore, StoredCredential};
use todo_core::chat::{Conversation, ConversationCursor, Message, MessageId, NewMessage};
use todo_core::ids::ConversationId;
use todo_core::ids::UserId;
use todo_core::{Error, Result};
use todo_store_sql::{
    CONVERSATION_COLUMNS, CREDENTIAL_COLUMNS, ConversationRow, CredentialRow, MESSAGE_COLUMNS,
    MessageRow, tool_calls_json,
};

use crate::PostgresStore;
use crate::rows::{db_error, decode};

#[async_trait]
impl ChatStore for PostgresStore {
    async fn insert_conversation(&self, c: &Conversation) -> Result<()> {
        sqlx::query(
            "INSERT INTO conversations (id, user_id, title, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&c.id)
        .bind(&c.user_id)
        .bind(&c.title)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_conversation(
        &self,
        user_id: &UserId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = $1 AND id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(id)
            .try_map(|row| decode::<ConversationRow>(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn list_conversations(
        &self,
        user_id: &UserId,
        after: Option<&ConversationCursor>,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        let (keyset, limit_at) = if after.is_some() {
            ("AND (updated_at, id) < ($2, $3)", 4)
        } else {
            ("", 2)
        };
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = $1 {keyset} \
             ORDER BY updated_at DESC, id DESC LIMIT ${limit_at}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id);
        if let Some(after) = after {
            query = query.bind(after.updated_at).bind(after.id.clone());
        }
        let rows = query
            .bind(i64::from(limit))
            .try_map(|row| decode::<ConversationRow>(&row))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_conversation(&self, user_id: &UserId, id: &ConversationId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM conversations WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn append_messages(
        &self,
        user_id: &UserId,
        conversation_id: &ConversationId,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<Vec<Message>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let touched =
            sqlx::query("UPDATE conversations SET updated_at = $1 WHERE user_id = $2 AND id = $3")
                .bind(now)
                .bind(user_id)
                .bind(conversation_id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        if touched.rows_affected() == 0 {
            return Err(Error::NotFound("conversation"));
        }
        let sql = format!(
            "INSERT INTO messages (conversation_id, user_id, role, content, tool_calls, \
             tool_call_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {MESSAGE_COLUMNS}"
        );
        let mut stored = Vec::with_capacity(messages.len());
        for message in messages {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(conversation_id)
                .bind(user_id)
                .bind(message.role.as_str())
                .bind(&message.content)
                .bind(tool_calls_json(message)?)
                .bind(&message.tool_call_id)
                .bind(now)
                .try_map(|row| decode::<MessageRow>(&row))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            stored.push(Message::try_from(row)?);
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
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE user_id = $2 AND conversation_id = $1 \
             AND id < $3 ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation_id)
            .bind(user_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .try_map(|row| decode::<MessageRow>(&row))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(Message::try_from).collect()
    }

    async fn put_llm_credential(&self, c: &StoredCredential) -> Result<()> {
        sqlx::query(
            "INSERT INTO llm_credentials (user_id, api_key_ciphertext, key_hint, model, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET api_key_ciphertext = excluded.api_key_ciphertext, \
             key_hint = excluded.key_hint, model = excluded.model, \
             updated_at = excluded.updated_at",
        )
        .bind(&c.user_id)
        .bind(&c.api_key_ciphertext)
        .bind(&c.key_hint)
        .bind(&c.model)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn llm_credential(&self, user_id: &UserId) -> Result<Option<StoredCredential>> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM llm_credentials WHERE user_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .try_map(|row| decode::<CredentialRow>(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn delete_llm_credential(&self, user_id: &UserId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM llm_credentials WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }
}
