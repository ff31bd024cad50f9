-- mod_scim_provision schema, version 8: the statement triggers on
-- group_members return at once when the statement changed no membership.
-- PostgreSQL fires a statement trigger even for a statement that touched no
-- row, and every DELETE of a user runs one (the foreign key's cascade into
-- group_members), as do the INSERT and DELETE parts of every POST, PUT and
-- PATCH of a group that adds or removes nobody. Each such call ran
-- scim_accounts_regroup on an empty list (a function with its own
-- enable_seqscan setting, saved and restored per call) and an UPDATE of no
-- group: measured with pgbench on the 100 k-user bench database (DELETE of
-- a random user, 4 clients), 2 070-2 300 deletes a second before and
-- 4 190-4 370 after (bench/README.md). The result is the same: both did
-- nothing for an empty transition table.
CREATE OR REPLACE FUNCTION scim_members_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM changed) THEN
        RETURN NULL;
    END IF;
    PERFORM scim_accounts_regroup(ARRAY(SELECT DISTINCT account_id FROM changed));
    UPDATE groups g SET version = g.version + 1
    WHERE g.id IN (SELECT DISTINCT group_id FROM changed)
      AND g.xmin <> pg_current_xact_id()::xid;
    RETURN NULL;
END
$$;
