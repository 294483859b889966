-- cruce store, version 11: screening interviews (docs/guide/people.md#screening-interviews).
--
-- One row per interview and one per answered question. What the person said is protected: the
-- subject reference and every answer (with its note) are encrypted with the deployment's
-- screening key (kept outside the database, like the tip key); only the caseworker who holds the
-- interview and admins read them, and every reading is audited. client_seq orders the saves of
-- one answer (a later one wins; the same one sent twice is one row).

CREATE TABLE screening_interview (
    id VARCHAR PRIMARY KEY,
    caseworker VARCHAR NOT NULL,
    instrument_version VARCHAR NOT NULL,
    language VARCHAR NOT NULL,
    subject_encrypted TEXT,
    status VARCHAR NOT NULL DEFAULT 'draft',
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);

CREATE INDEX screening_interview_caseworker_idx ON screening_interview (caseworker);

CREATE TABLE screening_answer (
    interview_id VARCHAR NOT NULL,
    question_id VARCHAR NOT NULL,
    answer_encrypted TEXT NOT NULL,
    answered_at TIMESTAMP NOT NULL,
    client_seq BIGINT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (interview_id, question_id)
);
