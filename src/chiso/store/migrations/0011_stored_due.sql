-- Each dossier's due date from the procedure's statutory time (hạn giải quyết tính theo thời hạn của thủ tục), kept
-- between runs (chiso.status.stored_due): it depends on the dossier row, its procedure, its province's calendar and
-- the deadline rules, never on the as-of moment, so the status query reads it instead of computing it again for
-- every dossier at every run. due_ready: TRUE when computed_due is current for the stored tables (the fingerprint
-- in settings 'due_fingerprint'), FALSE when the dossier is outside what the computation covers, NULL when not yet
-- computed (a new or replaced row). paused: the dossier has rows in pauses (as of the digest 'due_pauses_digest'):
-- the status query computes those in full. Derived data: not in history tables, not exported to a lake.
ALTER TABLE dossiers ADD COLUMN computed_due TIMESTAMP;
ALTER TABLE dossiers ADD COLUMN due_ready BOOLEAN;
ALTER TABLE dossiers ADD COLUMN paused BOOLEAN;
