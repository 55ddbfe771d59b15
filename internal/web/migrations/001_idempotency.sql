-- Idempotency keys: the first answer to a creating request sent with an Idempotency-Key
-- header, per caller, kept 24 hours so that a retry answers it again instead of doing the work
-- twice. status is NULL while the first request runs (until locked_until, after which a retry
-- of the same request takes it over: the process that ran it died).
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    status       integer,
    content_type text NOT NULL DEFAULT '',
    location     text NOT NULL DEFAULT '',
    body         bytea,
    locked_until timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
