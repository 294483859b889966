-- cruce store, version 14: investigation cases (docs/guide/investigations.md).
--
-- An investigation case is the analysts' workspace: a title, a description and a handling marking
-- (clear, green, amber, red), its members with their role in it (lead, editor, reader), and what it
-- gathers. Its items hold ids and settings only, never names: an entity (or event, or document) by
-- its record id, a saved network chart as the explorer's ids and positions, a saved search as its
-- words and filters, a dashboard view as its address on this site. Every item is read again through
-- the guard, for each reader, whenever it is shown. Notes (with @mentions) are encrypted under the
-- deployment's key; tasks have an owner, a due date and a state; attachments are files kept under
-- the upload folder with a random name, described here (name given, type found, size, hash).
-- Not to be confused with assistance_case (version 12): the victim-assistance cases of caseworkers.

CREATE TABLE investigation (
    id VARCHAR PRIMARY KEY,
    title VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    marking VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE investigation_member (
    investigation_id VARCHAR NOT NULL,
    username VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    added_by VARCHAR NOT NULL,
    added_at TIMESTAMP NOT NULL
);

CREATE INDEX investigation_member_case_idx ON investigation_member (investigation_id);
CREATE INDEX investigation_member_user_idx ON investigation_member (username);

CREATE TABLE investigation_item (
    id VARCHAR PRIMARY KEY,
    investigation_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    ref VARCHAR NOT NULL,
    label VARCHAR,
    data VARCHAR,
    added_by VARCHAR NOT NULL,
    added_at TIMESTAMP NOT NULL
);

CREATE INDEX investigation_item_case_idx ON investigation_item (investigation_id);

CREATE TABLE investigation_note (
    id VARCHAR PRIMARY KEY,
    investigation_id VARCHAR NOT NULL,
    body_encrypted VARCHAR NOT NULL,
    mentions VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX investigation_note_case_idx ON investigation_note (investigation_id);

CREATE TABLE investigation_task (
    id VARCHAR PRIMARY KEY,
    investigation_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    due_date DATE,
    state VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX investigation_task_case_idx ON investigation_task (investigation_id);

CREATE TABLE investigation_attachment (
    id VARCHAR PRIMARY KEY,
    investigation_id VARCHAR NOT NULL,
    filename VARCHAR NOT NULL,
    stored_name VARCHAR NOT NULL,
    media_type VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    uploaded_by VARCHAR NOT NULL,
    uploaded_at TIMESTAMP NOT NULL
);

CREATE INDEX investigation_attachment_case_idx ON investigation_attachment (investigation_id);
