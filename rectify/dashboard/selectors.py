"""The battle map's and board's figures (挂图作战), read in the user's scope.

Every figure is a grouped query over ``Task.objects.visible_to(user)`` (the ledger's own scope):
counts by derived status, by county (a task counts for each county where one of its responsible
units lies, as the ledger's county filter counts it), by lead unit, and per round from the round
snapshots. A fixed number of queries whatever the ledger's size; no loop over tasks.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from typing import Any

from django.core.cache import caches
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When
from django.urls import reverse
from django.utils.http import urlencode

from rectify.assessment.models import OPEN_HELP, HelpRequest
from rectify.closeout.models import Objection, ObjectionStatus
from rectify.core.roles import is_office
from rectify.dashboard.geo import GeoError, load_region_geojson
from rectify.dashboard.models import ROUND_TOTAL, BoardFact, FactKind, RoundTally
from rectify.dashboard.scope import board_counties, listed_ids, of_tasks, on_board_tasks, sees_board
from rectify.dispatch.models import DispatchRound
from rectify.indicators.selectors import county_attainment
from rectify.ledger.models import Campaign, Task
from rectify.ledger.progress import STATUS_LABELS, ProgressStatus
from rectify.ledger.scope import leader_parts, sees_every_task, whole_categories
from rectify.orgs.models import Unit
from rectify.supervision.models import BOARD_ORDER, BOARD_RANKS, Escalation, EscalationStatus, StatusSnapshot

MEASURES = {
    "overdue": "逾期任务数",
    "lagging": "滞后任务数",
    "on_schedule_share": "序时推进占比（%）",
    "closeout_share": "已完成（销号）占比（%）",
    "attainment": "目标指标达标率（%）",
}
STATUS_ORDER = [ProgressStatus.OVERDUE, ProgressStatus.LAGGING, ProgressStatus.NOT_REPORTED, ProgressStatus.ON_SCHEDULE,
                ProgressStatus.LONG_TERM, ProgressStatus.CLOSED, ProgressStatus.UNSCHEDULED]
STATUS_COLOURS = {"overdue": "#c62828", "lagging": "#f9a825", "on_schedule": "#2e7d32", "long_term": "#1565c0",
                  "closed": "#607d8b", "unscheduled": "#bdbdbd", "not_reported": "#8d6e63", "": "#e0e0e0"}
DEADLINE_DAYS = 60
LIST_LIMIT = 12
ROUNDS = 6
MATERIALISE_BELOW = 5000  # visible tasks read once as ids below this many (bench/board.py)
BOARD_CACHE_SECONDS = 600  # an unchanged chain keeps a user's figures this long (memory is the bound)


def board_tasks(user) -> QuerySet:
    return Task.objects.visible_to(user)


def counties_for(user) -> list[Unit]:
    return list(board_counties(Unit.objects.all(), user).order_by("sort_order", "id"))


def county_rows(user) -> list[Any]:
    """The board's counties as named rows (pk, name, short_name, region_code): a province's 2,000
    and more are read without building a model instance each (29 → 4 ms at 100,000 tasks)."""
    return list(board_counties(Unit.objects.all(), user).order_by("sort_order", "id")
                .values_list("pk", "name", "short_name", "region_code", named=True))


def region_code(counties: list[Unit]) -> str:
    """The prefecture whose map to draw: that of the counties' GB/T 2260 codes (4311xx → 431100)."""
    codes = sorted({u.region_code[:4] + "00" for u in counties if len(u.region_code) == 6})
    return codes[0] if codes else ""


def ledger_url(**params: Any) -> str:
    return _ledger_path() + "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


@functools.cache
def _ledger_path() -> str:
    return reverse("ledger:task_list")  # once: a province's board links thousands of rows


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def status_counts(*parts: QuerySet, sectors: list[str] | None = None) -> dict[str, int]:
    """Tasks by derived status: one GROUP BY per part (disjoint sets of tasks, summed), and one for
    the ``sectors``' tasks (whole categories: see scope_parts). Grouped by category and status, the
    order of task_category_progress_idx, so that the sectors (a category range) are counted from
    that index alone, with no sort; summed over the categories. COUNT(*), not COUNT(id): the id is
    not in that index, and PostgreSQL read every task's row for it (a province's statuses at 100,000
    tasks: a 72 ms parallel scan of the table against 21 ms from the index alone)."""
    counts: Counter[str] = Counter()
    for tasks in [*parts, *([Task.objects.filter(category__in=sectors)] if sectors else [])]:
        for _category, status, n in tasks.order_by().values("category", "progress_status").annotate(
                n=Count("*")).values_list("category", "progress_status", "n"):
            counts[status] += n
    return dict(counts)


