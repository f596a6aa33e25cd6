-- Published results (kết quả đã công bố): a frozen score of a period with the rule set, the moment it was
-- computed for, a fingerprint of the data, and the dossier versions it was computed from.
CREATE SEQUENCE publication_seq START 1;

CREATE TABLE publications (
    publication_id   BIGINT PRIMARY KEY,
    period           TEXT NOT NULL,
    rule_set         TEXT NOT NULL,
    scored_at        TIMESTAMP NOT NULL,   -- the scoring moment (period end, or as-of while it ran)
    published_at     TIMESTAMP NOT NULL,
    data_fingerprint TEXT NOT NULL,
    results          TEXT NOT NULL         -- the JSON of `chiso score --format json`
);

CREATE TABLE publication_dossiers (
    publication_id BIGINT NOT NULL,
    dossier_id     TEXT NOT NULL,
    unit_code      TEXT NOT NULL,
    row_hash       TEXT NOT NULL,
    PRIMARY KEY (publication_id, dossier_id)
);
