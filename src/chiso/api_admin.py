"""The Python API of the store's safeguards (an toàn dữ liệu): backups (sao lưu), restore (khôi phục), the audit
trail (nhật ký thao tác) and reverting a load (gỡ lần nạp). ``chiso backup|restore|audit|unload``
(:mod:`chiso.cli_admin`) is a thin layer over this; see docs/operations.md.

```python
from chiso import api_admin
from chiso.store.db import Store

with Store.open("chiso-data") as store:
    info = api_admin.backup(store)                   # chiso-data/backups/<time>/
    api_admin.unload(store, 7)                       # revert load 7 exactly
    entries = api_admin.audit(store, actions=["load", "unload"])
api_admin.restore(info.path, "chiso-data")           # the store must be closed
```
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from chiso.lazy import lazy_module
from chiso.store import audit as trail
from chiso.store import backup as backups
from chiso.store import history
from chiso.store.audit import ACTIONS, AuditEntry
from chiso.store.backup import BackupError, BackupInfo, BackupTargetError, Manifest, RestoreInfo
from chiso.store.db import DB_FILE, Store, migrations, workspace_path
from chiso.store.history import UnloadError, UnloadResult

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = lazy_module("duckdb")

__all__ = ["ACTIONS", "AuditEntry", "BackupError", "BackupInfo", "BackupTargetError", "Manifest", "RestoreInfo",
           "UnloadError", "UnloadResult", "audit", "backup", "describe", "entries_json", "restore", "unload",
           "verify_backup"]


def known_schema() -> int:
    """The last migration this program ships."""
    return max(version for version, _, _ in migrations())


def backup(store: Store, out: str | os.PathLike[str] | None = None) -> BackupInfo:
    """A consistent copy of the whole workspace into ``out`` (a new or empty folder outside the workspace's data),
    default ``<workspace>/backups/<time>``. A PostgreSQL store is backed up with PostgreSQL's tools."""
    if store.dialect != "duckdb":
        raise BackupError("chiso backup sao lưu kho DuckDB; cơ sở dữ liệu PostgreSQL sao lưu bằng pg_dump "
                          "--format=custom và khôi phục bằng pg_restore (xem docs/postgres.md)")
    return backups.backup_store(store, Path(out) if out is not None else None)


def verify_backup(source: str | os.PathLike[str]) -> Manifest:
    """Check a backup folder (every file against the manifest, schema known); returns its manifest."""
    return backups.verify(Path(source), known_schema=known_schema())


def restore(source: str | os.PathLike[str], workspace: str | os.PathLike[str] | None = None) -> RestoreInfo:
    """Replace the workspace by a backup. The backup is checked first; a workspace that holds data is backed up
    first (``backups/auto-before-restore-<time>``). The store must not be open (in this or another process)."""
    src, ws = Path(source), workspace_path(workspace)
    manifest = verify_backup(src)
    if backups.is_inside(ws, src):
        raise BackupError(f"không khôi phục {src} vào chính nó ({ws})")
    auto = _backup_before_restore(ws) if backups.holds_data(ws) else None
    backups.replace_workspace(src, manifest, ws)
    with Store.open(ws) as store, store.transaction():
        trail.record(store.con, "restore", str(src.resolve()), {
            "source": str(src.resolve()), "backup_created_at": manifest.created_at,
            "backup_user": manifest.user, "backup_host": manifest.host, "schema_version": manifest.schema_version,
            "files": len(manifest.files), "auto_backup": str(auto.resolve()) if auto else None})
    return RestoreInfo(ws, src, manifest, auto)


def _backup_before_restore(workspace: Path) -> Path:
    prefix = "auto-before-restore-"
    if not (workspace / DB_FILE).exists():
        target = backups.default_dir(workspace, prefix)
        return backups.create(workspace, target, con=None, reason="before restore").path
    try:
        store = Store.open(workspace)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise  # busy: another process holds the store (reported as such by the CLI); nothing was changed
        store = None
    if store is None:  # an unreadable database is kept as it is
        target = backups.default_dir(workspace, prefix)
        return backups.create(workspace, target, con=None, reason="before restore (database not readable)").path
    with store:
        return backups.backup_store(store, reason="before restore", prefix=prefix).path


def audit(store: Store, *, since: date | None = None, actions: Sequence[str] = ()) -> list[AuditEntry]:
    """Audit entries, newest first, from ``since`` (included), of the given actions (every action when empty)."""
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f"không có loại thao tác {', '.join(unknown)} (có: {', '.join(ACTIONS)})")
    return trail.entries(store.con, since=since, actions=list(actions))


def unload(store: Store, load_id: int) -> UnloadResult:
    """Revert one load exactly (see :mod:`chiso.store.history`), then bring the derived data up to date."""
    from chiso.api import prepare

    result = history.unload(store, load_id)
    prepare(store)
    return result


def describe(entry: AuditEntry) -> str:
    """One line in Vietnamese saying what the entry records."""
    d = entry.details
    if entry.action == "load":
        text = (f"tệp {Path(str(d.get('file', ''))).name} → bảng {d.get('table')}: {_n(d.get('rows_read'))} dòng; "
                f"thêm {_n(d.get('inserted'))}, cập nhật {_n(d.get('updated'))}, không đổi {_n(d.get('unchanged'))}, "
                f"loại {_n(d.get('rejected'))}")
        if d.get("rejected_file"):
            text += f" (dòng bị loại: {d['rejected_file']})"
        return text + f"; sha256 {str(d.get('sha256') or '')[:16]}"
    if entry.action == "unload":
        return (f"gỡ lần nạp số {d.get('load_id')} (tệp {Path(str(d.get('file', ''))).name}, bảng {d.get('table')}): "
                f"xóa {_n(d.get('deleted'))} dòng đã thêm, trả lại {_n(d.get('restored'))} dòng cũ")
    if entry.action == "publish":
        return (f"kỳ {d.get('period')}, số {d.get('publication_id')}, bộ quy tắc {d.get('rule_set')}, "
                f"{_n(d.get('units'))} đơn vị, dấu vân tay dữ liệu {str(d.get('data_fingerprint', ''))[:16]}")
    if entry.action == "backup":
        return f"vào {d.get('path')}"
    if entry.action == "restore":
        text = f"từ {d.get('source')} (sao lưu lúc {d.get('backup_created_at')}, {_n(d.get('files'))} tệp)"
        if d.get("auto_backup"):
            text += f"; dữ liệu trước đó sao lưu ở {d['auto_backup']}"
        return text
    change = trail.CHANGE_LABELS.get(str(d.get("change")), str(d.get("change")))
    old, new = str(d.get("old_sha256") or "—")[:12], str(d.get("new_sha256") or "—")[:12]
    return f"{change} tệp {d.get('path')} (sha256 {old} → {new})"


def _n(value: object) -> str:
    from chiso import vnformat

    return vnformat.integer(value) if isinstance(value, int) else "?"


def entries_json(entries: Sequence[AuditEntry]) -> str:
    return json.dumps([{**e.as_dict(), "summary": describe(e)} for e in entries], ensure_ascii=False, indent=1)
