-- How many documents share each set of facet values, per sale group and territories: a browse
-- without words (the home page's categories, a property, a price band) reads its facets and
-- total from these few hundred rows instead of counting up to every document. Apply keeps it
-- exact in the same transaction as the documents (what it deletes it subtracts, what it
-- inserts it adds).
CREATE TABLE search_facet_counts (
    group_id      integer NOT NULL,
    territories   text[] NOT NULL,
    property      text NOT NULL,
    category      text NOT NULL,
    licensee_id   bigint NOT NULL,
    bands         jsonb NOT NULL,
    licensee_name text NOT NULL DEFAULT '',
    n             integer NOT NULL,
    PRIMARY KEY (group_id, territories, property, category, licensee_id, bands)
);
INSERT INTO search_facet_counts (group_id, territories, property, category, licensee_id, bands, licensee_name, n)
SELECT group_id, territories, property, category, licensee_id, bands, max(licensee_name), count(*)
FROM search_documents GROUP BY group_id, territories, property, category, licensee_id, bands;

-- Every search filters on the sale groups allowed in the fan's country and the territories
-- shipped to, which most documents pass: indexes on them only made the planner combine
-- bitmaps that select nearly everything (15-25 ms of a 90 ms word search at 100,000
-- documents). The word index and the newest-first index do the selecting.
DROP INDEX search_documents_territories_idx;
DROP INDEX search_documents_group_idx;

-- Browsing by price ("sort=price_asc" with a property or category, no words) walked every
-- matching document to sort them: 100 ms at 100,000 documents. One index per market currency
-- (web.MarketCurrencies; TestEveryMarketCurrencyHasAPriceIndex keeps them in step) gives the
-- order, and the page is the first matches along it: under 1 ms. Descending sorts walk it backwards.
CREATE INDEX search_documents_price_aud_idx ON search_documents (((prices->'AUD'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_cad_idx ON search_documents (((prices->'CAD'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_chf_idx ON search_documents (((prices->'CHF'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_cny_idx ON search_documents (((prices->'CNY'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_eur_idx ON search_documents (((prices->'EUR'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_gbp_idx ON search_documents (((prices->'GBP'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_jpy_idx ON search_documents (((prices->'JPY'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_krw_idx ON search_documents (((prices->'KRW'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_mxn_idx ON search_documents (((prices->'MXN'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_twd_idx ON search_documents (((prices->'TWD'->>'amount')::bigint), listing_id DESC);
CREATE INDEX search_documents_price_usd_idx ON search_documents (((prices->'USD'->>'amount')::bigint), listing_id DESC);
