-- Schema version 2: replay records, deadlines, and Burn as a function.
--
-- A replay record keeps the outcome of one Reveal or Burn under the
-- caller's replay id (a keyed hash) until its expires_at, so that a repeat
-- of the call gets the same outcome instead of finding the secret gone.
-- It is written in the same statement as the change it records.
--
-- The outcome is kept as the very row the call returned, in a column of
-- that table's row type: what a reveal took is the secret row as it was
-- deleted (sealed bytes, never a value in clear). While this table uses
-- their row types, PostgreSQL refuses to drop or retype a column of the
-- secrets or receipts tables (adding one is fine); a later migration that
-- must may drop and recreate this table, whose rows live only a minute.
CREATE TABLE {{replays}} (
    id         bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    -- 1 revealed (secret set), 2 wrong passphrase, 3 burned (receipt set).
    -- 0 only inside the call that holds the id: never committed.
    outcome    smallint NOT NULL,
    secret     {{secrets}},
    receipt    {{receipts}}
);

CREATE INDEX {{:replays_expiry}} ON {{replays}} (expires_at);

-- Reveal with a replay id and a deadline, in one round trip.
--
-- p_replay NULL: no replay record is read or written. p_deadline NULL: no
-- deadline. Otherwise the function changes nothing once the database's
-- clock (clock_timestamp()) reaches p_deadline: it raises SQLSTATE OTDL0,
-- which rolls the whole statement back. The check is made first, and
-- again last, after every lock wait and write, just before the statement
-- commits: a server that stalls (or a lock that is held) past the deadline
-- consumes nothing.
--
-- Under READ COMMITTED each statement below sees the latest committed rows.
-- The replay id is claimed first, by inserting a placeholder row: a
-- concurrent call with the same id waits on that insert until this one
-- commits, then finds the outcome recorded (or, if this call found
-- nothing, the placeholder gone and the id free). Calls with other replay
-- ids, or none, race on the secret row's lock as before: exactly one takes
-- a secret, and every wrong passphrase is counted once.
--
-- o_outcome 1: revealed, o_secret the secret row as deleted; 2: wrong
-- passphrase; 0: missing or expired (never recorded).
CREATE FUNCTION {{reveal}}(p_id bytea, p_check bytea, p_now timestamptz,
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
        LOOP
            -- A recorded outcome is answered without writing anything.
            SELECT rp.* INTO v_rp FROM {{replays}} AS rp
             WHERE rp.id = p_replay AND rp.expires_at > p_now;
            EXIT WHEN FOUND;
            -- Claim the id (an expired record under it is taken over).
            INSERT INTO {{replays}} AS rp (id, expires_at, outcome)
            VALUES (p_replay, p_replay_expires, 0)
            ON CONFLICT (id) DO UPDATE
               SET expires_at = excluded.expires_at, outcome = 0, secret = NULL, receipt = NULL
             WHERE rp.expires_at <= p_now;
            EXIT WHEN FOUND;
            -- A call with this id committed its record meanwhile: the
            -- insert waited for it, and the next snapshot sees the record.
        END LOOP;
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

    -- The secret is taken by this one DELETE when its check matches.
    DELETE FROM {{secrets}} AS d
     WHERE d.id = p_id AND d.expires_at > p_now AND (d.chk IS NULL OR d.chk = p_check)
    RETURNING d.* INTO o_secret;
    IF FOUND THEN
        UPDATE {{receipts}} AS r SET state = 3, received = p_now, updated = p_now
         WHERE r.id = o_secret.metadata_id AND r.expires_at > p_now;
        o_outcome := 1;
    ELSE
        -- No live secret with that check: if one lives, its check differs.
        UPDATE {{secrets}} AS u SET attempts = u.attempts + 1
         WHERE u.id = p_id AND u.expires_at > p_now
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

-- Burn with a replay id and a deadline, in one round trip: the same
-- replay and deadline rules as reveal above. It returns the receipt as
-- burned (or as recorded), or no row when there is nothing to burn.
CREATE FUNCTION {{burn}}(p_id bytea, p_now timestamptz,
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
        LOOP
            SELECT rp.* INTO v_rp FROM {{replays}} AS rp
             WHERE rp.id = p_replay AND rp.expires_at > p_now;
            EXIT WHEN FOUND;
            INSERT INTO {{replays}} AS rp (id, expires_at, outcome)
            VALUES (p_replay, p_replay_expires, 0)
            ON CONFLICT (id) DO UPDATE
               SET expires_at = excluded.expires_at, outcome = 0, secret = NULL, receipt = NULL
             WHERE rp.expires_at <= p_now;
            EXIT WHEN FOUND;
        END LOOP;
        IF v_rp.id IS NOT NULL THEN
            IF v_rp.outcome = 3 THEN
                RETURN NEXT v_rp.receipt;
            END IF;
            RETURN; -- a Reveal's record: nothing for a Burn
        END IF;
    END IF;

    -- The secret goes only while it is live and the receipt new or
    -- viewed; its row lock decides between a burn and a reveal.
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
