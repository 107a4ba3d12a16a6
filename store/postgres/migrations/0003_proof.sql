-- Schema version 3: the proof of the zero-knowledge mode, and one function
-- that claims a replay id.
--
-- A secret shared in the zero-knowledge mode (onetime.SealedSecret.Proof)
-- opens only for a reveal that presents its proof. The column is NULL for
-- a secret of the server-side mode, and in every row written before this
-- version: those need no proof, as before. Adding a nullable column
-- without a default changes the catalog only: no row is rewritten, and
-- the table's lock is held for an instant, so a live database upgrades in
-- place. (The replay table stores secrets rows in a column of this
-- table's row type; PostgreSQL allows adding a column to it, and a row
-- recorded before reads the new field as NULL.)
--
-- The proof is compared first, in the statements that take the secret and
-- count a wrong passphrase: a reveal without it matches no row, so it
-- deletes nothing, counts no attempt and records nothing under its replay
-- id (outcome 0, never recorded), and is answered as not found.
--
-- The comparison is PostgreSQL's = on bytea, not a constant-time compare,
-- which SQL does not offer; the passphrase check has always been compared
-- so. That is acceptable because the compared values are not the
-- caller's to choose: the stored proof and the one presented are each an
-- HMAC, under the server's secret, of the record id and of a verifier
-- (see the service). A caller cannot steer the bytes being compared, so a
-- time that depends on how long a prefix matches tells them nothing with
-- which to build a matching proof.
--
-- Rolling upgrades: processes of earlier releases keep calling the
-- functions of their version, PREFIXreveal with 3 arguments (version 1)
-- and with 6 (version 2). Both become wrappers of the one new function,
-- passing no proof: they reveal secrets of the server-side mode exactly as
-- before, and cannot consume a zero-knowledge secret, nor count an attempt
-- on it, which they know nothing of.

ALTER TABLE {{secrets}} ADD COLUMN proof bytea;  -- proof verifier; NULL when none

-- Claims the replay id p_replay for the calling statement, or returns the
-- outcome recorded under it: the record alive at p_now, or NULL when the
-- id is now the caller's (a placeholder row, outcome 0, that the caller
-- fills in or deletes in the same transaction).
--
-- Under READ COMMITTED each statement below takes a new snapshot. A
-- concurrent call that claimed the id first makes the INSERT wait until
-- it commits; then the INSERT does nothing (the record is alive), and the
-- next SELECT sees the record, or, if that call found nothing and deleted
-- its placeholder, the INSERT claims the id. So every repeat of one call
-- gets one outcome.
CREATE FUNCTION {{claim_replay}}(p_replay bytea, p_replay_expires timestamptz, p_now timestamptz)
RETURNS {{replays}}
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_rp {{replays}};
BEGIN
    LOOP
        -- A recorded outcome is answered without writing anything.
        SELECT rp.* INTO v_rp FROM {{replays}} AS rp
         WHERE rp.id = p_replay AND rp.expires_at > p_now;
        IF FOUND THEN
            RETURN v_rp;
        END IF;
        -- Claim the id (an expired record under it is taken over).
        INSERT INTO {{replays}} AS rp (id, expires_at, outcome)
        VALUES (p_replay, p_replay_expires, 0)
        ON CONFLICT (id) DO UPDATE
           SET expires_at = excluded.expires_at, outcome = 0, secret = NULL, receipt = NULL
         WHERE rp.expires_at <= p_now;
        IF FOUND THEN
            RETURN NULL;
        END IF;
        -- A call with this id committed its record meanwhile: the insert
        -- waited for it, and the next snapshot sees the record.
    END LOOP;
END
$fn$;

