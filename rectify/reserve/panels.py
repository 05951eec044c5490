"""The reserve on lower apps' pages: projects per county and stage on the board (挂图作战); projects
awaiting their progress on a dispatch round's page (``dispatch.round_panels``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from rectify.dashboard.scope import sees_board
from rectify.ledger.hooks import TaskPanel
from rectify.reserve.models import Project, Stage

BOARD_GROUPS = 2000  # (county, stage) groups read for the board: 400 counties × 5 stages


def board_reserve_panel(*, user, today: dt.date) -> TaskPanel | None:
    """项目储备库 per county × stage: counts and total investment, from one grouped query over the
    projects the user sees (bounded to BOARD_GROUPS groups; the reserve is small)."""
    if not sees_board(user):
        return None
    groups = list(Project.objects.visible_to(user).order_by()
                  .values("county_id", "county__name", "county__sort_order", "stage")
                  .annotate(n=Count("id"), total=Sum("total_investment"))
                  .order_by("county__sort_order", "county__name", "county_id", "stage")[:BOARD_GROUPS])
    if not groups:
        return None
    stages = list(Stage.choices)
    by_county: dict[int | None, dict] = {}
    totals: dict[str, dict[str, Any]] = {s: {"n": 0, "total": Decimal(0)} for s, _l in stages}
    for g in groups:
        row = by_county.setdefault(g["county_id"], {
            "id": g["county_id"], "name": g["county__name"] or "（未定县市区）",
            "cells": {s: {"n": 0, "total": Decimal(0)} for s, _l in stages}, "n": 0, "total": Decimal(0)})
        cell = row["cells"][g["stage"]] if g["stage"] in row["cells"] else None
        if cell is None:
            continue
        cell["n"], cell["total"] = g["n"], g["total"] or Decimal(0)
        row["n"] += g["n"]
        row["total"] += cell["total"]
        totals[g["stage"]]["n"] += g["n"]
        totals[g["stage"]]["total"] += cell["total"]
    rows = []
    for row in by_county.values():
        row["cells"] = [{"stage": s, **row["cells"][s]} for s, _l in stages]
        rows.append(row)
    return TaskPanel(order=60, template="reserve/_board_reserve.html", context={
        "reserve_stages": stages, "reserve_rows": rows,
        "reserve_totals": [{"stage": s, **totals[s]} for s, _l in stages],
        "reserve_n": sum(t["n"] for t in totals.values()),
        "reserve_total": sum((t["total"] for t in totals.values()), Decimal(0)),
        "reserve_partial": len(groups) >= BOARD_GROUPS})


ROUND_PROJECTS = 100  # projects listed on a round's page (counts cover all of them)


def round_reserve_panel(*, user, rnd) -> TaskPanel | None:
    """储备项目进展 on a dispatch round's page: the projects in 前期 and 在建 of the round's office whose
    progress this user reports (the office: all of them), reported for the round's month or not yet.
    One query for the rows (bounded), one for the counts."""
    from django.db.models import Exists, OuterRef, Q

    from rectify.reserve.models import ProjectProgress
    from rectify.reserve.scope import REPORTING_STAGES, progress_projects_of_round

    projects = progress_projects_of_round(user, rnd).filter(stage__in=REPORTING_STAGES).annotate(
        reported=Exists(ProjectProgress.objects.filter(project=OuterRef("pk"), period=rnd.period)))
    counts = projects.order_by().aggregate(total=Count("id"), done=Count("id", filter=Q(reported=True)))
    if not counts["total"]:
        return None
    rows = list(projects.select_related("responsible_unit").order_by("reported", "code", "id")[:ROUND_PROJECTS])
    return TaskPanel(order=40, template="reserve/_round_reserve.html", context={
        "reserve_projects": rows, "reserve_total": counts["total"], "reserve_done": counts["done"],
        "reserve_missing": counts["total"] - counts["done"], "reserve_more": counts["total"] > len(rows),
        "reserve_open": rnd.status == "open"})
