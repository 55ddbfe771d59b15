-- The catalogue: sellers, official products (with variants, prices and images), listings (every
-- offer a fan can buy), catalogue imports, and the outbox that tells other slices what changed.

-- A seller is a licensee selling its own products, a reseller a licensee authorised, or an
-- independent seller. Strikes come from analysts' decisions; three suspend the seller.
CREATE TABLE sellers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('licensee', 'reseller', 'independent')),
    name           text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    licensee_id    bigint REFERENCES licensees (id),
    country        text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    ships_from     text NOT NULL CHECK (ships_from ~ '^[A-Z]{2}$'),
    contact_email  text NOT NULL DEFAULT '',
    contact_phone  text NOT NULL DEFAULT '',
    payout_account text NOT NULL DEFAULT '', -- the bank or Stripe account it is paid to; links accounts
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    status_reason  text NOT NULL DEFAULT '',
    strikes        integer NOT NULL DEFAULT 0 CHECK (strikes >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'licensee') = (licensee_id IS NOT NULL))
);
CREATE UNIQUE INDEX sellers_licensee_key ON sellers (licensee_id) WHERE kind = 'licensee';
CREATE INDEX sellers_payout_idx ON sellers (payout_account) WHERE payout_account <> '';
CREATE INDEX sellers_email_idx ON sellers (lower(contact_email)) WHERE contact_email <> '';

ALTER TABLE users ADD CONSTRAINT users_seller_fk FOREIGN KEY (seller_id) REFERENCES sellers (id);
ALTER TABLE reseller_authorisations ADD CONSTRAINT reseller_authorisations_seller_fk
    FOREIGN KEY (seller_id) REFERENCES sellers (id);

-- Every stored picture once, by content; the bytes live in the blob store under blob_key.
CREATE TABLE images (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256       bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
    blob_key     text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    width        integer NOT NULL CHECK (width > 0),
    height       integer NOT NULL CHECK (height > 0),
    bytes        bigint NOT NULL CHECK (bytes > 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- An official product of a licensee. Its variants are the SKUs; its images are the official
-- references detection compares listings with.
CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licensee_id bigint NOT NULL REFERENCES licensees (id),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    property    text NOT NULL REFERENCES properties (code),
    category    text NOT NULL,
    territories text[] NOT NULL CHECK (cardinality(territories) > 0),
    status      text NOT NULL DEFAULT 'approved' CHECK (status IN ('draft', 'approved', 'withdrawn')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_licensee_idx ON products (licensee_id, property, category);

-- Title and description per language (BCP 47 base tag); English is required by the importer.
CREATE TABLE product_texts (
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    lang        text NOT NULL CHECK (lang ~ '^[a-z]{2,3}(-[A-Za-z0-9]+)*$'),
    title       text NOT NULL CHECK (title <> ''),
    description text NOT NULL DEFAULT '',
    PRIMARY KEY (product_id, lang)
);

-- A variant is one SKU: a size and colour of a product, with its stock.
CREATE TABLE variants (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    licensee_id bigint NOT NULL REFERENCES licensees (id),
    sku         text NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    gtin        text NOT NULL DEFAULT '' CHECK (gtin ~ '^([0-9]{8}|[0-9]{12,14})?$'),
    size        text NOT NULL DEFAULT '',
    colour      text NOT NULL DEFAULT '',
    stock       integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    position    integer NOT NULL DEFAULT 0,
    UNIQUE (licensee_id, sku)
);
CREATE INDEX variants_product_idx ON variants (product_id, position);
CREATE INDEX variants_gtin_idx ON variants (gtin) WHERE gtin <> '';

-- Price of a variant per currency, in the currency's minor unit.
CREATE TABLE variant_prices (
    variant_id bigint NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount     bigint NOT NULL CHECK (amount > 0),
    PRIMARY KEY (variant_id, currency)
);

CREATE TABLE product_images (
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    image_id   bigint NOT NULL REFERENCES images (id),
    PRIMARY KEY (product_id, position)
);
CREATE INDEX product_images_image_idx ON product_images (image_id);

-- A listing is an offer by a seller. A licensee's listing offers one of its products (every
-- variant, at the product's prices); another seller's listing has its own photos, price and
-- stock, and may claim a product by SKU. Only `live` listings are ever shown to fans.
CREATE TABLE listings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id     bigint NOT NULL REFERENCES sellers (id),
    product_id    bigint REFERENCES products (id),     -- the product offered or claimed
    claimed_sku   text NOT NULL DEFAULT '',            -- as the seller wrote it
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    title         text NOT NULL CHECK (title <> '' AND length(title) <= 300),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    property      text REFERENCES properties (code),   -- the property it claims, if any
    category      text NOT NULL DEFAULT '',
    price_amount  bigint NOT NULL CHECK (price_amount > 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    stock         integer NOT NULL DEFAULT 0 CHECK (stock >= 0), -- for listings without variants
    territories   text[] NOT NULL CHECK (cardinality(territories) > 0),
    ships_from    text NOT NULL CHECK (ships_from ~ '^[A-Z]{2}$'),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'live', 'held', 'blocked', 'removed')),
    status_reason text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX listings_seller_idx ON listings (seller_id, status);
CREATE INDEX listings_product_idx ON listings (product_id) WHERE product_id IS NOT NULL;
CREATE INDEX listings_live_idx ON listings (created_at DESC) WHERE status = 'live';
CREATE UNIQUE INDEX listings_official_key ON listings (seller_id, product_id)
    WHERE product_id IS NOT NULL AND claimed_sku = '';

CREATE TABLE listing_images (
    listing_id bigint NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    image_id   bigint NOT NULL REFERENCES images (id),
    PRIMARY KEY (listing_id, position)
);
CREATE INDEX listing_images_image_idx ON listing_images (image_id);

-- The outbox: one row per change to a listing (or its product) that readers such as the search
-- index follow with ChangesSince; a NOTIFY on catalog_changes wakes them.
CREATE TABLE catalog_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalog_changes_listing_idx ON catalog_changes (listing_id);

-- A catalogue import: a CSV (and optional zip of images) a licensee uploaded, its progress
-- while it runs and every bad line when it is done.
CREATE TABLE imports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licensee_id bigint NOT NULL REFERENCES licensees (id),
    created_by  bigint REFERENCES users (id),
    filename    text NOT NULL DEFAULT '',
    dry_run     boolean NOT NULL DEFAULT false,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    lines       integer NOT NULL DEFAULT 0, -- data lines read so far
    total_bytes bigint NOT NULL DEFAULT 0,
    read_bytes  bigint NOT NULL DEFAULT 0,
    accepted    integer NOT NULL DEFAULT 0,
    rejected    integer NOT NULL DEFAULT 0,
    errors      jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX imports_licensee_idx ON imports (licensee_id, created_at DESC);
