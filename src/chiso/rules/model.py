"""Rule sets as data (bộ quy tắc): groups, indicators, measures, bands, with their effective date.

A rule set is a TOML file. The shipped ones live in ``chiso/rules/sets``; a workspace may add its own in
``<workspace>/rules/*.toml`` (a province's variant). ``load_rule_set`` checks a file and reports every
problem with the file and the key, so ``chiso rules check FILE`` can explain a broken file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

KINDS = ("linear", "threshold", "display")
SOURCES = ("dossiers", "input")
FACT_TABLES = ("dossiers", "procedures", "feedback")


class RuleSetError(ValueError):
    """A broken rule set; the message names the file and the key."""


@dataclass(frozen=True)
class Measure:
    name: str
    over: str
    where: str


@dataclass(frozen=True)
class Indicator:
    code: str
    group: str
    name: str
    max: float
    kind: str = "linear"
    threshold: float | None = None
    source: str = "dossiers"
    numerator: str | None = None
    denominator: str | None = None
    zero_denominator: str = "zero"  # zero | full
    inherit: bool = False           # a child unit takes its province's value
    provisional: bool = False
    shortfall: str = ""             # why an item misses the numerator, for explanations ("chưa số hóa")
    action: str = ""                # what would gain points, with {n}: "số hóa thêm {n} hồ sơ"


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    max: float


@dataclass(frozen=True)
class RuleSet:
    name: str
    title: str
    effective_from: date
    rounding: int
    bands: tuple[tuple[str, float], ...]
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    measures: dict[str, Measure] = field(default_factory=dict)
    source: str = ""

    def group_indicators(self, group: str) -> list[Indicator]:
        return [i for i in self.indicators if i.group == group]

    def indicator(self, code: str) -> Indicator:
        for i in self.indicators:
            if i.code == code:
                return i
        raise KeyError(code)

    def classify(self, total: float) -> str:
        for label, floor in self.bands:
            if total >= floor:
                return label
        return self.bands[-1][0] if self.bands else ""


def _sets_dir() -> Path:
    return Path(str(resources.files("chiso.rules") / "sets"))


def base_measures() -> dict[str, Measure]:
    raw = tomllib.loads((_sets_dir() / "measures.toml").read_text(encoding="utf-8"))
    return _measures(raw.get("measures", {}), "measures.toml")


def _measures(raw: dict[str, Any], where: str) -> dict[str, Measure]:
    out = {}
    for name, m in raw.items():
        if not isinstance(m, dict) or m.get("over") not in FACT_TABLES or not isinstance(m.get("where"), str):
            raise RuleSetError(f"{where}: measures.{name}: cần 'over' ({', '.join(FACT_TABLES)}) và 'where' (biểu "
                               "thức điều kiện)")
        out[name] = Measure(name, m["over"], m["where"])
    return out


def _need(raw: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in raw:
        raise RuleSetError(f"{where}: thiếu khóa '{key}'")
    value = raw[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise RuleSetError(f"{where}.{key}: giá trị '{value}' sai kiểu")
    return value


def parse_rule_set(text: str, source: str) -> RuleSet:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{source}: không đọc được TOML: {exc}") from None
    name = _need(raw, "name", str, source)
    eff = _need(raw, "effective_from", date, source)
    bands = tuple((str(b[0]), float(b[1])) for b in raw.get("bands", []))
    if any(bands[i][1] < bands[i + 1][1] for i in range(len(bands) - 1)):
        raise RuleSetError(f"{source}: bands phải xếp từ cao xuống thấp")
    groups = []
    for n, g in enumerate(raw.get("groups", [])):
        where = f"{source}: groups[{n}]"
        groups.append(Group(_need(g, "code", str, where), _need(g, "name", str, where),
                            float(_need(g, "max", (int, float), where))))
    if not groups:
        raise RuleSetError(f"{source}: không có nhóm chỉ số nào ([[groups]])")
    codes = {g.code for g in groups}
    measures = {**base_measures(), **_measures(raw.get("measures", {}), source)}
    indicators: list[Indicator] = []
    for n, i in enumerate(raw.get("indicators", [])):
        where = f"{source}: indicators[{n}]"
        code = _need(i, "code", str, where)
        where = f"{source}: indicator {code}"
        group = _need(i, "group", str, where)
        if group not in codes:
            raise RuleSetError(f"{where}.group: nhóm '{group}' không có trong [[groups]]")
        kind = i.get("kind", "linear")
        if kind not in KINDS:
            raise RuleSetError(f"{where}.kind: '{kind}' không thuộc {', '.join(KINDS)}")
        threshold = i.get("threshold")
        if kind == "threshold" and not (isinstance(threshold, int | float) and 0 < threshold <= 1):
            raise RuleSetError(f"{where}.threshold: chỉ số ngưỡng cần threshold trong (0, 1]")
        source_kind = i.get("source", "dossiers")
        if source_kind not in SOURCES:
            raise RuleSetError(f"{where}.source: '{source_kind}' không thuộc {', '.join(SOURCES)}")
        num, den = i.get("numerator"), i.get("denominator")
        if source_kind == "dossiers":
            for key, m in (("numerator", num), ("denominator", den)):
                if m not in measures:
                    raise RuleSetError(f"{where}.{key}: đại lượng '{m}' chưa được định nghĩa trong [measures]")
            if measures[num].over != measures[den].over:
                raise RuleSetError(f"{where}: tử số và mẫu số phải đếm trên cùng một bảng")
        zero = i.get("zero_denominator", "zero")
        if zero not in ("zero", "full"):
            raise RuleSetError(f"{where}.zero_denominator: chỉ nhận 'zero' hoặc 'full'")
        if code in {x.code for x in indicators}:
            raise RuleSetError(f"{where}: mã chỉ số trùng")
        indicators.append(Indicator(
            code=code, group=group, name=str(i.get("name", code)), max=float(_need(i, "max", (int, float), where)),
            kind=kind, threshold=float(threshold) if threshold else None, source=source_kind, numerator=num,
            denominator=den, zero_denominator=zero, inherit=bool(i.get("inherit", False)),
            provisional=bool(i.get("provisional", False)), shortfall=str(i.get("shortfall", "")),
            action=str(i.get("action", ""))))
    for g in groups:
        total = sum(i.max for i in indicators if i.group == g.code)
        if abs(total - g.max) > 1e-9:
            raise RuleSetError(f"{source}: nhóm {g.code}: tổng điểm tối đa các chỉ số ({total:g}) khác max ({g.max:g})")
    return RuleSet(name, str(raw.get("title", name)), eff, int(raw.get("rounding", 2)), bands, tuple(groups),
                   tuple(indicators), measures, source)


def load_rule_set(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleSetError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RuleSetError(f"{path}: không phải tệp văn bản UTF-8 (bộ quy tắc là tệp TOML)") from None
    return parse_rule_set(text, str(path))


def available(workspace: Path | None = None) -> dict[str, RuleSet]:
    """Shipped rule sets, then the workspace's own (``<workspace>/rules/*.toml``), by name."""
    files = sorted(p for p in _sets_dir().glob("*.toml") if p.name != "measures.toml")
    if workspace is not None and (workspace / "rules").is_dir():
        files += sorted((workspace / "rules").glob("*.toml"))
    out: dict[str, RuleSet] = {}
    for f in files:
        rs = load_rule_set(f)
        out[rs.name] = rs
    return out


