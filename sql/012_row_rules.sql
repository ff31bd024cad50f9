-- The rules of an account's and a group's row, and the name key, in a form
-- that PostgreSQL 15 compiles once per connection (issue 8, POST at 60 % of
-- the INSERT floor). The rules and the keys are the same as before.
--
-- PostgreSQL 15 reads a table's CHECK constraints and the expressions of its
-- generated columns back from their stored text, plans them and compiles
-- them at every INSERT and UPDATE, not once per cached plan. For accounts
-- that was its five CHECKs (about 10 us per row) and user_name_key, whose
-- scim_name_key() was an SQL function inlined from its stored body, which
-- PostgreSQL decompressed and parsed each time (about 8 us). A plpgsql
-- function is compiled once per connection and keeps its expression plan:
-- the same rules cost about 2 us and the key about 3 (loops of 20 000 to 50 000
-- INSERTs into copies of the table in plpgsql; bench/README.md, eighth
-- session).
--
-- scim_name_key() keeps its name, arguments, result and volatility, so the
-- generated columns and their unique indexes stay as they are (no rewrite):
-- only the language of its body changes. The module's statements use
-- scim_name_key_sql() below.
--
-- A plpgsql body looks its functions and operators up by name under the
-- session's search_path (when a connection first runs it, and again if the
-- search_path changes), where the SQL body and the CHECKs were bound when
-- created. The built-in functions are named with their schema. The
-- operators (= on text, uuid and boolean, >= and <= on integers) are found
-- in pg_catalog, which every search_path searches first unless it names
-- pg_catalog later; the module's sessions never do. A SET search_path on
-- these functions would cost a setting and a restore per row.
CREATE OR REPLACE FUNCTION scim_name_key(name text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN pg_catalog.normalize(pg_catalog.lower(pg_catalog.upper(
        pg_catalog.normalize(name, 'NFKC'))), 'NFKC');
END
$$;

-- The same key for the module's statements, as an SQL function with the
-- same expression, which PostgreSQL inlines when it plans a statement (once
-- per cached plan). A plpgsql call there would set up plpgsql's expression
-- state in each transaction that makes one: about 6 us of PostgreSQL's CPU
-- per `userName eq` filter (bench/README.md, eighth session). A write pays
-- that setup anyway, for its row rules. t/71 checks that the two functions
-- give the same key.
CREATE FUNCTION scim_name_key_sql(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.normalize(pg_catalog.lower(pg_catalog.upper(
        pg_catalog.normalize(name, 'NFKC'))), 'NFKC');

-- An account's row: each rule as its own CHECK had it, which passes unless
-- the rule is false (a NULL passes, as a CHECK lets it).
CREATE FUNCTION scim_account_row_ok(p_id uuid, p_kind text, p_user_name text,
                                    p_billable boolean, p_idp_id uuid,
                                    p_name_key_exempt uuid) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (p_kind IN ('user', 'provisioning')) IS NOT FALSE
       AND (pg_catalog.length(p_user_name) >= 1
            AND pg_catalog.length(p_user_name) <= 256) IS NOT FALSE
       AND (p_billable = (p_kind = 'user')) IS NOT FALSE
       AND ((p_kind = 'provisioning') = (p_idp_id IS NOT NULL)) IS NOT FALSE
       AND (p_name_key_exempt IS NULL OR p_name_key_exempt = p_id) IS NOT FALSE;
END
$$;

-- A group's row, likewise.
CREATE FUNCTION scim_group_row_ok(p_id uuid, p_display_name text,
                                  p_name_key_exempt uuid) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (pg_catalog.length(p_display_name) >= 1
            AND pg_catalog.length(p_display_name) <= 256) IS NOT FALSE
       AND (p_name_key_exempt IS NULL OR p_name_key_exempt = p_id) IS NOT FALSE;
END
$$;

-- The constraints of migrations 1 and 3, by the names PostgreSQL gave them.
-- The new ones check every existing row (the same rules: none can fail).
ALTER TABLE accounts
    DROP CONSTRAINT accounts_kind_check,
    DROP CONSTRAINT accounts_user_name_check,
    DROP CONSTRAINT accounts_check,
    DROP CONSTRAINT accounts_check1,
    DROP CONSTRAINT accounts_check2,
    ADD CONSTRAINT accounts_row_ok CHECK (scim_account_row_ok(id, kind, user_name, billable,
                                                               idp_id, name_key_exempt));
ALTER TABLE groups
    DROP CONSTRAINT groups_display_name_check,
    DROP CONSTRAINT groups_check,
    ADD CONSTRAINT groups_row_ok CHECK (scim_group_row_ok(id, display_name, name_key_exempt));
