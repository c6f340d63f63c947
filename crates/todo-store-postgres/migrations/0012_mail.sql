-- Outgoing email goes through the job queue: a job of kind 'email' carries the composed
-- message (JSON) in `payload`, so a send is retried with backoff and, with several replicas,
-- made once.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('reminder', 'webhook', 'email'));
ALTER TABLE jobs ADD COLUMN payload TEXT;

-- Password resets: only the SHA-256 of the token is kept; single use, with an expiry.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_resets_user_id ON password_resets (user_id);
