-- mod_scim_provision schema, version 1: the whole data model of SPEC section 2.
-- Every row belongs to exactly one tenant (system administrators aside); foreign keys carry the
-- tenant so that a row can never point into another tenant.
-- Note: APR DBD never sees this file (scimctl sends it with apr_dbd_query), so '%' is literal here.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE
                CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- System administrators have no tenant; Customer Administrators have exactly one.
CREATE TABLE administrators (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('system', 'customer')),
    username    text NOT NULL CHECK (length(username) BETWEEN 1 AND 256),
    email       text NOT NULL CHECK (email ~ '^[^@[:space:]<>"]+@[^@[:space:]<>"]+$'
                                     AND length(email) <= 254),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'system') = (tenant_id IS NULL)),
    UNIQUE NULLS NOT DISTINCT (tenant_id, username)
);

CREATE TABLE identity_providers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('okta', 'entra')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    UNIQUE (tenant_id, id)
);

-- SCIM Users of the tenant (kind 'user', billable) and the provisioning accounts (kind
-- 'provisioning', one per identity provider, non-billable, never visible over SCIM).
-- doc holds the SCIM resource as last written (core + extensions) without id and meta.
CREATE TABLE accounts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('user', 'provisioning')),
    user_name    text NOT NULL CHECK (length(user_name) BETWEEN 1 AND 256),
    external_id  text,
    display_name text,
    active       boolean NOT NULL DEFAULT true,
    billable     boolean NOT NULL,
    idp_id       uuid,
    doc          jsonb NOT NULL DEFAULT '{}'::jsonb,
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES identity_providers (tenant_id, id)
        ON DELETE CASCADE,
    CHECK (billable = (kind = 'user')),
    CHECK ((kind = 'provisioning') = (idp_id IS NOT NULL))
);
-- userName is unique per tenant, compared case-insensitively (lower(upper()) folds more
-- Unicode case pairs than lower() alone, e.g. U+212A KELVIN SIGN and 'k').
CREATE UNIQUE INDEX accounts_user_name_ci ON accounts (tenant_id, lower(upper(user_name)));
CREATE UNIQUE INDEX accounts_one_per_idp ON accounts (idp_id) WHERE kind = 'provisioning';
CREATE INDEX accounts_external_id ON accounts (tenant_id, external_id);

CREATE TABLE groups (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 256),
    external_id  text,
    doc          jsonb NOT NULL DEFAULT '{}'::jsonb,
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX groups_display_name_ci ON groups (tenant_id, lower(upper(display_name)));
CREATE INDEX groups_external_id ON groups (tenant_id, external_id);

-- Members are accounts of the same tenant: both foreign keys carry tenant_id.
CREATE TABLE group_members (
    tenant_id   uuid NOT NULL,
    group_id    uuid NOT NULL,
    account_id  uuid NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, account_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_account ON group_members (account_id);

-- Provisioning tokens: only the SHA-256 of the exact token bytes is stored.
CREATE TABLE tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL,
    account_id    uuid NOT NULL,
    jti           text NOT NULL UNIQUE CHECK (jti ~ '^[A-Za-z0-9_-]{22}$'),
    token_hash    bytea NOT NULL CHECK (length(token_hash) = 32),
    kid           text NOT NULL,
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL,
    expires_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    deleted_by    text,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE,
    CHECK (expires_at >= created_at),
    CHECK (expires_at <= created_at + interval '366 days'),
    CHECK ((deleted_at IS NULL) = (deleted_by IS NULL))
);
CREATE INDEX tokens_account ON tokens (account_id, expires_at);

-- At most two live tokens per provisioning account, held by the database itself: the insert
-- locks the account row, so concurrent inserts (from any httpd server) are serialised.
CREATE FUNCTION scim_tokens_limit() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF live >= 2 THEN
        RAISE EXCEPTION 'too many provisioning tokens already exist'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tokens_limit BEFORE INSERT ON tokens
    FOR EACH ROW EXECUTE FUNCTION scim_tokens_limit();

CREATE TABLE notifications (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid REFERENCES tenants (id) ON DELETE CASCADE,
    administrator_id uuid NOT NULL REFERENCES administrators (id) ON DELETE CASCADE,
    message          text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    read_at          timestamptz
);
CREATE INDEX notifications_admin ON notifications (administrator_id, created_at);

-- Expiry reminders: one row per (token, threshold, recipient), whichever server gets there first.
CREATE TABLE reminder_outbox (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_id         uuid NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    threshold_days   integer NOT NULL CHECK (threshold_days > 0),
    administrator_id uuid NOT NULL REFERENCES administrators (id) ON DELETE CASCADE,
    recipient        text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    lease_until      timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (token_id, threshold_days, administrator_id)
);
CREATE INDEX reminder_outbox_pending ON reminder_outbox (status, lease_until)
    WHERE status = 'pending';

CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    target      text,
    detail      jsonb
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, at);
