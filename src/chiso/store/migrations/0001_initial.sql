-- chiso store schema, version 1. Written in the SQL that DuckDB and PostgreSQL share, so the
-- multi-user server runs the same migrations. Timestamps are local wall-clock time in
-- Asia/Ho_Chi_Minh (UTC+7, no daylight saving), stored as TIMESTAMP WITHOUT TIME ZONE.

CREATE SEQUENCE load_seq START 1;

CREATE TABLE loads (
    load_id        BIGINT PRIMARY KEY,
    file           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    table_name     TEXT NOT NULL,
    loaded_at      TIMESTAMP NOT NULL,
    rows_read      BIGINT NOT NULL,
    rows_inserted  BIGINT NOT NULL,
    rows_updated   BIGINT NOT NULL,
    rows_unchanged BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    rejected_file  TEXT
);

CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);

CREATE TABLE units (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    level          TEXT NOT NULL,
    parent_code    TEXT,
    valid_from     DATE,
    valid_to       DATE,
    successor_code TEXT,
    province_code  TEXT,            -- derived: the province at the root of the unit's tree
    row_hash       TEXT NOT NULL,
    load_id        BIGINT
);

CREATE TABLE procedures (
    code                 TEXT PRIMARY KEY,
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
    load_id              BIGINT
);

CREATE TABLE dossiers (
    dossier_id              TEXT PRIMARY KEY,
    unit_code               TEXT NOT NULL,
    procedure_code          TEXT NOT NULL,
    channel                 TEXT NOT NULL,
    submitted_at            TIMESTAMP,
    received_at             TIMESTAMP NOT NULL,
    due_at                  TIMESTAMP,
    finished_at             TIMESTAMP,
    returned_at             TIMESTAMP,
    stopped_at              TIMESTAMP,
    stop_reason             TEXT,
    supplement_count        INTEGER,
    fee_amount              DOUBLE PRECISION,
    paid_online             BOOLEAN,
    e_result                BOOLEAN,
    digitized               BOOLEAN,
    reused_data             BOOLEAN,
    shared_to_citizen_store BOOLEAN,
    used_population_data    BOOLEAN,
    synced_to_portal        BOOLEAN,
    rating                  TEXT,
    complained              BOOLEAN,
    apology_issued          BOOLEAN,
    officer                 TEXT,
    updated_at              TIMESTAMP,
    original_due_at         TIMESTAMP,  -- the first due date seen: scoring is against it
    row_hash                TEXT NOT NULL,
    load_id                 BIGINT
);

-- Every replaced version of a dossier (phiên bản cũ), kept for audit and for "what changed".
CREATE TABLE dossier_history (
    dossier_id              TEXT NOT NULL,
    unit_code               TEXT NOT NULL,
    procedure_code          TEXT NOT NULL,
    channel                 TEXT NOT NULL,
    submitted_at            TIMESTAMP,
    received_at             TIMESTAMP NOT NULL,
    due_at                  TIMESTAMP,
    finished_at             TIMESTAMP,
    returned_at             TIMESTAMP,
    stopped_at              TIMESTAMP,
    stop_reason             TEXT,
    supplement_count        INTEGER,
    fee_amount              DOUBLE PRECISION,
    paid_online             BOOLEAN,
    e_result                BOOLEAN,
    digitized               BOOLEAN,
    reused_data             BOOLEAN,
    shared_to_citizen_store BOOLEAN,
    used_population_data    BOOLEAN,
    synced_to_portal        BOOLEAN,
    rating                  TEXT,
    complained              BOOLEAN,
    apology_issued          BOOLEAN,
    officer                 TEXT,
    updated_at              TIMESTAMP,
    original_due_at         TIMESTAMP,
    row_hash                TEXT NOT NULL,
    load_id                 BIGINT,
    superseded_by_load      BIGINT,
    PRIMARY KEY (dossier_id, row_hash)
);

CREATE TABLE pauses (
    dossier_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at   TIMESTAMP,
    row_hash   TEXT NOT NULL,
    load_id    BIGINT,
    PRIMARY KEY (dossier_id, kind, started_at)
);

CREATE TABLE feedback (
    feedback_id TEXT PRIMARY KEY,
    unit_code   TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    due_at      TIMESTAMP,
    handled_at  TIMESTAMP,
    satisfied   BOOLEAN,
    about       TEXT,
    dossier_id  TEXT,
    row_hash    TEXT NOT NULL,
    load_id     BIGINT
);

CREATE TABLE evaluations (
    dossier_id   TEXT NOT NULL,
    unit_code    TEXT NOT NULL,
    evaluated_at TIMESTAMP NOT NULL,
    evaluator    TEXT NOT NULL,
    i1 INTEGER, i2 INTEGER, i3 INTEGER, i4 INTEGER, i5 INTEGER,
    i6 INTEGER, i7 INTEGER, i8 INTEGER, i9 INTEGER,
    row_hash     TEXT NOT NULL,
    load_id      BIGINT,
    PRIMARY KEY (dossier_id, evaluator, evaluated_at)
);

CREATE TABLE indicator_inputs (
    period      TEXT NOT NULL,
    unit_code   TEXT NOT NULL,
    indicator   TEXT NOT NULL,
    numerator   DOUBLE PRECISION,
    denominator DOUBLE PRECISION,
    score       DOUBLE PRECISION,
    row_hash    TEXT NOT NULL,
    load_id     BIGINT,
    PRIMARY KEY (period, unit_code, indicator)
);

-- Overrides on top of the national holidays: province '' = national.
CREATE TABLE calendar (
    date     DATE NOT NULL,
    kind     TEXT NOT NULL,
    note     TEXT,
    province TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    load_id  BIGINT,
    PRIMARY KEY (date, province)
);

-- The materialised working-day calendar (lịch ngày làm việc), one row per day and calendar key
-- ('' = national, else a province code). working_ordinal counts working days up to and including the day.
CREATE TABLE calendar_days (
    calendar_key    TEXT NOT NULL,
    day             DATE NOT NULL,
    is_working      BOOLEAN NOT NULL,
    working_ordinal INTEGER NOT NULL,
    note            TEXT,
    PRIMARY KEY (calendar_key, day)
);

-- Deadline rules resolved per province and procedure ('' = any), see docs/deadlines.md.
CREATE TABLE deadline_rules (
    province_code   TEXT NOT NULL,
    procedure_code  TEXT NOT NULL,
    morning_start   INTEGER NOT NULL,   -- seconds after midnight
    morning_end     INTEGER NOT NULL,
    afternoon_start INTEGER NOT NULL,
    afternoon_end   INTEGER NOT NULL,
    cutoff          INTEGER NOT NULL,   -- reception at or after this starts the next working day
    supplement_mode TEXT NOT NULL,      -- resume | restart
    PRIMARY KEY (province_code, procedure_code)
);
