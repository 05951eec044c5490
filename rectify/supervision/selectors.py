"""Scoped reads of escalations."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from rectify.supervision.models import Escalation, EscalationStatus


def escalation_board(user, *, status: str = "", rung: str = "", task: int | None = None,
                     today: dt.date | None = None) -> QuerySet:
    """督办台账 for pages and API: open ones with an overdue reply first, then open, replied, closed."""
    today = today or timezone.localdate()
    qs = (Escalation.objects.visible_to(user)
          .select_related("task", "target_unit", "issuing_unit", "issued_by", "replied_by")
          .annotate(rank=Case(
              When(status=EscalationStatus.OPEN, reply_due__lt=today, then=Value(0)),
              When(status=EscalationStatus.OPEN, then=Value(1)),
              When(status=EscalationStatus.REPLIED, then=Value(2)),
              default=Value(3), output_field=IntegerField()))
          .order_by("rank", "reply_due", "-issued_at", "-id"))
    if status:
        qs = qs.filter(status=status)
    if rung:
        qs = qs.filter(rung=rung)
    if task:
        qs = qs.filter(task_id=task)
    return qs
