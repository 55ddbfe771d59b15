-- The client address an order was placed from: what one unpaid buyer may hold is capped by its
-- cart cookie (or account) and by its address, since a new cookie costs nothing.
ALTER TABLE orders ADD COLUMN client_addr text NOT NULL DEFAULT '';
CREATE INDEX orders_pending_buyer_idx ON orders (buyer_hash) WHERE status = 'pending';
CREATE INDEX orders_pending_addr_idx ON orders (client_addr) WHERE status = 'pending' AND client_addr <> '';
