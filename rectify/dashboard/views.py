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
    return render(request, "dashboard/board.html", {"data": data, "measures": selectors.MEASURES.items(),
                                                    "limited": request.user.role == "leader"})


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
