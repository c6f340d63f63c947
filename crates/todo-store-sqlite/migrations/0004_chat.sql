-- The chat agent: conversations, their messages, and users' own LLM provider keys (sealed
-- with TODO_ENCRYPTION_KEY; only the last characters are kept in clear, to show).

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,        -- UUIDv7
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at, id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         TEXT NOT NULL,
    tool_calls      TEXT,               -- JSON array of {id, tool, arguments}
    tool_call_id    TEXT,               -- the call a tool message answers
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE llm_credentials (
    user_id            TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    api_key_ciphertext TEXT NOT NULL,
    key_hint           TEXT NOT NULL,
    model              TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;
