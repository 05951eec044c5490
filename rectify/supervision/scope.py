"""Who sees and acts on escalations and on the history of a task's warning colour.

Everyone who sees a task sees its escalations; reporters and reviewers see only those aimed at
their unit. The office issues any rung; a lead unit issues rungs on the tasks it leads; the
target unit (its reporters and reviewers) replies; the issuer's side (office or lead unit) closes.
Status flips (预警颜色变化) are seen with the task.
"""

from __future__ import annotations

from rectify.core.roles import QS, UNIT_ROLES, Viewer, is_active_user
from rectify.ledger.scope import leads_task, on_visible_task
from rectify.orgs.scope import in_tree, unit_within


def visible_escalations(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    queryset = queryset.filter(on_visible_task(user))
    if user.role in UNIT_ROLES:
        if user.unit is None:
            return queryset.none()
        queryset = queryset.filter(in_tree("target_unit", user.unit))
    return queryset


def issues_on(user: Viewer, task) -> bool:
    """May issue a rung of the ladder on this task (the office, or the task's lead unit)."""
    return leads_task(user, task)


def replies_to(user: Viewer, escalation) -> bool:
    return (is_active_user(user) and user.role in UNIT_ROLES
            and unit_within(escalation.target_unit, user.unit))


def closes(user: Viewer, escalation) -> bool:
    return leads_task(user, escalation.task)


def visible_flips(queryset: QS, user: Viewer) -> QS:
    return queryset.filter(on_visible_task(user))
