//! Chat storage on SQLite: conversations, messages, users' sealed provider keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::chat::store::{ChatStore, StoredCredential};
use todo_core::chat::{Conversation, ConversationCursor, Message, MessageId, NewMessage};
use todo_core::time::to_sortable_text as ts;
use todo_core::{Error, Result};
use todo_store_sql::{ConversationRow, CredentialRow, MessageRow, db_error, tool_calls_json};

use crate::SqliteStore;

const CONVERSATION_COLUMNS: &str = "id, user_id, title, created_at, updated_at";
const MESSAGE_COLUMNS: &str = "id, role, content, tool_calls, tool_call_id, created_at";
const CREDENTIAL_COLUMNS: &str =
    "user_id, api_key_ciphertext, key_hint, model, created_at, updated_at";

#[async_trait]
impl ChatStore for SqliteStore {
    async fn insert_conversation(&self, c: &Conversation) -> Result<()> {
        sqlx::query(
            "INSERT INTO conversations (id, user_id, title, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(&c.user_id)
        .bind(&c.title)
        .bind(ts(&c.created_at))
        .bind(ts(&c.updated_at))
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_conversation(&self, user_id: &str, id: &str) -> Result<Option<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ? AND id = ?"
        );
        let row = sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn list_conversations(
        &self,
        user_id: &str,
        after: Option<&ConversationCursor>,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        let keyset = if after.is_some() {
            "AND (updated_at, id) < (?, ?)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ? {keyset} \
             ORDER BY updated_at DESC, id DESC LIMIT ?"
        );
        let mut query =
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql)).bind(user_id);
        if let Some(after) = after {
            query = query.bind(ts(&after.updated_at)).bind(after.id.clone());
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_conversation(&self, user_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM conversations WHERE user_id = ? AND id = ?")
            .bind(user_id)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn append_messages(
        &self,
        user_id: &str,
        conversation_id: &str,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<Vec<Message>> {
        let mut tx = self.write().await?;
        let touched =
            sqlx::query("UPDATE conversations SET updated_at = ? WHERE user_id = ? AND id = ?")
                .bind(ts(&now))
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
             tool_call_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {MESSAGE_COLUMNS}"
        );
        let mut stored = Vec::with_capacity(messages.len());
        for message in messages {
            let row = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(conversation_id)
                .bind(user_id)
                .bind(message.role.as_str())
                .bind(&message.content)
                .bind(tool_calls_json(message)?)
                .bind(&message.tool_call_id)
                .bind(ts(&now))
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
        user_id: &str,
        conversation_id: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND user_id = ? \
             AND id < ? ORDER BY id DESC LIMIT ?"
        );
        let rows = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql))
            .bind(conversation_id)
            .bind(user_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(Message::try_from).collect()
    }

    async fn put_llm_credential(&self, c: &StoredCredential) -> Result<()> {
        sqlx::query(
            "INSERT INTO llm_credentials (user_id, api_key_ciphertext, key_hint, model, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (user_id) DO UPDATE SET api_key_ciphertext = excluded.api_key_ciphertext, \
             key_hint = excluded.key_hint, model = excluded.model, \
             updated_at = excluded.updated_at",
        )
        .bind(&c.user_id)
        .bind(&c.api_key_ciphertext)
        .bind(&c.key_hint)
        .bind(&c.model)
        .bind(ts(&c.created_at))
        .bind(ts(&c.updated_at))
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn llm_credential(&self, user_id: &str) -> Result<Option<StoredCredential>> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM llm_credentials WHERE user_id = ?");
        let row = sqlx::query_as::<_, CredentialRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn delete_llm_credential(&self, user_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM llm_credentials WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }
}
