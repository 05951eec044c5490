"""Every way a help request, a supervision visit or an assessment changes (帮扶、一季一督导、综合评估考核).

Each function checks permission through ``assessment/scope.py`` and the tables of ``workflows.py``,
validates, writes and records its event in one transaction; reminders go out after the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from rectify.assessment import facts as record_facts
from rectify.assessment import scope, scoring
from rectify.assessment.models import (
    AssessmentResult,
    AssessmentRow,
    AssessmentScheme,
    HelpRequest,
    SupervisionVisit,
    UnitGroup,
    VisitFollowUp,
    VisitStatus,
)
from rectify.assessment.workflows import HELP_FLOW, RESULT_FLOW, VISIT_FLOW
from rectify.core.audit import record_event
from rectify.core.notify import notify
from rectify.core.numbers import allocate_number
from rectify.core.roles import OFFICE_ROLES, Role, is_office
from rectify.core.sm3 import sm3_hex
from rectify.dispatch.models import ProgressReport, ReportStatus
from rectify.ledger.models import Campaign, Task, UnitRole
from rectify.orgs.models import Unit, UnitKind, User
from rectify.orgs.scope import unit_within

MAX_TEXT = 2000
RESULT_KIND = "assessment"  # 综合评估考核结果通报, numbered from core.numbers when published
QUARTER = re.compile(r"^(20\d\d)-Q([1-4])$")


class StaleError(Exception):
    def __init__(self, obj):
        self.obj = obj
        super().__init__(f"操作失败：该记录已被他人处理（当前状态：{obj.get_status_display()}）。请刷新页面后再操作。")


def _text(value: str, field: str, label: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [f"请填写{label}。"]})
    if len(value) > limit:
        raise ValidationError({field: [f"{label}不能超过 {limit} 字。"]})
    if "\x00" in value:
        raise ValidationError({field: [f"{label}含有不可见的非法字符。"]})
    return value


def _office_users(office: Unit):
    ids = [int(p) for p in office.path.split(".") if p]
    return User.objects.filter(role__in=list(OFFICE_ROLES), is_active=True, unit__in=ids)


# --- 帮扶 ---------------------------------------------------------------------------------------


def request_help(*, actor: User, report: ProgressReport, needs: str, asked_of: str = "",
                 asked_unit: Unit | None = None) -> HelpRequest:
    """A unit turns its report's 存在困难 into a help request: what it needs, and from whom."""
    needs = _text(needs, "needs", "需要的帮扶")
    asked_of = _text(asked_of, "asked_of", "希望由谁帮扶", required=False, limit=200)
    with transaction.atomic():
        locked = (ProgressReport.objects.visible_to(actor).select_for_update(of=("self",))
                  .select_related("task", "task__campaign", "unit").filter(pk=report.pk).first())
        if locked is None:
            raise Http404("报送不存在或无权操作。")
        if not scope.asks_for_help(actor, locked):
            raise PermissionDenied("只有该报送单位的填报员或审核员可以申请帮扶。")
        if locked.status == ReportStatus.PENDING or not locked.difficulties.strip():
            raise ValidationError("请先在进展报送中填写“存在困难”，再据此申请帮扶。")
        try:
            with transaction.atomic():
                help_request = HelpRequest.objects.create(
                    report=locked, task=locked.task, unit=locked.unit, difficulty=locked.difficulties.strip(),
                    needs=needs, asked_of=asked_of, asked_unit=asked_unit, created_by=actor,
                    created_at=timezone.now())
        except IntegrityError as exc:
            raise ValidationError("该报送已有待办理的帮扶申请。") from exc
        record_event(actor=actor, action="help_requested", object_type="ledger.task", object_id=locked.task_id,
                     object_label=str(locked.task)[:300],
                     summary=f"{locked.unit.name}申请帮扶：{needs[:100]}"
                             + (f"（希望由{asked_unit.name if asked_unit else asked_of}帮扶）" if asked_unit or asked_of else ""),
                     after={"help_request": help_request.pk, "report": locked.pk, "needs": needs,
                            "asked_of": asked_of, "asked_unit": asked_unit.pk if asked_unit else None})
    transaction.on_commit(lambda: _notify_help(help_request, "requested"))
    return help_request


