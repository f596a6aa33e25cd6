"""Publishing results (công bố kết quả): freeze a period's scores with the rule set, the scoring moment, a
fingerprint of the dossier data and the dossier versions behind them; later scoring of the period shows
what changed since publication and why (which dossiers arrived, changed or left). Each publication is recorded
in the audit trail (:mod:`chiso.store.audit`) in the same transaction."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from chiso.clock import now_local
from chiso.config import Config
from chiso.rules.model import RuleSet
from chiso.store import audit
from chiso.store.db import Store
from chiso.store.rows import first_row

RELEVANT = "handled OR received_in_period"
MAX_IDS = 200


def snapshot_sql() -> str:
    """Dossier versions that count for the period (from the current ``dossier_facts``)."""
    return (f"SELECT f.dossier_id, f.unit_code, d.row_hash FROM dossier_facts f "
            f"JOIN dossiers d ON d.dossier_id = f.dossier_id WHERE {RELEVANT}")


# Every table the results are computed from, besides the dossiers that count for the period: each row by its key
# and the hash of its values.
INPUT_TABLES = {"units": ("code",), "procedures": ("code",), "calendar": ("date", "province"),
                "pauses": ("dossier_id", "kind", "started_at"), "feedback": ("feedback_id",),
                "evaluations": ("dossier_id", "evaluator", "evaluated_at"),
                "indicator_inputs": ("period", "unit_code", "indicator")}


def _table_digest(store: Store, name: str, key: tuple[str, ...]) -> str:
    keys = " || '|' || ".join(f"COALESCE(CAST({k} AS VARCHAR), '')" for k in key)
    row = first_row(store.con.execute(
        f"SELECT md5(COALESCE(string_agg({keys} || ':' || row_hash, ',' ORDER BY {keys} || ':' || row_hash), '')) "
        f"FROM {name}"))
    return str(row[0]) if row else ""


def fingerprint(store: Store, rule_set: RuleSet | None = None, config: Config | None = None) -> str:
    """One digest of everything that feeds a period's results: the dossiers that count for it (from the current
    ``dossier_facts``), every other input table, the configuration that changes deadlines and statuses, and the
    rule set. A change in any of them changes it."""
    row = first_row(store.con.execute(
        f"SELECT md5(COALESCE(string_agg(dossier_id || ':' || row_hash, ',' ORDER BY dossier_id), '')) "
        f"FROM ({snapshot_sql()}) s"))
    parts = {"dossiers": str(row[0]) if row else ""}
    for name, key in INPUT_TABLES.items():
        parts[name] = _table_digest(store, name, key)
    if config is not None:
        parts["config"] = repr((config.deadline, sorted(config.province_rules.items()),
                                sorted(config.procedure_rules.items()), config.pause_kinds, config.calendar_years))
    if rule_set is not None:
        parts["rule_set"] = repr(rule_set)
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def publish(store: Store, period: str, rule_set: RuleSet, scored_at: datetime, results: list[dict[str, Any]],
            config: Config | None = None) -> tuple[int, str]:
    """Store a publication; ``dossier_facts`` must hold the facts the results were computed from. Returns the
    publication's number and its data fingerprint."""
    con = store.con
    fp = fingerprint(store, rule_set, config)
    with store.transaction():
        row = first_row(con.execute("SELECT nextval('publication_seq')"))
        assert row is not None
        pid = int(row[0])
        con.execute("INSERT INTO publications VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [pid, period, rule_set.name, scored_at, now_local(), fp,
                     json.dumps(results, ensure_ascii=False)])
        con.execute(f"INSERT INTO publication_dossiers SELECT {pid}, dossier_id, unit_code, row_hash "
                    f"FROM ({snapshot_sql()}) s")
        audit.record(con, "publish", period, {
            "publication_id": pid, "period": period, "rule_set": rule_set.name,
            "scored_at": scored_at.isoformat(sep=" "),
            "data_fingerprint": fp, "units": len(results)})
    return pid, fp


def latest(store: Store, period: str) -> tuple[int, datetime, str, dict[str, Any]] | None:
    row = first_row(store.con.execute(
        "SELECT publication_id, published_at, data_fingerprint, results FROM publications WHERE period = ? "
        "ORDER BY publication_id DESC LIMIT 1", [period]))
    if row is None:
        return None
    return int(row[0]), row[1], str(row[2]), {r["code"]: r for r in json.loads(row[3])}


def changes_since(store: Store, publication_id: int) -> dict[str, dict[str, list[str]]]:
    """unit code (each unit and its ancestors) -> added / changed / removed dossier ids since publication."""
    rows = store.con.execute(
        f"""WITH now AS ({snapshot_sql()}),
                 pub AS (SELECT dossier_id, unit_code, row_hash FROM publication_dossiers WHERE publication_id = ?),
                 diff AS (
                   SELECT COALESCE(n.dossier_id, p.dossier_id) AS dossier_id,
                          COALESCE(n.unit_code, p.unit_code) AS unit_code,
                          CASE WHEN p.dossier_id IS NULL THEN 'added' WHEN n.dossier_id IS NULL THEN 'removed'
                               ELSE 'changed' END AS change
                   FROM now n FULL OUTER JOIN pub p ON p.dossier_id = n.dossier_id
                   WHERE p.dossier_id IS NULL OR n.dossier_id IS NULL OR p.row_hash <> n.row_hash)
            SELECT c.ancestor, diff.change, diff.dossier_id FROM diff
            JOIN unit_closure c ON c.descendant = diff.unit_code ORDER BY 1, 2, 3""",
        [publication_id]).fetchall()
    out: dict[str, dict[str, list[str]]] = {}
    for unit, change, dossier in rows:
        out.setdefault(str(unit), {"added": [], "changed": [], "removed": []})[str(change)].append(str(dossier))
    return out


def annotate(results: list[dict[str, Any]], store: Store, period: str) -> None:
    """Add ``since_publication`` to each result when the period was published (in place)."""
    pub = latest(store, period)
    if pub is None:
        return
    pid, published_at, _, published = pub
    changes = changes_since(store, pid)
    for r in results:
        before = published.get(r["code"])
        ch = changes.get(r["code"], {"added": [], "changed": [], "removed": []})
        r["since_publication"] = {
            "publication_id": pid,
            "published_at": published_at.isoformat(sep=" "),
            "published_total": before["total"] if before else None,
            "change": None if before is None else round(r["total"] - before["total"], 2),
            "dossiers_added": len(ch["added"]), "dossiers_changed": len(ch["changed"]),
            "dossiers_removed": len(ch["removed"]),
            "examples": {k: v[:MAX_IDS] for k, v in ch.items() if v},
        }
