-- Schema version 1: secrets and their receipts, in one table.
--
-- Ids are stored as 20-byte blobs (the 40 hex characters decoded); times are
-- integer microseconds since the Unix epoch, UTC. A record is live while
-- expires_at > now. Tables carry a prefix so that the store can share a
-- caller's database with other tables.
--
-- A secret and its receipt are two rows of one table keyed by id. Their ids
-- share their first 4 bytes (the pair's slot), so the two rows sit side by
-- side, nearly always in one page: creating a pair, revealing it (deleting
-- the secret, stamping the receipt) and burning it each touch one leaf of
-- this b-tree, not one leaf in each of two. With random ids and a store
-- larger than the page cache, that halves the pages read, written to the
-- log and checkpointed per pair.

CREATE TABLE onetime_records (
    id                BLOB PRIMARY KEY,
    kind              INTEGER NOT NULL,  -- 1 secret, 2 receipt
    pair_id           BLOB NOT NULL,     -- the other record of the pair
    expires_at        INTEGER NOT NULL,
    sealed            BLOB,
    share_domain      TEXT NOT NULL,

    -- Secrets only.
    chk               BLOB,              -- passphrase verifier; NULL when none
    attempts          INTEGER,
    max_attempts      INTEGER,

    -- Receipts only.
    owner             TEXT,              -- NULL when anonymous: kept out of the owner index
    seq               INTEGER,           -- orders one owner's receipts of one instant by Create
    state             INTEGER,
    passphrase        INTEGER,
    created           INTEGER,
    updated           INTEGER,
    received          INTEGER,           -- NULL until received
    burned            INTEGER,           -- NULL until burned
    secret_expires_at INTEGER,
    owner_sealed      BLOB
) WITHOUT ROWID;

-- Sweep walks this index, so reclaiming space costs O(expired).
CREATE INDEX onetime_records_expiry ON onetime_records (expires_at);

-- Recent: newest first, ties in reverse order of Create.
CREATE INDEX onetime_records_owner ON onetime_records (owner, created DESC, seq DESC)
    WHERE owner IS NOT NULL;