def help_transition(*, actor: User, help_request: HelpRequest, action: str, expected_version: int | None = None,
                    answer: str = "", helper_unit: Unit | None = None, help_due: dt.date | None = None,
                    help_given: str = "") -> HelpRequest:
    """Answer (安排帮扶 with a helper unit, or 不予安排 with the reason), withdraw, record the help given."""
    with transaction.atomic():
        locked = (HelpRequest.objects.visible_to(actor).select_for_update(of=("self",))
                  .select_related("task", "task__campaign", "unit", "report").filter(pk=help_request.pk).first())
        if locked is None:
            raise Http404("帮扶申请不存在或无权操作。")
        if expected_version is not None and expected_version != locked.version:
            raise StaleError(locked)
        rule = HELP_FLOW.authorise(actor, locked, action)
        now = timezone.now()
        if action == "assign":
            locked.answer = _text(answer, "answer", "答复")
            if helper_unit is None:
                raise ValidationError({"helper_unit": ["请指定帮扶单位。"]})
            if help_due is not None and help_due < timezone.localdate():
                raise ValidationError({"help_due": ["帮扶时限不能早于今天。"]})
            locked.helper_unit, locked.help_due = helper_unit, help_due
            locked.answered_by, locked.answered_at = actor, now
            summary = f"安排{helper_unit.name}帮扶" + (f"，时限 {help_due:%Y-%m-%d}" if help_due else "") + f"：{locked.answer}"
        elif action == "decline":
            locked.answer = _text(answer, "answer", "不予安排的理由")
            locked.answered_by, locked.answered_at = actor, now
            summary = f"不予安排帮扶：{locked.answer}"
        elif action == "record_help":
            locked.help_given = _text(help_given, "help_given", "帮扶情况")
            locked.helped_by, locked.helped_at = actor, now
            summary = f"帮扶情况：{locked.help_given}"
        else:
            summary = "撤回帮扶申请"
        locked.status = rule.target
        locked.version += 1
        locked.save()
        record_event(actor=actor, action=HELP_FLOW.event_of(rule), object_type="ledger.task", object_id=locked.task_id,
                     object_label=str(locked.task)[:300], summary=f"{locked.unit.name}的帮扶申请：{summary}",
                     after={"help_request": locked.pk, "status": rule.target,
                            "helper_unit": locked.helper_unit_id, "answer": locked.answer,
                            "help_given": locked.help_given})
    transaction.on_commit(lambda: _notify_help(locked, action))
    return locked


def _notify_help(help_request: HelpRequest, what: str) -> None:
    url = f"/assessment/help/{help_request.pk}/"
    key = f"help:{help_request.pk}:{what}"
    title = f"帮扶申请：{help_request.unit.name} {help_request.task.code}"
    if what == "requested":
        leads = [tu.unit for tu in help_request.task.task_units.all() if tu.role == UnitRole.LEAD_SUPERVISOR]
        users = list(User.objects.filter(role=Role.SUPERVISOR, is_active=True, unit__in=leads))
        users += list(_office_users(help_request.task.campaign.office))
        notify(users=users, kind="help_requested", title=f"收到{title}", url=url, key=key)
    elif what in {"assign", "decline", "record_help"}:
        users = list(User.objects.filter(role__in=[Role.REPORTER, Role.REVIEWER], is_active=True,
                                         unit=help_request.unit))
        if what == "assign" and help_request.helper_unit_id:
            users += list(User.objects.filter(role__in=list(scope.HELPER_ROLES), is_active=True,
                                              unit=help_request.helper_unit))
        labels = {"assign": "已安排帮扶", "decline": "不予安排帮扶", "record_help": "已记录帮扶情况"}
        notify(users=users, kind="help_answered", title=f"{title}（{labels[what]}）", url=url, key=key)


