"""Mapping profiles (hồ sơ ánh xạ) per source system: how one system's exports map to the contract — the header
mapping of each table, the file's encoding, the table — saved once in the workspace (``profiles/NAME.toml``) and
reused with ``chiso load --profile NAME``.

A profile file::

    [profile]
    description = "Phần mềm một cửa của tỉnh, bản xuất Excel"
    encoding = "cp1258"      # optional
    table = "dossiers"       # optional

    [dossiers]
    "Số biên nhận" = "dossier_id"
    "Mã đơn vị tiếp nhận" = "unit_code"

Every mapping (a profile's or a ``--mapping`` file's) is checked: tables and columns must be those of the
contract, so a typo is a located error, never a column silently dropped.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chiso.config import ConfigError
from chiso.load.contract import TABLES

PROFILE_DIR = "profiles"
_NAME = re.compile(r"[\w-]{1,60}")
_PROFILE_KEYS = ("description", "encoding", "table")


@dataclass(frozen=True)
class Profile:
    name: str
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)
    encoding: str | None = None
    table: str | None = None
    description: str = ""


def check_mapping(raw: dict[str, Any], where: str) -> dict[str, dict[str, str]]:
    """``{table: {"Header": "column"}}`` with every table and column of the contract; a ConfigError naming the
    file and the key otherwise."""
    out: dict[str, dict[str, str]] = {}
    for table, entries in raw.items():
        if table == "profile":
            continue
        if table not in TABLES:
            raise ConfigError(f"{where}: bảng '{table}' không có trong hợp đồng dữ liệu (có: {', '.join(TABLES)})")
        if not isinstance(entries, dict):
            raise ConfigError(f"{where}: [{table}] phải là bảng \"Tiêu đề trong tệp\" = \"cột\"")
        columns = TABLES[table].names
        for header, column in entries.items():
            if not isinstance(column, str) or column not in columns:
                raise ConfigError(f"{where}: [{table}] \"{header}\" = \"{column}\": không có cột '{column}' trong bảng "
                                  f"{table} (có: {', '.join(columns)})")
        out[table] = {str(k): str(v) for k, v in entries.items()}
    return out


def profile_path(workspace: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise ConfigError(f"tên hồ sơ ánh xạ '{name[:60]}' không hợp lệ: chỉ chữ, số, '-' và '_' (ví dụ mot-cua-vnpt)")
    return workspace / PROFILE_DIR / f"{name}.toml"


def available(workspace: Path) -> list[str]:
    folder = workspace / PROFILE_DIR
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_profile(workspace: Path, name: str) -> Profile:
    path = profile_path(workspace, name)
    if not path.is_file():
        known = available(workspace)
        hint = f" (có: {', '.join(known)})" if known else " (chưa có hồ sơ nào; lưu bằng --save-profile TÊN)"
        raise ConfigError(f"không có hồ sơ ánh xạ '{name}' trong {path.parent}{hint}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    meta = raw.get("profile", {})
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: [profile] phải là một bảng")
    for key in meta:
        if key not in _PROFILE_KEYS:
            raise ConfigError(f"{path}: [profile] khóa không hợp lệ '{key}' (có: {', '.join(_PROFILE_KEYS)})")
    table = meta.get("table")
    if table is not None and table not in TABLES:
        raise ConfigError(f"{path}: [profile] table = '{table}' không có trong hợp đồng dữ liệu")
    encoding = meta.get("encoding")
    if encoding is not None and not isinstance(encoding, str):
        raise ConfigError(f"{path}: [profile] encoding phải là tên bảng mã, ví dụ \"cp1258\"")
    return Profile(name, check_mapping(raw, str(path)), encoding, table, str(meta.get("description", "")))


def save_profile(workspace: Path, profile: Profile) -> Path:
    """Write ``profiles/NAME.toml`` (replacing an older one of that name)."""
    from chiso.outputs import atomic_file

    path = profile_path(workspace, profile.name)

    def q(text: str) -> str:
        """A TOML basic string: quote and backslash escaped, every control character as \\uXXXX."""
        return '"' + "".join(f"\\u{ord(c):04X}" if ord(c) < 0x20 or c in '"\\' or 0x7F <= ord(c) < 0xA0 else c
                             for c in text) + '"'

    lines = ["# Hồ sơ ánh xạ của một hệ thống nguồn (chiso load --profile " + profile.name + ")", "[profile]"]
    if profile.description:
        lines.append(f"description = {q(profile.description)}")
    if profile.encoding:
        lines.append(f"encoding = {q(profile.encoding)}")
    if profile.table:
        lines.append(f"table = {q(profile.table)}")
    for table, entries in profile.mapping.items():
        lines.append("")
        lines.append(f"[{table}]")
        lines.extend(f"{q(header)} = {q(column)}" for header, column in entries.items())
    with atomic_file(path) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    return path