def scope_parts(tasks: QuerySet, areas: tuple[list[str], QuerySet] | None, *, large: bool
                ) -> tuple[list[str], list[QuerySet]]:
    """The board's tasks as a leader's sectors (分管领域: whole categories, every task of which it
    sees, counted by category from indexes with no scope to evaluate) and disjoint parts of tasks:
    ``tasks`` itself for a scope listed as ids or the whole ledger; for a scope too large to list, the
    rest of it (its own and its counties' tasks outside its sectors: ledger.scope.whole_categories;
    anyone else's: all of it) listed once as ids and read by key. Grouped over its condition,
    SQLite walked the whole ledger in status order to skip the sort (a sector leader's 29,340 of
    100,000 tasks: 138 ms); over its ids, 37 ms; by category, 2 ms (docs/performance.md)."""
    if not large:
        return [], [tasks]
    sectors, rest = areas or ([], tasks)
    return sectors, [rest if listed_ids(rest) is not None else Task.objects.filter(pk__in=rest.order_by().values("pk"))]


def county_status_counts(tasks: QuerySet, counties: list[Any]) -> dict[int, dict[str, int]]:
    """Per county and status, the tasks one of whose responsible units lies in the county (counted
    once per county, as the ledger's county filter counts them): one GROUP BY over the board facts
    (dashboard.facts), read from their (kind, unit, status) index. Counted from the task units it
    was a join of each with its unit's path and its task: 780 ms for a province office at 100,000
    tasks (docs/performance.md, goal 6).

    ``counties`` are the board's (dashboard.scope.board_counties), and every task with a
    responsible unit in one of them is in the board's scope: an office sees the tasks involving a
    unit of its tree, a leader those of its counties (包县市区). So the facts of those counties are
    read as they are, not tested against ``tasks`` (a sector leader's 29,340 tasks at 100,000: the
    scope evaluated once more for three counties' few thousand facts); tests/test_board.py checks
    every county's figures against the ledger's county filter in the user's scope."""
    result: dict[int, dict[str, int]] = {c.pk: {} for c in counties}
    facts = BoardFact.objects.filter(kind=FactKind.COUNTY)
    if tasks.query.has_filters():  # the whole ledger (a province office) needs no list of its counties
        facts = facts.filter(unit_id__in=list(result))
    for unit_id, status, n in facts.values("unit_id", "status").annotate(n=Count("*")).order_by().values_list(
            "unit_id", "status", "n"):
        if unit_id in result:
            result[unit_id][status] = n
    return result