def for_period(start: date, workspace: Path | None = None, name: str | None = None) -> RuleSet:
    """The rule set named, else the one in effect at ``start`` (latest effective date not after it)."""
    sets = available(workspace)
    if name:
        if name not in sets:
            raise RuleSetError(f"không có bộ quy tắc '{name}'; có: {', '.join(sorted(sets))}")
        return sets[name]
    eligible = [s for s in sets.values() if s.effective_from <= start]
    if not eligible:  # before every rule set: the earliest one, so history can still be scored
        return min(sets.values(), key=lambda s: s.effective_from)
    return max(eligible, key=lambda s: s.effective_from)


def not_in_force_note(rs: RuleSet, start: date, period_text: str) -> str | None:
    """The warning for a period scored by a rule set that was not yet in force (a period before every rule set:
    :func:`for_period` takes the earliest), or None. Said on the terminal, never in a letter's text: the letter
    prints the official figures when they were imported."""
    if rs.effective_from <= start:
        return None
    return (f"Lưu ý: chưa có bộ quy tắc có hiệu lực cho kỳ {period_text}; điểm tính theo {rs.name} (hiệu lực từ "
            f"{rs.effective_from:%d/%m/%Y}). Khi đã nhập kết quả chính thức (chiso import-official), văn bản dùng "
            "kết quả chính thức.")
