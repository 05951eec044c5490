"""Scoped reads of accountability cases for the workspace, the case page and the API. Everything
starts from ``AccountabilityCase.objects.visible_to``; a list costs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from rectify.accountability import scope
from rectify.accountability.models import (
    INVESTIGATION_STATES,
    AccountabilityCase,
    CaseFile,
    CaseHandler,
    CaseNote,
    CaseStatus,
    CaseTask,
    CaseUnit,
    PersonConcerned,
)
from rectify.accountability.workflows import CASE_FLOW
from rectify.core.crypto import mask_name
from rectify.core.models import Event
from rectify.core.roles import Role
from rectify.core.workflow import Transition
from rectify.ledger import hooks as ledger_hooks
from rectify.ledger.models import Task

S = CaseStatus

# Workspace tabs: (key, label, statuses). Each persona sees the tabs that hold its work first.
TABS = {
    "proposed": ("待立案", [S.PROPOSED]),
    "investigating": ("调查中", list(INVESTIGATION_STATES)),
    "reported": ("报告待审核", [S.REPORTED]),
    "reviewed": ("待移交", [S.REVIEWED]),
    "referred": ("待受理", [S.REFERRED]),
    "handling": ("办理中", [S.ACCEPTED, S.DECIDED]),
    "finished": ("已办结", [S.CLOSED, S.DECLINED, S.NOT_REFERRED]),
    "all": ("全部", []),
}
TAB_ORDER: dict[str, list[str]] = {
    Role.DISCIPLINE: ["referred", "handling", "finished", "all"],
    Role.SUPERVISOR: ["investigating", "all"],
}
DEFAULT_TABS = ["proposed", "investigating", "reported", "reviewed", "referred", "handling", "finished", "all"]


def tabs_for(user) -> list[str]:
    return TAB_ORDER.get(getattr(user, "role", ""), DEFAULT_TABS)


def case_list(user, *, tab: str = "", q: str = "") -> QuerySet:
    qs = AccountabilityCase.objects.visible_to(user)
    statuses = TABS.get(tab, ("", []))[1]
    if statuses:
        qs = qs.filter(status__in=statuses)
    if q:
        by_task = CaseTask.objects.filter(case=OuterRef("pk"), task__code__icontains=q)
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(referral_number__icontains=q)
                       | Exists(by_task))
    tasks = Subquery(CaseTask.objects.filter(case=OuterRef("pk")).values("case").annotate(n=Count("pk")).values("n"))
    persons = Subquery(PersonConcerned.objects.filter(case=OuterRef("pk")).values("case").annotate(n=Count("pk"))
                       .values("n"))
    first_task = Subquery(CaseTask.objects.filter(case=OuterRef("pk")).order_by("task_id").values("task__code")[:1])
    return (qs.select_related("office", "lead_unit", "commission")
            .prefetch_related(Prefetch("persons", queryset=PersonConcerned.objects.select_related("unit")))
            .annotate(n_tasks=tasks, n_persons=persons, first_task=first_task)
            .order_by("-created_at", "-id"))


def tab_counts(user) -> dict[str, int]:
    """How many cases each tab holds (one aggregate query)."""
    qs = AccountabilityCase.objects.visible_to(user)
    counts = qs.aggregate(**{key: Count("pk", filter=Q(status__in=statuses)) if statuses else Count("pk")
                             for key, (_label, statuses) in TABS.items()})
    return {key: counts[key] for key in TABS}


def commission_workspace(user) -> dict:
    """The commission's landing page: referrals awaiting acceptance, open cases with deadlines."""
    qs = AccountabilityCase.objects.visible_to(user).select_related("office", "lead_unit")
    awaiting = list(qs.filter(status=S.REFERRED).order_by("referred_at", "pk")[:100])
    handling = list(qs.filter(status__in=[S.ACCEPTED, S.DECIDED]).order_by("handling_due", "pk")[:100])
    return {"awaiting": awaiting, "handling": handling, "today": timezone.localdate()}