def lead_unit_counts(*parts: QuerySet, sectors: list[str] | None = None, limit: int = 20) -> list[dict]:
    """Per lead supervising unit (牵头督导单位) and status, the ``limit`` units with most tasks, most
    first: one GROUP BY over the board facts per part of the scope and one for the ``sectors``
    (disjoint: see scope_parts), then the names of those units alone."""
    by_unit: dict[int, dict[str, int]] = {}
    queries: list[QuerySet] = []
    for tasks in parts:
        facts = BoardFact.objects.filter(kind=FactKind.LEAD)
        if tasks.query.has_filters():
            # Some of the ledger: read the facts by task (the unique index), not every lead fact in the
            # (kind, unit, status) order SQLite prefers for its GROUP BY (a city office at 100,000
            # tasks: 94 → 3 ms). ``kind + 0`` is not an indexed column, so that index is out of reach.
            facts = BoardFact.objects.alias(fact_kind=F("kind") + 0).filter(fact_kind=FactKind.LEAD)
        queries.append(of_tasks(facts, tasks).values("unit_id", "status"))
    if sectors:
        # Whole categories: a range of boardfact_kind_category, no task read (29,340 tasks: 38 → 7 ms),
        # grouped by category too, that index's order, so that it is read alone with no sort (grouped
        # by unit and status, SQLite walked the (kind, unit, status) index reading each fact's row for
        # its category: 64 ms); summed over the categories below.
        queries.append(BoardFact.objects.filter(kind=FactKind.LEAD, category__in=sectors)
                       .values("category", "unit_id", "status"))
    for grouped in queries:
        for unit_id, status, n in grouped.annotate(n=Count("*")).order_by().values_list("unit_id", "status", "n"):
            counts = by_unit.setdefault(unit_id, {})
            counts[status] = counts.get(status, 0) + n
    totals = {pk: sum(st.values()) for pk, st in by_unit.items()}
    if len(totals) > limit:  # every unit tied with the last one shown, so that the name decides as before
        floor = sorted(totals.values(), reverse=True)[limit - 1]
        totals = {pk: n for pk, n in totals.items() if n >= floor}
    names = {pk: short or name for pk, name, short in
             Unit.objects.filter(pk__in=list(totals)).order_by().values_list("pk", "name", "short_name")}
    units = [{"id": pk, "name": names.get(pk, ""), "by_status": by_unit[pk], "total": total,
              "url": ledger_url(lead=pk)} for pk, total in totals.items()]
    return sorted(units, key=lambda u: (-u["total"], u["name"]))[:limit]


def round_progress(user, tasks: QuerySet, areas: tuple[list[str], QuerySet] | None = None) -> dict:
    """Status of the visible tasks (``tasks``: the user's board tasks) at the end of each of the
    last months' rounds (their snapshots). ``areas``: a leader's whole categories and the rest of
    its scope (ledger.scope.whole_categories), when already read.

    A month is a column: a province's offices each open their own round of the month (200 cities:
    200 rounds of 2026-10), summed into it."""
    # An office's rounds are those of its tree. Anyone else's (a leader's) are the rounds of the
    # offices whose campaigns hold the visible tasks: DispatchRound.visible_to asks for a report of a
    # visible task, which read every report of the ledger (500 ms at 25,000 tasks). Snapshots are
    # counted for the visible tasks alone either way.
    categories: list[str] = []
    rest = tasks
    if is_office(user):
        rounds_qs = DispatchRound.objects.visible_to(user)
    else:
        categories, rest = areas or whole_categories(Task.objects.all(), user)
        # read once (a few hundred offices at most): as a subquery each of the three queries below
        # evaluated the leader's scope again (10 ms each for 29,340 tasks). A sector's campaigns are
        # found per campaign, one probe for a task of those categories (800 campaigns at 100,000
        # tasks: 4 ms), the rest of the scope's from its tasks.
        holding = Q(pk__in=(rest if categories else tasks).order_by().values("campaign_id"))
        if categories:
            holding |= Q(Exists(Task.objects.filter(campaign=OuterRef("pk"), category__in=categories)))
        offices = set(Campaign.objects.filter(holding).values_list("office_id", flat=True))
        rounds_qs = DispatchRound.objects.filter(office__in=offices)
    # a round with snapshots has tallies (dashboard.facts): EXISTS per round, one probe of their index,
    # not a join de-duplicated with DISTINCT over every snapshot (600,000 at 25,000 tasks: 166 ms)
    periods = list(rounds_qs.filter(Exists(RoundTally.objects.filter(round=OuterRef("pk"))))
                   .order_by("-period").values_list("period", flat=True).distinct()[:ROUNDS])
    periods.reverse()
    counts: Counter[tuple[str, str]] = Counter()

    def add(rows) -> None:
        for period, status, n in rows:
            counts[(period, status)] += n

    if periods:
        rounds = rounds_qs.filter(period__in=periods).order_by().values("pk")
        tallies = None
        if not tasks.query.has_filters():  # every task (an office at the top): the rounds' totals
            tallies = RoundTally.objects.filter(round__in=rounds, category=ROUND_TOTAL)
        else:
            if categories:  # a leader's sectors, whole categories: their tallies
                tallies = RoundTally.objects.filter(round__in=rounds, category__in=categories)
            # The rest, snapshot by snapshot. An office's rounds are its tree's (a city: six), each
            # probed for the tasks through the (round, task) index. A leader's span the offices of a
            # province (1,200 rounds in six months): the same plan was 35 million probes (5.5 s at
            # 100,000 tasks), so each task's snapshots are read instead (``round_id + 0`` is not
            # that index).
            in_rounds = (StatusSnapshot.objects.filter(round__in=rounds) if is_office(user) else
                         StatusSnapshot.objects.alias(round_key=F("round_id") + 0).filter(round_key__in=rounds))
            add(of_tasks(in_rounds, rest).values_list("round__period", "status").annotate(n=Count("id")).order_by())
        if tallies is not None:
            add(tallies.values_list("round__period", "status").annotate(n=Sum("n")).order_by())
    return {"periods": periods,
            "series": [{"status": s.value, "name": STATUS_LABELS[s], "colour": STATUS_COLOURS[s.value],
                        "data": [counts.get((p, s.value), 0) for p in periods]} for s in STATUS_ORDER]}


