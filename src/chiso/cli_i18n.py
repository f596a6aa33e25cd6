"""The command framework's own messages in Vietnamese (thông báo của Click bằng tiếng Việt).

Click writes its messages ("Usage:", "Options", "Error: Invalid value", "[required]" …) through
``gettext``. The translation is a real catalogue, ``locale/click.vi.po`` (msgid: Click's English text), compiled in
memory with Babel when the command starts and installed as the ``gettext``/``ngettext`` of Click's modules, so
only chiso's command line speaks Vietnamese; nothing global (the process locale, ``LANGUAGE``) is changed.
The words Click puts into those messages by themselves ("option", "argument") are renamed the same way.
``tests/test_cli_vietnamese.py`` checks that no English word of the framework reaches a user.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib import resources
from typing import Any

import click
import click.core

_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "shell_completion", "termui", "types",
            "utils", "_termui_impl")
PARAM_TYPE_NAMES: dict[Any, str] = {click.core.Option: "tùy chọn", click.core.Argument: "đối số",
                                     click.core.Parameter: "tham số"}


@cache
def translations() -> gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with resources.files("chiso").joinpath("locale/click.vi.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def install() -> None:
    """Make Click's messages Vietnamese (idempotent)."""
    import importlib

    t = translations()
    for name in _MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = t.gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = t.ngettext  # type: ignore[attr-defined]
    for cls, word in PARAM_TYPE_NAMES.items():
        cls.param_type_name = word
    # Metavars Click derives from type names: "TEXT", "INTEGER", "FLOAT" (Path is "tệp"/"thư mục" above).
    for param_type, word in ((click.types.StringParamType, "giá-trị"), (click.types.IntParamType, "số"),
                             (click.types.FloatParamType, "số"), (click.types.IntRange, "số"),
                             (click.types.FloatRange, "số"), (click.types.BoolParamType, "có/không")):
        param_type.name = word


ARGUMENT_METAVARS = {"paths": "TỆP...", "file": "TỆP", "path": "TỆP", "source": "THƯ-MỤC", "load_id": "SỐ-LẦN-NẠP",
                     "dossier_id": "MÃ-HỒ-SƠ", "unit": "MÃ-ĐƠN-VỊ", "name": "TÊN"}


