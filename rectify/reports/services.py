"""Writes of reporting (整改落实情况报告、一案一档): the received date, the narrative, starting the
report and dossier jobs. Each checks the office's scope, validates and records its event."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from rectify.core.audit import record_event
from rectify.jobs.models import Job
from rectify.jobs.services import start_job
from rectify.ledger.models import Campaign
from rectify.orgs.models import User
from rectify.reports import scope
from rectify.reports.figures import SECTIONS
from rectify.reports.jobs import DOSSIER, REPORT
from rectify.reports.models import CampaignReport

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
