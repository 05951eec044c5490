"""Names in cells → rows of the database: units (by name, short name or alias; "各县市区" for every
county of the office's tree), the responsible city leader, the problem category. Loaded once per
file (``Lookups``), so that matching a row costs no query."""

from __future__ import annotations

import re

from rectify.ledger.excel.cells import PAREN, cell_text, key_of, nfkc, unneutralise
from rectify.ledger.models import Campaign
from rectify.orgs.models import Category, Role, Unit, UnitKind, User


class Lookups:
    """Units (by every name they go by), the counties of the office's tree and the city leaders,
    loaded once per file."""

    def __init__(self, campaign: Campaign):
        self.units: dict[str, Unit | None] = {}  # None: the name is ambiguous
        self.inactive: set[str] = set()
        for unit in Unit.objects.all().only("id", "name", "short_name", "aliases", "kind", "path", "is_active"):
            for name in unit.names():
                k = key_of(name)
                if not unit.is_active:
                    self.inactive.add(k)
                    continue
                if k in self.units and self.units[k] is not None and self.units[k].pk != unit.pk:
                    # a full name beats another unit's short name or alias
                    if key_of(self.units[k].name) == k:
                        continue
                    self.units[k] = unit if key_of(unit.name) == k else None
                else:
                    self.units[k] = unit
        # Counties of the whole organisation the campaign's office belongs to (its tree's root).
        root = Unit.objects.get(path=campaign.office.path.split(".")[0] + ".")
        self.counties = list(Unit.objects.subtree(root).filter(kind=UnitKind.COUNTY, is_active=True)
                             .order_by("sort_order", "id"))
        self.resolved: dict[tuple[str, str], tuple[list[Unit], list[str]]] = {}  # resolve_units, per cell text
        self.leaders_resolved: dict[str, tuple[User | None, list[str], list[str]]] = {}  # resolve_leader, likewise
        self.leaders: dict[str, list[User]] = {}
        for user in User.objects.filter(role=Role.LEADER, is_active=True).exclude(display_name=""):
            self.leaders.setdefault(key_of(user.display_name), []).append(user)

    def unit(self, name: str) -> Unit | None:
        return self.units.get(key_of(name))


_UNIT_SEPARATORS = re.compile(r"([、，,;；/／\n\r]+)")
_ALL_COUNTIES = re.compile(r"各县[(（]?市[、,，]?区[)）]?(?:人民政府|政府|党委和政府|党委、政府)?|各县市区(?:人民政府|政府)?")
_ALL_MARK = "\ue000"
_ROLE_SUFFIX = re.compile(r"[(（](?:牵头|主责|配合|负责|责任|主体)[^)）]*[)）]$|(?:牵头|配合)$")


def resolve_units(cell: str, lookups: Lookups, label: str) -> tuple[list[Unit], list[str]]:
    """A cell of unit names → units in order, and errors for names that match no unit. The same
    cell text is read once per file (a ledger names the same units row after row)."""
    text = unneutralise(cell_text(cell).strip())
    key = (text, label)
    if key not in lookups.resolved:
        lookups.resolved[key] = _resolve_units(text, lookups, label)
    units, errors = lookups.resolved[key]
    return list(units), list(errors)


def _resolve_units(text: str, lookups: Lookups, label: str) -> tuple[list[Unit], list[str]]:
    if not text:
        return [], []
    text = _ALL_COUNTIES.sub(f"、{_ALL_MARK}、", text)
    parts = _UNIT_SEPARATORS.split(text)
    names, seps = parts[0::2], parts[1::2]
    units: list[Unit] = []
    errors: list[str] = []
    i = 0
    while i < len(names):
        name = names[i].strip()
        if not name:
            i += 1
            continue
        if name == _ALL_MARK:
            units.extend(lookups.counties)
            i += 1
            continue
        found, taken = None, 1
        # a unit whose own name holds a separator ("市委宣传部/网信办"): try the longest join first
        for j in range(min(len(names), i + 4), i + 1, -1):
            joined = "".join(names[k] + (seps[k] if k < j - 1 else "") for k in range(i, j))
            found = lookups.unit(joined)
            if found:
                taken = j - i
                break
        if found is None:
            found = lookups.unit(name) or lookups.unit(_ROLE_SUFFIX.sub("", nfkc(name)).strip())
        if found is None and " " in name.strip():
            pieces = [lookups.unit(p) for p in name.split()]
            if all(pieces):
                units.extend(pieces)
                i += 1
                continue
        if found is None:
            k = key_of(name)
            if k in lookups.inactive:
                errors.append(f"{label}「{name}」已停用")
            elif k in lookups.units:
                errors.append(f"{label}「{name}」对应多个单位，请写全称")
            else:
                errors.append(f"{label}「{name}」不存在（未找到该名称、简称或别名）")
        else:
            units.append(found)
        i += taken
    seen, unique = set(), []
    for u in units:
        if u.pk not in seen:
            seen.add(u.pk)
            unique.append(u)
    return unique, errors


def resolve_leader(cell: str, lookups: Lookups) -> tuple[User | None, list[str], list[str]]:
    """A 责任领导 cell → (the city leader, errors, warnings). The same cell text is read once per file."""
    text = unneutralise(cell_text(cell).strip())
    if text not in lookups.leaders_resolved:
        lookups.leaders_resolved[text] = _resolve_leader(text, lookups)
    leader, errors, warnings = lookups.leaders_resolved[text]
    return leader, list(errors), list(warnings)


def _resolve_leader(text: str, lookups: Lookups) -> tuple[User | None, list[str], list[str]]:
    if not text:
        return None, [], []
    names = [n for n in _UNIT_SEPARATORS.split(text)[0::2] if n.strip()]
    warnings = []
    if len(names) > 1:
        warnings.append(f"责任领导写了 {len(names)} 位，任务只能指定一位，取第一位「{names[0].strip()}」")
    name = names[0].strip()
    k = key_of(name)
    candidates = lookups.leaders.get(k) or lookups.leaders.get(PAREN.sub("", k)) or []
    if not candidates:
        # "张三（副市长）", "副市长张三": a leader's whole name inside the cell
        candidates = [u for key, users in lookups.leaders.items() if len(key) >= 2 and key in k for u in users]
    if len(candidates) > 1:
        return None, [f"责任领导「{name}」对应多位市领导账户（重名），请在系统中区分姓名"], warnings
    if not candidates:
        return None, [f"责任领导「{name}」不存在或不是市领导账户"], warnings
    return candidates[0], [], warnings


def resolve_category(cell: str) -> tuple[str, str]:
    text = key_of(unneutralise(cell_text(cell).strip()))
    if not text:
        return Category.OTHER, ""
    for value, label in Category.choices:
        if text in {key_of(str(label)), value}:
            return value, ""
    matches = [value for value, label in Category.choices if text in key_of(str(label)) or key_of(str(label)) in text]
    if len(matches) == 1:
        return matches[0], ""
    return Category.OTHER, f"问题类别「{cell_text(cell).strip()}」无法识别（可选：{'、'.join(map(str, Category.labels))}）"
