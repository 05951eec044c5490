"""The landing page of a lead unit (牵头督导单位) and of a responsible unit (责任单位): what waits
for it now. Every list starts from its app's scoped selector; each is cut to a few rows with a count
and a link to the full list."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from rectify.closeout.models import Closeout, CloseoutStatus
from rectify.core.roles import UNIT_ROLES, Role
from rectify.dashboard.models import InstructionReceipt, ReceiptStatus
from rectify.dashboard.selectors import STATUS_COLOURS, STATUS_ORDER, ledger_url
from rectify.dispatch.models import ReportStatus
from rectify.dispatch.selectors import my_open_reports, report_queryset
from rectify.ledger.models import Task
from rectify.ledger.progress import STATUS_LABELS
from rectify.supervision.models import Escalation, EscalationStatus

ROWS = 10


def _cut(qs, n: int = ROWS) -> dict:
    return {"rows": list(qs[:n]), "count": qs.order_by().count()}


def tasks_by_status(user) -> list[dict]:
    counts = {r["progress_status"]: r["n"] for r in Task.objects.visible_to(user).order_by()
              .values("progress_status").annotate(n=Count("id"))}
    return [{"name": STATUS_LABELS[s], "count": counts.get(s.value, 0), "colour": STATUS_COLOURS[s.value],
             "url": ledger_url(progress_status=s.value)} for s in STATUS_ORDER if counts.get(s.value)]


def work_items(user) -> dict:
    """What a unit's user has to do: reports to write, review or decide, returned reports, rungs to
    answer or close, close-outs awaiting 核查, and its tasks by status."""
    items: dict = {"role": user.role, "tasks": tasks_by_status(user), "ledger_url": reverse("ledger:task_list")}
    items["reports"] = _cut(my_open_reports(user).exclude(status=ReportStatus.RETURNED))
    if user.role in UNIT_ROLES:
        items["returned"] = _cut(report_queryset(user).filter(status=ReportStatus.RETURNED, round__status="open"))
        items["instructions"] = _cut(InstructionReceipt.objects.visible_to(user).filter(status=ReceiptStatus.OPEN)
                                     .select_related("instruction", "instruction__leader")
                                     .order_by("-instruction__created_at", "-id"))
        items["escalations"] = _cut(Escalation.objects.visible_to(user).filter(status=EscalationStatus.OPEN)
                                    .select_related("task", "target_unit").order_by("reply_due", "id"))
    if user.role == Role.SUPERVISOR:
        led = Task.objects.actionable_by(user, "lead").values("pk")
        items["replies"] = _cut(Escalation.objects.visible_to(user).filter(status=EscalationStatus.REPLIED,
                                                                            task__in=led)
                                .select_related("task", "target_unit").order_by("replied_at", "id"))
        items["closeouts"] = _cut(Closeout.objects.visible_to(user).filter(status=CloseoutStatus.ACCEPTED, task__in=led)
                                  .select_related("task").order_by("id"))
    return items
