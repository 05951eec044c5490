"""The battle map and board (挂图作战): the page, its data endpoint and the map geometry. Thin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from rectify.dashboard import selectors
from rectify.dashboard.scope import sees_board


def _require_board(user) -> None:
    if not sees_board(user):
        raise Http404("无权查看挂图作战")


@login_required
@require_GET
def board(request):
    _require_board(request.user)
    measure = request.GET.get("measure", "overdue")
    data = selectors.board_data(request.user, today=timezone.localdate(), measure=measure)
    limited = request.user.role == "leader"
    return render(request, "dashboard/board.html", {"data": data, "measures": selectors.MEASURES.items(),
                                                    "limited": limited,
                                                    "led": selectors.led_tasks(request.user) if limited else None})


@login_required
@require_GET
def board_data(request):
    """The board's figures as JSON (the page's refresh, the wall screen, other clients)."""
    _require_board(request.user)
    data = selectors.board_data(request.user, today=timezone.localdate(), measure=request.GET.get("measure", ""))
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def region_geo(request, code: str):
    _require_board(request.user)
    return _geo(code, selectors.region_code(selectors.counties_for(request.user)))


def _geo(code: str, allowed: str):
    geo = selectors.region_geojson(code) if code == allowed else None
    if geo is None:
        raise Http404("没有该行政区的地图数据")
    response = JsonResponse(geo, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})
    response["Cache-Control"] = "private, max-age=86400"
    return response


def home(request):
    """Each role's landing page (/): the office and the city leaders the board; a lead unit and a
    responsible unit what waits for them; the discipline commission its case workspace; the security
    auditor the audit record."""
    from django.shortcuts import redirect

    from rectify.core.roles import UNIT_ROLES, Role

    role = getattr(request.user, "role", "")
    if not request.user.is_authenticated:
        return redirect("orgs:login")
    if sees_board(request.user):
        return redirect("dashboard:board")
    if role == Role.DISCIPLINE:
        return redirect("accountability:workspace")
    if role == Role.AUDITOR:
        return redirect("audit:list")
    if role == Role.SUPERVISOR or role in UNIT_ROLES:
        return redirect("dashboard:work")
    return redirect("ledger:task_list")


@login_required
@require_GET
def work(request):
    """我的工作: a lead unit's decisions waiting, a responsible unit's reports due, returned reports and
    rungs to answer; its tasks by status."""
    from rectify.core.roles import UNIT_ROLES, Role
    from rectify.dashboard.work import work_items

    if request.user.role not in (Role.SUPERVISOR, *UNIT_ROLES):
        raise Http404("该页面面向牵头督导单位和责任单位")
    return render(request, "dashboard/work.html", {"w": work_items(request.user)})
