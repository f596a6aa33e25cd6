"""The input contract, version 1 (hợp đồng dữ liệu đầu vào), as data.

Each table of ``shared/docs/data-format.md`` is a :class:`Table` of :class:`Column` s. Readers, the
validator and the store all work from these definitions, so adding an optional column means adding one
line here (and one in the store's migration).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from chiso.textnorm import fold

ColumnType = Literal["text", "datetime", "date", "bool", "number", "integer", "enum"]

CONTRACT_VERSION = 1


# Lengths of text values (độ dài tối đa), in characters: codes and ids, names, free text. Codes end up in file names.
CODE_LEN = 64
NAME_LEN = 500
TEXT_LEN = 1000


@dataclass(frozen=True)
class Column:
    """One column of the contract. The bounds are checked at load (validate.py); docs/loading.md lists them."""

    name: str
    type: ColumnType = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    # For enums: canonical value -> accepted spellings (folded: lower case, no diacritics).
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # For foreign keys: the store table and column the value must exist in.
    references: tuple[str, str] | None = None
    # Numbers and integers: inclusive bounds; ``min_open`` makes the lower bound strict (x > min) except when
    # the column ``min_open_unless[0]`` of the same row has the value ``min_open_unless[1]``.
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    min_open_unless: tuple[str, str] | None = None
    # Text: at most this many characters (control and invisible direction characters are always refused).
    max_length: int = TEXT_LEN
    # Dates: must fall inside the working calendar ([calendar] years of chiso.toml) to be usable.
    in_calendar: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # Vietnamese name for messages.
    label: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


LEVELS = {
    "province": ("province", "tinh", "thanh pho truc thuoc trung uong", "cap tinh"),
    "department": ("department", "so", "ban", "nganh", "so ban nganh", "co quan chuyen mon"),
    "district": ("district", "huyen", "quan", "thi xa", "cap huyen"),
    "commune": ("commune", "xa", "phuong", "thi tran", "dac khu", "cap xa"),
}
PROC_LEVELS = {k: v for k, v in LEVELS.items() if k != "department"}
BOOL_TRUE = ("true", "1", "co", "x", "yes", "y", "t", "dung")
BOOL_FALSE = ("false", "0", "khong", "no", "n", "f", "sai")

UNITS = Table(
    "units",
    (
        Column("code", required=True, aliases=("ma don vi", "ma dinh danh", "ma co quan", "unit_code"),
               max_length=CODE_LEN),
        Column("name", required=True, aliases=("ten don vi", "ten co quan", "don vi", "unit_name"),
               max_length=NAME_LEN),
        Column("level", "enum", required=True, aliases=("cap", "cap don vi"), values=LEVELS),
        Column("parent_code", aliases=("ma don vi cha", "ma cap tren", "don vi cap tren"), max_length=CODE_LEN),
        Column("valid_from", "date", aliases=("hieu luc tu", "ngay hieu luc"), in_calendar=False),
        Column("valid_to", "date", aliases=("hieu luc den", "ngay het hieu luc"), in_calendar=False),
        Column("successor_code", aliases=("ma don vi ke thua", "don vi ke thua"), max_length=CODE_LEN),
        Column("ranked", "bool", aliases=("xep hang", "duoc xep hang", "cong xep hang")),
    ),
    key=("code",),
    label="đơn vị",
)

PROCEDURES = Table(
    "procedures",
    (
        Column("code", required=True, aliases=("ma tthc", "ma thu tuc", "procedure_code"), max_length=CODE_LEN),
        Column("name", required=True, aliases=("ten tthc", "ten thu tuc", "thu tuc")),
        Column("field", aliases=("linh vuc",), max_length=NAME_LEN),
        Column("level", "enum", aliases=("cap thuc hien", "cap"), values=PROC_LEVELS),
        Column("time_limit", "number", aliases=("thoi han giai quyet", "thoi han", "so ngay giai quyet"),
               min=0, max=730, min_open=True, min_open_unless=("time_unit", "same_day")),
        Column(
            "time_unit",
            "enum",
            aliases=("don vi thoi han", "don vi thoi gian"),
            values={
                "working_days": ("working_days", "working days", "ngay lam viec", "nlv"),
                "calendar_days": ("calendar_days", "calendar days", "ngay", "ngay lich"),
                "same_day": ("same_day", "same day", "trong ngay", "ngay trong ngay"),
                "hours": ("hours", "gio", "gio lam viec"),
            },
        ),
        Column(
            "online_level",
            "enum",
            aliases=("muc do dvc", "muc do dich vu cong", "dvctt"),
            values={
                "full": ("full", "toan trinh", "muc do 4", "4"),
                "partial": ("partial", "mot phan", "muc do 3", "3"),
                "none": ("none", "khong", "truc tiep", "muc do 2", "2", "1"),
            },
        ),
        Column("fee_bearing", "bool", aliases=("co phi", "co thu phi", "phi le phi")),
        Column("for_individuals", "bool", aliases=("doi tuong ca nhan", "cho ca nhan")),
        Column("paper_result", "bool", aliases=("ket qua giay",)),
        Column("data_replaceable", "bool", aliases=("thay the bang du lieu",)),
        Column("full_online_eligible", "bool", aliases=("du dieu kien toan trinh",)),
    ),
    key=("code",),
    label="thủ tục hành chính",
)

DOSSIERS = Table(
    "dossiers",
    (
        Column("dossier_id", required=True, aliases=("ma ho so", "so ho so", "ma so ho so"), max_length=CODE_LEN),
        Column(
            "unit_code",
            required=True,
            aliases=("don vi", "ma don vi", "co quan giai quyet", "ma co quan"),
            references=("units", "code"),
            max_length=CODE_LEN,
        ),
        Column(
            "procedure_code",
            required=True,
            aliases=("ma tthc", "ma thu tuc"),
            references=("procedures", "code"),
            max_length=CODE_LEN,
        ),
        Column(
            "channel",
            "enum",
            required=True,
            aliases=("kenh thuc hien", "kenh nop", "hinh thuc nop"),
            values={
                "direct": ("direct", "truc tiep", "tai bo phan mot cua", "mot cua"),
                "online": ("online", "truc tuyen", "qua mang", "dvc truc tuyen"),
                "postal": ("postal", "buu chinh", "buu chinh cong ich", "qua buu chinh"),
            },
        ),
        Column("submitted_at", "datetime", aliases=("ngay nop", "ngay nop truc tuyen")),
        Column("received_at", "datetime", required=True, aliases=("ngay tiep nhan", "thoi gian tiep nhan")),
        Column("due_at", "datetime", aliases=("ngay hen tra", "han xu ly", "ngay hen tra ket qua")),
        Column("finished_at", "datetime", aliases=("ngay ket thuc xu ly", "ngay xu ly xong", "ngay hoan thanh")),
        Column("returned_at", "datetime", aliases=("ngay tra ket qua", "ngay tra")),
        Column("stopped_at", "datetime", aliases=("ngay dung xu ly", "ngay rut", "ngay huy")),
        Column(
            "stop_reason",
            "enum",
            aliases=("ly do dung", "ly do"),
            values={
                "refused": ("refused", "tu choi", "tra lai"),
                "stopped": ("stopped", "dung xu ly", "dung"),
                "withdrawn": ("withdrawn", "rut", "cong dan rut", "rut ho so"),
                "cancelled": ("cancelled", "canceled", "huy", "huy ho so"),
            },
        ),
        Column("supplement_count", "integer", aliases=("so lan bo sung",), min=0, max=1000),
        Column("fee_amount", "number", aliases=("phi le phi", "so tien", "le phi"), min=0, max=1e12),
        Column("paid_online", "bool", aliases=("thanh toan truc tuyen",)),
        Column("e_result", "bool", aliases=("ket qua dien tu",)),
        Column("digitized", "bool", aliases=("so hoa", "da so hoa")),
        Column("reused_data", "bool", aliases=("tai su dung du lieu",)),
        Column("shared_to_citizen_store", "bool", aliases=("dong bo kho du lieu ca nhan",)),
        Column("used_population_data", "bool", aliases=("su dung du lieu dan cu",)),
        Column("synced_to_portal", "bool", aliases=("dong bo dvcqg", "da dong bo")),
        Column(
            "rating",
            "enum",
            aliases=("danh gia", "muc do hai long"),
            values={
                "satisfied": ("satisfied", "hai long", "rat hai long"),
                "dissatisfied": ("dissatisfied", "khong hai long"),
            },
        ),
        Column("complained", "bool", aliases=("co phan anh", "khieu nai")),
        Column("apology_issued", "bool", aliases=("phieu xin loi", "da xin loi")),
        Column("officer", aliases=("can bo xu ly", "cong chuc xu ly"), max_length=NAME_LEN),
        Column("updated_at", "datetime", aliases=("ngay cap nhat", "thoi gian cap nhat")),
    ),
    key=("dossier_id",),
    label="hồ sơ",
)

PAUSE_KINDS = {
    "supplement": ("supplement", "bo sung", "yeu cau bo sung"),
    "financial_obligation": ("financial_obligation", "nghia vu tai chinh"),
    "appraisal": ("appraisal", "tham dinh", "giam dinh"),
    "posting": ("posting", "niem yet"),
    "other_agency": ("other_agency", "co quan khac", "lien thong"),
    "other": ("other", "khac"),
}

PAUSES = Table(
    "pauses",
    (
        Column("dossier_id", required=True, aliases=("ma ho so",), references=("dossiers", "dossier_id"),
               max_length=CODE_LEN),
        Column("kind", "enum", required=True, aliases=("loai tam dung", "loai"), values=PAUSE_KINDS),
        Column("started_at", "datetime", required=True, aliases=("ngay bat dau", "ngay tam dung")),
        Column("ended_at", "datetime", aliases=("ngay ket thuc", "ngay tiep tuc")),
    ),
    key=("dossier_id", "kind", "started_at"),
    label="tạm dừng",
)

FEEDBACK = Table(
    "feedback",
    (
        Column("feedback_id", required=True, aliases=("ma phan anh", "ma pakn"), max_length=CODE_LEN),
        Column("unit_code", required=True, aliases=("don vi", "ma don vi"), references=("units", "code"),
               max_length=CODE_LEN),
        Column("received_at", "datetime", required=True, aliases=("ngay tiep nhan",)),
        Column("due_at", "datetime", aliases=("han xu ly",)),
        Column("handled_at", "datetime", aliases=("ngay xu ly", "ngay tra loi")),
        Column("satisfied", "bool", aliases=("hai long",)),
        Column(
            "about",
            "enum",
            aliases=("noi dung", "loai phan anh"),
            values={
                "procedure": ("procedure", "tthc", "thu tuc hanh chinh", "thu tuc"),
                "staff": ("staff", "can bo", "cong chuc"),
                "other": ("other", "khac"),
            },
        ),
        Column("dossier_id", aliases=("ma ho so",), max_length=CODE_LEN),
    ),
    key=("feedback_id",),
    label="phản ánh, kiến nghị",
)

_SCORE = {"0": ("0",), "1": ("1",), "2": ("2",)}
EVALUATIONS = Table(
    "evaluations",
    (
        Column("dossier_id", required=True, aliases=("ma ho so",), max_length=CODE_LEN),
        Column("unit_code", required=True, aliases=("don vi", "ma don vi"), references=("units", "code"),
               max_length=CODE_LEN),
        Column("evaluated_at", "datetime", required=True, aliases=("ngay danh gia",)),
        Column(
            "evaluator",
            "enum",
            required=True,
            aliases=("nguoi danh gia",),
            values={
                "citizen": ("citizen", "cong dan", "to chuc, ca nhan", "nguoi dan"),
                "self": ("self", "tu danh gia"),
                "supervisor": ("supervisor", "cap tren", "co quan cap tren"),
            },
        ),
        *(Column(f"i{i}", "integer", min=0, max=2) for i in range(1, 10)),
    ),
    key=("dossier_id", "evaluator", "evaluated_at"),
    label="phiếu đánh giá",
)

INDICATOR_INPUTS = Table(
    "indicator_inputs",
    (
        Column("period", required=True, aliases=("ky", "ky danh gia"), max_length=16),
        Column("unit_code", required=True, aliases=("don vi", "ma don vi"), max_length=CODE_LEN),
        Column("indicator", required=True, aliases=("chi so", "ma chi so"), max_length=CODE_LEN),
        Column("numerator", "number", aliases=("tu so",), min=0, max=1e12),
        Column("denominator", "number", aliases=("mau so",), min=0, max=1e12),
        Column("score", "number", aliases=("diem",), min=0, max=100),
    ),
    key=("period", "unit_code", "indicator"),
    label="chỉ số nhập tay",
)

CALENDAR = Table(
    "calendar",
    (
        Column("date", "date", required=True, aliases=("ngay",)),
        Column(
            "kind",
            "enum",
            required=True,
            aliases=("loai ngay", "loai"),
            values={
                "holiday": ("holiday", "nghi", "ngay nghi", "nghi le"),
                "workday": ("workday", "lam viec", "lam bu", "ngay lam viec"),
            },
        ),
        Column("note", aliases=("ghi chu",)),
        Column("province", aliases=("tinh",), max_length=NAME_LEN),
    ),
    key=("date", "province"),
    label="lịch làm việc",
)

# Load order: referenced tables first, so that one `chiso load` of a whole export folder works.
TABLES: dict[str, Table] = {
    t.name: t
    for t in (UNITS, PROCEDURES, CALENDAR, DOSSIERS, PAUSES, FEEDBACK, EVALUATIONS, INDICATOR_INPUTS)
}

# Columns that carry applicant personal data (dữ liệu cá nhân) are never read into the store. A header is personal
# when one of these phrases occurs in it as whole words, after folding (lower case, no diacritics, "_-./" as
# spaces): "Họ tên người nộp", "Số CMND/CCCD", "SĐT", "E-mail", "date_of_birth"... Contract aliases are matched
# first, so "Mã định danh" of a units file stays the unit code.
PERSONAL_DATA_PHRASES: tuple[str, ...] = (
    # names of the applicant (họ tên)
    "ho ten", "ho va ten", "ten cong dan", "ten nguoi nop", "nguoi nop", "nguoi dung ten", "nguoi dang ky",
    "nguoi yeu cau", "chu ho so", "to chuc ca nhan", "full name", "fullname", "first name", "last name",
    "surname", "given name", "applicant", "citizen name", "name of applicant",
    # identity papers (giấy tờ tùy thân)
    "cmnd", "cccd", "cmt", "can cuoc", "chung minh", "so dinh danh", "dinh danh ca nhan", "giay to tuy than",
    "ho chieu", "passport", "id card", "id number", "id no", "citizen id", "national id", "identity",
    "personal id",
    # addresses (địa chỉ, nơi cư trú)
    "dia chi", "address", "cu tru", "thuong tru", "tam tru", "noi o", "que quan", "noi sinh",
    # phone and e-mail
    "sdt", "dien thoai", "di dong", "phone", "mobile", "tel", "telephone", "email", "e mail", "mail",
    "thu dien tu",
    # birth, sex, tax code, and other sensitive facts
    "ngay sinh", "nam sinh", "sinh ngay", "date of birth", "birth date", "birthdate", "birthday", "dob",
    "gioi tinh", "gender", "sex", "ma so thue", "mst", "tax id", "personal tax", "dan toc", "ton giao",
    "quoc tich", "nationality", "religion", "ethnicity",
)
_PERSONAL = re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(p) for p in PERSONAL_DATA_PHRASES) + r")(?![a-z0-9])")


def is_personal_header(header: str) -> bool:
    """True when the header names applicant personal data (the header is folded here)."""
    return _PERSONAL.search(fold(header)) is not None


def alias_index(table: Table, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Folded header text -> contract column name, for one table."""
    index: dict[str, str] = {}
    for col in table.columns:
        index[fold(col.name)] = col.name
        for a in col.aliases:
            index[fold(a)] = col.name
    for header, name in (extra or {}).items():
        index[fold(header)] = name
    return index
