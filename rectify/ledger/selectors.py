"""Scoped reads of the ledger. A list page costs the same few queries whatever its size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from rectify.core.models import Event
from rectify.core.paging import exact_count_cap, subquery_count
from rectify.ledger import hooks, search, tally
from rectify.ledger.models import Campaign, ListPreference, Measure, Task, TaskStatus, TaskUnit, UnitRole
from rectify.ledger.scope import my_county_prefixes, other_tops
from rectify.ledger.services import FROZEN_STAGES
from rectify.orgs.models import Unit
from rectify.orgs.scope import in_any_tree, in_tree

# Each sort ends on a unique key (pages never overlap) and is the order of an index
# (Task.Meta.indexes), so page 1 reads 50 rows, not the ledger.
SORTS = {
    # the list's default: worst warning first (red, yellow, blue, none; undated last within a
    # colour), then the nearest deadline: an office's working order (task_warning_idx)
    "warning": ("warning_rank", "deadline", "code", "id"),
    "code": ("campaign_id", "code"),  # task_code_unique_in_campaign
    "-code": ("-campaign_id", "-code"),
    "deadline": ("deadline", "code", "id"),  # task_deadline_idx
    "-deadline": ("-deadline", "-code", "-id"),
    "updated": ("updated_at", "id"),  # task_updated_idx
    "-updated": ("-updated_at", "-id"),
    "title": ("title", "id"),  # task_title_idx
    # worst first: red, yellow, blue, none; then the furthest behind (实际进度, none first), dated
    # before undated, then the nearest deadline (task_colour_order_idx over the stored colour_order)
    "colour": ("colour_order", "deadline", "id"),
    # the furthest behind first (实际进度, none first), dated before undated, then the nearest deadline
    # (task_progress_order_idx over the stored progress_order)
    "progress": ("progress_order", "deadline", "id"),
}


@dataclass
class TaskFilter:
    campaign: int | None = None
    category: str = ""
    unit: int | None = None
    county: int | None = None
    lead: int | None = None  # 牵头督导单位 (the battle map's per-lead-unit bars link here)
    status: str = ""
    progress_status: str = ""
    warning_colour: str = ""
    deadline_kind: str = ""
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None
    q: str = ""
    my_counties: bool = False  # only tasks of the counties the user answers for (scope.my_county_prefixes)
    sort: str = "code"


def task_queryset(user, filters: TaskFilter | None = None) -> QuerySet:
    """Tasks the user may see, filtered and sorted, with everything a list row shows."""
    f = filters or TaskFilter()
    qs = Task.objects.visible_to(user)
    if f.campaign:
        qs = qs.filter(campaign_id=f.campaign)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.progress_status:
        qs = qs.filter(progress_status=f.progress_status)
    if f.warning_colour:
        qs = qs.filter(warning_colour=f.warning_colour)
    if f.deadline_kind:
        qs = qs.filter(deadline_kind=f.deadline_kind)
    if f.deadline_from:
        qs = qs.filter(deadline__gte=f.deadline_from)
    if f.deadline_to:
        qs = qs.filter(deadline__lte=f.deadline_to)
    # Unit filters as id IN (the unit's task ids): the database starts from the unit's rows in the
    # task-unit index and sorts the few tasks it finds. As EXISTS per task it walked the ledger in
    # sort order until 50 matched: a county holding 88 of 25,000 tasks cost 80–114 ms a page.
    if f.unit:
        qs = qs.filter(pk__in=TaskUnit.objects.filter(unit_id=f.unit).values("task_id"))
    if f.lead:
        qs = qs.filter(pk__in=TaskUnit.objects.filter(unit_id=f.lead, role=UnitRole.LEAD_SUPERVISOR).values("task_id"))
    if f.county:
        county = Unit.objects.filter(pk=f.county).only("path").first()
        if county is None:
            return qs.none()
        qs = qs.filter(pk__in=TaskUnit.objects.filter(in_tree("unit", county), role=UnitRole.RESPONSIBLE)
                       .values("task_id"))
    if f.my_counties:
        prefixes = my_county_prefixes(user)
        if prefixes is not None:  # None: the user's scope already is every county they see
            if not prefixes:
                return qs.none()
            qs = qs.filter(pk__in=TaskUnit.objects.filter(in_any_tree("unit", prefixes), role=UnitRole.RESPONSIBLE)
                           .values("task_id"))
    if f.q:
        for word in keywords(f.q):
            # The bigram index narrows the rows read (ledger.search: a superset of the matches);
            # the exact test below decides, but for the words the index answers exactly. Without
            # it this was a LIKE over every task's texts.
            candidates = search.candidates(word)
            if candidates is not None:
                qs = qs.filter(candidates)
                if search.index_decides(word):  # two ideographs or digits: the index is exact
                    continue
            qs = qs.filter(Q(code__icontains=word) | Q(title__icontains=word) | Q(problem__icontains=word)
                           | Q(target__icontains=word) | Q(inspection_number__icontains=word))
    order = SORTS.get(f.sort, SORTS["code"])
    return qs.order_by(*order)


def keywords(q: str) -> list[str]:
    """The words of a keyword search that are searched (the first five)."""
    return q.split()[:5]


def task_count(user, filters: TaskFilter | None = None) -> int | None:
    """The number of tasks :func:`task_queryset` holds, read a cheaper way where one is exact; None
    otherwise (the paginator counts the list itself). Only for an office that sees every task, which
    is asked inside the same statement (ledger.scope.other_tops):

    - no filter, or the campaign alone: the tasks kept counted per campaign (ledger.tally). The
      list's count read the whole ledger (PostgreSQL: 100,000 index entries, about 10 ms);
    - a search whose every word the index decides (污水, 扬尘: search.index_decides) and no other
      filter: the keyword index alone, which has a row for each task and none for a deleted one
      (search.create_delete_trigger). The list's count read each of the word's tasks by its key
      (污水 at 100,000 tasks: 34,720 of them, 21 ms on SQLite; from the index 0.9 ms).
    """
    f = filters or TaskFilter()
    if replace(f, q="", campaign=None, sort=TaskFilter.sort) != TaskFilter():
        return None  # another filter narrows the list: it counts itself
    others = other_tops(user)
    if others is None:
        return None
    words = keywords(f.q)
    if not words:
        return tally.count_tasks_unless(others, campaign=f.campaign)
    if f.campaign or not all(search.index_decides(word) for word in words):
        return None
    terms = sorted({term for word in words for term in search.query_terms(word)})
    return search.count_unless(terms, others, cap=exact_count_cap(others.db))


def with_list_data(qs: QuerySet) -> QuerySet:
    """What a list row shows, for the rows of one page only: the leader joined, the campaign and unit
    roles prefetched, measure counts as correlated subqueries (no GROUP BY: the database stops at
    LIMIT instead of grouping the whole ledger)."""
    measures = Measure.objects.filter(task=OuterRef("pk"))
    # The campaign is prefetched (one query for the page's few campaigns), not joined: an INNER JOIN
    # lets the planner drive the query from the campaign table, read every task of the visible
    # campaigns and sort them before LIMIT, instead of walking the sort's index and stopping at 50
    # rows (at 25,000 tasks: 48 ms against under 1 ms on SQLite). The leader is a LEFT JOIN, which
    # keeps the task table first.
    return (qs.select_related("leader")
            .prefetch_related("campaign", Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")
                                       # a row shows each unit's role and name only
                                       .only("task_id", "role", "ordinal", "unit_id", "unit__name")
                                       .order_by("role", "ordinal", "id")))
            .annotate(measure_count=subquery_count(measures),
                      measures_done=subquery_count(measures.filter(done=True))))


def with_page_data(qs: QuerySet) -> QuerySet:
    """What a row of the ledger page shows, without its unit roles (:func:`unit_names` reads those
    as plain names): the leader joined, the campaign prefetched, measure counts by subquery, and
    none of the long texts (problem, target, notes) that a row does not show."""
    measures = Measure.objects.filter(task=OuterRef("pk"))
    return (qs.select_related("leader").defer("problem", "target", "progress_note", "completion_note")
            .prefetch_related("campaign")
            .annotate(measure_count=subquery_count(measures),
                      measures_done=subquery_count(measures.filter(done=True))))


def unit_names(tasks) -> dict[int, dict[str, list[str]]]:
    """The responsible and lead supervising units' names of a page of tasks, by task and role, in
    their order: one query of plain values (a page of 50 tasks holds some 250 unit roles; as model
    instances they cost more than the rest of the page's rows)."""
    names: dict[int, dict[str, list[str]]] = {}
    ids = [task.pk for task in tasks]
    if not ids:
        return names
    rows = (TaskUnit.objects.filter(task_id__in=ids, role__in=(UnitRole.RESPONSIBLE, UnitRole.LEAD_SUPERVISOR))
            .order_by("role", "ordinal", "id").values_list("task_id", "role", "unit__name"))
    for task_id, role, name in rows:
        names.setdefault(task_id, {}).setdefault(role, []).append(name)
    return names


def list_preference(user) -> ListPreference:
    """The user's list settings, or the defaults (unsaved: a GET writes nothing). One query."""
    return ListPreference.objects.visible_to(user).first() or ListPreference(user_id=user.pk)


def get_task_for_user(user, pk: int) -> tuple[Task, bool]:
    """A task and whether the user may edit it. Missing and not allowed both give 404."""
    task = (Task.objects.visible_to(user).select_related("campaign", "leader")
            .prefetch_related(Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")),
                              Prefetch("measures", queryset=Measure.objects.select_related("owner_unit")))
            .filter(pk=pk).first())
    if task is None:
        raise Http404("任务不存在或无权查看")
    # From publication of its close-out notice on, a task's content is frozen (ledger.services.FROZEN_STAGES).
    frozen = task.status == TaskStatus.CLOSED or task.closeout_stage in FROZEN_STAGES
    can_edit = not frozen and Task.objects.editable_by(user).filter(pk=pk).exists()
    return task, can_edit


def task_timeline(task: Task, user) -> QuerySet:
    """Everything that happened to a task, newest first, as this user may see it.

    Reports, evidence and escalations of a shared task are recorded on the task; the apps that own
    them say, through ``ledger.hooks.timeline_hidden``, which of those events a user may not see
    (a county sees only its own).
    """
    events = Event.objects.filter(object_type="ledger.task", object_id=str(task.pk)).order_by("-seq")
    for hidden in hooks.timeline_hidden(user=user, task=task):
        if hidden is not None:
            events = events.exclude(hidden)
    return events


def task_panels(user, task: Task) -> list[hooks.TaskPanel]:
    """The sections higher apps add to the task page, in their declared order."""
    return sorted((p for p in hooks.task_panels(user=user, task=task) if p is not None), key=lambda p: p.order)


def campaigns_for(user) -> QuerySet:
    return Campaign.objects.visible_to(user)


def get_campaign_for_user(user, pk: int, *, action: str = "view") -> Campaign:
    """A campaign the user may see (or act on); missing and not allowed both give 404."""
    campaign = Campaign.objects.actionable_by(user, action).select_related("office").filter(pk=pk).first()
    if campaign is None:
        raise Http404("整改批次不存在或无权查看")
    return campaign


def units_by_role(task: Task) -> dict[str, list[Unit]]:
    grouped: dict[str, list[Unit]] = {role: [] for role in UnitRole.values}
    for tu in task.task_units.all():
        grouped[tu.role].append(tu.unit)
    return grouped
