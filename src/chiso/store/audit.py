"""The audit trail (nhật ký thao tác): who did what to the store, when, from which machine and command.

1. Every entry is one row of ``audit_log`` (migration 0004): time (the machine's local time), user, host, command line,
   action, object and details (a JSON object as text). Entries are written by the operation they record, inside
   its transaction: a load's entry commits or rolls back with the load.
2. Actions: ``load`` (file, fingerprint, counts, rejected rows), ``unload``, ``publish``, ``backup``, ``restore``,
   and the changes of the files the office edits in the workspace: ``config_changed`` (chiso.toml),
   ``template_changed`` (templates/), ``rules_changed`` (rules/), ``departments_changed`` (departments.csv).
3. Those files are edited outside chiso, so their changes are detected: the store keeps their fingerprint
   (``workspace_files``: path, sha256, size) and :func:`track_workspace_files` compares it with the disk whenever
   the store is opened for writing, recording one entry per added, changed or removed file.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shlex
import socket
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chiso import clock
from chiso.lazy import lazy_module
from chiso.store.rows import first_row

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = lazy_module("duckdb")


ACTIONS: dict[str, str] = {
    "load": "nạp dữ liệu",
    "unload": "gỡ lần nạp",
    "official_import": "nhập kết quả chính thức",
    "official_confirm": "xác nhận tên đơn vị",
    "publish": "công bố kết quả",
    "backup": "sao lưu",
    "restore": "khôi phục",
    "config_changed": "cấu hình thay đổi",
    "template_changed": "mẫu văn bản thay đổi",
    "rules_changed": "bộ quy tắc thay đổi",
    "departments_changed": "danh mục sở, ngành thay đổi",
    "user_added": "thêm tài khoản",
    "user_changed": "sửa tài khoản",
    "user_disabled": "khóa tài khoản",
    "token_issued": "cấp mã truy cập API",
    "overdue_marked": "ghi nhận giải trình, xin lỗi hồ sơ quá hạn",
    "alert_sent": "gửi cảnh báo hạn giải quyết",
    "alert_failed": "gửi cảnh báo không thành công",
}
CHANGE_LABELS = {"added": "thêm", "changed": "sửa", "removed": "xóa"}
MAX_COMMAND = 1000


def now_local() -> datetime:
    """Now in Vietnam to the second (:mod:`chiso.clock`), as every stored time (``loads.loaded_at``, …)."""
    return clock.now_local()


@dataclass(frozen=True)
class Actor:
    """Who acts: the operating-system user, the machine and the command line."""

    user: str
    host: str
    command: str


def actor() -> Actor:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = str(os.getuid()) if hasattr(os, "getuid") else ""
    command = shlex.join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]])
    return Actor(user, socket.gethostname(), command[:MAX_COMMAND])


def has_audit_log(con: duckdb.DuckDBPyConnection) -> bool:
    """False in a store older than migration 0004 (an automatic backup before migrating it)."""
    row = first_row(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_log' "
                                "AND table_schema = current_schema()"))
    return bool(row and row[0])


def record_load(con: duckdb.DuckDBPyConnection, load_id: int, details: dict[str, Any]) -> int:
    """The entry of one loaded file (in the load's transaction): ``details`` has the file, table and counts; the
    file's fingerprint is taken from ``loads``."""
    row = first_row(con.execute("SELECT sha256 FROM loads WHERE load_id = ?", [load_id]))
    return record(con, "load", str(load_id), {"load_id": load_id, "sha256": row[0] if row else None, **details})


def record(con: duckdb.DuckDBPyConnection, action: str, obj: str | None, details: dict[str, Any],
           who: Actor | None = None) -> int:
    """Write one entry; returns its id. Runs in the caller's transaction, if any."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    who = who or actor()
    row = first_row(con.execute("SELECT nextval('audit_seq')"))
    assert row is not None
    entry_id = int(row[0])
    con.execute(
        "INSERT INTO audit_log (id, recorded_at, user_name, host, command, action, object, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [entry_id, now_local(), who.user, who.host, who.command, action, obj,
         json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)])
    return entry_id


@dataclass(frozen=True)
class AuditEntry:
    id: int
    recorded_at: datetime
    user: str
    host: str
    command: str
    action: str
    object: str
    details: dict[str, Any]

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "recorded_at": self.recorded_at.isoformat(sep=" "), "user": self.user,
                "host": self.host, "command": self.command, "action": self.action, "object": self.object,
                "details": self.details}


def entries(con: duckdb.DuckDBPyConnection, *, since: date | None = None,
            actions: tuple[str, ...] | list[str] = ()) -> list[AuditEntry]:
    """Entries newest first, from ``since`` (a day, included) and of the given actions (all when empty)."""
    where: list[str] = []
    params: list[object] = []
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(datetime(since.year, since.month, since.day))
    if actions:
        where.append("action IN (" + ", ".join("?" for _ in actions) + ")")
        params.extend(actions)
    sql = ("SELECT id, recorded_at, user_name, host, command, action, object, details FROM audit_log"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC")
    return [AuditEntry(int(r[0]), r[1], r[2] or "", r[3] or "", r[4] or "", str(r[5]), r[6] or "", json.loads(r[7]))
            for r in con.execute(sql, params).fetchall()]


# --- files the office edits -------------------------------------------------------------------------------------

TRACKED_FILES = {"chiso.toml": "config_changed", "departments.csv": "departments_changed"}
TRACKED_FOLDERS = {"templates": "template_changed", "rules": "rules_changed"}


def is_temporary(name: str) -> bool:
    """Editor locks and temporary files, never part of the workspace's content: ``~$x.docx`` (Word, Excel),
    ``.~lock.x#`` (LibreOffice), ``*.tmp``, ``*.tmp-…``, ``*~``, ``*.partial…``, and the staging folders of
    documents being written (``.chiso-dang-ghi-…``, chiso.outputs)."""
    return (name.startswith(("~$", ".~lock.", ".chiso-dang-ghi-")) or name.endswith((".tmp", "~"))
            or ".tmp-" in name or ".partial" in name)


def sha256_of(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def tracked_files(workspace: Path) -> dict[str, tuple[str, int]]:
    """Relative path (with ``/``) -> (sha256, size) of every file the office edits in the workspace."""
    found: dict[str, tuple[str, int]] = {}
    for name in TRACKED_FILES:
        path = workspace / name
        if path.is_file():
            found[name] = sha256_of(path)
    for folder in TRACKED_FOLDERS:
        base = workspace / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and not is_temporary(path.name):
                found[path.relative_to(workspace).as_posix()] = sha256_of(path)
    return found


def _action_for(rel: str) -> str:
    return TRACKED_FILES.get(rel) or TRACKED_FOLDERS[rel.split("/", 1)[0]]


def _file_changes(con: duckdb.DuckDBPyConnection, workspace: Path
                  ) -> list[tuple[str, tuple[str, int] | None, tuple[str, int] | None]]:
    """(path, stored (sha256, size), current (sha256, size)) of every tracked file that differs."""
    now = tracked_files(workspace)
    before = {str(r[0]): (str(r[1]), int(r[2]))
              for r in con.execute("SELECT path, sha256, size FROM workspace_files").fetchall()}
    return [(rel, before.get(rel), now.get(rel)) for rel in sorted(set(now) | set(before))
            if before.get(rel) != now.get(rel)]


def workspace_files_changed(con: duckdb.DuckDBPyConnection, workspace: Path) -> bool:
    """Whether :func:`track_workspace_files` has anything to record (checked without writing)."""
    return bool(_file_changes(con, workspace))


def track_workspace_files(con: duckdb.DuckDBPyConnection, workspace: Path, who: Actor | None = None) -> list[int]:
    """Compare the edited files with their stored fingerprint; record one entry per added, changed or removed
    file and store the new fingerprint. Returns the ids of the entries written. Runs in the caller's
    transaction."""
    written: list[int] = []
    for rel, old, new in _file_changes(con, workspace):
        change = "added" if old is None else "removed" if new is None else "changed"
        details: dict[str, Any] = {"path": rel, "change": change,
                                   "old_sha256": old[0] if old else None, "new_sha256": new[0] if new else None,
                                   "old_size": old[1] if old else None, "new_size": new[1] if new else None}
        written.append(record(con, _action_for(rel), rel, details, who))
        checked = now_local()
        if new is None:
            con.execute("DELETE FROM workspace_files WHERE path = ?", [rel])
        elif old is None:
            con.execute("INSERT INTO workspace_files VALUES (?, ?, ?, ?)", [rel, new[0], new[1], checked])
        else:
            con.execute("UPDATE workspace_files SET sha256 = ?, size = ?, checked_at = ? WHERE path = ?",
                        [new[0], new[1], checked, rel])
    return written
