-- What Nghị quyết 131/NQ-CP requires for every overdue dossier (hồ sơ quá hạn): an explanation report to the head of
-- the unit (báo cáo giải trình, action 'explanation') and an apology to the citizen (thư xin lỗi, 'apology').
-- One row per dossier and action: the day it was done, the attached file (kept here, at most 10 MB: PDF, Word or a
-- picture), who recorded it and when. BYTEA is BLOB in DuckDB and bytea in PostgreSQL.
CREATE TABLE overdue_actions (
    dossier_id  TEXT NOT NULL,
    action      TEXT NOT NULL,
    done_on     DATE NOT NULL,
    file_name   TEXT,
    file_sha256 TEXT,
    content     BYTEA,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (dossier_id, action)
);
