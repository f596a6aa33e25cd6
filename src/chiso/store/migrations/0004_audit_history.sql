-- Trust: who did what (nhật ký), every replaced row kept (lịch sử phiên bản) so a load can be reverted exactly
-- (`chiso unload`), and the fingerprint of the files the office edits in the workspace.

-- Who loaded, from where, with which command; when the load was reverted. history_kept: the load wrote the
-- replaced rows of every table to the history tables (loads made before this migration kept only dossiers').
ALTER TABLE loads ADD COLUMN user_name TEXT;
ALTER TABLE loads ADD COLUMN host TEXT;
ALTER TABLE loads ADD COLUMN command TEXT;
ALTER TABLE loads ADD COLUMN history_kept BOOLEAN;
ALTER TABLE loads ADD COLUMN unloaded_at TIMESTAMP;

-- The audit trail (nhật ký thao tác): loads, unloads, publications, backups, restores, and changes of the
-- configuration, templates, rule sets and departments list. details is a JSON object as text.
CREATE SEQUENCE audit_seq START 1;

CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY,
    recorded_at TIMESTAMP NOT NULL,
    user_name   TEXT,
    host        TEXT,
    command     TEXT,
    action      TEXT NOT NULL,
    object      TEXT,
    details     TEXT NOT NULL
);

-- The files of the workspace the office edits (chiso.toml, templates/, rules/, departments.csv) as last seen:
-- a change is recorded in audit_log when the store is next opened for writing.
CREATE TABLE workspace_files (
    path       TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    size       BIGINT NOT NULL,
    checked_at TIMESTAMP NOT NULL
);

-- Replaced versions of the rows of every other loaded table, as dossier_history keeps dossiers': the row as it
-- was, and the load that replaced it (superseded_by_load).
CREATE TABLE units_history (
    code               TEXT NOT NULL,
    name               TEXT NOT NULL,
    level              TEXT NOT NULL,
    parent_code        TEXT,
    valid_from         DATE,
    valid_to           DATE,
    successor_code     TEXT,
    province_code      TEXT,
    row_hash           TEXT NOT NULL,
    load_id            BIGINT,
    superseded_by_load BIGINT NOT NULL,
    PRIMARY KEY (code, superseded_by_load)
);

CREATE TABLE procedures_history (
    code                 TEXT NOT NULL,
    name                 TEXT NOT NULL,
    field                TEXT,
    level                TEXT,
    time_limit           DOUBLE PRECISION,
    time_unit            TEXT,
    online_level         TEXT,
    fee_bearing          BOOLEAN,
    for_individuals      BOOLEAN,
    paper_result         BOOLEAN,
    data_replaceable     BOOLEAN,
    full_online_eligible BOOLEAN,
    row_hash             TEXT NOT NULL,
    load_id              BIGINT,
    superseded_by_load   BIGINT NOT NULL,
    PRIMARY KEY (code, superseded_by_load)
);

CREATE TABLE pauses_history (
    dossier_id         TEXT NOT NULL,
    kind               TEXT NOT NULL,
    started_at         TIMESTAMP NOT NULL,
    ended_at           TIMESTAMP,
    row_hash           TEXT NOT NULL,
    load_id            BIGINT,
    superseded_by_load BIGINT NOT NULL,
    PRIMARY KEY (dossier_id, kind, started_at, superseded_by_load)
);

CREATE TABLE feedback_history (
    feedback_id        TEXT NOT NULL,
    unit_code          TEXT NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    due_at             TIMESTAMP,
    handled_at         TIMESTAMP,
    satisfied          BOOLEAN,
    about              TEXT,
    dossier_id         TEXT,
    row_hash           TEXT NOT NULL,
    load_id            BIGINT,
    superseded_by_load BIGINT NOT NULL,
    PRIMARY KEY (feedback_id, superseded_by_load)
);

CREATE TABLE evaluations_history (
    dossier_id         TEXT NOT NULL,
    unit_code          TEXT NOT NULL,
    evaluated_at       TIMESTAMP NOT NULL,
    evaluator          TEXT NOT NULL,
    i1 INTEGER, i2 INTEGER, i3 INTEGER, i4 INTEGER, i5 INTEGER,
    i6 INTEGER, i7 INTEGER, i8 INTEGER, i9 INTEGER,
    row_hash           TEXT NOT NULL,
    load_id            BIGINT,
    superseded_by_load BIGINT NOT NULL,
    PRIMARY KEY (dossier_id, evaluator, evaluated_at, superseded_by_load)
);

CREATE TABLE indicator_inputs_history (
    period             TEXT NOT NULL,
    unit_code          TEXT NOT NULL,
    indicator          TEXT NOT NULL,
    numerator          DOUBLE PRECISION,
    denominator        DOUBLE PRECISION,
    score              DOUBLE PRECISION,
    row_hash           TEXT NOT NULL,
    load_id            BIGINT,
    superseded_by_load BIGINT NOT NULL,
    PRIMARY KEY (period, unit_code, indicator, superseded_by_load)
);

CREATE TABLE calendar_history (
    date               DATE NOT NULL,
    kind               TEXT NOT NULL,
    note               TEXT,
    province           TEXT NOT NULL,
    row_hash           TEXT NOT NULL,
    load_id            BIGINT,
    superseded_by_load BIGINT NOT NULL,
    PRIMARY KEY (date, province, superseded_by_load)
);
