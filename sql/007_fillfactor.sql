-- mod_scim_provision schema, version 7: room on each page for the next
-- version of its rows. A user row is ~1.5 KB (the document and its columns)
-- and is rewritten by every PATCH, PUT and membership change (version,
-- groups, updated_at), none of which changes an indexed column. PostgreSQL
-- writes such an update as a HOT update, on the same page and without a new
-- entry in any of the table's indexes, only when the page has room for the
-- new version; at the default fillfactor of 100 a page filled by inserts
-- has none, and every update wrote four index entries on a page of its own.
-- At 75 % a page keeps room for one or two new versions, and the dead ones
-- are pruned when the page is next read. Measured with pgbench on 1 M users
-- (bench/README.md): an update of one user 1 600 -> 2 400-2 800 per second,
-- every update HOT. Groups are rewritten by every membership change (their
-- version) and get the same.
--
-- A storage parameter: SHARE UPDATE EXCLUSIVE, so reads and writes go on
-- during the migration. It applies to pages filled from now on; rows already
-- stored move to pages with room as they are updated (VACUUM FULL or
-- pg_repack repacks them at once, in a maintenance window).
ALTER TABLE accounts SET (fillfactor = 75);
ALTER TABLE groups SET (fillfactor = 75);
