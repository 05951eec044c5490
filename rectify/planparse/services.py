"""Import a reviewed plan proposal into the ledger (整改方案 → 台账草稿) — all or nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from rectify.core.audit import record_event
from rectify.indicators.models import Comparator, Indicator
from rectify.ledger import services as ledger
from rectify.ledger.models import Campaign, Task
from rectify.orgs.models import Category, Unit, User


@dataclass
class MeasureProposal:
    """One measure of the plan as the office edited it in the preview."""

    path: str
    title: str
    text: str
    items: list[str] = field(default_factory=list)
    category: str = Category.OTHER
    units: list[Unit] = field(default_factory=list)
    deadline_kind: str = ""
    deadline: dt.date | None = None


@dataclass
class TargetProposal:
    indicator: str
    comparator: str
    value: str
    unit: str = ""
    year: int | None = None
    kept: bool = False
    source: str = ""


def active_units() -> list[Unit]:
    return list(Unit.objects.filter(is_active=True))


def match_units(names: list[str], units: list[Unit] | None = None) -> list[Unit]:
    """Map unit names the parser suggests (a typical city's department names) onto real units.

    A caller matching many measures passes ``units`` (``active_units()``), read once."""
    units = active_units() if units is None else units
    found: list[Unit] = []
    for name in names:
        for unit in units:
            if name in unit.names() or any(name and (n == name or n.endswith(name) or name.endswith(n))
                                           for n in unit.names() if len(n) >= 3):
                if unit not in found:
                    found.append(unit)
                break
    return found


def _comparator(value: str) -> str:
    mapping = {"≥": Comparator.GE, ">=": Comparator.GE, ">": Comparator.GT, "=": Comparator.EQ, "≤": Comparator.LE,
               "<=": Comparator.LE, "<": Comparator.LT, "decrease": Comparator.DECREASE, "下降": Comparator.DECREASE,
               "increase": Comparator.INCREASE, "提高": Comparator.INCREASE}
    if value not in mapping:
        raise ValidationError(f"未知的比较符：{value}")
    return mapping[value]


def import_plan(*, actor: User, campaign: Campaign, measures: list[MeasureProposal], targets: list[TargetProposal],
                document_name: str, document_digest: str) -> dict:
    """Create one draft task per kept measure and one indicator per kept target.

    Tasks carry the measure's title, category, units and deadline; the problem text is left for the
    office to write (a plan states measures, not the problem as found), so every task starts as a
    draft that must become 四清楚. Either everything lands or nothing does.
    """
    if not Campaign.objects.actionable_by(actor, "add_task").filter(pk=campaign.pk).exists():
        raise PermissionDenied("只有整改办可以导入整改方案。")
    if not measures and not targets:
        raise ValidationError("没有选中任何措施或指标。")
    existing = set(Task.objects.filter(campaign=campaign).values_list("code", flat=True))
    prefix = f"{campaign.code}-F"
    n = sum(1 for c in existing if c.startswith(prefix))
    source = f"整改方案：{document_name}"
    created_tasks, created_indicators = [], []
    with transaction.atomic():
        for proposal in measures:
            n += 1
            code = f"{prefix}{n:03d}"
            while code in existing:
                n += 1
                code = f"{prefix}{n:03d}"
            items = proposal.items or [proposal.text]
            try:
                task = ledger.create_task(actor=actor, campaign=campaign, source=f"{source} {proposal.path}",
                                          data=ledger.TaskInput(
                                              code=code, title=proposal.title[:300],
                                              category=proposal.category, responsible_units=proposal.units,
                                              deadline_kind=proposal.deadline_kind, deadline=proposal.deadline,
                                              measures=[ledger.MeasureInput(text=t) for t in items if t.strip()]))
            except ValidationError as exc:
                raise ValidationError(f"措施 {proposal.path}「{proposal.title}」：{'；'.join(exc.messages)}") from exc
            created_tasks.append(task)
        for target in targets:
            try:
                value = Decimal(str(target.value))
            except InvalidOperation as exc:
                raise ValidationError(f"指标「{target.indicator}」的目标值不是数字：{target.value}") from exc
            indicator = Indicator.objects.create(
                office=campaign.office, campaign=campaign, name=target.indicator[:100],
                comparator=_comparator(target.comparator), value=value, unit=target.unit[:20], year=target.year,
                kept=target.kept, source_sentence=target.source, source_document=document_name[:200])
            created_indicators.append(indicator)
        record_event(actor=actor, action="plan_imported", obj=campaign,
                     summary=f"从整改方案「{document_name}」导入 {len(created_tasks)} 项任务草稿、"
                             f"{len(created_indicators)} 项目标指标",
                     after={"document": document_name, "sm3": document_digest,
                            "tasks": [t.code for t in created_tasks],
                            "indicators": [str(i) for i in created_indicators]})
    return {"tasks": created_tasks, "indicators": created_indicators}
