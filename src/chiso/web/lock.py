"""The server's lock file (serve.lock): with the embedded store the server is the only writer while it runs.

``<workspace>/serve.lock`` holds the server's pid, host and port while it serves, and is removed when it stops. A
command that cannot open the workspace's database reads it to say where the server is
(:func:`running_server`) instead of showing the database's lock error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

LOCK_FILE = "serve.lock"


def write_lock(workspace: Path, host: str, port: int) -> Path:
    path = workspace / LOCK_FILE
    path.write_text(json.dumps({"pid": os.getpid(), "host": host, "port": port}), encoding="utf-8")
    return path


def remove_lock(workspace: Path) -> None:
    path = workspace / LOCK_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_server(workspace: Path) -> dict[str, Any] | None:
    """The server serving ``workspace`` (pid, host, port, url), or None when none runs (a stale file left by a
    killed server is ignored)."""
    path = workspace / LOCK_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid = int(data["pid"])
        host, port = str(data["host"]), int(data["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return {"pid": pid, "host": host, "port": port, "url": f"http://{host}:{port}/"}


def busy_message(workspace: Path) -> str | None:
    """The Vietnamese message for a command that found the workspace held by a running server."""
    server = running_server(workspace)
    if server is None:
        return None
    return (f"máy chủ chiso đang chạy trên kho này ({server['url']}, tiến trình {server['pid']}) và đang giữ cơ sở "
            "dữ liệu: dừng máy chủ rồi chạy lại lệnh, hoặc nạp dữ liệu qua trang Nạp dữ liệu của máy chủ")
