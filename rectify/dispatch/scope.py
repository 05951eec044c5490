"""Who sees and acts on rounds, progress reports and their evidence. Reads start from the ledger's
task scope; the predicates below are the "who" of the report and round tables in workflows.py.

| role | sees reports | may |
| --- | --- | --- |
| 整改办 | of tasks in its tree | open/close rounds of its tree; accept or return (for any task it sees) |
| 牵头督导单位 | of tasks it supervises or is involved in | accept or return reports of tasks it leads |
| 责任单位 填报员 | of its own unit (and units under it) | write, attach evidence, submit |
| 责任单位 审核员 | same | approve before it goes up (初审), or send back; never its own report |
| 市领导 | of its tasks | read |

Rounds: the office sees those of its tree; anyone else sees a round that holds a report they see.
Evidence: whoever sees the report sees its files.
"""

from __future__ import annotations

from rectify.core.roles import QS, UNIT_ROLES, Role, Viewer, is_active_user, is_office
from rectify.ledger.scope import leads_task, on_visible_task
from rectify.orgs.scope import in_tree, unit_within


def visible_reports(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    queryset = queryset.filter(on_visible_task(user))
    if user.role in UNIT_ROLES:
        if user.unit is None:
            return queryset.none()
        queryset = queryset.filter(in_tree("unit", user.unit))
    return queryset


def writes_report(user: Viewer, report) -> bool:
    """填报员 of the report's unit (or a unit above it)."""
    return is_active_user(user) and user.role == Role.REPORTER and unit_within(report.unit, user.unit)


def reviews_report(user: Viewer, report) -> bool:
    """审核员 of the report's unit (初审)."""
    return is_active_user(user) and user.role == Role.REVIEWER and unit_within(report.unit, user.unit)


def decides_report(user: Viewer, report) -> bool:
    """The office or the task's lead supervising unit accepts or returns."""
    return leads_task(user, report.task)


# --- rounds -----------------------------------------------------------------------------------


def visible_rounds(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("office", user.unit))
    from rectify.dispatch.models import ProgressReport

    return queryset.filter(pk__in=ProgressReport.objects.visible_to(user).values("round_id"))


def runs_rounds(user: Viewer) -> bool:
    """An office user: opens rounds for its office and closes those of its tree."""
    return is_office(user)


def runs_round(user: Viewer, rnd) -> bool:
    return is_office(user) and unit_within(rnd.office, user.unit)


def actionable_rounds(queryset: QS, user: Viewer, action: str) -> QS:
    if action == "view":
        return visible_rounds(queryset, user)
    if action == "run":  # close, generate the bulletin
        return queryset.filter(in_tree("office", user.unit)) if is_office(user) else queryset.none()
    raise ValueError(f"unknown round action {action!r}")


# --- evidence ---------------------------------------------------------------------------------


def visible_evidence(queryset: QS, user: Viewer) -> QS:
    from rectify.dispatch.models import ProgressReport

    return queryset.filter(report__in=ProgressReport.objects.visible_to(user).values("pk"))
