-- Conversations are numbered (a 64-bit integer, as the brief's clients send `conversation_id`)
-- instead of UUIDv7 text. Existing conversations are numbered in the order they began (ties by
-- their old id), and their messages follow them. SQLite cannot change a column's type, so both
-- tables are rebuilt; the new messages table refers to the new conversations table, which then
-- takes the old name (and the reference follows it).

CREATE TABLE conversations_numbered (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE conversation_numbers (
    old_id TEXT PRIMARY KEY,
    id     INTEGER NOT NULL
) STRICT;
INSERT INTO conversation_numbers (old_id, id)
SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) FROM conversations;

INSERT INTO conversations_numbered (id, user_id, title, created_at, updated_at)
SELECT n.id, c.user_id, c.title, c.created_at, c.updated_at
FROM conversations c JOIN conversation_numbers n ON n.old_id = c.id;

CREATE TABLE messages_numbered (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations_numbered (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         TEXT NOT NULL,
    tool_calls      TEXT,               -- JSON array of {id, tool, arguments}
    tool_call_id    TEXT,               -- the call a tool message answers
    created_at      TEXT NOT NULL
) STRICT;
INSERT INTO messages_numbered (id, conversation_id, user_id, role, content, tool_calls,
                               tool_call_id, created_at)
SELECT m.id, n.id, m.user_id, m.role, m.content, m.tool_calls, m.tool_call_id, m.created_at
FROM messages m JOIN conversation_numbers n ON n.old_id = m.conversation_id;

DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE conversation_numbers;
ALTER TABLE conversations_numbered RENAME TO conversations;
ALTER TABLE messages_numbered RENAME TO messages;
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at, id);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
