-- The chat agent: conversations, their messages, and users' own LLM provider keys (sealed
-- with TODO_ENCRYPTION_KEY; only the last characters are kept in clear, to show). Keyed by
-- (user_id, …) like the tasks, so they distribute by user_id.

CREATE TABLE conversations (
    id         TEXT NOT NULL,           -- UUIDv7
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at, id);

CREATE TABLE messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY,
    conversation_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         TEXT NOT NULL,
    tool_calls      TEXT,               -- JSON array of {id, tool, arguments}
    tool_call_id    TEXT,               -- the call a tool message answers
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, conversation_id) REFERENCES conversations (user_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_conversation ON messages (user_id, conversation_id, id);

CREATE TABLE llm_credentials (
    user_id            TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    api_key_ciphertext TEXT NOT NULL,
    key_hint           TEXT NOT NULL,
    model              TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
