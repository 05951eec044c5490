"""Who sees and changes reserve projects (项目储备库).

| who | sees | acts |
| --- | --- | --- |
| office staff and admins | projects of offices in their tree | create, edit, move the stage, import, record progress and performance |
| a county or department (reporter, reviewer, supervisor) | projects it is responsible for or located in its county | record progress (responsible unit only) |
| city leaders | projects in their counties | nothing |
| discipline commission, auditor, others | nothing | nothing |
"""

from __future__ import annotations

from typing import Any

from rectify.core.roles import Role, is_active_user, is_office
from rectify.orgs.scope import in_tree


def _active(user: Any) -> bool:
    return bool(is_active_user(user))


def visible_projects(qs, user):
    if not _active(user):
        return qs.none()
    if is_office(user):
        return qs.filter(in_tree("office", user.unit))
    if user.role == Role.LEADER:
        from rectify.orgs.models import LeaderAssignment

        counties = LeaderAssignment.objects.filter(leader=user, county__isnull=False).values("county_id")
        return qs.filter(county_id__in=counties)
    if user.role in {Role.REPORTER, Role.REVIEWER, Role.SUPERVISOR} and user.unit_id:
        return qs.filter(in_tree("responsible_unit", user.unit) | in_tree("county", user.unit))
    return qs.none()


def actionable_projects(qs, user, action: str):
    if action in {"edit", "stage", "performance"}:
        return qs.filter(in_tree("office", user.unit)) if _active(user) and is_office(user) else qs.none()
    if action == "progress":
        if not _active(user):
            return qs.none()
        if is_office(user):
            return qs.filter(in_tree("office", user.unit))
        if user.role in {Role.REPORTER, Role.REVIEWER} and user.unit_id:
            return qs.filter(in_tree("responsible_unit", user.unit))
        return qs.none()
    raise ValueError(f"unknown project action {action!r}")


def runs_reserve(user: Any) -> bool:
    return _active(user) and is_office(user)


def moves_stage(user: Any, project: Any) -> bool:
    from rectify.reserve.models import Project

    return Project.objects.actionable_by(user, "stage").filter(pk=project.pk).exists()



def visible_project_evidence(qs, user):
    """A progress report's files: seen by whoever sees the project."""
    from rectify.reserve.models import Project

    return qs.filter(progress__project__in=visible_projects(Project.objects.all(), user).values("pk"))


def progress_projects_of_round(user: Any, rnd: Any):
    """Projects of the round's office whose progress this user reports in the round (on the round page)."""
    from rectify.reserve.models import Project

    return actionable_projects(Project.objects.all(), user, "progress").filter(office_id=rnd.office_id)


REPORTING_STAGES = ("preparation", "construction")  # 前期, 在建: the stages whose progress each round collects


def rounds_for_project(project: Any):
    """The dispatch rounds a project's progress may be reported in: its office's open rounds (the
    project is reached through ``visible_projects`` first; the round follows from it)."""
    from rectify.dispatch.models import DispatchRound, RoundStatus

    return DispatchRound.objects.filter(office_id=project.office_id, status=RoundStatus.OPEN)
