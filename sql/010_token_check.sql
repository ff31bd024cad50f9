-- mod_scim_provision schema, version 10: a token row carries what the
-- token check of every SCIM request compares and returns, so that the check
-- is one probe of tokens' jti index instead of a join of four tables.
--
-- Until now the check (scim_store_res.c, TOKEN_CTE) found the token by jti,
-- then joined tenants (for the slug in the request's URL), accounts (the
-- provisioning account's username, which becomes r->user and which a Basic
-- username must equal) and identity_providers (its type, which the JWT's
-- idp claim must equal). At 1 M users that join cost PostgreSQL 24 us and
-- httpd 11 us a request over the same SELECT without it (bench/README.md,
-- floor-select-token), in a GET that takes 172 us in all.
--
-- The copies are made and kept by the database, never by the caller:
-- - tenant_slug, idp_id, idp_type and account_name are set by the trigger
--   tokens_copy from the rows they copy (whatever an INSERT says), under
--   the lock of the account row;
-- - (tenant_id, tenant_slug) references tenants (id, slug) and
--   (tenant_id, idp_id, idp_type) references identity_providers
--   (tenant_id, id, type), both ON UPDATE CASCADE: a renamed slug or a
--   changed type reaches the tokens in the same statement (neither is
--   changed by the module: a slug is immutable, SPEC section 2);
-- - a change of a provisioning account's username or identity provider
--   (neither is changed by the module either) is copied onto its tokens by
--   the trigger accounts_renamed, in the same statement;
-- - any other UPDATE of a copy takes it from its source again (tokens_copy
--   too).
-- The unique constraints the foreign keys need are on the two small tables
-- only; accounts gets no index (see migration 9 for what one costs POST).
--
-- ACCESS EXCLUSIVE locks on tokens, tenants and identity_providers while
-- the columns are filled and the keys checked, and on accounts while its
-- trigger is replaced (no scan of accounts): run it with httpd stopped, as
-- every migration.
ALTER TABLE tenants ADD CONSTRAINT tenants_id_slug_key UNIQUE (id, slug);
ALTER TABLE identity_providers ADD CONSTRAINT identity_providers_tenant_id_id_type_key
    UNIQUE (tenant_id, id, type);

ALTER TABLE tokens
    ADD COLUMN tenant_slug text,
    ADD COLUMN idp_id uuid,
    ADD COLUMN idp_type text,
    ADD COLUMN account_name text;

-- A token whose account is no longer a provisioning account of a provider
-- (the insert trigger never allowed one; an operator could switch the
-- account's kind afterwards) could not pass the check, whose join found no
-- row: it is removed, with its reminders.
DELETE FROM tokens k WHERE NOT EXISTS (
    SELECT 1 FROM accounts a
    JOIN identity_providers i ON i.tenant_id = a.tenant_id AND i.id = a.idp_id
    WHERE a.tenant_id = k.tenant_id AND a.id = k.account_id AND a.kind = 'provisioning');

-- The copies, taken from the token's account, tenant and provider by
-- tokens_copy on every INSERT and on every UPDATE that names a copy or the
-- account or tenant it is copied from, whatever the statement says: no
-- INSERT or UPDATE can set a copy apart from its source (an operator's,
-- the cascades of the two foreign keys below, the trigger after them, and
-- the filling of the existing tokens just after it; the module's own
-- UPDATEs of tokens set only last_used_*, deleted_* and expires_at, and do
-- not fire it). The account row is locked, so that a concurrent rename
-- waits for the new token and then reaches it. An account that is not a
-- provisioning account of a provider is refused, as tokens_limit (which
-- fires after it, by name) refuses it at the insert.
CREATE FUNCTION scim_tokens_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT n.slug, i.id, i.type, a.user_name
        INTO NEW.tenant_slug, NEW.idp_id, NEW.idp_type, NEW.account_name
        FROM accounts a
        JOIN tenants n ON n.id = a.tenant_id
        JOIN identity_providers i ON i.tenant_id = a.tenant_id AND i.id = a.idp_id
        WHERE a.id = NEW.account_id AND a.tenant_id = NEW.tenant_id
          AND a.kind = 'provisioning'
        FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'token for a non-provisioning account' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tokens_copy
    BEFORE INSERT OR UPDATE OF tenant_id, account_id, tenant_slug, idp_id, idp_type, account_name
    ON tokens FOR EACH ROW EXECUTE FUNCTION scim_tokens_copy();

-- Every remaining token through tokens_copy, which fills its copies.
UPDATE tokens SET account_name = NULL;

ALTER TABLE tokens
    ALTER COLUMN tenant_slug SET NOT NULL,
    ALTER COLUMN idp_id SET NOT NULL,
    ALTER COLUMN idp_type SET NOT NULL,
    ALTER COLUMN account_name SET NOT NULL,
    ADD CONSTRAINT tokens_tenant_slug_fkey FOREIGN KEY (tenant_id, tenant_slug)
        REFERENCES tenants (id, slug) ON UPDATE CASCADE ON DELETE CASCADE,
    ADD CONSTRAINT tokens_idp_fkey FOREIGN KEY (tenant_id, idp_id, idp_type)
        REFERENCES identity_providers (tenant_id, id, type)
        ON UPDATE CASCADE ON DELETE CASCADE;

-- A provisioning account's username or provider, copied onto its tokens,
-- by the trigger that already follows renamed accounts (sql/005_versions.sql:
-- the versions of a renamed member's groups), not by a trigger of its own.
-- Every trigger with a WHEN clause costs an UPDATE of accounts its clause's
-- compilation, once per statement, whatever the row: in a loop of 20 000
-- user UPDATEs in plpgsql (100 k users) each took 41-44 us with no trigger,
-- 45-50 with the two of version 9 and 49-55 with a third (+4-5 us).
--
-- The versions of a renamed member's groups are bumped only for an account
-- in a group: accounts.groups, which the membership triggers keep in the
-- same transaction as every membership change, is NULL for one in none
-- (the row lock orders a rename against a concurrent membership change,
-- and the trigger sees the row as that change left it). A PUT that
-- changes the displayName of a user in no group no longer calls the
-- function: in a second loop of 20 000 PUT-like UPDATEs of users in no
-- group, 43-45 us each with a new displayName (the function called) and
-- 33 us with the same one (not called).
CREATE FUNCTION scim_account_renamed() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    IF OLD.groups IS NOT NULL
       AND (OLD.user_name IS DISTINCT FROM NEW.user_name
            OR OLD.display_name IS DISTINCT FROM NEW.display_name) THEN
        UPDATE groups g SET version = g.version + 1
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
DROP TRIGGER accounts_renamed ON accounts;
CREATE TRIGGER accounts_renamed AFTER UPDATE OF user_name, display_name, idp_id ON accounts
    FOR EACH ROW WHEN ((OLD.groups IS NOT NULL
                        AND (OLD.user_name IS DISTINCT FROM NEW.user_name
                             OR OLD.display_name IS DISTINCT FROM NEW.display_name))
                       OR (OLD.kind = 'provisioning'
                           AND (OLD.user_name IS DISTINCT FROM NEW.user_name
                                OR OLD.idp_id IS DISTINCT FROM NEW.idp_id)))
    EXECUTE FUNCTION scim_account_renamed();
DROP FUNCTION scim_member_renamed();
