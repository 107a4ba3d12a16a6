-- Schema version 1: secrets and their receipts.
--
-- Ids are stored as 20-byte blobs (the 40 hex characters decoded); times are
-- integer microseconds since the Unix epoch, UTC. A record is live while
-- expires_at > now. The tables carry a prefix so that the store can share a
-- caller's database with other tables.

CREATE TABLE onetime_secrets (
    id           BLOB PRIMARY KEY,
    metadata_id  BLOB NOT NULL,
    sealed       BLOB,
    chk          BLOB,             -- passphrase verifier; NULL when none
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    share_domain TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Sweep walks this index, so reclaiming space costs O(expired).
CREATE INDEX onetime_secrets_expiry ON onetime_secrets (expires_at);

CREATE TABLE onetime_receipts (
    id                BLOB PRIMARY KEY,
    secret_id         BLOB NOT NULL,
    -- seq orders the receipts of one owner created at the same instant,
    -- by Create: one more than the latest such receipt, 0 for the first.
    seq               INTEGER NOT NULL,
    owner             TEXT,                -- NULL when anonymous: kept out of the owner index
    state             INTEGER NOT NULL,
    passphrase        INTEGER NOT NULL,
    share_domain      TEXT NOT NULL,
    created           INTEGER NOT NULL,
    updated           INTEGER NOT NULL,
    received          INTEGER,             -- NULL until received
    burned            INTEGER,             -- NULL until burned
    secret_expires_at INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    sealed            BLOB,
    owner_sealed      BLOB
) WITHOUT ROWID;

CREATE INDEX onetime_receipts_expiry ON onetime_receipts (expires_at);

-- Recent: newest first, ties in reverse order of Create.
CREATE INDEX onetime_receipts_owner ON onetime_receipts (owner, created DESC, seq DESC)
    WHERE owner IS NOT NULL;
