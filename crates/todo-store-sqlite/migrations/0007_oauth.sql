-- OAuth 2.1 (docs/security.md, "OAuth"): apps that connect on a user's behalf. Codes and tokens
-- are kept as SHA-256 hashes only. A grant is a user's consent to a client and the family of
-- tokens that came of it: revoking it ends them all.

CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY,   -- generated at registration, or a metadata document's URL
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,      -- one per line
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE oauth_grants (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes          TEXT NOT NULL,    -- space-separated: tasks:read tasks:write
    resource        TEXT NOT NULL,    -- the audience (RFC 8707)
    redirect_uri    TEXT NOT NULL,
    code_hash       TEXT NOT NULL UNIQUE,
    code_challenge  TEXT NOT NULL,    -- PKCE S256
    code_expires_at TEXT NOT NULL,
    code_used_at    TEXT,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
) STRICT;
CREATE INDEX oauth_grants_user_id ON oauth_grants (user_id);
CREATE INDEX oauth_grants_client_id ON oauth_grants (client_id);

CREATE TABLE oauth_tokens (
    hash       TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    scopes     TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    spent_at   TEXT                   -- a rotated refresh token: presenting it again is reuse
) STRICT;
CREATE INDEX oauth_tokens_grant_id ON oauth_tokens (grant_id);
