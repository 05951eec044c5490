"""Writes of reporting (整改落实情况报告、一案一档): the received date, the narrative, starting the
report and dossier jobs. Each checks the office's scope, validates and records its event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from rectify.core.audit import record_event
from rectify.jobs.models import Job
from rectify.jobs.services import start_job
from rectify.ledger.models import Campaign
from rectify.orgs.models import User
from rectify.reports import scope
from rectify.reports.deadlines import MAX_AMOUNT, UNITS, due_after
from rectify.reports.figures import SECTIONS
from rectify.reports.jobs import DOSSIER, REPORT
from rectify.reports.models import CampaignDeadline, CampaignReport

MAX_TEXT = 5000
MAX_DOSSIER_TASKS = 5000


class StaleNarrative(ValidationError):
    pass


def _locked(actor: User, campaign: Campaign) -> CampaignReport:
    if not scope.runs_reports(actor, campaign):
        raise PermissionDenied("只有负责该批次的整改办可以编辑整改报告。")
    CampaignReport.objects.get_or_create(campaign=campaign)
    return CampaignReport.objects.select_for_update().get(campaign=campaign)


def set_received_date(*, actor: User, campaign: Campaign, received: dt.date | None) -> CampaignReport:
    """收到督察报告日期: the 6-month report's due date follows from it."""
    if received is not None and not (dt.date(2000, 1, 1) <= received <= dt.date(2100, 12, 31)):
        raise ValidationError("日期超出范围。")
    with transaction.atomic():
        row = _locked(actor, campaign)
        before = row.received_date
        row.received_date = received
        row.updated_by = actor
        row.version += 1
        row.save()
        record_event(actor=actor, action="report_received_date_set", obj=campaign, unit=campaign.office,
                     summary=f"记录收到督察报告日期：{received or '（清除）'}，整改落实情况报告期限 {row.due_date or '—'}",
                     before={"received_date": before}, after={"received_date": received, "due_date": row.due_date})
    return row


def save_narrative(*, actor: User, campaign: Campaign, intro: str, summaries: dict[str, str],
                   expected_version: int) -> CampaignReport:
    """The parts of the report the office writes (引言、各部分小结); the figures are never typed."""
    keys = {k for k, _ in SECTIONS}
    clean = {k: (v or "").strip() for k, v in summaries.items() if k in keys}
    if len(intro) > MAX_TEXT or any(len(v) > MAX_TEXT for v in clean.values()):
        raise ValidationError(f"每段文字不超过 {MAX_TEXT} 字。")
    with transaction.atomic():
        row = _locked(actor, campaign)
        if row.version != expected_version:
            who = row.updated_by.display_name if row.updated_by_id and row.updated_by else "他人"
            raise StaleNarrative(f"报告文字已被{who}于 {row.updated_at:%Y-%m-%d %H:%M} 修改，请刷新后再编辑。")
        row.intro = intro.strip()
        row.summaries = {k: v for k, v in clean.items() if v}
        row.updated_by = actor
        row.version += 1
        row.save()
        record_event(actor=actor, action="report_narrative_saved", obj=campaign, unit=campaign.office,
                     summary="保存整改落实情况报告文字（引言、各部分小结）",
                     after={"intro_chars": len(row.intro), "sections": sorted(row.summaries)})
    return row


def start_report(*, actor: User, campaign: Campaign, as_of: dt.date) -> Job:
    if not (dt.date(2000, 1, 1) <= as_of <= dt.date(2100, 12, 31)):
        raise ValidationError("报告日期超出范围。")
    return start_job(actor=actor, kind=REPORT, title=f"{campaign.name}整改落实情况报告（截至{as_of:%Y-%m-%d}）",
                     params={"campaign": campaign.pk, "as_of": as_of.isoformat()})


def start_dossier(*, actor: User, task_ids: list[int], name: str) -> Job:
    ids = sorted(set(task_ids))
    if not ids:
        raise ValidationError("请至少选择一项任务。")
    if len(ids) > MAX_DOSSIER_TASKS:
        raise ValidationError(f"一次最多导出 {MAX_DOSSIER_TASKS} 项任务的档案。")
    if scope.dossier_tasks(actor).filter(pk__in=ids).count() != len(ids):
        raise PermissionDenied("所选任务中有不存在或无权导出的任务。")
    return start_job(actor=actor, kind=DOSSIER, title=f"一案一档：{name}（{len(ids)} 项任务）",
                     params={"tasks": ids, "name": name[:80]})


@dataclass
class AcceptedDeadline:
    """One deadline of the plan as the office accepted it on the plan's review page."""

    name: str
    amount: int
    unit: str  # months | days | weeks | work_days
    start: dt.date
    rule: str = ""
    source: str = ""
    as_received: bool = False  # the 6-month report's own: the start is recorded as 收到督察报告日期


def accept_plan_deadlines(*, actor: User, campaign: Campaign, deadlines: list[AcceptedDeadline],
                          document: str = "") -> list[CampaignDeadline]:
    """Record deadlines the plan states as the campaign's (all or nothing): each becomes a named
    ``CampaignDeadline`` (a known name is updated), except the 6-month report's own, whose start is
    recorded as the received date (the due date follows). One event lists them all."""
    if not scope.runs_reports(actor, campaign):
        raise PermissionDenied("只有负责该批次的整改办可以设置报送期限。")
    if not deadlines:
        raise ValidationError("没有选中任何期限。")
    errors = []
    names = set()
    for n, d in enumerate(deadlines, 1):
        d.name = (d.name or "").strip()
        if not d.name or len(d.name) > 100:
            errors.append(f"第 {n} 项：请填写事项名称（不超过 100 字）。")
        elif not d.as_received and d.name in names:
            errors.append(f"第 {n} 项：事项「{d.name}」重复。")
        names.add(d.name)
        if d.unit not in UNITS or not 1 <= d.amount <= MAX_AMOUNT:
            errors.append(f"第 {n} 项「{d.name}」：期限须为 1–{MAX_AMOUNT} 个月、周、天或工作日。")
        if not dt.date(2000, 1, 1) <= d.start <= dt.date(2100, 12, 31):
            errors.append(f"第 {n} 项「{d.name}」：起算日期超出范围。")
    if sum(1 for d in deadlines if d.as_received) > 1:
        errors.append("只能有一项记为收到督察报告日期。")
    if errors:
        raise ValidationError(errors)
    created = []
    with transaction.atomic():
        for d in deadlines:
            if d.as_received:
                set_received_date(actor=actor, campaign=campaign, received=d.start)
                continue
            row, _new = CampaignDeadline.objects.update_or_create(
                campaign=campaign, name=d.name,
                defaults={"rule": d.rule[:200], "start_date": d.start, "due_date": due_after(d.start, d.amount, d.unit),
                          "source": d.source[:500], "document": document[:200], "created_by": actor})
            created.append(row)
        record_event(actor=actor, action="campaign_deadlines_accepted", obj=campaign, unit=campaign.office,
                     summary=f"采纳整改方案「{document}」中的报送期限 {len(deadlines)} 项",
                     after={"document": document,
                            "deadlines": [{"name": d.name, "rule": d.rule, "start": d.start,
                                           "due": due_after(d.start, d.amount, d.unit),
                                           "as_received_date": d.as_received} for d in deadlines]})
    return created
