-- cruce store, version 2: accounts, sessions, API tokens, dataset handling markings, the
-- tamper-evident audit log and the anonymous tip queue (docs/security.md).
--
-- Secrets are never stored in the clear: passwords as argon2 hashes, session and API tokens as
-- SHA-256 digests, tip contact details encrypted (Fernet) with a key kept outside the database.

CREATE TABLE app_user (
    id VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL UNIQUE,
    display_name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    groups VARCHAR NOT NULL DEFAULT '',
    password_hash VARCHAR NOT NULL,
    totp_secret VARCHAR,
    language VARCHAR NOT NULL DEFAULT 'en',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_signins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL
);

CREATE TABLE app_session (
    token_hash VARCHAR PRIMARY KEY,
    user_id VARCHAR NOT NULL,
    csrf_token VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    second_factor_done BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE api_token (
    id VARCHAR PRIMARY KEY,
    token_hash VARCHAR NOT NULL UNIQUE,
    user_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    scopes VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    revoked_at TIMESTAMP
);

-- Handling marking (clear, green, amber, red) and need-to-know groups per dataset; a dataset
-- without a row here has the default marking of the deployment.
CREATE TABLE dataset_policy (
    dataset VARCHAR PRIMARY KEY,
    marking VARCHAR NOT NULL,
    groups VARCHAR NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

-- Append-only: each entry's hash covers its fields and the previous entry's hash. Entries older
-- than the retention period are removed from the start of the chain, leaving a 'retention'
-- entry that carries the hash of the last one removed.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    address VARCHAR,
    action VARCHAR NOT NULL,
    target VARCHAR,
    detail VARCHAR,
    outcome VARCHAR NOT NULL,
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL
);

CREATE TABLE tip_submission (
    id VARCHAR PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    language VARCHAR NOT NULL,
    what_text TEXT NOT NULL,
    where_text TEXT,
    when_text TEXT,
    who_text TEXT,
    contact_encrypted TEXT,
    status VARCHAR NOT NULL DEFAULT 'new',
    linked_entities VARCHAR NOT NULL DEFAULT '',
    triaged_by VARCHAR,
    triaged_at TIMESTAMP
);
