-- External identities: (issuer, subject) of an outside token, linked to a local user of our
-- making. An outside subject is never a local user id.

CREATE TABLE identities (
    issuer     TEXT NOT NULL,       -- the trust root: 'better-auth', 'jwks', or 'legacy'
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX identities_user_id ON identities (user_id);

-- External users from before: their id was their token's subject, whichever root signed it.
INSERT INTO identities (issuer, subject, user_id, created_at)
SELECT 'legacy', id, id, created_at FROM users WHERE password_hash IS NULL;
