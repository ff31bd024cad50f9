-- mod_scim_provision schema, version 3: userName and group displayName are
-- unique per tenant under Unicode NFKC and case folding (SPEC 5.1), so that
-- 'ａｌｉｃｅ' (fullwidth), 'ALICE' and 'Alice' are one name. The stored value
-- stays the one the identity provider sent; only the index compares keys.

-- The comparison key of a name. upper() then lower() (in this database's
-- C.UTF-8 ctype: Unicode simple case mappings) folds more pairs than lower()
-- alone (U+212A KELVIN SIGN and 'k'); NFKC before it maps compatibility forms
-- (fullwidth letters, ligatures, Roman numerals, ...) to their plain letters,
-- and NFKC again after it, because a case mapping can leave a string that is
-- not in NFKC, so that the key of a key is the key itself. A SQL function
-- with a plain body is inlined.
CREATE FUNCTION scim_name_key(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN normalize(lower(upper(normalize(name, NFKC))), NFKC);

-- Rows that already collide under the new key cannot all stay unique, and
-- must neither be lost nor renamed behind the administrator's back. The
-- first of each set (oldest, then lowest id) keeps the name; the later ones
-- are marked exempt (name_key_exempt = their own id, which makes them
-- distinct in the unique index) until they are renamed, and each is named in
-- a WARNING here; `scimctl migrate` names them too, on every run until they
-- are renamed (the DBD driver does not pass WARNINGs on). An exempt row is
-- still found by every lookup of its name.
--
-- The key is a stored column: computed once per write, and a comparison
-- with it costs a plain text comparison per row (a filter of many terms
-- does not normalise the name once per term and row).
ALTER TABLE accounts
    ADD COLUMN user_name_key text GENERATED ALWAYS AS (scim_name_key(user_name)) STORED,
    ADD COLUMN name_key_exempt uuid CHECK (name_key_exempt IS NULL OR name_key_exempt = id);
ALTER TABLE groups
    ADD COLUMN display_name_key text GENERATED ALWAYS AS (scim_name_key(display_name)) STORED,
    ADD COLUMN name_key_exempt uuid CHECK (name_key_exempt IS NULL OR name_key_exempt = id);

UPDATE accounts a SET name_key_exempt = a.id
FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id, user_name_key
                                    ORDER BY created_at, id) AS n
      FROM accounts) d
WHERE d.id = a.id AND d.n > 1;

UPDATE groups g SET name_key_exempt = g.id
FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id, display_name_key
                                    ORDER BY created_at, id) AS n
      FROM groups) d
WHERE d.id = g.id AND d.n > 1;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT t.slug, 'userName' AS what, x.user_name AS name, x.id,
               (SELECT o.user_name FROM accounts o
                WHERE o.tenant_id = x.tenant_id AND o.name_key_exempt IS NULL
                  AND o.user_name_key = x.user_name_key) AS kept
        FROM accounts x JOIN tenants t ON t.id = x.tenant_id
        WHERE x.name_key_exempt IS NOT NULL
        UNION ALL
        SELECT t.slug, 'group displayName', x.display_name, x.id,
               (SELECT o.display_name FROM groups o
                WHERE o.tenant_id = x.tenant_id AND o.name_key_exempt IS NULL
                  AND o.display_name_key = x.display_name_key)
        FROM groups x JOIN tenants t ON t.id = x.tenant_id
        WHERE x.name_key_exempt IS NOT NULL
        ORDER BY 1, 2, 3
    LOOP
        RAISE WARNING 'tenant %: % % (id %) is the same name as % under NFKC and case folding; it keeps working but must be renamed',
            r.slug, r.what, quote_literal(r.name), r.id, quote_literal(r.kept);
    END LOOP;
END
$$;

-- One index per table: unique on the key, and the index every lookup of a
-- name uses (tenant_id, user_name_key = scim_name_key(<name>)).
DROP INDEX accounts_user_name_ci;
CREATE UNIQUE INDEX accounts_user_name_key
    ON accounts (tenant_id, user_name_key, name_key_exempt) NULLS NOT DISTINCT;