# An example for every command's help, as a clerk would type it (tests/test_cli_vietnamese.py: none missing).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("chiso units init --province \"Sơn La\"", "chiso load du-lieu/", "chiso score --period 09/2025"),
    "alerts": ("chiso alerts --as-of \"2025-09-30 08:00\" --days 2 --dry-run",),
    "audit": ("chiso audit --since 01/09/2025 --action load",),
    "backup": ("chiso backup --out /mnt/sao-luu",),
    "compare": ("chiso compare --period 2025-09 --with 2025-08", "chiso compare --period 09/2025 --with 08/2025 "
                "--unit 14.STP --format xlsx --out so-sanh.xlsx"),
    "db": ("chiso --database postgresql://chiso@may-chu/chiso db upgrade", "chiso db check"),
    "db upgrade": ("chiso --database postgresql://chiso@may-chu/chiso db upgrade",),
    "db check": ("chiso db check", "chiso -w /du-lieu/son-la db check"),
    "dossier": ("chiso dossier show H53-250901-0001",),
    "explain": ("chiso explain --unit 14.STP --period 2025-09 --as-of 30/09/2025",),
    "import-official": ("chiso import-official ket-qua-thang-7.json --period 07/2025",
                        "chiso import-official cong-van-1735.txt --period 2025-07",
                        "chiso import-official bang-diem.xlsx --period 2025-07 --level commune"),
    "official": ("chiso official show --period 2025-07",),
    "reconcile": ("chiso reconcile --ours mot-cua-thang-9.xlsx --theirs cong-dvcqg-thang-9.xlsx --period 09/2025",
                  "chiso reconcile --ours mot-cua.csv --theirs dvcqg.xls --period 2025-09 --unit 14.STP "
                  "--format xlsx --out doi-chieu.xlsx"),
    "official show": ("chiso official show --period 07/2025 --level commune --format xlsx --out chinh-thuc.xlsx",),
    "official review": ("chiso official review", "chiso official review --confirm 3 --unit 03901"),
    "generate": ("chiso generate --province \"Sơn La\" --from 2025-07 --to 2025-09 --out du-lieu-mau",),
    "load": ("chiso load ho-so-thang-9.xlsx", "chiso load du-lieu/ --partial",
             "chiso load xuat-mot-cua.csv --encoding cp1258 --mapping anh-xa.toml"),
    "publish": ("chiso publish --period 2025-09 --as-of \"2025-10-05 10:00\"",),
    "report": ("chiso report all --period 2025-09 --out van-ban",),
    "report all": ("chiso report all --period 09/2025 --date 06/10/2025 --out van-ban",),
    "report cchc": ("chiso report cchc --period \"quý III/2025\" --out van-ban",
                    "chiso report cchc --period 2025-Q3 --out van-ban --empty-inputs",
                    "chiso report cchc --period 2025-Q3 --out van-ban --inputs so-lieu-cchc-quy-3.xlsx"),
    "report monthly": ("chiso report monthly --period 2025-09 --date 06/10/2025 --out van-ban",),
    "report quarterly-onestop": ("chiso report quarterly-onestop --period 2025-Q3 --out van-ban",),
    "report templates": ("chiso report templates",),
    "report unit": ("chiso report unit --unit 14.STP --period 2025-09 --out van-ban",),
    "restore": ("chiso restore /mnt/sao-luu/chiso-20251006-1700 --check",),
    "rules": ("chiso rules show vn-766-2026",),
    "rules check": ("chiso rules check rules/tinh-son-la.toml",),
    "rules list": ("chiso rules list",),
    "rules show": ("chiso rules show vn-766-2026 --format xlsx --out bo-chi-so.xlsx",),
    "score": ("chiso score --period 09/2025 --level commune", "chiso score --period \"quý III/2025\" --format xlsx "
              "--out diem-quy-3.xlsx", "chiso score --period 09/2025 --engine spark --lake kho-parquet"),
    "export": ("chiso export --format parquet --out kho-parquet",
               "chiso export --merge kho-son-la --merge kho-ha-noi --out kho-quoc-gia"),
    "serve": ("chiso serve --host 0.0.0.0 --port 8000",),
    "simulate": ("chiso simulate chi-so-du-kien.csv --format table",),
    "status": ("chiso status --as-of \"2025-09-30 17:00\" --by-unit --format table",
               "chiso status --unit 14.STP --format xlsx --out ho-so.xlsx"),
    "units": ("chiso units list --level department",),
    "units init": ("chiso units init --province \"Sơn La\" --before-2025",),
    "units list": ("chiso units list --level commune --format xlsx --out don-vi.xlsx",),
    "unload": ("chiso unload 12",),
    "users": ("chiso users add tuphap --role unit --unit 14.STP",),
    "users add": ("chiso users add tuphap --role unit --unit 14.STP",),
    "users disable": ("chiso users disable tuphap",),
    "users list": ("chiso users list",),
    "users password": ("chiso users password tuphap",),
    "users token": ("chiso users token tuphap",),
}


def name_the_parts(command: click.Command, path: str = "") -> None:
    """The words of a command's usage line in Vietnamese: "[TÙY-CHỌN]", "LỆNH [ĐỐI-SỐ]...", the arguments'
    names, and its examples (``EXAMPLES``); every command under ``command`` too."""
    command.options_metavar = "[TÙY-CHỌN]"
    examples = EXAMPLES.get(path)
    if examples and not command.epilog:
        command.epilog = "\b\nVí dụ:\n" + "\n".join(f"  {e}" for e in examples)
    for param in command.params:
        if isinstance(param, click.Argument) and param.metavar is None:
            param.metavar = ARGUMENT_METAVARS.get(param.name or "", (param.name or "").upper())
    if isinstance(command, click.Group):
        command.subcommand_metavar = "LỆNH [ĐỐI-SỐ]..."
        for name, sub in command.commands.items():
            name_the_parts(sub, f"{path} {name}".strip())
