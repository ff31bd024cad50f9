-- mod_scim_provision schema, version 9: one index for an account's key
-- instead of two. Migration 1 gave accounts a primary key on (id) and a
-- unique constraint on (tenant_id, id), which the foreign keys of tokens and
-- group_members need: they carry the tenant, so that a token or a membership
-- can only name an account of its own tenant. Every user POST wrote an entry
-- into both indexes, each at a random place (ids are random), and at 1 M
-- users they were 39 and 65 MB of the 512 MB of shared_buffers the benchmark
-- gives PostgreSQL. The primary key is now (id, tenant_id), one index that
-- serves a lookup by id (its first column), by tenant and id, and both
-- foreign keys (PostgreSQL takes a unique index on the same columns in any
-- order for a foreign key). Measured with pgbench on 1 M users, 16 clients,
-- the statement of POST /Users, in three alternations of the two schemas:
-- 1 695, 1 777 and 1 418 per second with two indexes, 2 018, 2 035 and
-- 1 575 with one (+11 to +19 %; bench/README.md).
--
-- An id stays unique within its tenant (the primary key). Across tenants
-- only its randomness keeps it unique: ids are made by gen_random_uuid()
-- in PostgreSQL (users, groups and provisioning accounts), never taken from
-- a client. But the database no longer refuses two
-- accounts of two tenants with one id (an operator copying a tenant with
-- INSERT ... SELECT could make them), so the functions below that found
-- accounts by id alone now also match the tenant: the regrouping of the
-- members of a membership change or a group rename (which would otherwise
-- write one tenant's groups into the other's account), and the count of an
-- account's live tokens.
--
-- ACCESS EXCLUSIVE locks on accounts, tokens and group_members while the new
-- index is built and the foreign keys are checked again (seconds at 1 M
-- users): run it with httpd stopped, as every migration.
ALTER TABLE tokens DROP CONSTRAINT tokens_tenant_id_account_id_fkey;
ALTER TABLE group_members DROP CONSTRAINT group_members_tenant_id_account_id_fkey;
ALTER TABLE accounts DROP CONSTRAINT accounts_pkey;
ALTER TABLE accounts DROP CONSTRAINT accounts_tenant_id_id_key;
ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY (id, tenant_id);
ALTER TABLE tokens ADD CONSTRAINT tokens_tenant_id_account_id_fkey
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
    ON DELETE CASCADE;
ALTER TABLE group_members ADD CONSTRAINT group_members_tenant_id_account_id_fkey
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
    ON DELETE CASCADE;

-- The members' groups columns and versions (sql/005_versions.sql), now of
-- the accounts with these ids in these tenants, each from the memberships
-- of its own tenant. The tenants are those of the change (one for every
-- statement of the module); an account of another tenant of the same
-- statement with the same id would only be regrouped from its own
-- memberships, which changes nothing but its version. The tenant test is
-- written "(... = ANY(p_tenants)) IS TRUE" so that no index can take it: the
-- rows are found by the primary key's id alone, as before, and never by an
-- index that starts with tenant_id, which statistics taken before a
-- tenant's first import would make look cheap (a scan of the whole tenant
-- for each membership change: quadratic over the import).
CREATE FUNCTION scim_accounts_regroup(p_tenants uuid[], p_ids uuid[]) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE id = ANY(p_ids) AND (tenant_id = ANY(p_tenants)) IS TRUE
        ORDER BY id, tenant_id FOR NO KEY UPDATE;
    UPDATE accounts a SET version = a.version + 1, groups = (
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
    UPDATE groups g SET version = g.version + 1
    WHERE g.id IN (SELECT DISTINCT group_id FROM changed)
      AND g.xmin <> pg_current_xact_id()::xid;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION scim_group_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM scim_accounts_regroup(ARRAY[NEW.tenant_id], ARRAY(
        SELECT m.account_id FROM group_members m
        WHERE m.tenant_id = NEW.tenant_id AND m.group_id = NEW.id));
    RETURN NULL;
END
$$;

DROP FUNCTION scim_accounts_regroup(uuid[]);

CREATE OR REPLACE FUNCTION scim_tokens_limit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    live integer;
BEGIN
    PERFORM 1 FROM accounts WHERE id = NEW.account_id AND tenant_id = NEW.tenant_id
        AND kind = 'provisioning' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'token for a non-provisioning account' USING ERRCODE = 'check_violation';
    END IF;
    SELECT count(*) INTO live FROM tokens
        WHERE account_id = NEW.account_id AND tenant_id = NEW.tenant_id
          AND deleted_at IS NULL AND expires_at > now();
    IF live >= scim_max_live_tokens() THEN
        RAISE EXCEPTION 'too many provisioning tokens already exist'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
