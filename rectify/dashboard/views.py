"""The battle map and board (挂图作战): the page, its data endpoint and the map geometry. Thin."""

from __future__ import annotations

import orjson
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rectify.core.paging import list_page
from rectify.core.roles import UNIT_ROLES, Role
from rectify.dashboard import hooks, selectors
from rectify.dashboard.models import DisplayToken, Instruction, InstructionReceipt
from rectify.dashboard.scope import manages_displays, sees_board
from rectify.dashboard.services import (
    issue_display_token,
    issue_instruction,
    record_instruction_action,
    revoke_display_token,
    wall_viewer,
)
from rectify.dashboard.work import work_items
from rectify.dashboard.workflows import INSTRUCTION_FLOW
from rectify.ledger.rows import escape
from rectify.ledger.selectors import get_task_for_user


def _require_board(user) -> None:
    if not sees_board(user):
        raise Http404("无权查看挂图作战")


@login_required
@require_GET
def board(request):
    _require_board(request.user)
    measure = request.GET.get("measure", "overdue")
    today = timezone.localdate()
    data = selectors.board_data(request.user, today=today, measure=measure)
    limited = request.user.role == "leader"
    panels = sorted((p for p in hooks.board_panels(user=request.user, today=today) if p is not None),
                    key=lambda p: p.order)
    return render(request, "dashboard/board.html", {"data": data, "measures": selectors.MEASURES.items(),
                                                    "limited": limited,
                                                    "county_rows": county_rows(data, limited=limited),
                                                    "figures_script": figures_script(data),
                                                    "led": selectors.led_tasks(request.user) if limited else None,
                                                    "top_panels": [p for p in panels if p.order < 50],
                                                    "bottom_panels": [p for p in panels if p.order >= 50]})


def _figures_bytes(data: dict) -> bytes:
    return orjson.dumps(data, default=DjangoJSONEncoder().default,
                        option=orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME)


def figures_script(data: dict) -> SafeString:
    """``{{ data|json_script:"board-data" }}``, written by orjson (a province's 2,159 counties
    through the standard library's encoder: 18 ms of every page view) and escaped as json_script
    escapes it, so that the JSON cannot close the element it sits in (by ``replace``: json_script's
    ``str.translate`` took 25 ms over the province's 700 KB)."""
    text = (_figures_bytes(data).replace(b"<", b"\\u003C").replace(b">", b"\\u003E")
            .replace(b"&", b"\\u0026").decode())
    return mark_safe(f'<script id="board-data" type="application/json">{text}</script>')  # noqa: S308 - escaped above


def county_rows(data: dict, *, limited: bool) -> SafeString:
    """The county table's ``<tr>`` elements (县市区明细), written in Python as the ledger's rows are
    (ledger/rows.py): a province's 2,159 counties through ``{% for %}`` cost 75 ms of a page view."""
    counties = data.get("counties") or []
    if not counties:
        return mark_safe(f'<tr><td colspan="7">{escape(_("没有可显示的县市区。"))}</td></tr>')
    instruct = escape(reverse("dashboard:instruction_new")) if limited else ""
    label = escape(_("批示"))

    def share(value) -> str:
        return "—" if value is None else f"{value}%"

    out = []
    for c in counties:
        pk = c["id"]
        link = f' <a class="muted" href="{instruct}?county={pk}">{label}</a>' if limited else ""
        attained = f'{c["attainment_met"]}/{c["attainment_total"]}' if c["attainment_total"] else "—"
        out.append(
            f'<tr data-county="{pk}">\n      <td><a href="{escape(c["url"])}">{escape(c["name"])}</a>{link}</td>'
            f'<td class="num">{c["total"]}</td><td class="num">{c["overdue"]}</td><td class="num">{c["lagging"]}</td>\n'
            f'      <td class="num">{share(c["on_schedule_share"])}</td>\n'
            f'      <td class="num">{share(c["closeout_share"])}</td>\n'
            f'      <td class="num">{attained}</td>\n    </tr>')
    return mark_safe("".join(out))  # noqa: S308 - every value escaped or a number


def _figures_json(data: dict) -> HttpResponse:
    """The board's figures as JSON, written by orjson: a province's 2,159 counties took 18 ms through
    the standard library's encoder, on every view, kept or computed; 1.5 ms here. Whatever orjson
    does not write itself (a Decimal, a lazy label, a datetime) goes through Django's encoder, so the
    values read the same as JsonResponse would write them."""
    return HttpResponse(_figures_bytes(data), content_type="application/json")


@login_required
@require_GET
def board_data(request):
    """The board's figures as JSON (the page's refresh, the wall screen, other clients)."""
    _require_board(request.user)
    data = selectors.board_data(request.user, today=timezone.localdate(), measure=request.GET.get("measure", ""))
    return _figures_json(data)


@login_required
@require_GET
def region_geo(request, code: str):
    _require_board(request.user)
    return _geo(code, selectors.region_code(selectors.county_rows(request.user)))


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
    role = getattr(request.user, "role", "")
    if not request.user.is_authenticated:
        return redirect("orgs:login")
    if sees_board(request.user):
        return redirect("dashboard:board")
    if role == Role.DISCIPLINE:
        return redirect("accountability:workspace")
    if role == Role.AUDITOR:
        return redirect("audit:list")
    if role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):  # 三员分立: administration, no ledger
        return redirect("orgs:admin_users")
    if role == Role.OBSERVER:  # 监督员: the portal and their own observations
        return redirect("disclosure:observations")
    if role == Role.SUPERVISOR or role in UNIT_ROLES:
        return redirect("dashboard:work")
    return redirect("ledger:task_list")


