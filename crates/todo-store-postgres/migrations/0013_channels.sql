-- Where each user's reminders go (see docs/email.md, "Channels"): the open web app, email,
-- Web Push; and the daily digest's local hour (none: no digest) with the local day it was
-- last sent, so it goes once a day whatever the hour is changed to.
ALTER TABLE users ADD COLUMN notify_in_app BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN notify_email BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN notify_push BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN digest_hour SMALLINT CHECK (digest_hour BETWEEN 0 AND 23);
ALTER TABLE users ADD COLUMN digest_sent_on DATE;

-- A browser's Web Push subscription (RFC 8030): its push service endpoint (one per browser
-- profile, so it belongs to the account that subscribed it last) and its keys (RFC 8291).
CREATE TABLE push_subscriptions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX push_subscriptions_user_id ON push_subscriptions (user_id);

-- A reminder's email and pushes are jobs written with its event (one per channel and
-- device); a 'digest' job is a user's next daily digest.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('reminder', 'webhook', 'email', 'push', 'digest'));
ALTER TABLE jobs ADD COLUMN subscription_id BIGINT;
CREATE INDEX jobs_digest ON jobs (user_id) WHERE kind = 'digest' AND done_at IS NULL;