def _count(qs: QuerySet, rows: list, limit: int) -> int:
    """The list's total: the rows themselves when fewer than the limit came back, else a bare count."""
    return len(rows) if len(rows) < limit else qs.order_by().count()


def upcoming_deadlines(tasks: QuerySet, today: dt.date) -> dict:
    window = tasks.filter(deadline__gte=today, deadline__lte=today + dt.timedelta(days=DEADLINE_DAYS)).exclude(
        progress_status=ProgressStatus.CLOSED)
    rows = list(window.order_by("deadline", "id").values("pk", "code", "title", "deadline", "progress_status",
                                                            "warning_colour")[:LIST_LIMIT * 2])
    return {"count": _count(window, rows, LIST_LIMIT * 2), "days": DEADLINE_DAYS,
            "url": ledger_url(deadline_from=today.isoformat(),
                              deadline_to=(today + dt.timedelta(days=DEADLINE_DAYS)).isoformat(), sort="deadline"),
            "rows": [{"id": r["pk"], "code": r["code"], "title": r["title"], "deadline": r["deadline"].isoformat(),
                      "days": (r["deadline"] - today).days, "status": STATUS_LABELS.get(r["progress_status"], ""),
                      "colour": r["warning_colour"], "url": reverse("ledger:task_detail", args=[r["pk"]])}
                     for r in rows]}


def open_escalations(user, today: dt.date, tasks: QuerySet | None = None, *, per_row: bool = False) -> dict:
    """Open rungs of the ladder in the 督办台账's order (supervision.selectors.escalation_board):
    replies overdue first (the earliest dates), then by reply date, those without one (automatic
    warnings) last, newest first among equals — the same on both databases, read from the board's
    index. ``per_row``: see dashboard.scope.of_tasks."""
    qs = on_board_tasks(Escalation.objects.all(), user, tasks if tasks is not None else board_tasks(user),
                        per_row=per_row)
    qs = qs.filter(status=EscalationStatus.OPEN, board_rank__range=BOARD_RANKS[EscalationStatus.OPEN])
    rows = list(qs.select_related("task", "target_unit").order_by(*BOARD_ORDER)[:LIST_LIMIT])
    if len(rows) < LIST_LIMIT:
        count, overdue = len(rows), sum(1 for e in rows if e.reply_due and e.reply_due < today)
    else:
        totals = qs.order_by().aggregate(n=Count("id"), late=Count("id", filter=Q(reply_due__lt=today)))
        count, overdue = totals["n"], totals["late"]
    return {"count": count, "overdue": overdue,
            "url": reverse("supervision:board"),
            "rows": [{"id": e.pk, "rung": e.get_rung_display(), "task": f"{e.task.code} {e.task.title}",
                      "unit": e.target_unit.short_name or e.target_unit.name,
                      "reply_due": e.reply_due.isoformat() if e.reply_due else "",
                      "overdue": bool(e.reply_due and e.reply_due < today),
                      "url": reverse("supervision:detail", args=[e.pk])} for e in rows]}


