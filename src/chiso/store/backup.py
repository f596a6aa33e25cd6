"""Backups (sao lưu) and restores (khôi phục) of a whole workspace.

A backup is a folder: a copy of every file of the workspace (the database, chiso.toml, templates/, rules/,
departments.csv, units/, rejected/, documents written there …; not the ``backups/`` folder itself, not editor locks
or temporary files) and ``manifest.json`` (chiso version, schema version = the last migration applied, time, user,
host, and the sha256 and size of every file).

1. Consistent: the process that makes the backup holds the store open (DuckDB's exclusive lock), runs
   ``CHECKPOINT`` so the database file holds every committed transaction, then copies. Each file's hash is computed
   from the bytes written to the copy, and the folder gets its final name only when complete.
2. Restore checks the manifest first: every file present with its size and hash, no file the manifest does not
   list, paths inside the folder, a schema this program knows. A tampered or incomplete backup is refused naming
   the file.
3. Restore never loses the current workspace: when it holds data, an automatic backup of it is made first
   (``backups/auto-before-restore-<time>``). The backup's files are copied (and checked again) into a folder beside
   the workspace, which then replaces the workspace by renames; ``backups/`` moves into the new workspace. An
   interruption leaves the old workspace or the new one (the old one at ``.<name>.old-<time>`` beside it, the new
   one at ``.<name>.restoring-<time>``, when it happens between the two renames).
4. ``Store.migrate`` makes an automatic backup (``backups/auto-before-migration-<version>-<time>``) before applying
   migrations to a store that already had some.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from chiso import __version__
from chiso.lazy import lazy_module
from chiso.store import audit
from chiso.store.rows import first_row

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = lazy_module("duckdb")

if TYPE_CHECKING:
    from chiso.store.db import Store

MANIFEST = "manifest.json"
BACKUPS_DIR = "backups"
FORMAT = "chiso-backup"
FORMAT_VERSION = 1
DB_FILE = "chiso.duckdb"
# DuckDB's write-ahead log (empty after CHECKPOINT) and its spill folder are not content.
DB_SIDE_FILES = {DB_FILE + ".wal", DB_FILE + ".tmp"}


class BackupError(Exception):
    """A backup cannot be made or restored; the message (Vietnamese) names the file or folder."""


class BackupTargetError(BackupError):
    """The folder asked for a backup is not a place for one (inside the workspace's data, or not empty)."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, with '/'
    sha256: str
    size: int


@dataclass
class Manifest:
    chiso_version: str
    schema_version: int | None
    created_at: str
    user: str
    host: str
    workspace: str
    reason: str
    files: list[FileEntry]

    def to_json(self) -> str:
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, "chiso_version": self.chiso_version,
                "schema_version": self.schema_version, "created_at": self.created_at, "user": self.user,
                "host": self.host, "workspace": self.workspace, "reason": self.reason,
                "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files]}
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass
class BackupInfo:
    path: Path
    manifest: Manifest


@dataclass
class RestoreInfo:
    workspace: Path
    source: Path
    manifest: Manifest
    auto_backup: Path | None


# --- which files ---------------------------------------------------------------------------------------------------


def content_files(workspace: Path) -> Iterator[Path]:
    """Every file of the workspace's content, sorted: not ``backups/``, not DuckDB's side files, not temporary
    files. Symbolic links to files are copied as files; folders behind symbolic links are not followed."""
    for root, dirs, files in os.walk(workspace):
        here = Path(root)
        if here == workspace:
            dirs[:] = [d for d in dirs if d != BACKUPS_DIR and d not in DB_SIDE_FILES]
        dirs[:] = sorted(d for d in dirs if not audit.is_temporary(d))
        for name in sorted(files):
            if here == workspace and name in DB_SIDE_FILES:
                continue
            if audit.is_temporary(name) or not (here / name).is_file():
                continue
            yield here / name


def holds_data(workspace: Path) -> bool:
    return workspace.is_dir() and next(content_files(workspace), None) is not None


def is_inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


# --- making a backup -----------------------------------------------------------------------------------------------


def _timestamp() -> str:
    return audit.now_local().strftime("%Y-%m-%d-%H%M%S")


def default_dir(workspace: Path, prefix: str = "") -> Path:
    """``<workspace>/backups/<prefix><time>``, with ``-2``, ``-3`` … when taken twice in a second."""
    base = workspace / BACKUPS_DIR / f"{prefix}{_timestamp()}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _copy(src: Path, dest: Path) -> tuple[str, int]:
    """Copy one file; the hash and size are of the bytes written."""
    h = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(1 << 20):
            fout.write(chunk)
            h.update(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copystat(src, dest)
    return h.hexdigest(), size


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        row = first_row(con.execute("SELECT max(version) FROM schema_migrations"))
    except duckdb.CatalogException:
        return None
    return None if row is None or row[0] is None else int(row[0])


def check_target(workspace: Path, out: Path) -> None:
    """Refuse a backup folder inside the workspace's data (``backups/…`` is allowed) or one that holds files."""
    backups = workspace / BACKUPS_DIR
    if is_inside(out, workspace) and not (is_inside(out, backups) and out.resolve() != backups.resolve()):
        raise BackupTargetError(f"không sao lưu vào {out}: thư mục này nằm trong dữ liệu của chính thư mục dữ liệu "
                          f"{workspace}; chọn thư mục ở ngoài, hoặc để trống --out (mặc định {backups}/<thời điểm>)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupTargetError(f"không sao lưu vào {out}: đã có tệp hoặc thư mục không trống ở đó; chọn thư mục mới")


def create(workspace: Path, out: Path, *, con: duckdb.DuckDBPyConnection | None, reason: str) -> BackupInfo:
    """Copy the workspace into ``out`` (new or empty) with its manifest. ``con`` is the open store's connection
    (checkpointed first) or None when the workspace has no usable database (copied as it is)."""
    workspace = Path(workspace)
    check_target(workspace, out)
    version = None
    if con is not None:
        con.execute("CHECKPOINT")
        version = schema_version(con)
        wal = workspace / (DB_FILE + ".wal")
        if wal.exists() and wal.stat().st_size:
            raise BackupError(f"không sao lưu được: {wal} vẫn còn giao dịch chưa ghi vào tệp dữ liệu")
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    if partial.exists():
        shutil.rmtree(partial)
    who = audit.actor()
    files: list[FileEntry] = []
    try:
        partial.mkdir(parents=True)
        for src in content_files(workspace):
            rel = src.relative_to(workspace).as_posix()
            digest, size = _copy(src, partial / rel)
            files.append(FileEntry(rel, digest, size))
        manifest = Manifest(__version__, version, audit.now_local().isoformat(sep=" "), who.user, who.host,
                            str(workspace.resolve()), reason, files)
        (partial / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupInfo(out, manifest)


def backup_store(store: Store, out: Path | None = None, *, reason: str = "manual",
                 prefix: str = "") -> BackupInfo:
    """Back up an open store's workspace; the backup itself is recorded in the audit trail first (so the copy
    holds the entry too)."""
    target = out if out is not None else default_dir(store.workspace, prefix)
    check_target(store.workspace, target)
    entry = None
    if audit.has_audit_log(store.con):
        with store.transaction():
            entry = audit.record(store.con, "backup", str(target),
                                 {"path": str(target.resolve()), "reason": reason})
    try:
        return create(store.workspace, target, con=store.con, reason=reason)
    except BaseException:
        if entry is not None:  # no backup was made: the trail must not say there is one
            with store.transaction():
                store.con.execute("DELETE FROM audit_log WHERE id = ?", [entry])
        raise


# --- checking and restoring ----------------------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupError(f"{source}: không phải thư mục sao lưu")
    if not path.is_file():
        raise BackupError(f"{source}: không phải bản sao lưu của chiso (thiếu {MANIFEST})")
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError("format")
        if int(data["format_version"]) > FORMAT_VERSION:
            raise BackupError(f"{path}: bản sao lưu theo định dạng mới hơn ({data['format_version']}); "
                              "hãy cập nhật chiso")
        files = [FileEntry(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in data["files"]]
        schema = data["schema_version"]
        manifest = Manifest(str(data["chiso_version"]), None if schema is None else int(schema),
                            str(data["created_at"]), str(data.get("user", "")), str(data.get("host", "")),
                            str(data.get("workspace", "")), str(data.get("reason", "")), files)
    except BackupError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{path}: tệp kê khai hỏng hoặc không đúng định dạng ({exc})") from None
    for f in files:
        pure = PurePosixPath(f.path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or f.path == MANIFEST or "\\" in f.path:
            raise BackupError(f"{path}: đường dẫn không hợp lệ trong tệp kê khai: {f.path!r}")
    if len({f.path for f in files}) != len(files):
        raise BackupError(f"{path}: tệp kê khai liệt kê một tệp hai lần")
    return manifest


def verify(source: Path, *, known_schema: int) -> Manifest:
    """Check a backup folder against its manifest; raise naming the first file that differs."""
    manifest = read_manifest(source)
    if manifest.schema_version is not None and manifest.schema_version > known_schema:
        raise BackupError(
            f"{source}: bản sao lưu do chiso {manifest.chiso_version} tạo với lược đồ kho số "
            f"{manifest.schema_version}, mới hơn lược đồ chương trình này biết ({known_schema}); hãy cập nhật chiso")
    listed = {f.path for f in manifest.files}
    for f in manifest.files:
        path = source / f.path
        if not path.is_file():
            raise BackupError(f"{source}: bản sao lưu thiếu tệp {f.path}")
        if path.stat().st_size != f.size:
            raise BackupError(f"{source}: tệp {f.path} có kích thước {path.stat().st_size} byte, "
                              f"khác tệp kê khai ({f.size} byte): bản sao lưu bị sửa hoặc hỏng")
        if audit.sha256_of(path)[0] != f.sha256:
            raise BackupError(f"{source}: tệp {f.path} khác mã băm trong tệp kê khai: bản sao lưu bị sửa hoặc hỏng")
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source).as_posix()
        if path.is_file() and rel != MANIFEST and rel not in listed:
            raise BackupError(f"{source}: tệp {rel} không có trong tệp kê khai: bản sao lưu bị sửa")
    _check_database(source / DB_FILE, source)
    return manifest


def _check_database(path: Path, source: Path) -> None:
    """The backup's database must open as a chiso store before it replaces anything (a manifest can be rewritten
    to match any file)."""
    if not path.exists():
        return
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            schema_version(con)
            first_row(con.execute("SELECT count(*) FROM schema_migrations"))
        finally:
            con.close()
    except duckdb.Error:
        raise BackupError(f"{source}: {DB_FILE} không phải kho dữ liệu chiso (hỏng hoặc bị thay); không khôi phục"
                          ) from None


def replace_workspace(source: Path, manifest: Manifest, workspace: Path) -> None:
    """Copy the backup's files beside the workspace (checking each hash again), then swap by renames; the
    workspace's ``backups/`` moves into the new one."""
    workspace = workspace.resolve()  # a workspace behind a symbolic link is restored where the link points
    parent = workspace.parent
    parent.mkdir(parents=True, exist_ok=True)
    stamp = f"{_timestamp()}-{os.getpid()}"
    staging = parent / f".{workspace.name}.restoring-{stamp}"
    aside = parent / f".{workspace.name}.old-{stamp}"
    try:
        staging.mkdir()
        for f in manifest.files:
            digest, size = _copy(source / f.path, staging / f.path)
            if (digest, size) != (f.sha256, f.size):
                raise BackupError(f"{source}: tệp {f.path} thay đổi trong khi khôi phục; không khôi phục")
        _check_database(staging / DB_FILE, source)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not workspace.exists():
        os.replace(staging, workspace)
        return
    try:
        os.replace(workspace, aside)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"không thay được thư mục dữ liệu {workspace}: {exc.strerror}") from None
    try:
        os.replace(staging, workspace)
    except OSError as exc:
        os.replace(aside, workspace)
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"không thay được thư mục dữ liệu {workspace}: {exc.strerror}") from None
    if (aside / BACKUPS_DIR).is_dir():
        os.replace(aside / BACKUPS_DIR, workspace / BACKUPS_DIR)
    shutil.rmtree(aside, ignore_errors=True)
