-- mod_scim_provision schema, version 2: the statements of every request as
-- plpgsql functions. APR DBD sends unlabelled statements, which PostgreSQL
-- plans anew each time; planning the token check and the JSON of a resource
-- cost more than executing them. A plpgsql function keeps its plans for the
-- life of the connection (and a reconnect simply plans them again), so the
-- module's own SQL shrinks to a call that costs nothing to plan.

-- A user's version (ETag) covers what its representation shows: its row and
-- the groups that list it (their names).
CREATE FUNCTION scim_user_version(p_tenant uuid, p_id uuid, p_version bigint)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN 'W/"' || p_version || '-' || (
        SELECT substr(md5(coalesce(string_agg(g.id::text || ':' || g.version,
                                              ',' ORDER BY g.id), '')), 1, 10)
        FROM group_members m
        JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        WHERE m.tenant_id = p_tenant AND m.account_id = p_id) || '"';
END
$$;

-- A group's version covers its row and its members (their names).
CREATE FUNCTION scim_group_version(p_tenant uuid, p_id uuid, p_version bigint)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN 'W/"' || p_version || '-' || (
        SELECT substr(md5(coalesce(string_agg(a.id::text || ':' || a.version,
                                              ',' ORDER BY a.id), '')), 1, 10)
        FROM group_members m
        JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id
        WHERE m.tenant_id = p_tenant AND m.group_id = p_id) || '"';
END
$$;

CREATE FUNCTION scim_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- The version and the SCIM JSON of a user row (the stored document, id, meta
-- and groups), computing the version once. NULLs for a NULL row.
CREATE FUNCTION scim_user_out(r accounts, p_url text,
                              OUT version text, OUT json text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    grp jsonb;
BEGIN
    IF r.id IS NULL THEN
        RETURN;
    END IF;
    version := scim_user_version(r.tenant_id, r.id, r.version);
    SELECT jsonb_agg(jsonb_build_object(
               'value', g.id::text, 'display', g.display_name,
               '$ref', p_url || '/Groups/' || g.id, 'type', 'direct')
               ORDER BY lower(g.display_name), g.id)
        INTO grp
        FROM group_members m
        JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        WHERE m.tenant_id = r.tenant_id AND m.account_id = r.id;
    json := (r.doc || jsonb_build_object(
        'id', r.id::text,
        'meta', jsonb_build_object(
            'resourceType', 'User',
            'created', scim_ts(r.created_at),
            'lastModified', scim_ts(r.updated_at),
            'version', version,
            'location', p_url || '/Users/' || r.id))
        || CASE WHEN grp IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('groups', grp) END)::text;
END
$$;

CREATE FUNCTION scim_user_json(r accounts, p_url text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT (scim_user_out(r, p_url)).json
$$;

-- The SCIM JSON of a group row, with or without its members.
CREATE FUNCTION scim_group_json(r groups, p_url text, p_members boolean)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    mem jsonb;
BEGIN
    IF p_members THEN
        SELECT jsonb_agg(jsonb_build_object(
                   'value', a.id::text,
                   'display', coalesce(a.display_name, a.user_name),
                   '$ref', p_url || '/Users/' || a.id, 'type', 'User')
                   ORDER BY lower(a.user_name), a.id)
            INTO mem
            FROM group_members m
            JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id
            WHERE m.tenant_id = r.tenant_id AND m.group_id = r.id;
    END IF;
    RETURN (r.doc || jsonb_build_object(
        'id', r.id::text,
        'meta', jsonb_build_object(
            'resourceType', 'Group',
            'created', scim_ts(r.created_at),
            'lastModified', scim_ts(r.updated_at),
            'version', scim_group_version(r.tenant_id, r.id, r.version),
            'location', p_url || '/Groups/' || r.id))
        || CASE WHEN mem IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('members', mem) END)::text;
END
$$;

-- The live token with this jti in the tenant with this slug.
CREATE FUNCTION scim_token_live(p_jti text, p_slug text)
RETURNS TABLE (token_id uuid, tenant_id uuid, account_id uuid,
               user_name text, idp_type text, token_hash text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT k.id, k.tenant_id, k.account_id, a.user_name, i.type,
           encode(k.token_hash, 'base64')
    FROM tokens k
    JOIN tenants n ON n.id = k.tenant_id
    JOIN accounts a ON a.tenant_id = k.tenant_id AND a.id = k.account_id
    JOIN identity_providers i ON i.tenant_id = k.tenant_id AND i.id = a.idp_id
    WHERE k.jti = p_jti AND n.slug = p_slug
      AND k.deleted_at IS NULL AND k.expires_at > now();
END
$$;

-- GET /Users/{id} in one round trip: the live token and, scoped by the
-- token's tenant, the user (NULLs when there is none).
CREATE FUNCTION scim_token_user(p_jti text, p_slug text, p_user uuid,
                                p_url text)
RETURNS TABLE (token_id uuid, tenant_id uuid, account_id uuid,
               user_name text, idp_type text, token_hash text,
               user_id uuid, user_version text, user_json text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT t.token_id, t.tenant_id, t.account_id, t.user_name, t.idp_type,
           t.token_hash, u.id, o.version, o.json
    FROM scim_token_live(p_jti, p_slug) t
    LEFT JOIN accounts u ON u.tenant_id = t.tenant_id AND u.id = p_user
                        AND u.kind = 'user'
    LEFT JOIN LATERAL scim_user_out(u, p_url) o ON true;
END
$$;
