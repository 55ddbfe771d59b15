-- Carts, orders and payments. A cart belongs to a browser (a random token in a cookie, kept
-- here only as its SHA-256) and, once the fan logs in, to the fan. An order is what a checkout
-- made of a cart: its lines copy the price, the licence and the royalty of the moment, so later
-- changes to the catalogue or the registry never rewrite what a fan paid or a licensee is owed.

CREATE TABLE carts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX carts_user_key ON carts (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX carts_updated_idx ON carts (updated_at);

-- One line of a cart: a listing, or one variant of a licensee's own listing (variant_id 0:
-- none). seen_amount is the price the fan was last shown, so a change is shown, not charged.
CREATE TABLE cart_items (
    cart_id       bigint NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    listing_id    bigint NOT NULL REFERENCES listings (id),
    variant_id    bigint NOT NULL DEFAULT 0,
    quantity      integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    seen_amount   bigint NOT NULL CHECK (seen_amount > 0),
    seen_currency text NOT NULL CHECK (seen_currency ~ '^[A-Z]{3}$'),
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, listing_id, variant_id)
);

-- A licensee's connected Stripe account: its sales are destination charges to it, with the
-- royalty kept as the platform's application fee.
CREATE TABLE licensee_stripe_accounts (
    licensee_id bigint PRIMARY KEY REFERENCES licensees (id),
    account_id  text NOT NULL UNIQUE CHECK (account_id ~ '^acct_[A-Za-z0-9]+$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           bigint REFERENCES users (id),
    buyer_hash        bytea NOT NULL CHECK (length(buyer_hash) = 32), -- the cart cookie's hash: an anonymous fan's proof
    country           text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    lang              text NOT NULL DEFAULT 'en',
    total_amount      bigint NOT NULL CHECK (total_amount > 0),
    royalty_amount    bigint NOT NULL CHECK (royalty_amount >= 0),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'expired', 'failed', 'cancelled')),
    status_reason     text NOT NULL DEFAULT '',
    stock_held        boolean NOT NULL DEFAULT true, -- its lines' items are out of stock for it
    payment_mode      text NOT NULL CHECK (payment_mode IN ('stripe', 'test')),
    stripe_session_id text UNIQUE,
    checkout_url      text NOT NULL DEFAULT '',
    destination       text NOT NULL DEFAULT '',      -- the connected account paid, if any
    application_fee   bigint NOT NULL DEFAULT 0 CHECK (application_fee >= 0),
    payment_intent    text NOT NULL DEFAULT '',
    expires_at        timestamptz NOT NULL,
    paid_at           timestamptz,
    refund_due        bigint NOT NULL DEFAULT 0 CHECK (refund_due >= 0),
    refund_reason     text NOT NULL DEFAULT '',
    last_event_at     timestamptz,                   -- the creation time of the newest Stripe event applied
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX orders_pending_idx ON orders (expires_at) WHERE status = 'pending';

CREATE TABLE order_lines (
    order_id         bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line             integer NOT NULL CHECK (line >= 1),
    listing_id       bigint NOT NULL REFERENCES listings (id),
    variant_id       bigint NOT NULL DEFAULT 0,
    seller_id        bigint NOT NULL,
    title            text NOT NULL,
    sku              text NOT NULL DEFAULT '',
    quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    unit_amount      bigint NOT NULL CHECK (unit_amount > 0),
    amount           bigint NOT NULL CHECK (amount = unit_amount * quantity),
    licence_number   text NOT NULL,
    licensee_id      bigint NOT NULL REFERENCES licensees (id),
    royalty_bps      integer NOT NULL CHECK (royalty_bps BETWEEN 0 AND 10000),
    royalty_amount   bigint NOT NULL CHECK (royalty_amount >= 0 AND royalty_amount <= amount),
    counterfeit_at   timestamptz,                   -- found counterfeit after the sale: refunded
    PRIMARY KEY (order_id, line)
);
CREATE INDEX order_lines_listing_idx ON order_lines (listing_id);

-- Every Stripe event applied, by its id, so a redelivery changes nothing.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    created     timestamptz NOT NULL,
    order_id    bigint REFERENCES orders (id),
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
