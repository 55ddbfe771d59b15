-- Analyst review: cases (a held or blocked listing, or one fans reported), the decisions
-- analysts take on them (never edited: a later decision supersedes an earlier one), sellers'
-- appeals and answers, and fans' reports.

-- A case is one listing waiting for (or having had) an analyst's decision. At most one case
-- per listing is not closed; a screening or a report on a listing with an open case raises it.
CREATE TABLE cases (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id       bigint NOT NULL REFERENCES listings (id),
    seller_id        bigint NOT NULL REFERENCES sellers (id),
    property         text NOT NULL DEFAULT '',  -- the listing's, at opening (for filters and metrics)
    licensee_id      bigint,                     -- the claimed product's licensee, if any
    source           text NOT NULL CHECK (source IN ('screening', 'report', 'appeal')),
    screening_id     bigint,                     -- the pipeline's screening that opened or last raised it
    score            integer NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 100),
    verdict          text NOT NULL DEFAULT '',
    reason           text NOT NULL DEFAULT '',     -- the heaviest rule's explanation
    rules            text[] NOT NULL DEFAULT '{}', -- ids of the rules that hit
    evidence         jsonb NOT NULL DEFAULT '{"reasons": [], "matches": []}', -- reasons and matches of the screening
    reports          integer NOT NULL DEFAULT 0 CHECK (reports >= 0),
    priority         integer GENERATED ALWAYS AS (least(100, score + 10 * reports)) STORED,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'waiting', 'closed')),
    claimed_by       bigint REFERENCES users (id),
    claimed_email    text NOT NULL DEFAULT '',
    claimed_at       timestamptz,
    appeal_of        bigint,                     -- the decision appealed (source 'appeal')
    excluded_analyst bigint REFERENCES users (id), -- who took the appealed decision: not them again
    question         text NOT NULL DEFAULT '',   -- more_info: what the seller is asked
    answer           text NOT NULL DEFAULT '',   -- and what it said
    answered_at      timestamptz,
    opened_at        timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK ((claimed_by IS NULL) = (claimed_at IS NULL))
);
CREATE UNIQUE INDEX cases_one_open_per_listing ON cases (listing_id) WHERE status <> 'closed';
CREATE INDEX cases_queue_idx ON cases (priority DESC, opened_at, id) WHERE status = 'open';
CREATE INDEX cases_seller_idx ON cases (seller_id, opened_at DESC);
CREATE INDEX cases_rules_idx ON cases USING gin (rules);

-- A decision on a case. Rows are never updated or deleted (the trigger refuses both); a later
-- decision on the same listing names the one it supersedes.
CREATE TABLE decisions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cases (id),
    listing_id    bigint NOT NULL REFERENCES listings (id),
    seller_id     bigint NOT NULL REFERENCES sellers (id),
    decision      text NOT NULL CHECK (decision IN ('counterfeit', 'unauthorised_seller', 'authentic', 'more_info')),
    note          text NOT NULL CHECK (note <> '' AND length(note) <= 2000),
    analyst_id    bigint NOT NULL REFERENCES users (id),
    analyst_email text NOT NULL,
    decided_at    timestamptz NOT NULL DEFAULT now(),
    evidence      jsonb NOT NULL,
    supersedes    bigint REFERENCES decisions (id),
    strikes_after integer                -- the seller's strikes once this decision struck it
);
CREATE INDEX decisions_case_idx ON decisions (case_id, decided_at);
CREATE INDEX decisions_listing_idx ON decisions (listing_id, decided_at DESC);
CREATE INDEX decisions_analyst_idx ON decisions (analyst_id, decided_at);

CREATE FUNCTION decisions_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'decisions are never edited: record a new decision that supersedes it' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER decisions_never_edited BEFORE UPDATE OR DELETE OR TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION decisions_are_final();

ALTER TABLE cases ADD CONSTRAINT cases_appeal_fk FOREIGN KEY (appeal_of) REFERENCES decisions (id);

-- A seller's appeal: one per decision (the primary key), opening a new case.
CREATE TABLE appeals (
    decision_id bigint PRIMARY KEY REFERENCES decisions (id),
    case_id     bigint NOT NULL REFERENCES cases (id),
    seller_id   bigint NOT NULL REFERENCES sellers (id),
    user_id     bigint REFERENCES users (id),
    note        text NOT NULL CHECK (note <> '' AND length(note) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A fan's report of a suspected fake. reporter is "user:ID" or "ip:ADDRESS", for the rate limit
-- and so one person reports one listing once.
CREATE TABLE reports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id  bigint NOT NULL REFERENCES listings (id),
    case_id     bigint NOT NULL REFERENCES cases (id),
    reporter    text NOT NULL,
    user_id     bigint REFERENCES users (id),
    reason      text NOT NULL CHECK (reason <> '' AND length(reason) <= 1000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (listing_id, reporter)
);
CREATE INDEX reports_reporter_idx ON reports (reporter, created_at);
