"""Failures a user can act on (lỗi người dùng xử lý được): every exception that reaches a command's edge becomes
a Vietnamese message and an exit status, never a traceback.

The exit statuses follow ``sysexits.h`` so scripts can tell them apart (docs/cli.md lists them):

===== ==================================================================================================
0     done
1     the command refused its input (located load errors, a broken template, a bad setting)
2     wrong use of the command (an unknown option, a missing value, an output path into the store)
66    an input file does not exist
70    an unexpected internal error (the message names the error's type; ``CHISO_DEBUG=1`` shows the trace)
71    out of memory: the work needed more than the engine's memory budget (``[engine] memory_mb``)
73    an output could not be created (no permission)
74    input/output failure: the disk is full, the database file is damaged
69    the PostgreSQL server given with ``--database`` cannot be reached (down, wrong address, refused login)
75    the store is busy: another ``chiso`` process (or ``chiso serve``) holds it; try again later
78    the PostgreSQL database has no chiso schema, or an old one: run ``chiso --database URL db upgrade``
130   interrupted (Ctrl-C); the work under way was rolled back
===== ==================================================================================================

Messages never include the text of the underlying error when it may carry data values (a parser's raw row may
hold an applicant's name): they say what happened, where, and what to do.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from chiso.lazy import lazy_module, loaded

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = lazy_module("duckdb")  # loaded by the first command that opens a store (chiso.lazy)

EXIT_USAGE = 2
EXIT_NOINPUT = 66
EXIT_SOFTWARE = 70
EXIT_OSERR = 71
EXIT_CANTCREAT = 73
EXIT_IOERR = 74
EXIT_TEMPFAIL = 75
EXIT_UNAVAILABLE = 69
EXIT_CONFIG = 78
EXIT_INTERRUPTED = 130

_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_SPACE_TEXT = re.compile(r"No space left on device|File too large|Disk quota exceeded", re.I)
_LOCK_TEXT = re.compile(r"Could not set lock on file|Conflicting lock is held", re.I)
_PID = re.compile(r"\(PID (\d+)\)")
_CORRUPT_TEXT = re.compile(r"not a valid DuckDB database file|database file .* is corrupt|Corrupt database", re.I)


class InsufficientSpace(OSError):
    """Not enough free disk space to start a write: refused before anything is written."""

    def __init__(self, message: str):
        super().__init__(errno.ENOSPC, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Failure:
    message: str
    exit_code: int


def debugging() -> bool:
    """``CHISO_DEBUG=1``: let unexpected errors through with their traceback (for developers)."""
    return os.environ.get("CHISO_DEBUG", "") not in ("", "0")


_COMMITS = [0]  # loads committed by this process: a Ctrl-C after one is never reported as "rolled back"


def note_commit() -> None:
    _COMMITS[0] += 1


def commits() -> int:
    """How many loads this process has committed (the command line compares it before and after a command)."""
    return _COMMITS[0]


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold a Ctrl-C during statements that must not be split (a commit and the note that it was made): it takes
    effect right after them, as a KeyboardInterrupt. Only the main thread receives signals; elsewhere nothing is
    held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


_SIGINTS = [0]  # Ctrl-C received by this process since :func:`count_interrupts` was first called


def _count_sigint(signum: int, frame: FrameType | None) -> None:
    _SIGINTS[0] += 1
    signal.default_int_handler(signum, frame)  # then as Python does: a KeyboardInterrupt


def count_interrupts() -> int:
    """Count every Ctrl-C from now on (in the main thread, where Python's own handler is in place) and return the
    count so far, a mark for :func:`as_interrupt`.

    DuckDB turns a Ctrl-C that arrives while it runs Python code for a query (reading a Python object by name, as
    the loader does batch by batch) into another error: "reading the schema of the Python object … failed:
    KeyboardInterrupt", or even "Table with name … does not exist" when it lands in the name's lookup. Counted,
    the Ctrl-C is still known for what it is."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        signal.signal(signal.SIGINT, _count_sigint)
    return _SIGINTS[0]


def as_interrupt(exc: BaseException, mark: int) -> BaseException:
    """``exc``, or a KeyboardInterrupt in its place when a Ctrl-C came after ``mark`` (every error after it is the
    work being stopped, whatever form DuckDB gave it)."""
    if _SIGINTS[0] > mark and not is_interrupt(exc):
        return KeyboardInterrupt()
    return exc


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, as Python raises it between statements or DuckDB inside a query."""
    if isinstance(exc, KeyboardInterrupt):  # first: the check must not import DuckDB (a Ctrl-C at start-up)
        return True
    if isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted":  # DuckDB on SIGINT
        return True
    return loaded("duckdb") and isinstance(exc, duckdb.InterruptException)  # only an imported DuckDB raises it


def describe(exc: BaseException, workspace: Path | None = None) -> Failure:
    """The user's message and exit status for ``exc``."""
    where = f" ({workspace})" if workspace is not None else ""
    if is_interrupt(exc):
        return Failure("Đã dừng theo yêu cầu (Ctrl-C). Việc đang làm dở đã được hoàn tác: kho dữ liệu giữ nguyên "
                       "như trước lệnh, không có văn bản nào được ghi dở.", EXIT_INTERRUPTED)
    text = str(exc)
    if isinstance(exc, duckdb.Error) and _LOCK_TEXT.search(text):
        from chiso.web.lock import busy_message

        server = busy_message(workspace) if workspace is not None else None
        if server is not None:
            return Failure(server[0].upper() + server[1:] + ".", EXIT_TEMPFAIL)
        pid = _PID.search(text)
        who = f" (tiến trình số {pid.group(1)})" if pid else ""
        return Failure(f"Kho dữ liệu{where} đang được một tiến trình khác dùng{who}: một lệnh chiso khác hoặc máy "
                       "chủ chiso serve. Chờ lệnh đó xong rồi chạy lại; khi máy chủ đang chạy, hãy nạp dữ liệu qua "
                       "trang tải lên hoặc dừng máy chủ trước.", EXIT_TEMPFAIL)
    if isinstance(exc, InsufficientSpace):
        return Failure(exc.message, EXIT_IOERR)
    postgres = _postgres_failure(exc)
    if postgres is not None:
        return postgres
    if _ours(exc):  # our own refusals (a bad setting, rule set, template, period, output path): their message
        from chiso.outputs import OutputError

        return Failure(str(exc).strip(), EXIT_USAGE if isinstance(exc, OutputError) else 1)
    if _is_space(exc):
        return Failure(f"Hết dung lượng đĩa khi ghi{where}. Thao tác đã được hoàn tác, dữ liệu đã lưu trước đó "
                       "không mất. Giải phóng dung lượng (hoặc chuyển thư mục dữ liệu sang ổ khác) rồi chạy lại.",
                       EXIT_IOERR)
    if isinstance(exc, duckdb.Error) and "Permission denied" in text:
        return Failure(f"Không có quyền ghi vào kho dữ liệu{where}. Kiểm tra quyền của thư mục và tệp "
                       "chiso.duckdb (người chạy lệnh phải ghi được).", EXIT_CANTCREAT)
    if isinstance(exc, duckdb.Error) and _CORRUPT_TEXT.search(text):
        return Failure(f"Tệp kho dữ liệu{where} bị hỏng hoặc không phải kho của chiso. Khôi phục từ bản sao lưu "
                       "(chiso restore THƯ_MỤC_SAO_LƯU).", EXIT_IOERR)
    if isinstance(exc, duckdb.OutOfMemoryException):
        # DuckDB spills what it can to disk; a load's memory no longer grows with its files since the large tables
        # keep no key index (migration 0013; 3·10⁷ dossiers in one load: 4.1 GB, benchmarks/README.md). What is
        # left to say: the budget, and that nothing was lost.
        return Failure("Không đủ bộ nhớ: việc này cần nhiều hơn giới hạn bộ nhớ của máy tính toán ([engine] "
                       "memory_mb trong chiso.toml; mặc định một nửa bộ nhớ máy, tối đa 3072 MB). Thao tác đã "
                       "được hoàn tác, dữ liệu đã lưu trước đó không mất. Tăng memory_mb nếu máy còn bộ nhớ, đóng "
                       "các chương trình khác đang chạy trên máy, rồi chạy lại lệnh.", EXIT_OSERR)
    if isinstance(exc, duckdb.FatalException):
        return Failure(f"Kho dữ liệu{where} gặp lỗi nghiêm trọng và đã dừng để bảo vệ dữ liệu; các thay đổi chưa "
                       "hoàn tất đã được hoàn tác. Chạy lại lệnh; nếu lỗi lặp lại, khôi phục từ bản sao lưu "
                       "(chiso restore).", EXIT_IOERR)
    if isinstance(exc, PermissionError):
        return Failure(f"Không có quyền đọc hoặc ghi '{exc.filename or ''}'. Kiểm tra quyền của thư mục, tệp.",
                       EXIT_CANTCREAT)
    if isinstance(exc, FileNotFoundError):
        return Failure(f"Không tìm thấy '{exc.filename or ''}'.", EXIT_NOINPUT)
    if isinstance(exc, OSError):
        return Failure(f"Lỗi đọc/ghi tệp '{exc.filename or ''}': {exc.strerror or type(exc).__name__}.",
                       EXIT_IOERR)
    return Failure(f"Lỗi không mong đợi ({type(exc).__name__}{_origin(exc)}). Không có thay đổi dở dang nào được "
                   "lưu. Chạy lại với biến môi trường CHISO_DEBUG=1 để xem chi tiết và báo cho nhóm phát triển.",
                   EXIT_SOFTWARE)


def _postgres_failure(exc: BaseException) -> Failure | None:
    from chiso.store.db import SchemaOutOfDate

    if isinstance(exc, SchemaOutOfDate):
        return Failure(str(exc), EXIT_CONFIG)
    psycopg = sys.modules.get("psycopg")  # not imported: the error cannot be PostgreSQL's
    if psycopg is None:
        return None
    if isinstance(exc, psycopg.OperationalError):
        first = (str(exc).strip().splitlines() or [""])[0][:300]  # libpq's reason: host, port, refused, auth
        return Failure("Không kết nối được cơ sở dữ liệu PostgreSQL (--database hoặc $CHISO_DATABASE): "
                       f"{first}. Kiểm tra địa chỉ, máy chủ PostgreSQL đang chạy và quyền đăng nhập.",
                       EXIT_UNAVAILABLE)
    if isinstance(exc, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return Failure("Lược đồ cơ sở dữ liệu PostgreSQL không khớp phiên bản chiso: chạy chiso --database URL "
                       "db upgrade.", EXIT_CONFIG)
    return None


def _ours(exc: BaseException) -> bool:
    """A refusal raised by chiso itself with a message for the user: an ``…Error`` class of ours (ConfigError,
    RuleSetError, PeriodError, TemplateError, OutputError, BackupError, LoadError …)."""
    kind = type(exc)
    return kind.__module__.startswith("chiso.") and kind.__name__.endswith("Error")


def _is_space(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _SPACE_ERRNOS:
            return True
        if isinstance(current, duckdb.Error) and _SPACE_TEXT.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _origin(exc: BaseException) -> str:
    """' tại chiso/x.py:12': the innermost frame of our own code, to tell bug reports apart (no values)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/chiso/" in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    name = f.filename.replace("\\", "/").split("/chiso/", 1)[1]
    return f" tại chiso/{name}:{f.lineno}"


# --------------------------------------------------------------------------------------------------------------
# Free space before a load

MARGIN_BYTES = 16 << 20  # room for DuckDB's write-ahead log and checkpoint …
MARGIN_SHARE = 0.10  # … plus a tenth of the database, which a checkpoint may rewrite
GROWTH = {".parquet": 3.0, ".pq": 3.0, ".xlsx": 4.0, ".xlsm": 4.0, ".xls": 4.0, ".xlsb": 4.0, ".ods": 4.0}
# The rows staged for the checks (their text and their typed values, chiso.load.loader), per byte of the file: what
# does not fit DuckDB's memory budget spills to ``chiso.duckdb.tmp`` beside the store until the load ends. Measured:
# one Parquet file of 10⁸ dossiers (5.2 GB) had spilled 49 GB when its staging was done (9.4×).
STAGED = {".parquet": 10.0, ".pq": 10.0, ".xlsx": 10.0, ".xlsm": 10.0, ".xls": 10.0, ".xlsb": 10.0, ".ods": 10.0}


def space_needed(paths: list[Path], store_bytes: int = 0, memory_bytes: int | None = None) -> int:
    """A generous estimate of the disk space loading ``paths`` needs: compressed formats (Parquet, Excel) grow up
    to 3-4 times in the store, text formats (CSV, JSON Lines) about 1.5 times; plus 16 MiB and a tenth of the
    database (``store_bytes``) for the write-ahead log and the checkpoint; plus, when the staged rows exceed the
    memory budget ``memory_bytes``, what spills to disk meanwhile (10 times a compressed file, twice a text one)."""
    total = staged = 0
    for p in paths:
        try:
            size = p.stat().st_size
        except OSError:
            continue  # a missing file is reported by the loader, with its name
        total += int(size * GROWTH.get(p.suffix.lower(), 1.5))
        staged += int(size * STAGED.get(p.suffix.lower(), 2.0))
    spilled = 0 if memory_bytes is None else max(0, staged - memory_bytes)
    return total + spilled + MARGIN_BYTES + int(store_bytes * MARGIN_SHARE)


def check_free_space(folder: Path, paths: list[Path], database: Path | None = None,
                     memory_bytes: int | None = None) -> None:
    """Refuse a load that could fill the disk: a store whose disk fills during a checkpoint cannot be opened
    again until space is freed, so it is better not to start (``memory_bytes``: the store's memory budget)."""
    import shutil

    try:
        store_bytes = database.stat().st_size if database is not None else 0
    except OSError:
        store_bytes = 0
    need = space_needed(paths, store_bytes, memory_bytes)
    free = shutil.disk_usage(folder).free
    if free < need:
        raise InsufficientSpace(
            f"Không đủ dung lượng trống để nạp: cần khoảng {_mb(need)} MB (kho dữ liệu và chỗ tạm khi kiểm tra "
            f"các dòng), ổ chứa thư mục dữ liệu ({folder}) còn {_mb(free)} MB. Chưa nạp gì. Giải phóng dung "
            "lượng hoặc chuyển thư mục dữ liệu sang ổ khác rồi nạp lại.")


def _mb(n: int) -> str:
    from chiso import vnformat

    return vnformat.integer(n / (1 << 20))
