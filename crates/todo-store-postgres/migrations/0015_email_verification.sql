-- Confirming an email address (docs/email.md, "Confirming the address"): accepting an
-- invitation needs it when the server sends mail (docs/sharing.md). NULL = not confirmed.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;

-- Confirmation links: only the SHA-256 of the token is kept; single use, with an expiry. The
-- token confirms the address it was sent to (`email`), and nothing else: a table of its own,
-- so a reset token never confirms an address and a confirmation token never sets a password.
CREATE TABLE email_verifications (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX email_verifications_user_id ON email_verifications (user_id);
