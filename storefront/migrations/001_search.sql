-- The storefront's own copy of what fans can find: one search document per listing that was
-- live when the follower last read it, fed from the catalogue's catalog_changes outbox.
-- pg_trgm (Debian's postgresql-contrib, shipped with the server) gives typo tolerance through
-- the lexicon of indexed words; it is a trusted extension, so a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A sale group is what the licence question depends on: who sells (the seller and the
-- licensee it is, if any), which property and which category. Search asks licensing's Coverage
-- once per group and fan country, then filters documents by the groups allowed.
CREATE TABLE search_groups (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id   bigint NOT NULL,
    licensee_id bigint NOT NULL DEFAULT 0, -- the seller's own licensee, 0 when it is none
    property    text NOT NULL,
    category    text NOT NULL,
    UNIQUE (seller_id, licensee_id, property, category)
);

CREATE TABLE search_documents (
    listing_id    bigint PRIMARY KEY,
    slug          text NOT NULL,
    title         text NOT NULL,
    titles        jsonb NOT NULL DEFAULT '{}', -- title per language, when the product has them
    summary       text NOT NULL DEFAULT '',
    property      text NOT NULL,
    category      text NOT NULL,
    licensee_id   bigint NOT NULL DEFAULT 0,
    licensee_name text NOT NULL DEFAULT '',
    seller_id     bigint NOT NULL,
    seller_name   text NOT NULL DEFAULT '',
    official      boolean NOT NULL DEFAULT false,
    group_id      integer NOT NULL REFERENCES search_groups (id),
    territories   text[] NOT NULL,
    skus          text[] NOT NULL DEFAULT '{}', -- upper case
    gtins         text[] NOT NULL DEFAULT '{}',
    price_amount  bigint NOT NULL,               -- the listing's own price
    currency      text NOT NULL,
    prices        jsonb NOT NULL DEFAULT '{}',   -- market currency -> [amount, currency] shown there
    bands         jsonb NOT NULL DEFAULT '{}',   -- market currency -> price band (0..3)
    image_id      bigint NOT NULL DEFAULT 0,
    stock         integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    tsv           tsvector NOT NULL,
    indexed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_documents_tsv_idx ON search_documents USING gin (tsv);
CREATE INDEX search_documents_territories_idx ON search_documents USING gin (territories);
CREATE INDEX search_documents_skus_idx ON search_documents USING gin (skus);
CREATE INDEX search_documents_gtins_idx ON search_documents USING gin (gtins);
CREATE INDEX search_documents_created_idx ON search_documents (created_at DESC, listing_id DESC);
CREATE INDEX search_documents_group_idx ON search_documents (group_id);
CREATE UNIQUE INDEX search_documents_slug_key ON search_documents (slug);

-- Every folded word of the documents, for "did you mean" expansion of misspelt query words:
-- small enough that a trigram lookup per query word costs well under a millisecond.
CREATE TABLE search_words (
    word text PRIMARY KEY
);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- Where each follower stands in the catalogue's outbox: the last change it applied. A crash
-- between applying and saving replays the batch, which is harmless (applying is idempotent).
CREATE TABLE search_followers (
    name       text PRIMARY KEY,
    last_id    bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