def open_help_requests(user) -> dict:
    qs = HelpRequest.objects.visible_to(user).filter(status__in=OPEN_HELP)
    rows = list(qs.select_related("task", "unit").order_by("created_at", "id")[:LIST_LIMIT])
    return {"count": _count(qs, rows, LIST_LIMIT), "url": reverse("assessment:help_list"),
            "rows": [{"id": h.pk, "unit": h.unit.short_name or h.unit.name, "task": h.task.code,
                      "needs": h.needs[:80], "status": h.get_status_display(),
                      "url": reverse("assessment:help", args=[h.pk])} for h in rows]}


def open_objections(user, tasks: QuerySet | None = None, *, per_row: bool = False) -> dict:
    qs = on_board_tasks(Objection.objects.all(), user, tasks if tasks is not None else board_tasks(user),
                        task_field="closeout__task", per_row=per_row).filter(status=ObjectionStatus.OPEN)
    rows = list(qs.select_related("closeout__task").order_by("submitted_at", "id")[:LIST_LIMIT])
    return {"count": _count(qs, rows, LIST_LIMIT),
            "rows": [{"id": o.pk, "receipt": o.receipt, "task": o.closeout.task.code, "content": o.content[:80],
                      "url": reverse("closeout:detail", args=[o.closeout_id])} for o in rows]}


def indicator_standings(user) -> list[dict]:
    """The targets (目标指标) and where each stands at its latest period."""
    from rectify.indicators.selectors import counties as all_counties
    from rectify.indicators.selectors import indicator_queryset, standings

    inds = list(indicator_queryset(user)[:LIST_LIMIT])
    st = standings(inds, all_counties()) if inds else {}
    return [{"id": i.pk, "name": i.name, "target": i.target_text, "period": st[i.pk].period,
             "attainment": str(st[i.pk].attainment), "met": st[i.pk].met, "regions": st[i.pk].total - st[i.pk].no_data,
             "url": reverse("indicators:detail", args=[i.pk])} for i in inds]


def county_figures(user, tasks: QuerySet, counties: list[Any]) -> list[dict]:
    by_county = county_status_counts(tasks, counties)
    attained = county_attainment(user, [c.pk for c in counties])
    rows = []
    for c in counties:
        st = by_county.get(c.pk, {})
        total = sum(st.values())
        scheduled = sum(st.get(s, 0) for s in ("on_schedule", "lagging", "overdue", "not_reported"))
        met, measured = attained.get(c.pk, (0, 0))
        rows.append({
            "id": c.pk, "name": c.name, "short": c.short_name or c.name, "code": c.region_code, "total": total,
            "by_status": st, "overdue": st.get("overdue", 0), "lagging": st.get("lagging", 0),
            "on_schedule_share": _share(st.get("on_schedule", 0), scheduled),
            "closeout_share": _share(st.get("closed", 0), total),
            "attainment": _share(met, measured), "attainment_met": met, "attainment_total": measured,
            "url": f"{_ledger_path()}?county={c.pk}"})  # as ledger_url(county=…), for thousands of rows
    return rows


def board_data(user, *, today: dt.date, measure: str = "overdue") -> dict:
    """Everything the board and the map show, for this user's scope.

    Kept per user under the audit chain's head (``caches["board"]``, as the portal's pages): every
    write a figure depends on — a task, a report, a status flip, a unit, a user's scope — records
    its event in the transaction that commits it, so the chain's length and last hash move exactly
    when a figure may have. A wall screen and the page's minute refresh then cost one indexed query
    instead of the scope's grouped counts (1.9 s for a province office at 100,000 tasks). Memory of
    each process by default (the key comes from the database: nothing to invalidate), Redis where
    configured; never the database (a GET writes nothing)."""
    if not sees_board(user):
        return {}
    from rectify.core.audit import chain_head

    seq, digest = chain_head()
    key = f"figures:{seq}:{digest[:16]}:{user.pk}:{today.isoformat()}"
    store = caches["board"]
    figures = store.get(key)
    if figures is None:
        figures = _board_figures(user, today=today)
        store.set(key, figures, BOARD_CACHE_SECONDS)
    return {**figures, "measure": measure if measure in MEASURES else "overdue"}