# --- 一季一督导 ----------------------------------------------------------------------------------


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def plan_visit(*, actor: User, county: Unit, quarter: str, planned_on: dt.date, team: str) -> SupervisionVisit:
    """整改办 schedules a quarter's supervision visit to a county (督导组 and date)."""
    if not is_office(actor) or actor.unit is None:
        raise PermissionDenied("只有整改办可以安排季度督导。")
    if county.kind != UnitKind.COUNTY or not unit_within(county, actor.unit):
        raise ValidationError({"county": ["请选择本整改办所辖的县市区。"]})
    match = QUARTER.match(quarter or "")
    if not match:
        raise ValidationError({"quarter": ["季度格式为 2026-Q2。"]})
    if quarter_of(planned_on) != quarter:
        raise ValidationError({"planned_on": [f"计划日期须在 {quarter} 内。"]})
    team = _text(team, "team", "督导组成员", limit=300)
    with transaction.atomic():
        visit = SupervisionVisit.objects.create(office=actor.unit, county=county, quarter=quarter,
                                                planned_on=planned_on, team=team, created_by=actor,
                                                created_at=timezone.now())
        record_event(actor=actor, action="visit_planned", obj=visit,
                     summary=f"安排{quarter}对{county.name}的督导：{planned_on:%Y-%m-%d}，督导组 {team}",
                     after={"county": county.pk, "quarter": quarter, "planned_on": planned_on, "team": team})
    transaction.on_commit(lambda: notify(
        users=User.objects.filter(role__in=[Role.REPORTER, Role.REVIEWER], is_active=True, unit=county),
        kind="visit_planned", title=f"{quarter}季度督导安排：{planned_on:%m月%d日}", url=f"/assessment/visits/{visit.pk}/",
        key=f"visit:{visit.pk}:planned"))
    return visit


def visit_transition(*, actor: User, visit: SupervisionVisit, action: str, expected_version: int | None = None,
                     visited_on: dt.date | None = None, team: str = "", findings: str = "",
                     follow_ups: list[tuple[str, Task | None, dt.date | None]] | None = None,
                     reason: str = "") -> SupervisionVisit:
    """Record the visit (date, team, findings, follow-up items) or cancel it with the reason."""
    with transaction.atomic():
        locked = (SupervisionVisit.objects.visible_to(actor).select_for_update(of=("self",)).select_related("county", "office")
                  .filter(pk=visit.pk).first())
        if locked is None:
            raise Http404("督导不存在或无权操作。")
        if expected_version is not None and expected_version != locked.version:
            raise StaleError(locked)
        rule = VISIT_FLOW.authorise(actor, locked, action)
        if action == "record":
            if visited_on is None or visited_on > timezone.localdate():
                raise ValidationError({"visited_on": ["请填写不晚于今天的督导日期。"]})
            locked.visited_on = visited_on
            locked.team = _text(team or locked.team, "team", "督导组成员", limit=300)
            locked.findings = _text(findings, "findings", "督导发现的问题")
            items = []
            for text, task, due in (follow_ups or [])[:50]:
                text = _text(text, "follow_ups", "整改要求", limit=1000)
                if task is not None and not Task.objects.visible_to(actor).filter(pk=task.pk).exists():
                    raise ValidationError({"follow_ups": ["关联任务不存在或不在您的范围内。"]})
                items.append(VisitFollowUp(visit=locked, text=text, task=task, due_date=due))
            VisitFollowUp.objects.bulk_create(items)
            locked.recorded_at = timezone.now()
            summary = (f"{locked.county.name}{locked.quarter}督导（{visited_on:%Y-%m-%d}，{locked.team}）："
                       f"{locked.findings[:200]}；整改要求 {len(items)} 项")
        else:
            locked.cancel_reason = _text(reason, "reason", "取消原因")
            summary = f"取消{locked.county.name}{locked.quarter}督导：{locked.cancel_reason}"
        locked.status = rule.target
        locked.version += 1
        locked.save()
        record_event(actor=actor, action=VISIT_FLOW.event_of(rule), obj=locked, summary=summary,
                     after={"status": rule.target, "visited_on": locked.visited_on, "findings": locked.findings,
                            "follow_ups": [i.text for i in locked.follow_ups.all()]})
    return locked


