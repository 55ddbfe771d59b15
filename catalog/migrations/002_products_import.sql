-- What the catalogue import needs on top of 001: the licensee's own key for a product (the
-- CSV's `product` column, which groups variants), the product's main currency (the price its
-- official listing shows), a lookup of SKUs across licensees (an import refuses another
-- licensee's SKU), and the phase and client reference of a running import for its progress bar.
ALTER TABLE products ADD COLUMN ref text NOT NULL DEFAULT '' CHECK (length(ref) <= 100);
ALTER TABLE products ADD COLUMN currency text NOT NULL DEFAULT '' CHECK (currency ~ '^([A-Z]{3})?$');
CREATE UNIQUE INDEX products_ref_key ON products (licensee_id, ref) WHERE ref <> '';

CREATE INDEX variants_sku_idx ON variants (sku);

ALTER TABLE imports ADD COLUMN phase text NOT NULL DEFAULT 'reading'
    CHECK (phase IN ('reading', 'checking', 'images', 'writing', 'done'));
ALTER TABLE imports ADD COLUMN client_ref text NOT NULL DEFAULT '' CHECK (length(client_ref) <= 64);
ALTER TABLE imports ADD COLUMN images_filename text NOT NULL DEFAULT '';
CREATE INDEX imports_client_ref_idx ON imports (licensee_id, client_ref) WHERE client_ref <> '';