-- Reveal with a proof, a replay id and a deadline, in one round trip.
--
-- p_proof NULL: no proof presented (a secret with one is then not found).
-- p_replay NULL: no replay record is read or written. p_deadline NULL: no
-- deadline. Otherwise the function changes nothing once the database's
-- clock (clock_timestamp()) reaches p_deadline: it raises SQLSTATE OTDL0,
-- which rolls the whole statement back. The check is made first, and
-- again last, after every lock wait and write, just before the statement
-- commits.
--
-- Calls with other replay ids, or none, race on the secret row's lock:
-- exactly one takes a secret, and every wrong passphrase presented with
-- the right proof is counted once.
--
-- o_outcome 1: revealed, o_secret the secret row as deleted; 2: wrong
-- passphrase; 0: missing, expired, or without the proof (never recorded).
CREATE FUNCTION {{reveal}}(p_id bytea, p_check bytea, p_proof bytea, p_now timestamptz,
    p_replay bytea, p_replay_expires timestamptz, p_deadline timestamptz,
    OUT o_outcome smallint, OUT o_secret {{secrets}})
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_rp {{replays}};
    v_receipt bytea;
    v_attempts integer;
    v_max integer;
BEGIN
    IF p_deadline IS NOT NULL AND clock_timestamp() >= p_deadline THEN
        RAISE EXCEPTION 'deadline passed' USING ERRCODE = 'OTDL0';
    END IF;
    IF p_replay IS NOT NULL THEN
        v_rp := {{claim_replay}}(p_replay, p_replay_expires, p_now);
        IF v_rp.id IS NOT NULL THEN
            IF v_rp.outcome = 1 THEN
                o_outcome := 1;
                o_secret := v_rp.secret;
            ELSIF v_rp.outcome = 2 THEN
                o_outcome := 2;
            ELSE
                o_outcome := 0; -- a Burn's record: nothing for a Reveal
            END IF;
            RETURN;
        END IF;
    END IF;

    -- The secret is taken by this one DELETE when its proof and its check
    -- match.
    DELETE FROM {{secrets}} AS d
     WHERE d.id = p_id AND d.expires_at > p_now
       AND (d.proof IS NULL OR d.proof = p_proof)
       AND (d.chk IS NULL OR d.chk = p_check)
    RETURNING d.* INTO o_secret;
    IF FOUND THEN
        UPDATE {{receipts}} AS r SET state = 3, received = p_now, updated = p_now
         WHERE r.id = o_secret.metadata_id AND r.expires_at > p_now;
        o_outcome := 1;
    ELSE
        -- No live secret with that proof and check: if one lives with that
        -- proof, its check differs. Without the proof, nothing is counted.
        UPDATE {{secrets}} AS u SET attempts = u.attempts + 1
         WHERE u.id = p_id AND u.expires_at > p_now
           AND (u.proof IS NULL OR u.proof = p_proof)
        RETURNING u.metadata_id, u.attempts, u.max_attempts INTO v_receipt, v_attempts, v_max;
        IF NOT FOUND THEN
            o_outcome := 0;
        ELSE
            IF v_attempts >= v_max THEN
                -- The attempt that reaches the budget burns the secret.
                DELETE FROM {{secrets}} AS d WHERE d.id = p_id;
                UPDATE {{receipts}} AS r SET state = 4, burned = p_now, updated = p_now
                 WHERE r.id = v_receipt AND r.expires_at > p_now;
            END IF;
            o_outcome := 2;
        END IF;
    END IF;

    IF p_replay IS NOT NULL THEN
        IF o_outcome = 0 THEN
            -- Not found is never recorded: the id is free again.
            DELETE FROM {{replays}} AS rp WHERE rp.id = p_replay;
        ELSE
            UPDATE {{replays}} AS rp SET outcome = o_outcome, secret = o_secret
             WHERE rp.id = p_replay;
        END IF;
    END IF;
    IF p_deadline IS NOT NULL AND clock_timestamp() >= p_deadline THEN
        RAISE EXCEPTION 'deadline passed' USING ERRCODE = 'OTDL0';
    END IF;
END
$fn$;