def set_follow_up(*, actor: User, follow_up: VisitFollowUp, done: bool) -> VisitFollowUp:
    """The office marks a follow-up item 已落实 (or not yet)."""
    with transaction.atomic():
        locked = (VisitFollowUp.objects.select_for_update(of=("self",)).select_related("visit", "visit__county")
                  .filter(pk=follow_up.pk, visit__in=SupervisionVisit.objects.visible_to(actor).values("pk")).first())
        if locked is None:
            raise Http404("整改要求不存在或无权操作。")
        if not scope.runs_visits(actor, locked.visit) or locked.visit.status != VisitStatus.DONE:
            raise PermissionDenied("只有整改办可以标记整改要求的落实情况。")
        locked.done, locked.done_at = done, timezone.localdate() if done else None
        locked.save(update_fields=["done", "done_at"])
        record_event(actor=actor, action="visit_follow_up_marked", obj=locked.visit,
                     summary=f"整改要求{'已落实' if done else '改为未落实'}：{locked.text[:100]}",
                     after={"follow_up": locked.pk, "done": done})
    return locked


# --- 综合评估考核 --------------------------------------------------------------------------------


def save_scheme(*, actor: User, campaign: Campaign, name: str, items, scheme: AssessmentScheme | None = None,
                expected_version: int | None = None) -> AssessmentScheme:
    """整改办 sets a campaign's scoring scheme: the indicators it scores and their weights. Every
    version of the weights is in the record (before and after)."""
    if not Campaign.objects.actionable_by(actor, "add_task").filter(pk=campaign.pk).exists():
        raise PermissionDenied("只有整改办可以设置考核评分办法。")
    name = _text(name, "name", "名称", limit=100)
    parsed = scoring.parse_items(items)
    as_json = [i.as_json() for i in parsed]
    with transaction.atomic():
        now = timezone.now()
        if scheme is None:
            if AssessmentScheme.objects.filter(campaign=campaign, name=name).exists():
                raise ValidationError({"name": ["本批次已有同名的评分办法。"]})
            scheme = AssessmentScheme.objects.create(campaign=campaign, name=name, items=as_json, created_at=now,
                                                     updated_at=now, updated_by=actor)
            before = None
        else:
            scheme = AssessmentScheme.objects.select_for_update(of=("self",)).get(pk=scheme.pk, campaign=campaign)
            if expected_version is not None and scheme.version != expected_version:
                raise ValidationError("评分办法已被他人修改，请刷新页面后再保存。")
            before = {"name": scheme.name, "items": scheme.items}
            scheme.name, scheme.items, scheme.updated_at, scheme.updated_by = name, as_json, now, actor
            scheme.version += 1
            scheme.save()
        record_event(actor=actor, action="assessment_scheme_saved", obj=scheme, unit=campaign.office,
                     summary=f"{'修改' if before else '设置'}考核评分办法「{name}」：" + "，".join(
                         f"{i.label} {i.weight} 分" + (f"（每项扣 {i.per_item} 分）" if not scoring.is_rate(i.indicator)
                                                       else "") for i in parsed),
                     before=before, after={"name": name, "items": as_json, "version": scheme.version})
    return scheme