def _board_figures(user, *, today: dt.date) -> dict:
    counties = county_rows(user)
    tasks, areas, large = _board_scope(user)
    sectors, parts = scope_parts(tasks, areas, large=large)
    statuses = status_counts(*parts, sectors=sectors)
    total = sum(statuses.values())
    return {
        "today": today.isoformat(),
        "measures": MEASURES,
        "region": region_code(counties),
        "total": total,
        "statuses": [{"status": s.value, "name": STATUS_LABELS[s], "count": statuses.get(s.value, 0),
                      "colour": STATUS_COLOURS[s.value], "url": ledger_url(progress_status=s.value)}
                     for s in STATUS_ORDER] + ([{"status": "", "name": "未计算", "count": statuses[""],
                                                 "colour": STATUS_COLOURS[""], "url": ledger_url()}]
                                                if statuses.get("") else []),
        "counties": county_figures(user, tasks, counties),
        "lead_units": lead_unit_counts(*parts, sectors=sectors),
        "rounds": round_progress(user, tasks, areas),
        "deadlines": upcoming_deadlines(tasks, today),
        "escalations": open_escalations(user, today, tasks, per_row=large),
        "help_requests": open_help_requests(user),
        "objections": open_objections(user, tasks, per_row=large),
        "indicators": indicator_standings(user),
    }


def _board_scope(user) -> tuple[QuerySet, tuple[list[str], QuerySet] | None, bool]:
    """The board's tasks; a leader's sectors (whole categories) and the rest of its scope, read once
    for three figures; and whether the scope is too large to list (the open escalations and
    objections then test it per row)."""
    if sees_every_task(user):
        # The whole ledger (the only top office): each figure reads its own table whole, with no
        # semi-join against every task id (dashboard.scope.of_tasks), which SQLite had listed once
        # per figure (a province's first view at 100,000 tasks: 1.5 -> 1.2 s; at 25,000: 0.4 -> 0.27 s).
        return Task.objects.all(), None, False
    parts = None if is_office(user) else leader_parts(user, at_most=MATERIALISE_BELOW)
    if parts is not None:
        # A leader whose rest of scope is small (a few hundred tasks beside its sectors' thousands):
        # that rest listed once as ids from its parts' indexes, the sectors' tasks by category. As
        # the scope's one condition PostgreSQL misestimated it, scanned the ledger to list it and
        # tested it again per escalation (a sector leader's first view at 100,000 tasks: 220 ms).
        room = MATERIALISE_BELOW - len(parts.rest_ids)
        sector_ids = list(Task.objects.filter(category__in=parts.sectors).order_by()
                          .values_list("pk", flat=True)[:room + 1]) if parts.sectors else []
        areas = (parts.sectors, parts.rest())
        if len(sector_ids) <= room:
            return Task.objects.filter(pk__in=parts.rest_ids + sector_ids), areas, False
        return parts.tasks(), areas, True
    tasks: QuerySet = board_tasks(user)
    # A scope that is a small part of a large ledger (a city office in a province, a leader) costs a
    # scan of the ledger per query: read its ids once (stopping past the limit) and let every
    # grouped query start from them.
    ids = list(tasks.order_by().values_list("pk", flat=True)[:MATERIALISE_BELOW + 1])
    large = len(ids) > MATERIALISE_BELOW
    if not large:
        tasks = Task.objects.filter(pk__in=ids)
    return tasks, (None if is_office(user) else whole_categories(Task.objects.all(), user)), large


def led_tasks(user) -> dict:
    """A city leader's own tasks (责任领导), worst first."""
    qs = board_tasks(user).filter(leader=user)
    rank = Case(*[When(progress_status=s.value, then=Value(i)) for i, s in enumerate(STATUS_ORDER)], default=Value(9),
                output_field=IntegerField())
    rows = list(qs.order_by(rank, "deadline", "id").values("pk", "code", "title", "deadline", "progress_status",
                                                          "warning_colour")[:LIST_LIMIT * 2])
    return {"count": qs.order_by().count(),
            "rows": [{**r, "status": STATUS_LABELS.get(r["progress_status"], ""),
                      "url": reverse("ledger:task_detail", args=[r["pk"]])} for r in rows]}


def region_geojson(code: str) -> dict | None:
    try:
        return load_region_geojson(code) if code else None
    except GeoError:
        return None