def get_case_for_user(user, pk: int) -> AccountabilityCase:
    case = (AccountabilityCase.objects.visible_to(user).select_related("office", "lead_unit", "commission",
                                                                     "created_by")
            .prefetch_related(Prefetch("unit_links", queryset=CaseUnit.objects.select_related("unit")),
                              Prefetch("task_links", queryset=CaseTask.objects.select_related(
                                  "task", "task__campaign").prefetch_related("task__task_units__unit")),
                              "leads")
            .filter(pk=pk).first())
    if case is None:
        raise Http404("案件不存在或无权查看")
    return case


def case_actions(user, case: AccountabilityCase) -> list[Transition]:
    return CASE_FLOW.available(user, case)


@dataclass
class PersonView:
    person: PersonConcerned
    name: str
    post: str


def persons_for(case: AccountabilityCase, *, masked: bool) -> list[PersonView]:
    """Persons concerned as the page shows them: in full on the case page, masked in lists."""
    rows = []
    for p in case.persons.select_related("unit"):
        rows.append(PersonView(p, mask_name(p.name) if masked else p.name,
                               ("*" * min(len(p.post), 4)) if masked and p.post else p.post))
    return rows


def masked_persons(case: AccountabilityCase) -> list[PersonView]:
    """Persons of a listed case (prefetched by :func:`case_list`), masked."""
    return [PersonView(p, mask_name(p.name), "") for p in case.persons.all()]


def notes_for(case: AccountabilityCase) -> QuerySet:
    return CaseNote.objects.filter(case=case).select_related("author", "author_unit")


def files_for(user, case: AccountabilityCase) -> QuerySet:
    return CaseFile.objects.visible_to(user).filter(case=case).select_related("uploaded_by")


def get_case_file_for_user(user, pk: int) -> CaseFile:
    stored = CaseFile.objects.visible_to(user).select_related("case").filter(pk=pk).first()
    if stored is None:
        raise Http404("文件不存在或无权查看")
    return stored


def get_person_for_user(user, pk: int) -> PersonConcerned:
    person = PersonConcerned.objects.filter(
        case__in=AccountabilityCase.objects.visible_to(user).values("pk"), pk=pk).select_related("case").first()
    if person is None:
        raise Http404("人员不存在或无权查看")
    return person


def case_history(case: AccountabilityCase) -> QuerySet:
    """The case's own record (its events), newest first."""
    return Event.objects.filter(object_type=case._meta.label_lower, object_id=str(case.pk)).order_by("-seq")


@dataclass
class LinkedTask:
    task: Task
    units: dict[str, list[str]]
    timeline: list[Event]


TIMELINE_PER_TASK = 100


def linked_tasks(user, case: AccountabilityCase) -> list[LinkedTask]:
    """The case's tasks with their timelines, read-only. Whoever sees the case reads its tasks through
    it (the commission sees no ledger otherwise); what a task's timeline hides (``ledger.hooks.
    timeline_hidden``) stays hidden. One query for every task's events, however many tasks."""
    links = list(case.task_links.all())
    condition = Q(pk__in=[])
    for link in links:
        one = Q(object_id=str(link.task_id))
        for hidden in ledger_hooks.timeline_hidden(user=user, task=link.task):
            if hidden is not None:
                one &= ~hidden
        condition |= one
    events: dict[str, list[Event]] = {}
    for event in (Event.objects.filter(condition, object_type="ledger.task")
                  .order_by("-seq")[:TIMELINE_PER_TASK * max(len(links), 1)]):
        bucket = events.setdefault(event.object_id, [])
        if len(bucket) < TIMELINE_PER_TASK:
            bucket.append(event)
    rows = []
    for link in links:
        task = link.task
        units: dict[str, list[str]] = {}
        for tu in task.task_units.all():
            units.setdefault(tu.get_role_display(), []).append(tu.unit.name)
        rows.append(LinkedTask(task, units, events.get(str(task.pk), [])))
    return rows


def handlers_for(user) -> QuerySet:
    return (scope.visible_handlers(CaseHandler.objects.all(), user)
            .select_related("user", "user__unit", "granted_by").order_by("user__username"))


def handler_candidates(user) -> QuerySet:
    from rectify.orgs.models import User

    if not scope.manages_handlers(user):
        return User.objects.none()
    return (User.objects.visible_to(user).filter(role__in=[Role.OFFICE_ADMIN, Role.OFFICE_STAFF], is_active=True,
                                                 case_handler__isnull=True)
            .exclude(pk=user.pk).select_related("unit").order_by("username"))