def compute_result(*, actor: User, scheme: AssessmentScheme, title: str, period_start: dt.date,
                   period_end: dt.date) -> AssessmentResult:
    """Compute a draft result: every assessed unit's facts, scores, total and rank, from the record."""
    if not scope.runs_assessment(actor, scheme):
        raise PermissionDenied("只有整改办可以计算考核结果。")
    title = _text(title, "title", "名称", limit=100)
    if period_end < period_start:
        raise ValidationError({"period_end": ["考核期止不能早于考核期起。"]})
    if (period_end - period_start).days > 366 * 3:
        raise ValidationError({"period_end": ["考核期不能超过三年。"]})
    items = scoring.parse_items(scheme.items)
    units, facts, source = record_facts.gather(scheme.campaign, period_start, period_end)
    scored = {u.pk: scoring.score_unit(items, facts[u.pk]) for u in units}
    groups = {u.pk: record_facts.GROUPS[UnitKind(u.kind)] for u in units}
    ranks: dict[int, int] = {}
    for group in UnitGroup.values:
        ranks |= scoring.competition_ranks([(u.pk, scored[u.pk][0]) for u in units if groups[u.pk] == group])
    with transaction.atomic():
        result = AssessmentResult.objects.create(
            scheme=scheme, campaign=scheme.campaign, title=title, period_start=period_start, period_end=period_end,
            items=[i.as_json() for i in items], computed_by=actor, computed_at=timezone.now())
        AssessmentRow.objects.bulk_create(
            AssessmentRow(result=result, unit=u, group=groups[u.pk], total=scored[u.pk][0], rank=ranks[u.pk],
                          breakdown={**scored[u.pk][1], "_source": source}) for u in units)
        result.digest = result_digest(result)
        result.save(update_fields=["digest"])
        record_event(actor=actor, action="assessment_computed", obj=result, unit=scheme.campaign.office,
                     summary=f"计算考核结果「{title}」（{period_start:%Y-%m-%d} 至 {period_end:%Y-%m-%d}，"
                             f"{len(units)} 个单位）：草稿",
                     after={"scheme": scheme.pk, "scheme_version": scheme.version, "digest": result.digest,
                            "units": len(units)})
    return result


def canonical_table(result: AssessmentResult) -> list[dict]:
    """The result's table as published: unit, group, rank, total and each item's score."""
    return [{"unit": row.unit.name, "group": row.group, "rank": row.rank, "total": str(row.total),
             "scores": {k: v["score"] for k, v in row.breakdown.items() if not k.startswith("_")}}
            for row in result.rows.select_related("unit").order_by("group", "rank", "unit__sort_order", "unit_id")]


def result_digest(result: AssessmentResult) -> str:
    payload = {"title": result.title, "period": [result.period_start, result.period_end], "items": result.items,
               "rows": canonical_table(result)}
    return sm3_hex(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode())


def result_transition(*, actor: User, result: AssessmentResult, action: str,
                      expected_version: int | None = None) -> AssessmentResult:
    """发布 (the table and its digest go into the record and the units see it) or 作废."""
    with transaction.atomic():
        locked = (AssessmentResult.objects.visible_to(actor).select_for_update(of=("self",)).select_related("campaign__office")
                  .filter(pk=result.pk).first())
        if locked is None:
            raise Http404("考核结果不存在或无权操作。")
        if expected_version is not None and expected_version != locked.version:
            raise StaleError(locked)
        rule = RESULT_FLOW.authorise(actor, locked, action)
        number = ""
        if action == "publish":
            if result_digest(locked) != locked.digest:
                raise ValidationError("考核结果与计算时不一致，不能发布，请重新计算。")
            locked.published_at = timezone.now()
            number = allocate_number(kind=RESULT_KIND, year=timezone.localdate().year,
                                     object_type=locked._meta.label_lower, object_id=locked.pk, actor=actor)
        locked.status = rule.target
        locked.version += 1
        locked.save()
        table = canonical_table(locked)
        record_event(actor=actor, action=RESULT_FLOW.event_of(rule), obj=locked, unit=locked.campaign.office,
                     summary=f"{rule.label}「{locked.title}」" + (f"（{number}）" if number else "")
                             + f"，结果摘要 SM3 {locked.digest[:16]}…",
                     after={"status": rule.target, "digest": locked.digest, "items": locked.items, "number": number,
                            **({"table": table} if action == "publish" else {})})
    return locked


def export_recorded(*, actor: User, result: AssessmentResult, fmt: str, size: int) -> None:
    with transaction.atomic():
        record_event(actor=actor, action="document_generated", obj=result, unit=result.campaign.office,
                     summary=f"导出考核结果「{result.title}」（{fmt}）", after={"format": fmt, "bytes": size,
                                                                             "digest": result.digest})

