-- meta.lastModified moves with the version (issue 8's leftovers): a change
-- that a resource's representation shows without a write of its own (a
-- user's "groups" when it joins or leaves a group or a group is renamed; a
-- group's "members" display when a member is renamed, or its members when
-- the membership triggers change them) bumped the version, and so the
-- ETag, but left updated_at, and so meta.lastModified, where it was. The
-- three functions that bump those versions set updated_at too, in the same
-- UPDATE (no column of an index: still a HOT update).
CREATE OR REPLACE FUNCTION scim_accounts_regroup(p_tenants uuid[], p_ids uuid[]) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE id = ANY(p_ids) AND (tenant_id = ANY(p_tenants)) IS TRUE
        ORDER BY id, tenant_id FOR NO KEY UPDATE;
    UPDATE accounts a SET version = a.version + 1, updated_at = now(), groups = (
        SELECT string_agg(scim_group_elem(g.id, g.display_name), ','
                          ORDER BY lower(g.display_name), g.id)
        FROM group_members m
        JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        WHERE m.account_id = a.id AND m.tenant_id = a.tenant_id)
    WHERE a.id = ANY(p_ids) AND (a.tenant_id = ANY(p_tenants)) IS TRUE;
END
$$;

CREATE OR REPLACE FUNCTION scim_members_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM changed) THEN
        RETURN NULL;
    END IF;
    PERFORM scim_accounts_regroup(ARRAY(SELECT DISTINCT tenant_id FROM changed),
                                  ARRAY(SELECT DISTINCT account_id FROM changed));
    UPDATE groups g SET version = g.version + 1, updated_at = now()
    WHERE g.id IN (SELECT DISTINCT group_id FROM changed)
      AND g.xmin <> pg_current_xact_id()::xid;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION scim_account_renamed() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    IF OLD.groups IS NOT NULL
       AND (OLD.user_name IS DISTINCT FROM NEW.user_name
            OR OLD.display_name IS DISTINCT FROM NEW.display_name) THEN
        UPDATE groups g SET version = g.version + 1, updated_at = now()
        WHERE g.tenant_id = NEW.tenant_id
          AND g.id IN (SELECT m.group_id FROM group_members m
                       WHERE m.tenant_id = NEW.tenant_id AND m.account_id = NEW.id);
    END IF;
    -- tokens_copy takes the new copies from the account's row (and refuses
    -- an account that stopped being a provisioning account while it has
    -- tokens: they would not pass the check).
    IF OLD.kind = 'provisioning'
       AND (OLD.user_name IS DISTINCT FROM NEW.user_name
            OR OLD.idp_id IS DISTINCT FROM NEW.idp_id) THEN
        UPDATE tokens k SET account_name = NEW.user_name
        WHERE k.tenant_id = OLD.tenant_id AND k.account_id = OLD.id;
    END IF;
    RETURN NULL;
END
$$;
