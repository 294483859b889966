-- cruce store, version 12: the assistance path of victim cases (docs/guide/people.md#assistance-path).
--
-- A case names no one: its subject is a record id (the victim's Person entity, whose name is a
-- protected property), its label a code. It is handled by one caseworker. Each step of its path
-- (consent, referral, law-enforcement declaration, T visa, Continued Presence, HHS certification or
-- eligibility letter, service, note) is a row with its state, dates and deadline; free text is kept
-- encrypted under the deployment's assistance key.

CREATE TABLE assistance_case (
    id VARCHAR PRIMARY KEY,
    label VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    minor BOOLEAN NOT NULL,
    subject_entity VARCHAR,
    caseworker VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);

CREATE INDEX assistance_case_caseworker_idx ON assistance_case (caseworker);

CREATE TABLE assistance_step (
    id VARCHAR PRIMARY KEY,
    case_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    on_date DATE NOT NULL,
    due_date DATE,
    expires_date DATE,
    organization VARCHAR,
    subtype VARCHAR,
    scopes VARCHAR,
    note_encrypted VARCHAR,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

CREATE INDEX assistance_step_case_idx ON assistance_step (case_id);
