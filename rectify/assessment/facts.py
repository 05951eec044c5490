"""What the record says about each unit over an assessment period — the facts the scheme scores.

Units assessed: the counties and departments that are a responsible unit (主体责任单位) of at least one
of the campaign's tasks (drafts excluded). Each indicator, for a period [start, end]:

| indicator | numerator / count | denominator | records kept behind the figure |
| --- | --- | --- | --- |
| 按时报送率 | the unit's report slots, in rounds due in the period, reported on time | all its slots in those rounds | slots reported late or not at all |
| 任务序时推进率 | its tasks 序时推进, 已完成 or 长期坚持 at the end of the last round closed in the period (its snapshots; today's derived status if no round closed) | its tasks with a schedule | tasks 滞后 or 逾期 |
| 到期任务销号率 | its tasks due by the period's end (限期整改, 立行立改) filed (备案销号) by then and not reopened by a look-back rebound since; a task entered as already closed, with no close-out on record, counts as filed | those tasks | due tasks not filed |
| 逾期任务 | its tasks 逾期 at that same moment | — | those tasks |
| 被督办 | escalations aimed at it issued in the period, 通报 and up (automatic 预警 excluded) | — | those escalations |
| 回头看反弹 | look-back checks of its tasks found 反弹 in the period | — | those checks |
| 追责问责 | cases on the campaign's tasks closed in the period with an accountability outcome that concern it | — | none: a count only, never which case |

Every query is an aggregate or a single pass over the campaign's rows: the cost does not grow with
the number of units.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from rectify.accountability.figures import closed_with_outcome_by_unit
from rectify.assessment.models import Indicator, UnitGroup
from rectify.assessment.scoring import Fact
from rectify.closeout.models import CheckResult, Closeout, CloseoutStatus, LookBackCheck
from rectify.dispatch.models import DispatchRound, ProgressReport, ReportStatus, RoundStatus
from rectify.ledger.models import DeadlineKind, Task, TaskStatus, TaskUnit, UnitRole
from rectify.orgs.models import Unit, UnitKind
from rectify.supervision.models import Escalation, Rung, StatusSnapshot

REPORTED = (ReportStatus.AWAITING_REVIEW, ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
ON_TRACK = ("on_schedule", "closed", "long_term")
MAX_RECORDS = 200  # per unit and item: the page lists them; the count is always whole
GROUPS = {UnitKind.COUNTY: UnitGroup.COUNTY, UnitKind.DEPARTMENT: UnitGroup.DEPARTMENT}


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def _note(fact: Fact, kind: str, pk: int, label: str) -> None:
    if len(fact.records) < MAX_RECORDS:
        fact.records.append({"kind": kind, "id": pk, "label": label})


def assessed_units(campaign) -> list[Unit]:
    ids = (TaskUnit.objects.filter(task__campaign=campaign, role=UnitRole.RESPONSIBLE)
           .exclude(task__status=TaskStatus.DRAFT).values("unit_id"))
    return list(Unit.objects.filter(pk__in=ids, kind__in=list(GROUPS)).order_by("kind", "sort_order", "id"))


def snapshot_round(campaign, start: dt.date, end: dt.date) -> DispatchRound | None:
    """The last round of the campaign's office closed within the period (its snapshots are the
    statuses "at the end of the period")."""
    return (DispatchRound.objects.filter(office=campaign.office, status=RoundStatus.CLOSED,
                                         period__gte=f"{start:%Y-%m}", period__lte=f"{end:%Y-%m}")
            .order_by("-period").first())


def gather(campaign, start: dt.date, end: dt.date) -> tuple[list[Unit], dict[int, dict[str, Fact]], dict]:
    """(units, unit id → indicator → fact, notes on the sources) for the period."""
    units = assessed_units(campaign)
    facts: dict[int, dict[str, Fact]] = {u.pk: defaultdict(Fact) for u in units}
    low, high = _bounds(start, end)
    responsible: dict[int, list[int]] = defaultdict(list)
    for task_id, unit_id in (TaskUnit.objects.filter(task__campaign=campaign, role=UnitRole.RESPONSIBLE)
                             .exclude(task__status=TaskStatus.DRAFT).values_list("task_id", "unit_id")):
        if unit_id in facts:
            responsible[task_id].append(unit_id)

    # 按时报送率: slots of rounds due in the period
    for pk, unit_id, status, late, code, period in (
            ProgressReport.objects.filter(task__campaign=campaign, round__due_date__gte=start,
                                          round__due_date__lte=end, unit_id__in=list(facts))
            .values_list("pk", "unit_id", "status", "late", "task__code", "round__period").order_by("pk")):
        fact = facts[unit_id][Indicator.ON_TIME_REPORTS]
        fact.denominator += 1
        if status in REPORTED and not late:
            fact.numerator += 1
        else:
            _note(fact, "report", pk, f"{period} {code}（{'逾期报送' if status in REPORTED else '未报送'}）")

    # 任务序时推进率 and 逾期任务: statuses at the end of the last round closed in the period
    rnd = snapshot_round(campaign, start, end)
    if rnd is not None:
        statuses = StatusSnapshot.objects.filter(round=rnd, task__campaign=campaign).values_list(
            "task_id", "status", "task__code")
        source = f"{rnd.title}结束时的进度状态"
    else:
        statuses = Task.objects.filter(campaign=campaign).exclude(status=TaskStatus.DRAFT).values_list(
            "pk", "progress_status", "code")
        source = "考核期内无已结束的调度轮次，按计算时的进度状态"
    for task_id, status, code in statuses:
        for unit_id in responsible.get(task_id, []):
            schedule = facts[unit_id][Indicator.ON_SCHEDULE]
            if status and status != "unscheduled":
                schedule.denominator += 1
                if status in ON_TRACK:
                    schedule.numerator += 1
                else:
                    _note(schedule, "task", task_id, f"{code}（{'逾期' if status == 'overdue' else '滞后'}）")
            if status == "overdue":
                overdue = facts[unit_id][Indicator.OVERDUE]
                overdue.count += 1
                _note(overdue, "task", task_id, code)

    # 到期任务销号率: due by the end, filed by the end and not reopened by a rebound since
    filed: dict[int, dt.datetime] = {}
    for task_id, at in (Closeout.objects.filter(task__campaign=campaign, status=CloseoutStatus.FILED, filed_at__lt=high)
                        .values_list("task_id", "filed_at")):
        filed[task_id] = max(at, filed.get(task_id, at))
    for task_id, at in (LookBackCheck.objects.filter(task__campaign=campaign, result=CheckResult.REBOUND,
                                                     checked_at__lt=high).values_list("task_id", "checked_at")):
        if task_id in filed and at > filed[task_id]:
            del filed[task_id]
    # Tasks entered as already closed (已销号 before the platform, no close-out on record) count as filed.
    entered_closed = set(Task.objects.filter(campaign=campaign, status=TaskStatus.CLOSED)
                         .exclude(pk__in=Closeout.objects.values("task_id")).values_list("pk", flat=True))
    for task_id, code in (Task.objects.filter(campaign=campaign, deadline__lte=end,
                                              deadline_kind__in=[DeadlineKind.BY_DATE, DeadlineKind.IMMEDIATE])
                          .exclude(status=TaskStatus.DRAFT).values_list("pk", "code")):
        for unit_id in responsible.get(task_id, []):
            fact = facts[unit_id][Indicator.CLOSEOUTS]
            fact.denominator += 1
            if task_id in filed or task_id in entered_closed:
                fact.numerator += 1
            else:
                _note(fact, "task", task_id, f"{code}（到期未销号）")

    # 被督办: rungs aimed at the unit, 通报 and up
    for pk, unit_id, number, rung in (
            Escalation.objects.filter(task__campaign=campaign, issued_at__gte=low, issued_at__lt=high,
                                      target_unit_id__in=list(facts)).exclude(rung=Rung.WARNING)
            .values_list("pk", "target_unit_id", "doc_number", "rung").order_by("pk")):
        fact = facts[unit_id][Indicator.ESCALATIONS]
        fact.count += 1
        _note(fact, "escalation", pk, f"{Rung(rung).label} {number}")

    # 回头看反弹
    for pk, task_id, code in (LookBackCheck.objects.filter(task__campaign=campaign, result=CheckResult.REBOUND,
                                                           checked_at__gte=low, checked_at__lt=high)
                              .values_list("pk", "task_id", "task__code").order_by("pk")):
        for unit_id in responsible.get(task_id, []):
            fact = facts[unit_id][Indicator.REBOUNDS]
            fact.count += 1
            _note(fact, "lookback_check", pk, code)

    # 追责问责: a count only
    for unit_id, n in closed_with_outcome_by_unit(campaign, start, end).items():
        if unit_id in facts:
            facts[unit_id][Indicator.CASES].count += n

    return units, facts, {"status_source": source, "round": rnd.pk if rnd else None}
