-- mod_scim_provision schema, version 6: the limit of live tokens per
-- provisioning account has one name in the database too. The store passes
-- SCIM_MAX_LIVE_TOKENS (scim_token.h) to its own check as a parameter; this
-- trigger is the database's backstop for writers that bypass the store, and
-- reads the same number from scim_max_live_tokens(). t/30-tokens.t checks
-- that the two agree.
CREATE FUNCTION scim_max_live_tokens() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 2 $$;

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
        WHERE account_id = NEW.account_id AND deleted_at IS NULL AND expires_at > now();
    IF live >= scim_max_live_tokens() THEN
        RAISE EXCEPTION 'too many provisioning tokens already exist'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