@login_required
@require_GET
def work(request):
    """我的工作: a lead unit's decisions waiting, a responsible unit's reports due, returned reports and
    rungs to answer; its tasks by status."""
    if request.user.role not in (Role.SUPERVISOR, *UNIT_ROLES):
        raise Http404("该页面面向牵头督导单位和责任单位")
    return render(request, "dashboard/work.html", {"w": work_items(request.user)})


# --- the wall screen (大屏) and its tokens --------------------------------------------------------


def _wall_viewer(key: str):
    viewer = wall_viewer(key)
    if viewer is None:
        raise Http404("大屏链接无效或已吊销")
    return viewer


@require_GET
def wall(request, key: str):
    """大屏: 1920×1080, dark, refreshes itself; opened with a display token, no login."""
    viewer = _wall_viewer(key)
    data = selectors.board_data(viewer, today=timezone.localdate(), measure=request.GET.get("measure", "overdue"))
    response = render(request, "dashboard/wall.html", {"data": data, "figures_script": figures_script(data), "key": key,
                                                       "refresh": WALL_REFRESH_SECONDS,
                                                       "office": viewer.unit,
                                                       "measure_label": selectors.MEASURES[data["measure"]]})
    response["Referrer-Policy"] = "no-referrer"  # the key is in the address
    return response


WALL_REFRESH_SECONDS = 60


@require_GET
def wall_data(request, key: str):
    data = selectors.board_data(_wall_viewer(key), today=timezone.localdate(), measure=request.GET.get("measure", ""))
    response = _figures_json(data)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def wall_geo(request, key: str, code: str):
    return _geo(code, selectors.region_code(selectors.county_rows(_wall_viewer(key))))


@login_required
def displays(request):
    """The office's display tokens: issue one (its link shown once), revoke one."""
    if not manages_displays(request.user):
        raise Http404("无权管理大屏令牌")
    link = None
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("revoke"):
                token = DisplayToken.objects.visible_to(request.user).filter(pk=_int(request.POST["revoke"])).first()
                if token is None:
                    raise Http404("令牌不存在")
                revoke_display_token(actor=request.user, token=token)
                messages.success(request, _("已吊销大屏令牌「%(name)s」。") % {"name": token.name})
                return redirect("dashboard:displays")
            token, key = issue_display_token(actor=request.user, name=request.POST.get("name", "")[:200])
            link = request.build_absolute_uri(f"/board/wall/{key}/")
        except ValidationError as exc:
            error = "；".join(exc.messages)
    tokens = DisplayToken.objects.visible_to(request.user).select_related("issued_by", "revoked_by")[:100]
    return render(request, "dashboard/displays.html", {"tokens": tokens, "link": link, "error": error})


def _int(value: str) -> int:
    """A bounded positive id from a form (anything else is no id)."""
    return int(value) if value.isdigit() and len(value) < 12 else 0


# --- leader instructions (领导批示) --------------------------------------------------------------


@login_required
@require_GET
def instruction_list(request):
    receipts = InstructionReceipt.objects.visible_to(request.user).select_related("unit")
    qs = (Instruction.objects.visible_to(request.user).select_related("leader", "task", "county")
          .prefetch_related(Prefetch("receipts", queryset=receipts)).order_by("-created_at", "-id"))
    page = list_page(request, qs, 50)
    return render(request, "dashboard/instructions.html", {"page": page})


def _instruction_for(user, pk: int):
    receipts = InstructionReceipt.objects.visible_to(user).select_related("unit", "acted_by")
    ins = (Instruction.objects.visible_to(user).select_related("leader", "task", "county")
           .prefetch_related(Prefetch("receipts", queryset=receipts)).filter(pk=pk).first())
    if ins is None:
        raise Http404("批示不存在或无权查看")
    return ins


@login_required
def instruction_detail(request, pk: int):
    ins = _instruction_for(request.user, pk)
    error = ""
    if request.method == "POST":
        receipt = next((r for r in ins.receipts.all() if str(r.pk) == request.POST.get("receipt", "")), None)
        if receipt is None:
            raise Http404("批示不存在或无权操作")
        try:
            record_instruction_action(actor=request.user, receipt=receipt, text=request.POST.get("action_text", ""))
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            messages.success(request, _("已记录办理情况。"))
            return redirect("dashboard:instruction", pk=ins.pk)
    for r in ins.receipts.all():
        r.can_record = bool(INSTRUCTION_FLOW.available(request.user, r))
    return render(request, "dashboard/instruction.html", {"ins": ins, "error": error})


@login_required
def instruction_new(request):
    """A leader's 写批示 page: on a task (?task=) or on one of its counties (?county=)."""
    if request.user.role != "leader":
        raise Http404("只有市领导可以批示")
    source = request.POST if request.method == "POST" else request.GET
    task = county = None
    if _int(source.get("task", "")):
        task, _editable = get_task_for_user(request.user, _int(source["task"]))
    elif _int(source.get("county", "")):
        county = selectors.counties_for(request.user)
        county = next((c for c in county if c.pk == _int(source["county"])), None)
        if county is None:
            raise Http404("只能对自己联系的县市区批示")
    else:
        raise Http404("请从任务页面或挂图作战的县市区进入")
    error, text = "", ""
    if request.method == "POST":
        text = request.POST.get("text", "")[:5000]
        try:
            ins = issue_instruction(actor=request.user, text=text, task=task, county=county)
        except (ValidationError, PermissionDenied) as exc:
            error = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        else:
            messages.success(request, _("批示已送达 %(n)s 个单位。") % {"n": ins.receipts.count()})
            return redirect("ledger:task_detail", pk=task.pk) if task else redirect("dashboard:instruction", pk=ins.pk)
    return render(request, "dashboard/instruction_form.html", {"task": task, "county": county, "error": error,
                                                               "text": text})
