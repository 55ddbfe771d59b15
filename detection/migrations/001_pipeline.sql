-- The screening pipeline: every stored picture's fingerprint (hashed once), the reference
-- pictures listings are compared with, the screenings themselves, and what analysts cleared.

-- The fingerprint of a stored picture (Fingerprint.MarshalBinary), computed once. The three
-- query pHashes are copied out as integers so that a new counterfeit can be compared with
-- every screened picture without decoding each fingerprint. A picture that cannot be
-- fingerprinted (not an image, too small, flat) keeps the reason instead.
CREATE TABLE image_fingerprints (
    image_id    bigint PRIMARY KEY REFERENCES images (id),
    fingerprint bytea,
    phash       bigint,  -- KindPHash
    phash_raw   bigint,  -- KindPHashRaw
    phash_fill  bigint,  -- KindPHashFill
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((fingerprint IS NULL) = (error <> ''))
);

-- Bumped in the transaction of every change to image_references, and announced with a
-- NOTIFY on detection_references at commit: each process's in-memory matcher reloads the rows
-- whose version is newer than the one it holds.
CREATE TABLE reference_state (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL
);
INSERT INTO reference_state (version) VALUES (0);

-- A reference picture: an official product image (from the catalogue's job), a known
-- counterfeit (from an analyst's decision), or a picture of a listing an analyst removed.
-- A reference is withdrawn, never deleted, so that processes holding it hear of it.
CREATE TABLE image_references (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    image_id    bigint NOT NULL REFERENCES images (id),
    kind        text NOT NULL CHECK (kind IN ('official', 'counterfeit', 'removed_listing')),
    product_id  bigint REFERENCES products (id),    -- official: the product it shows
    licensee_id bigint REFERENCES licensees (id),   -- official: that product's licensee
    case_id     bigint,                             -- counterfeit, removed_listing: the analyst's case
    listing_id  bigint REFERENCES listings (id),    -- counterfeit, removed_listing: where it was seen
    seller_id   bigint REFERENCES sellers (id),     -- counterfeit, removed_listing: who listed it
    version     bigint NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    CHECK ((kind = 'official') = (product_id IS NOT NULL AND licensee_id IS NOT NULL))
);
CREATE UNIQUE INDEX image_references_official_key ON image_references (image_id, product_id)
    WHERE kind = 'official' AND withdrawn_at IS NULL;
CREATE UNIQUE INDEX image_references_other_key ON image_references (image_id, kind, coalesce(listing_id, 0))
    WHERE kind <> 'official' AND withdrawn_at IS NULL;
CREATE INDEX image_references_version_idx ON image_references (version);
CREATE INDEX image_references_product_idx ON image_references (product_id) WHERE product_id IS NOT NULL;

-- One screening of a listing: the score, verdict and rule hits (reasons), the reference
-- pictures its photos matched, and the rules version used. A failed attempt is a row too,
-- with its error and no verdict, so operations see listings stuck in pending and why.
CREATE TABLE screenings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id    bigint NOT NULL REFERENCES listings (id),
    job_id        bigint,                -- the River job; one completed screening per job
    attempt       integer NOT NULL DEFAULT 1,
    score         integer CHECK (score BETWEEN 0 AND 100),
    verdict       text CHECK (verdict IN ('allow', 'review', 'block')),
    status        text,                  -- the listing status it set
    reasons       jsonb NOT NULL DEFAULT '[]',
    matches       jsonb NOT NULL DEFAULT '[]',
    rules_version bigint NOT NULL DEFAULT 0,
    error         text NOT NULL DEFAULT '',
    duration_ms   integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((verdict IS NULL) = (error <> ''))
);
CREATE INDEX screenings_listing_idx ON screenings (listing_id, id DESC);
CREATE UNIQUE INDEX screenings_job_key ON screenings (job_id) WHERE job_id IS NOT NULL AND error = '';
CREATE INDEX screenings_failed_idx ON screenings (created_at DESC) WHERE error <> '';

-- The pictures of each screened listing, as last screened: a new counterfeit re-screens the
-- listings whose pictures match it.
CREATE TABLE screened_images (
    listing_id bigint NOT NULL REFERENCES listings (id),
    image_id   bigint NOT NULL REFERENCES images (id),
    seller_id  bigint NOT NULL REFERENCES sellers (id),
    PRIMARY KEY (listing_id, image_id)
);
CREATE INDEX screened_images_image_idx ON screened_images (image_id);
CREATE INDEX screened_images_seller_idx ON screened_images (seller_id);

-- A picture an analyst judged authentic for a seller ("authentic" decision): its matches
-- with official references no longer count against that seller.
CREATE TABLE authentic_images (
    seller_id  bigint NOT NULL REFERENCES sellers (id),
    image_id   bigint NOT NULL REFERENCES images (id),
    case_id    bigint,
    listing_id bigint REFERENCES listings (id),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (seller_id, image_id)
);
