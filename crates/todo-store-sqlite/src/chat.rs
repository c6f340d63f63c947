//! Chat storage on SQLite: conversations, messages, users' sealed provider keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::chat::store::{ChatStore, StoredCredential};
use todo_core::chat::{Conversation, ConversationCursor, Message, MessageId, NewMessage};
use todo_core::ids::ConversationId;
use todo_core::ids::UserId;
use todo_core::time::to_sortable_text as ts;
use todo_core::{Error, Result};
use todo_store_sql::{
    CONVERSATION_COLUMNS, CREDENTIAL_COLUMNS, ConversationRow, CredentialRow, MESSAGE_COLUMNS,
    MessageRow, tool_calls_json,
};

use crate::rows::{db_error, decode};
use crate::{SqliteStore, savepoint, sql};

#[async_trait]
impl ChatStore for SqliteStore {
    async fn insert_conversation(&self, c: &Conversation) -> Result<()> {
        let c = c.clone();
        self.write(move |conn| {
            sql::execute(
                conn,
                "INSERT INTO conversations (id, user_id, title, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (
                    &c.id,
                    &c.user_id,
                    &c.title,
                    ts(&c.created_at),
                    ts(&c.updated_at),
                ),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn get_conversation(
        &self,
        user_id: &UserId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?1 AND id = ?2"
            );
            let row = sql::one(conn, &sql, (&user_id, &id), decode::<ConversationRow>)
                .map_err(db_error)?;
            Ok(row.map(Into::into))
        })
        .await
    }

    async fn list_conversations(
        &self,
        user_id: &UserId,
        after: Option<&ConversationCursor>,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        let (user_id, after) = (user_id.to_owned(), after.cloned());
        self.read(move |conn| {
            let rows = match after {
                Some(after) => {
                    let sql = format!(
                        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?1 \
                         AND (updated_at, id) < (?2, ?3) \
                         ORDER BY updated_at DESC, id DESC LIMIT ?4"
                    );
                    let params = (&user_id, ts(&after.updated_at), &after.id, i64::from(limit));
                    sql::all(conn, &sql, params, decode::<ConversationRow>)
                }
                None => {
                    let sql = format!(
                        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?1 \
                         ORDER BY updated_at DESC, id DESC LIMIT ?2"
                    );
                    sql::all(
                        conn,
                        &sql,
                        (&user_id, i64::from(limit)),
                        decode::<ConversationRow>,
                    )
                }
            }
            .map_err(db_error)?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
        .await
    }

    async fn delete_conversation(&self, user_id: &UserId, id: &ConversationId) -> Result<bool> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |conn| {
            let done = sql::execute(
                conn,
                "DELETE FROM conversations WHERE user_id = ?1 AND id = ?2",
                (&user_id, &id),
            )
            .map_err(db_error)?;
            Ok(done > 0)
        })
        .await
    }

    async fn append_messages(
        &self,
        user_id: &UserId,
        conversation_id: &ConversationId,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<Vec<Message>> {
        let user_id = user_id.to_owned();
        let conversation_id = conversation_id.to_owned();
        let messages = messages.to_vec();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let touched = sql::execute(
                &tx,
                "UPDATE conversations SET updated_at = ?1 WHERE user_id = ?2 AND id = ?3",
                (ts(&now), &user_id, &conversation_id),
            )
            .map_err(db_error)?;
            if touched == 0 {
                return Err(Error::NotFound("conversation"));
            }
            let sql = format!(
                "INSERT INTO messages (conversation_id, user_id, role, content, tool_calls, \
                 tool_call_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 RETURNING {MESSAGE_COLUMNS}"
            );
            let mut stored = Vec::with_capacity(messages.len());
            for message in &messages {
                let params = (
                    &conversation_id,
                    &user_id,
                    message.role.as_str(),
                    &message.content,
                    tool_calls_json(message)?,
                    &message.tool_call_id,
                    ts(&now),
                );
                let row = sql::one(&tx, &sql, params, decode::<MessageRow>)
                    .map_err(db_error)?
                    .ok_or_else(|| Error::internal("insert returned no row"))?;
                stored.push(Message::try_from(row)?);
            }
            tx.commit().map_err(db_error)?;
            Ok(stored)
        })
        .await
    }

    async fn recent_messages(
        &self,
        user_id: &UserId,
        conversation_id: &ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let (user_id, conversation_id) = (user_id.to_owned(), conversation_id.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 \
                 AND user_id = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4"
            );
            let params = (
                &conversation_id,
                &user_id,
                before.unwrap_or(i64::MAX),
                i64::from(limit),
            );
            let rows = sql::all(conn, &sql, params, decode::<MessageRow>).map_err(db_error)?;
            rows.into_iter().map(Message::try_from).collect()
        })
        .await
    }

    async fn put_llm_credential(&self, c: &StoredCredential) -> Result<()> {
        let c = c.clone();
        self.write(move |conn| {
            sql::execute(
                conn,
                "INSERT INTO llm_credentials (user_id, api_key_ciphertext, key_hint, model, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (user_id) DO UPDATE SET \
                 api_key_ciphertext = excluded.api_key_ciphertext, \
                 key_hint = excluded.key_hint, model = excluded.model, \
                 updated_at = excluded.updated_at",
                (
                    &c.user_id,
                    &c.api_key_ciphertext,
                    &c.key_hint,
                    &c.model,
                    ts(&c.created_at),
                    ts(&c.updated_at),
                ),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn llm_credential(&self, user_id: &UserId) -> Result<Option<StoredCredential>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let sql =
                format!("SELECT {CREDENTIAL_COLUMNS} FROM llm_credentials WHERE user_id = ?1");
            let row =
                sql::one(conn, &sql, [&user_id], decode::<CredentialRow>).map_err(db_error)?;
            Ok(row.map(Into::into))
        })
        .await
    }

    async fn delete_llm_credential(&self, user_id: &UserId) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let done = sql::execute(
                conn,
                "DELETE FROM llm_credentials WHERE user_id = ?1",
                [&user_id],
            )
            .map_err(db_error)?;
            Ok(done > 0)
        })
        .await
    }
}
