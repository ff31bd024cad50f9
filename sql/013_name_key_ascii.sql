-- mod_scim_provision schema, version 13: the name key of an ASCII name
-- computed at once (issue 8, POST at 60 % of the INSERT floor). Every key
-- stays what it was.
--
-- The key (migration 3) is NFKC, upper(), lower(), NFKC again. PostgreSQL's
-- normalize() converts the text to code points, looks each one up and
-- converts back, twice, and upper() and lower() under this database's
-- C.UTF-8 go through wide characters: about 7.5 us per key of a userName
-- like the benchmark's, where a POST computes two (the statement's test of
-- the name, and the generated column) and a PUT three.
--
-- An ASCII string is its own NFKC form (no ASCII character has a
-- decomposition, and none composes with another), upper() then lower()
-- map it to its lower-case letters, and NFKC again leaves it as it is: its
-- key is lower() under the "C" collation, which folds A-Z alone and
-- directly (0.7 us). In a UTF-8 database (normalize() works in no other) a
-- string is ASCII when its bytes are as many as its characters. Every other
-- string takes the whole expression, as before. Measured over the 3.3 M
-- userNames of a benchmark database: the same key for every one of them,
-- and 3.1 s against 27.3 s for all of them (bench/README.md, thirteenth
-- session); t/72 compares the two on names that make keys hard.
--
-- The stored keys (the generated columns) and the unique indexes on them
-- stay valid, since no key changes: nothing is rewritten or rebuilt, and
-- no lock is taken but the functions' own.
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
-- ELSE branch's functions are strict). The first branch's "C" collation is
-- set back to the database's, so that the key compares with a column as
-- before.
CREATE OR REPLACE FUNCTION scim_name_key_sql(name text) RETURNS text
    LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    RETURN CASE WHEN pg_catalog.octet_length(name) = pg_catalog.length(name)
                THEN pg_catalog.lower(name COLLATE pg_catalog."C") COLLATE pg_catalog."default"
                ELSE pg_catalog.normalize(pg_catalog.lower(pg_catalog.upper(
                         pg_catalog.normalize(name, 'NFKC'))), 'NFKC') END;
