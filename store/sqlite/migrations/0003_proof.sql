-- Schema version 3: the proof verifier of the zero-knowledge mode.
--
-- A secret shared in the zero-knowledge mode (onetime.SealedSecret.Proof)
-- opens only for a reveal that presents its proof: a keyed hash of the
-- record id and of the verifier of the link's key, which the server cannot
-- compute without the reader. NULL for a secret shared in the server-side
-- mode, and in every row written before this version: those secrets need
-- no proof, as before. Reveal compares it in the statements that take the
-- secret and count a wrong passphrase, so a reveal with another proof
-- deletes nothing and counts nothing.
--
-- Adding a nullable column without a default rewrites no row: SQLite
-- changes the table's definition only, so the upgrade of a large file is
-- instant, and rows written before it read the column as NULL.

ALTER TABLE onetime_records ADD COLUMN proof BLOB;  -- secrets only; NULL when none
