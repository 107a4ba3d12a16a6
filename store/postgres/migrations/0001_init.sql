-- Schema version 1: secrets, their receipts, and the Reveal function.
--
-- Names in double braces are replaced by the store's (schema-qualified,
-- prefixed, quoted) names; {{:name}} is the unqualified name, for indexes.
-- Ids are the 20 bytes their 40 hex characters spell. Times are the ones
-- the service passed in (the database clock is never read); a record is
-- live while expires_at > now.

CREATE TABLE {{secrets}} (
    id           bytea PRIMARY KEY,
    expires_at   timestamptz NOT NULL,
    attempts     integer NOT NULL,
    max_attempts integer NOT NULL,
    metadata_id  bytea NOT NULL,
    share_domain text NOT NULL,
    chk          bytea,             -- passphrase verifier; NULL when none
    sealed       bytea
);

-- Sweep walks it: reclaiming space costs O(expired).
CREATE INDEX {{:secrets_expiry}} ON {{secrets}} (expires_at);

CREATE TABLE {{receipts}} (
    id                bytea PRIMARY KEY,
    created           timestamptz NOT NULL,
    updated           timestamptz NOT NULL,
    secret_expires_at timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    received          timestamptz,  -- NULL until received
    burned            timestamptz,  -- NULL until burned
    seq               bigint GENERATED ALWAYS AS IDENTITY, -- orders ties of created by Create
    state             smallint NOT NULL,
    passphrase        boolean NOT NULL,
    secret_id         bytea NOT NULL,
    owner             text,         -- NULL when anonymous: kept out of the owner index
    share_domain      text NOT NULL,
    sealed            bytea,
    owner_sealed      bytea
) WITH (fillfactor = 85);
-- Reveal, Burn and View change only unindexed columns of a receipt; the
-- room left in each page lets the new version stay in it (a HOT update),
-- so those writes add no index entries.

CREATE INDEX {{:receipts_expiry}} ON {{receipts}} (expires_at);

-- Recent: one owner's receipts, newest first, ties in reverse order of Create.
CREATE INDEX {{:receipts_owner}} ON {{receipts}} (owner, created DESC, seq DESC)
    WHERE owner IS NOT NULL;

-- Reveal in one round trip. Under READ COMMITTED every statement below
-- sees the latest committed rows and waits for the row locks it needs, so
-- of concurrent callers exactly one takes a secret, and every wrong
-- passphrase is counted once. Outcome 1: revealed (the secret's columns
-- follow); 2: wrong passphrase; 0: missing or expired.
CREATE FUNCTION {{reveal}}(p_id bytea, p_check bytea, p_now timestamptz,
    OUT outcome integer, OUT metadata_id bytea, OUT sealed bytea, OUT chk bytea,
    OUT attempts integer, OUT max_attempts integer, OUT share_domain text,
    OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
BEGIN
    -- The secret is taken by this one DELETE when its check matches.
    DELETE FROM {{secrets}} AS d
     WHERE d.id = p_id AND d.expires_at > p_now AND (d.chk IS NULL OR d.chk = p_check)
    RETURNING d.metadata_id, d.sealed, d.chk, d.attempts, d.max_attempts, d.share_domain, d.expires_at
         INTO metadata_id, sealed, chk, attempts, max_attempts, share_domain, expires_at;
    IF FOUND THEN
        UPDATE {{receipts}} AS r SET state = 3, received = p_now, updated = p_now
         WHERE r.id = metadata_id AND r.expires_at > p_now;
        outcome := 1;
        RETURN;
    END IF;
    -- No live secret with that check: if one lives, its check differs.
    UPDATE {{secrets}} AS u SET attempts = u.attempts + 1
     WHERE u.id = p_id AND u.expires_at > p_now
    RETURNING u.metadata_id, u.attempts, u.max_attempts INTO metadata_id, attempts, max_attempts;
    IF NOT FOUND THEN
        outcome := 0;
        RETURN;
    END IF;
    IF attempts >= max_attempts THEN
        -- The attempt that reaches the budget burns the secret.
        DELETE FROM {{secrets}} AS d WHERE d.id = p_id;
        UPDATE {{receipts}} AS r SET state = 4, burned = p_now, updated = p_now
         WHERE r.id = metadata_id AND r.expires_at > p_now;
    END IF;
    outcome := 2;
    metadata_id := NULL;
END
$fn$;
