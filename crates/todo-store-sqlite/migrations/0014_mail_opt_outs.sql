-- Addresses that turned invitation emails off with the one-click unsubscribe link of an
-- invitation (RFC 8058; see docs/email.md, "Unsubscribe"). An address may have no account.
CREATE TABLE mail_opt_outs (
    email      TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
) STRICT;
