-- The moment from which a dossier's facts are final (thời điểm hồ sơ đã chốt): its last event (received, finished,
-- returned, stopped, the start and end of each of its pauses), rounded up to the whole second; 9999-12-31 23:59:59
-- while it has not ended (or its due date is outside the kept computation); NULL until computed (a new or replaced
-- row). The index engine keeps the measure counts of the dossiers settled before a scoring's moment instead of
-- computing them again (chiso.scoring.kept_groups). Derived data: not in history tables, not exported to a lake.
ALTER TABLE dossiers ADD COLUMN settled_at TIMESTAMP;