-- The version 2 reveal, for processes of that release during a rolling
-- upgrade: the function above without a proof.
CREATE OR REPLACE FUNCTION {{reveal}}(p_id bytea, p_check bytea, p_now timestamptz,
    p_replay bytea, p_replay_expires timestamptz, p_deadline timestamptz,
    OUT o_outcome smallint, OUT o_secret {{secrets}})
LANGUAGE sql VOLATILE AS $fn$
    SELECT r.o_outcome, r.o_secret
      FROM {{reveal}}(p_id, p_check, NULL::bytea, p_now, p_replay, p_replay_expires, p_deadline) AS r
$fn$;

-- The version 1 reveal, likewise: no proof, no replay, no deadline, and
-- its own columns. (A wrong passphrase now answers NULL attempts, which
-- version 1 read as nullable and never used.)
CREATE OR REPLACE FUNCTION {{reveal}}(p_id bytea, p_check bytea, p_now timestamptz,
    OUT outcome integer, OUT metadata_id bytea, OUT sealed bytea, OUT chk bytea,
    OUT attempts integer, OUT max_attempts integer, OUT share_domain text,
    OUT expires_at timestamptz)
LANGUAGE sql VOLATILE AS $fn$
    SELECT r.o_outcome::integer, (r.o_secret).metadata_id, (r.o_secret).sealed, (r.o_secret).chk,
           (r.o_secret).attempts, (r.o_secret).max_attempts, (r.o_secret).share_domain,
           (r.o_secret).expires_at
      FROM {{reveal}}(p_id, p_check, NULL::bytea, p_now, NULL::bytea, NULL::timestamptz, NULL::timestamptz) AS r
$fn$;

-- Burn as in version 2, its replay id claimed by the one function above.
CREATE OR REPLACE FUNCTION {{burn}}(p_id bytea, p_now timestamptz,
    p_replay bytea, p_replay_expires timestamptz, p_deadline timestamptz)
RETURNS SETOF {{receipts}}
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_rp {{replays}};
    v_receipt {{receipts}};
BEGIN
    IF p_deadline IS NOT NULL AND clock_timestamp() >= p_deadline THEN
        RAISE EXCEPTION 'deadline passed' USING ERRCODE = 'OTDL0';
    END IF;
    IF p_replay IS NOT NULL THEN
        v_rp := {{claim_replay}}(p_replay, p_replay_expires, p_now);
        IF v_rp.id IS NOT NULL THEN
            IF v_rp.outcome = 3 THEN
                RETURN NEXT v_rp.receipt;
            END IF;
            RETURN; -- a Reveal's record: nothing for a Burn
        END IF;
    END IF;

    -- The secret goes only while it is live and the receipt new or
    -- viewed; its row lock decides between a burn and a reveal. The
    -- creator burns with the receipt: no proof is asked.
    WITH s AS (
        DELETE FROM {{secrets}} s USING {{receipts}} r
        WHERE r.id = p_id AND r.expires_at > p_now AND r.state IN (1, 2)
          AND s.id = r.secret_id AND s.expires_at > p_now
        RETURNING s.metadata_id)
    UPDATE {{receipts}} r SET state = 4, burned = p_now, updated = p_now
      FROM s WHERE r.id = s.metadata_id
    RETURNING r.* INTO v_receipt;

    IF p_replay IS NOT NULL THEN
        IF v_receipt.id IS NULL THEN
            DELETE FROM {{replays}} AS rp WHERE rp.id = p_replay;
        ELSE
            UPDATE {{replays}} AS rp SET outcome = 3, receipt = v_receipt
             WHERE rp.id = p_replay;
        END IF;
    END IF;
    IF p_deadline IS NOT NULL AND clock_timestamp() >= p_deadline THEN
        RAISE EXCEPTION 'deadline passed' USING ERRCODE = 'OTDL0';
    END IF;
    IF v_receipt.id IS NOT NULL THEN
        RETURN NEXT v_receipt;
    END IF;
END
$fn$;
