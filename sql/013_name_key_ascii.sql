-- mod_scim_provision schema, version 13: the name key of an ASCII name
-- computed at once (issue 8, POST at 60 % of the INSERT floor). Every key
-- stays what it was.
--
-- The key (migration 3) is NFKC, upper(), lower(), NFKC again. PostgreSQL's
-- normalize() converts the text to code points, looks each one up and
-- converts back, twice, and upper() and lower() under this database's
-- C.UTF-8 go through wide characters: about 8 us per key of a userName like
-- the benchmark's, where a POST computes two (the statement's test of the
-- name, and the generated column) and a PUT three.
--
-- An ASCII string is its own NFKC form (no ASCII character has a
-- decomposition, and none composes with another), upper() then lower()
-- map it to its lower-case letters under C.UTF-8, and NFKC again leaves it
-- as it is: its key is lower() under the "C" collation, which folds A-Z
-- alone and directly. In a UTF-8 database a string is ASCII when its bytes
-- are as many as its characters. Every other string takes the whole
-- expression, as before. Measured over the 3.3 M userNames of a benchmark
-- database, one scan each: the same key for every one of them; the SQL
-- form 25-26.5 s before, 2.8-3.4 s now, the plpgsql one 27.3 s before, 4.3
-- s now (about 8 and 1 us a name, the scan included; bench/README.md,
-- thirteenth session). t/72 compares the two ways on every ASCII character
-- and on names that make keys hard.
--
-- That holds in a UTF-8 database whose ctype folds ASCII as "C" does
-- (C.UTF-8, en_US.UTF-8, ...; not a Turkish one, where upper('i') is not
-- 'I'). normalize() already refused any encoding but UTF-8; the block below
-- refuses to migrate a database where the two ways differ for any ASCII
-- character, instead of letting its keys change.
DO $$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'mod_scim_provision needs a UTF8 database, not %',
            pg_catalog.getdatabaseencoding();
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.generate_series(1, 127) i
               WHERE pg_catalog.normalize(pg_catalog.lower(pg_catalog.upper(
                         pg_catalog.normalize(pg_catalog.chr(i), 'NFKC'))), 'NFKC')
                     IS DISTINCT FROM pg_catalog.lower(pg_catalog.chr(i) COLLATE pg_catalog."C")) THEN
        RAISE EXCEPTION 'this database''s default collation (%) folds ASCII letters otherwise than "C": '
            'the name keys of migration 3 cannot be computed the fast way here',
            (SELECT CASE d.datlocprovider WHEN 'i' THEN 'icu ' || d.daticulocale
                                          ELSE 'libc ' || d.datctype END
             FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION scim_name_key(name text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF pg_catalog.octet_length(name) = pg_catalog.length(name) THEN
        RETURN pg_catalog.lower(name COLLATE pg_catalog."C");
    END IF;
    RETURN pg_catalog.normalize(pg_catalog.lower(pg_catalog.upper(
        pg_catalog.normalize(name, 'NFKC'))), 'NFKC');
END
$$;

-- The statements' SQL twin (migration 12), with the same test as a CASE.
-- PostgreSQL inlines a STRICT SQL function only if its expression is strict
-- too, which a CASE is not: this one is CALLED ON NULL INPUT, and gives NULL
-- for NULL all the same (octet_length(NULL) = length(NULL) is NULL, and the
-- ELSE branch's functions are strict). PostgreSQL inlines it where its
-- argument is a column or a parameter, as in every statement of the module;
-- an argument that costs more than a few operators (it is used four times
-- here) would make it a call instead. Inlined, the result has the caller's
-- collation, as before.
CREATE OR REPLACE FUNCTION scim_name_key_sql(name text) RETURNS text
    LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    RETURN CASE WHEN pg_catalog.octet_length(name) = pg_catalog.length(name)
                THEN pg_catalog.lower(name COLLATE pg_catalog."C")
                ELSE pg_catalog.normalize(pg_catalog.lower(pg_catalog.upper(
                         pg_catalog.normalize(name, 'NFKC'))), 'NFKC') END;
