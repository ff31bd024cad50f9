-- mod_scim_provision schema, version 4: when and from where each token was
-- last used (SPEC 5.2). A SCIM request never writes these: each httpd server
-- keeps the last use per token in shared memory and a watchdog writes the
-- changed ones with one UPDATE per flush, where the newer use wins.
ALTER TABLE tokens
    ADD COLUMN last_used_at   timestamptz,
    ADD COLUMN last_used_from inet;
