-- mod_scim_provision schema, version 5: one round trip per SCIM request,
-- with the representation assembled in C (issue 8). The database stops
-- building JSON and computing version digests on every read:
--  - a resource's ETag is W/"<version>", a counter that the WRITE bumps in
--    the same statement as the change: its own row change, and a change of
--    what its representation shows of others (a user lists its groups'
--    names, a group its members' names);
--  - a user's groups are kept in accounts.groups by the writers, as the
--    text of the JSON array elements of its "groups" attribute, with the
--    byte 0x01 where the SCIM base URL goes (the module splices the URL in
--    while it copies the text; no parsing on a read);
--  - the plpgsql functions of version 2 are gone: the module sends plain
--    statements, prepared once per pooled connection.
--
-- Who bumps what (the statements in scim_store_res.c do the rest):
--  - a membership added or removed (also by the cascade of a deleted user
--    or group): the member's version and groups, by the statement triggers
--    below (one UPDATE per statement, whatever its size); the group's own
--    version is bumped by the statement that changes its members;
--  - a group renamed: its members' versions and groups (trigger);
--  - a user's userName or displayName changed: its groups' versions
--    (trigger).
-- Note: APR DBD never sees this file (scimctl sends it with apr_dbd_query),
-- so '%' is literal here.

ALTER TABLE accounts ADD COLUMN groups text;

-- One element of a user's "groups", with the base URL mark (inlined).
CREATE FUNCTION scim_group_elem(p_id uuid, p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '{"value":"' || p_id || '","display":' || to_json(p_name)::text
           || ',"$ref":"' || chr(1) || '/Groups/' || p_id || '","type":"direct"}'
$$;

-- Rewrite the groups of these accounts and bump their versions, in one
-- statement (a group of 10 000 members replaced is 20 000 accounts: one
-- index lookup of each one's memberships), the elements ordered as the
-- module always listed them (by name, case-insensitively, then id); NULL
-- for a user in no group. The rows
-- are locked first (in id order), so that the UPDATE, a new statement with
-- a new snapshot, sees every membership committed by a concurrent writer
-- that held one of them: the column never misses a group. Index lookups
-- only: inside the statement that adds 10 000 members the statistics still
-- say group_members is small, and a plan that scans it once per account is
-- quadratic (seen: 20 s for one POST of a 10 000-member group).
CREATE FUNCTION scim_accounts_regroup(p_ids uuid[]) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE id = ANY(p_ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE accounts a SET version = a.version + 1, groups = (
        SELECT string_agg(scim_group_elem(g.id, g.display_name), ','
                          ORDER BY lower(g.display_name), g.id)
        FROM group_members m
        JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        WHERE m.account_id = a.id)
    WHERE a.id = ANY(p_ids);
END
$$;

-- The groups whose members changed are bumped here too, unless this
-- transaction already wrote their row (the statements of scim_store_res.c
-- bump the group they change, and return that version): a membership that
-- a statement's own snapshot did not see, such as one a concurrent PATCH
-- committed while DELETE /Users waited for the user's row lock and that
-- the foreign key's cascade then removed, still moves the group's ETag.
CREATE FUNCTION scim_members_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM scim_accounts_regroup(ARRAY(SELECT DISTINCT account_id FROM changed));
    UPDATE groups g SET version = g.version + 1
    WHERE g.id IN (SELECT DISTINCT group_id FROM changed)
      AND g.xmin <> pg_current_xact_id()::xid;
    RETURN NULL;
END
$$;
CREATE TRIGGER group_members_added AFTER INSERT ON group_members
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION scim_members_changed();
CREATE TRIGGER group_members_removed AFTER DELETE ON group_members
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION scim_members_changed();

CREATE FUNCTION scim_group_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM scim_accounts_regroup(ARRAY(
        SELECT m.account_id FROM group_members m
        WHERE m.tenant_id = NEW.tenant_id AND m.group_id = NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER groups_renamed AFTER UPDATE OF display_name ON groups
    FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION scim_group_renamed();

CREATE FUNCTION scim_member_renamed() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    UPDATE groups g SET version = g.version + 1
    WHERE g.tenant_id = NEW.tenant_id
      AND g.id IN (SELECT m.group_id FROM group_members m
                   WHERE m.tenant_id = NEW.tenant_id AND m.account_id = NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_renamed AFTER UPDATE OF user_name, display_name ON accounts
    FOR EACH ROW WHEN (OLD.user_name IS DISTINCT FROM NEW.user_name
                       OR OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION scim_member_renamed();

-- Existing rows: every user in a group gets its column. Versions go on
-- from their counters; an ETag of the old form ("<n>-<digest>") matches
-- nothing any more, so a client holding one reads the resource again.
UPDATE accounts a SET groups = x.groups
FROM (SELECT m.account_id, string_agg(scim_group_elem(g.id, g.display_name), ','
                                      ORDER BY lower(g.display_name), g.id) AS groups
      FROM group_members m
      JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
      GROUP BY m.account_id) x
WHERE a.id = x.account_id;

-- The hot path of version 2 and 3, replaced by plain statements.
DROP FUNCTION scim_token_user(text, text, uuid, text);
DROP FUNCTION scim_token_live(text, text);
DROP FUNCTION scim_user_json(accounts, text);
DROP FUNCTION scim_user_out(accounts, text);
DROP FUNCTION scim_group_json(groups, text, boolean);
DROP FUNCTION scim_user_version(uuid, uuid, bigint);
DROP FUNCTION scim_group_version(uuid, uuid, bigint);
DROP FUNCTION scim_ts(timestamptz);
