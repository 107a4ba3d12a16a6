-- Schema version 2: answers recorded for replays.
--
-- A Reveal or Burn given a replay (onetime.Replay) records its answer here,
-- in the transaction of its change, and a repeat under the same id gets it
-- back until expires_at, whether or not the secret still exists. The
-- answer is the record as the call returned it, JSON-encoded: sealed
-- bytes and keyed-hash ids, as in onetime_records; NULL records a wrong
-- passphrase. Rows are no records: Recent never sees them, and Sweep
-- deletes them once expired without counting them.

CREATE TABLE onetime_replays (
    id         BLOB PRIMARY KEY,  -- the replay id, 20 bytes
    expires_at INTEGER NOT NULL,
    answer     BLOB               -- NULL: ErrWrongPassphrase
) WITHOUT ROWID;

CREATE INDEX onetime_replays_expiry ON onetime_replays (expires_at);
