-- The embedded store (DuckDB) keeps no key index (ART) on the tables that grow with the dossiers: dossiers, pauses,
-- feedback, evaluations and their histories. DuckDB holds such an index in memory and never spills it: the keys a
-- load's one transaction adds must fit the memory budget (a load of about 2·10⁷ new dossiers ran out of 3 GB), and
-- building it made a load three times slower. The keys stay unique because chiso's loader is their only writer and
-- merges by key (chiso.load.loader: an insert for a new key, an update for a changed one, a history row only when
-- the same version is not there already); `chiso db check` verifies it. PostgreSQL keeps its keys (its indexes
-- live on disk): this migration does nothing there.
CREATE TABLE dossiers__new(dossier_id VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, procedure_code VARCHAR NOT NULL, channel VARCHAR NOT NULL, submitted_at TIMESTAMP, received_at TIMESTAMP NOT NULL, due_at TIMESTAMP, finished_at TIMESTAMP, returned_at TIMESTAMP, stopped_at TIMESTAMP, stop_reason VARCHAR, supplement_count INTEGER, fee_amount DOUBLE, paid_online BOOLEAN, e_result BOOLEAN, digitized BOOLEAN, reused_data BOOLEAN, shared_to_citizen_store BOOLEAN, used_population_data BOOLEAN, synced_to_portal BOOLEAN, rating VARCHAR, complained BOOLEAN, apology_issued BOOLEAN, officer VARCHAR, updated_at TIMESTAMP, original_due_at TIMESTAMP, row_hash VARCHAR NOT NULL, load_id BIGINT, computed_due TIMESTAMP, due_ready BOOLEAN, paused BOOLEAN, settled_at TIMESTAMP);
INSERT INTO dossiers__new SELECT * FROM dossiers;
DROP TABLE dossiers;
ALTER TABLE dossiers__new RENAME TO dossiers;

CREATE TABLE dossier_history__new(dossier_id VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, procedure_code VARCHAR NOT NULL, channel VARCHAR NOT NULL, submitted_at TIMESTAMP, received_at TIMESTAMP NOT NULL, due_at TIMESTAMP, finished_at TIMESTAMP, returned_at TIMESTAMP, stopped_at TIMESTAMP, stop_reason VARCHAR, supplement_count INTEGER, fee_amount DOUBLE, paid_online BOOLEAN, e_result BOOLEAN, digitized BOOLEAN, reused_data BOOLEAN, shared_to_citizen_store BOOLEAN, used_population_data BOOLEAN, synced_to_portal BOOLEAN, rating VARCHAR, complained BOOLEAN, apology_issued BOOLEAN, officer VARCHAR, updated_at TIMESTAMP, original_due_at TIMESTAMP, row_hash VARCHAR NOT NULL, load_id BIGINT, superseded_by_load BIGINT);
INSERT INTO dossier_history__new SELECT * FROM dossier_history;
DROP TABLE dossier_history;
ALTER TABLE dossier_history__new RENAME TO dossier_history;

CREATE TABLE pauses__new(dossier_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP, row_hash VARCHAR NOT NULL, load_id BIGINT);
INSERT INTO pauses__new SELECT * FROM pauses;
DROP TABLE pauses;
ALTER TABLE pauses__new RENAME TO pauses;

CREATE TABLE pauses_history__new(dossier_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP, row_hash VARCHAR NOT NULL, load_id BIGINT, superseded_by_load BIGINT NOT NULL);
INSERT INTO pauses_history__new SELECT * FROM pauses_history;
DROP TABLE pauses_history;
ALTER TABLE pauses_history__new RENAME TO pauses_history;

CREATE TABLE feedback__new(feedback_id VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL, due_at TIMESTAMP, handled_at TIMESTAMP, satisfied BOOLEAN, about VARCHAR, dossier_id VARCHAR, row_hash VARCHAR NOT NULL, load_id BIGINT);
INSERT INTO feedback__new SELECT * FROM feedback;
DROP TABLE feedback;
ALTER TABLE feedback__new RENAME TO feedback;

CREATE TABLE feedback_history__new(feedback_id VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL, due_at TIMESTAMP, handled_at TIMESTAMP, satisfied BOOLEAN, about VARCHAR, dossier_id VARCHAR, row_hash VARCHAR NOT NULL, load_id BIGINT, superseded_by_load BIGINT NOT NULL);
INSERT INTO feedback_history__new SELECT * FROM feedback_history;
DROP TABLE feedback_history;
ALTER TABLE feedback_history__new RENAME TO feedback_history;

CREATE TABLE evaluations__new(dossier_id VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, evaluated_at TIMESTAMP NOT NULL, evaluator VARCHAR NOT NULL, i1 INTEGER, i2 INTEGER, i3 INTEGER, i4 INTEGER, i5 INTEGER, i6 INTEGER, i7 INTEGER, i8 INTEGER, i9 INTEGER, row_hash VARCHAR NOT NULL, load_id BIGINT);
INSERT INTO evaluations__new SELECT * FROM evaluations;
DROP TABLE evaluations;
ALTER TABLE evaluations__new RENAME TO evaluations;

CREATE TABLE evaluations_history__new(dossier_id VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, evaluated_at TIMESTAMP NOT NULL, evaluator VARCHAR NOT NULL, i1 INTEGER, i2 INTEGER, i3 INTEGER, i4 INTEGER, i5 INTEGER, i6 INTEGER, i7 INTEGER, i8 INTEGER, i9 INTEGER, row_hash VARCHAR NOT NULL, load_id BIGINT, superseded_by_load BIGINT NOT NULL);
INSERT INTO evaluations_history__new SELECT * FROM evaluations_history;
DROP TABLE evaluations_history;
ALTER TABLE evaluations_history__new RENAME TO evaluations_history;
