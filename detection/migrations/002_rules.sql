-- The screening rules' configuration that analysts change without a release (ruleconfig*.go).
-- Until one is saved, the built-in defaults (version 0) apply; a rule or parameter a saved
-- configuration does not name keeps its default.

-- One row per rule an analyst has configured.
CREATE TABLE detection_rule_config (
    rule       text PRIMARY KEY,
    enabled    boolean NOT NULL,
    weight     integer NOT NULL CHECK (weight BETWEEN 0 AND 100),
    params     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The settings that are not per rule, and the version of the whole configuration, bumped by
-- every save (a NOTIFY on detection_rules carries it to the other processes).
CREATE TABLE detection_rule_settings (
    only_row          boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version           bigint NOT NULL CHECK (version > 0),
    review_at         integer NOT NULL,
    block_at          integer NOT NULL,
    hash_radius       integer NOT NULL CHECK (hash_radius BETWEEN 0 AND 64),
    counterfeit_words text[] NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text NOT NULL,
    CHECK (0 < review_at AND review_at < block_at AND block_at <= 100)
);

-- Every saved configuration, whole, by version: a screening records the version it used, and
-- this says what that version was.
CREATE TABLE detection_rule_versions (
    version    bigint PRIMARY KEY,
    config     jsonb NOT NULL,
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL
);
