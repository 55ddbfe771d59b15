-- The licensee registry: properties and their marks, licensees, licences, authorised
-- resellers, hologram serial ranges and the checks fans make of them.

-- Properties are the licensable Olympic properties; marks are the words whose use in a
-- listing claims one (detection matches them, case-insensitively, in any language).
CREATE TABLE properties (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{2,32}$'),
    name       text NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE property_marks (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    property text NOT NULL REFERENCES properties (code),
    mark     text NOT NULL CHECK (mark <> ''),
    lang     text NOT NULL DEFAULT '' -- BCP 47 tag, '' when the mark is the same in every language
);
CREATE UNIQUE INDEX property_marks_key ON property_marks (property, lower(mark));

CREATE TABLE licensees (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    country       text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    contact_email text NOT NULL CHECK (contact_email LIKE '%_@_%'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX licensees_name_key ON licensees (lower(name));

-- users.licensee_id was left a plain column by the accounts slice, which comes first.
ALTER TABLE users ADD CONSTRAINT users_licensee_fk FOREIGN KEY (licensee_id) REFERENCES licensees (id);

-- version is the value of licensing_state.version when the row last changed; the coverage
-- snapshot loads only rows newer than the version it holds.
CREATE TABLE licences (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number            text NOT NULL UNIQUE CHECK (number ~ '^[A-Z0-9][A-Z0-9-]{2,39}$'),
    licensee_id       bigint NOT NULL REFERENCES licensees (id),
    property          text NOT NULL REFERENCES properties (code),
    categories        text[] NOT NULL CHECK (cardinality(categories) > 0),
    territories       text[] NOT NULL CHECK (cardinality(territories) > 0),
    valid_from        date NOT NULL,
    valid_to          date NOT NULL,
    royalty_bps       integer NOT NULL CHECK (royalty_bps BETWEEN 0 AND 10000),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'terminated')),
    status_reason     text NOT NULL DEFAULT '',
    status_changed_at timestamptz,
    version           bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to >= valid_from),
    CHECK (status = 'active' OR status_reason <> '')
);
CREATE INDEX licences_licensee_idx ON licences (licensee_id, property);
CREATE INDEX licences_version_idx ON licences (version);

-- One authorisation per licensee and seller; revoking keeps the row for the record.
-- seller_id is the catalogue's seller: that slice adds the foreign key.
CREATE TABLE reseller_authorisations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licensee_id   bigint NOT NULL REFERENCES licensees (id),
    seller_id     bigint NOT NULL CHECK (seller_id > 0),
    territories   text[] NOT NULL CHECK (cardinality(territories) > 0),
    revoked_at    timestamptz,
    revoke_reason text NOT NULL DEFAULT '',
    version       bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (licensee_id, seller_id)
);
CREATE INDEX reseller_authorisations_seller_idx ON reseller_authorisations (seller_id);
CREATE INDEX reseller_authorisations_version_idx ON reseller_authorisations (version);

-- The registry's change counter: every licence or authorisation change bumps it in its own
-- transaction (the row lock orders the bumps as the commits), and every process's coverage
-- snapshot polls it, or hears the NOTIFY that goes with it.
CREATE TABLE licensing_state (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL
);
INSERT INTO licensing_state (version) VALUES (0);

-- Hologram serials are PREFIX followed by a number; a range is [first, last] under a prefix.
-- Ranges under one prefix never overlap (checked under an advisory lock on the prefix).
CREATE TABLE serial_ranges (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licensee_id bigint NOT NULL REFERENCES licensees (id),
    product_sku text NOT NULL CHECK (product_sku <> '' AND length(product_sku) <= 64),
    prefix      text NOT NULL CHECK (prefix ~ '^[A-Z0-9-]{0,15}[A-Z-]$'),
    first       bigint NOT NULL CHECK (first >= 0),
    last        bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (last >= first)
);
CREATE INDEX serial_ranges_lookup_idx ON serial_ranges (prefix, first);
CREATE INDEX serial_ranges_licensee_idx ON serial_ranges (licensee_id);

-- Every verification of a serial, genuine or not: a cloned label shows up as one serial
-- checked from many countries, or far more often than one item would be.
CREATE TABLE serial_checks (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial   text NOT NULL,
    range_id bigint REFERENCES serial_ranges (id),
    country  text NOT NULL DEFAULT '',
    result   text NOT NULL CHECK (result IN ('genuine', 'unknown', 'suspicious')),
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX serial_checks_serial_idx ON serial_checks (serial, at);