DROP INDEX groups_display_name_ci;
CREATE UNIQUE INDEX groups_display_name_key
    ON groups (tenant_id, display_name_key, name_key_exempt) NULLS NOT DISTINCT;

-- A renamed row is no longer exempt: its new name must be unique.
CREATE FUNCTION scim_name_key_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'accounts' THEN
        IF scim_name_key(NEW.user_name) <> scim_name_key(OLD.user_name) THEN
            NEW.name_key_exempt := NULL;
        END IF;
    ELSIF scim_name_key(NEW.display_name) <> scim_name_key(OLD.display_name) THEN
        NEW.name_key_exempt := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_name_key_renamed BEFORE UPDATE OF user_name ON accounts
    FOR EACH ROW WHEN (OLD.name_key_exempt IS NOT NULL)
    EXECUTE FUNCTION scim_name_key_renamed();
CREATE TRIGGER groups_name_key_renamed BEFORE UPDATE OF display_name ON groups
    FOR EACH ROW WHEN (OLD.name_key_exempt IS NOT NULL)
    EXECUTE FUNCTION scim_name_key_renamed();

-- A group's version, as in version 2, with each member's row looked up by
-- its primary key alone (OFFSET 0 keeps the lookup from being turned into a
-- join; the member's tenant is the group's by the foreign key): with stale
-- statistics a cached plan could otherwise scan the tenant's accounts once
-- per member, quadratic in a large group (seen: 503 after 5 s, 10 000
-- members).
CREATE OR REPLACE FUNCTION scim_group_version(p_tenant uuid, p_id uuid, p_version bigint)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN 'W/"' || p_version || '-' || (
        SELECT substr(md5(coalesce(string_agg(a.id::text || ':' || a.version,
                                              ',' ORDER BY a.id), '')), 1, 10)
        FROM group_members m
        CROSS JOIN LATERAL (SELECT x.id, x.version FROM accounts x
                            WHERE x.id = m.account_id OFFSET 0) a
        WHERE m.tenant_id = p_tenant AND m.group_id = p_id) || '"';
END
$$;

-- The SCIM JSON of a group (as in version 2), with its members joined as
-- text: aggregating thousands of member objects as jsonb cost about four
-- times as much, and a PATCH or PUT of a large group answers with all of
-- them (issue 7: the cost of a request on a large group). Members are
-- looked up by primary key, as above.
CREATE OR REPLACE FUNCTION scim_group_json(r groups, p_url text, p_members boolean)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    mem text;
    doc text;
BEGIN
    IF p_members THEN
        SELECT string_agg(json_build_object(
                   'value', a.id::text,
                   'display', coalesce(a.display_name, a.user_name),
                   '$ref', p_url || '/Users/' || a.id, 'type', 'User')::text,
                   ',' ORDER BY lower(a.user_name), a.id)
            INTO mem
            FROM group_members m
            CROSS JOIN LATERAL (SELECT x.id, x.user_name, x.display_name
                                FROM accounts x
                                WHERE x.id = m.account_id OFFSET 0) a
            WHERE m.tenant_id = r.tenant_id AND m.group_id = r.id;
    END IF;
    doc := ((r.doc - 'members') || jsonb_build_object(
        'id', r.id::text,
        'meta', jsonb_build_object(
            'resourceType', 'Group',
            'created', scim_ts(r.created_at),
            'lastModified', scim_ts(r.updated_at),
            'version', scim_group_version(r.tenant_id, r.id, r.version),
            'location', p_url || '/Groups/' || r.id)))::text;
    IF mem IS NULL THEN
        RETURN doc;
    END IF;
    -- doc is a JSON object, '{...}': the members go before its last brace
    RETURN left(doc, -1) || ', "members": [' || mem || ']}';
END
$$;
