"""Help requests (帮扶), quarterly supervision visits (一季一督导) and the assessment (综合评估考核). Thin."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.assessment import exports, scope, scoring, selectors, services
from rectify.assessment.forms import (
    ComputeForm,
    HelpRequestForm,
    HelpStepForm,
    SchemeForm,
    VisitForm,
    VisitRecordForm,
)
from rectify.assessment.models import RATE_INDICATORS, Indicator, UnitGroup, VisitFollowUp, VisitStatus
from rectify.assessment.workflows import HELP_FLOW, RESULT_FLOW, VISIT_FLOW
from rectify.core.paging import MAX_ID, query_int
from rectify.core.roles import Role, is_office
from rectify.dispatch.selectors import get_report_for_user
from rectify.ledger.models import Campaign, Task

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NO_PART = (Role.DISCIPLINE, Role.AUDITOR)


def _messages_of(exc) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(getattr(exc, "messages", [str(exc)]))


def _int(value: str | None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    return query_int(value, low=low, high=high)


def _no_part(user) -> None:
    if user.role in NO_PART:
        raise Http404(_("页面不存在"))


# --- 帮扶 ---------------------------------------------------------------------------------------


@login_required
def help_list(request):
    _no_part(request.user)
    tab = request.GET.get("tab", "open")
    if tab not in selectors.HELP_TABS:
        tab = "open"
    page = Paginator(selectors.help_list(request.user, tab=tab), 30).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "assessment/help_list.html", {"page": page, "tab": tab, "query": query.urlencode()})


@login_required
def help_new(request, report_id: int):
    report = get_report_for_user(request.user, report_id)
    if not scope.asks_for_help(request.user, report):
        raise Http404(_("报送不存在或无权申请帮扶"))
    form = HelpRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            help_request = services.request_help(actor=request.user, report=report, needs=d["needs"],
                                                 asked_of=d["asked_of"], asked_unit=d["asked_unit"])
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                form.add_error(None, m)
        else:
            messages.success(request, _("帮扶申请已提交，牵头督导单位和整改办将答复。"))
            return redirect("assessment:help", pk=help_request.pk)
    return render(request, "assessment/help_form.html", {"form": form, "report": report})


@login_required
def help_detail(request, pk: int):
    help_request = selectors.get_help_for_user(request.user, pk)
    return render(request, "assessment/help_detail.html", {
        "help": help_request, "actions": selectors.help_actions(request.user, help_request),
        "step_form": HelpStepForm(initial={"version": help_request.version,
                                           "helper_unit": help_request.asked_unit_id})})


@login_required
@require_POST
def help_step(request, pk: int):
    help_request = selectors.get_help_for_user(request.user, pk)
    form = HelpStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查填写内容。"))
        return redirect("assessment:help", pk=pk)
    d = form.cleaned_data
    if d["action"] not in HELP_FLOW.actions:
        raise Http404
    try:
        services.help_transition(actor=request.user, help_request=help_request, action=d["action"],
                                 expected_version=d["version"], answer=d["answer"], helper_unit=d["helper_unit"],
                                 help_due=d["help_due"], help_given=d["help_given"])
    except services.StaleError as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已%(step)s。") % {"step": HELP_FLOW.label_of(d["action"])})
    return redirect("assessment:help", pk=pk)


# --- 一季一督导 ----------------------------------------------------------------------------------


@login_required
def visits(request):
    _no_part(request.user)
    today = timezone.localdate()
    year = _int(request.GET.get("year"), low=2000, high=2100) or today.year
    counties = selectors.county_choices(request.user)
    form = VisitForm(request.POST or None, counties=counties,
                     initial={"quarter": services.quarter_of(today), "planned_on": today + dt.timedelta(days=7)})
    if request.method == "POST":
        if not is_office(request.user):
            raise PermissionDenied(_("只有整改办可以安排季度督导。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                visit = services.plan_visit(actor=request.user, county=d["county"], quarter=d["quarter"],
                                            planned_on=d["planned_on"], team=d["team"])
            except (ValidationError, PermissionDenied) as exc:
                for m in _messages_of(exc):
                    form.add_error(None, m)
            else:
                messages.success(request, _("已安排%(county)s%(quarter)s督导。") % {"county": visit.county.name,
                                                                                  "quarter": visit.quarter})
                return redirect("assessment:visits")
    page = Paginator(selectors.visit_list(request.user, year=year), 50).get_page(request.GET.get("page"))
    return render(request, "assessment/visits.html", {
        "page": page, "year": year, "years": [year - 1, year, year + 1], "form": form,
        "can_plan": is_office(request.user), "coverage": selectors.coverage(request.user, year=year),
        "query": f"year={year}"})


@login_required
def visit_detail(request, pk: int):
    visit = selectors.get_visit_for_user(request.user, pk)
    return render(request, "assessment/visit_detail.html", {
        "visit": visit, "actions": selectors.visit_actions(request.user, visit),
        "record_form": VisitRecordForm(initial={"version": visit.version, "team": visit.team,
                                                "visited_on": timezone.localdate()}),
        "can_mark": scope.runs_visits(request.user, visit) and visit.status == VisitStatus.DONE})


def _follow_ups(user, text: str) -> list[tuple[str, Task | None, dt.date | None]]:
    """"任务编号｜要求｜时限" lines (each part optional but the requirement)."""
    items = []
    for line in text.splitlines()[:50]:
        parts = [p.strip() for p in line.replace("|", "｜").split("｜")]
        if not any(parts):
            continue
        task, due = None, None
        if len(parts) >= 2 and parts[0]:
            task = Task.objects.visible_to(user).filter(code=parts[0]).first()
            if task is None:
                raise ValidationError({"follow_ups": [_("任务编号不存在或不在您的范围内：%(code)s") % {"code": parts[0][:40]}]})
            parts = parts[1:]
        if len(parts) >= 2 and parts[-1]:
            try:
                due = dt.date.fromisoformat(parts[-1])
            except ValueError as exc:
                raise ValidationError({"follow_ups": [_("完成时限格式为 2026-09-30：%(value)s") % {"value": parts[-1][:20]}]}
                                      ) from exc
            parts = parts[:-1]
        items.append(("｜".join(parts), task, due))
    return items


@login_required
@require_POST
def visit_step(request, pk: int):
    visit = selectors.get_visit_for_user(request.user, pk)
    form = VisitRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查填写内容。"))
        return redirect("assessment:visit", pk=pk)
    d = form.cleaned_data
    if d["action"] not in VISIT_FLOW.actions:
        raise Http404
    try:
        services.visit_transition(actor=request.user, visit=visit, action=d["action"], expected_version=d["version"],
                                  visited_on=d["visited_on"], team=d["team"], findings=d["findings"],
                                  follow_ups=_follow_ups(request.user, d["follow_ups"]), reason=d["reason"])
    except services.StaleError as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已%(step)s。") % {"step": VISIT_FLOW.label_of(d["action"])})
    return redirect("assessment:visit", pk=pk)


@login_required
@require_POST
def follow_up(request, pk: int):
    item = VisitFollowUp.objects.filter(pk=pk).select_related("visit").first()
    if item is None:
        raise Http404
    try:
        services.set_follow_up(actor=request.user, follow_up=item, done=request.POST.get("done") == "1")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("assessment:visit", pk=item.visit_id)


# --- 综合评估考核 --------------------------------------------------------------------------------


@login_required
def results(request):
    _no_part(request.user)
    schemes = selectors.schemes_for(request.user)
    start, end = selectors.default_period(timezone.localdate())
    form = ComputeForm(request.POST or None, schemes=schemes, initial={
        "period_start": start, "period_end": end, "title": _("%(year)s年第%(quarter)s季度综合评估考核") % {
            "year": end.year, "quarter": (end.month - 1) // 3 + 1}})
    if request.method == "POST":
        if not schemes.exists():
            raise PermissionDenied(_("只有整改办可以计算考核结果。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = services.compute_result(actor=request.user, scheme=d["scheme"], title=d["title"],
                                                 period_start=d["period_start"], period_end=d["period_end"])
            except (ValidationError, PermissionDenied) as exc:
                for m in _messages_of(exc):
                    form.add_error(None, m)
            else:
                messages.success(request, _("已计算考核结果（草稿），核对后发布。"))
                return redirect("assessment:result", pk=result.pk)
    page = Paginator(selectors.results_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "assessment/results.html", {"page": page, "schemes": schemes, "form": form,
                                                       "is_office": is_office(request.user), "query": ""})


@login_required
def scheme_edit(request, pk: int | None = None):
    campaigns = Campaign.objects.actionable_by(request.user, "add_task")
    if not campaigns.exists():
        raise Http404(_("页面不存在"))
    scheme = selectors.get_scheme_for_user(request.user, pk) if pk else None
    items = {i["indicator"]: i for i in (scheme.items if scheme else scoring.DEFAULT_ITEMS)}
    initial = {"campaign": scheme.campaign if scheme else campaigns.first(), "name": scheme.name if scheme else "",
               "version": scheme.version if scheme else None}
    for value in Indicator.values:
        if value in items:
            initial[f"{value}_weight"] = items[value]["weight"]
            if value not in RATE_INDICATORS:
                initial[f"{value}_per_item"] = items[value]["per_item"]
    form = SchemeForm(request.POST or None, campaigns=campaigns, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            scheme = services.save_scheme(actor=request.user, campaign=d["campaign"], name=d["name"],
                                          items=form.items(), scheme=scheme, expected_version=d.get("version"))
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                form.add_error(None, m)
        else:
            messages.success(request, _("评分办法已保存。"))
            return redirect("assessment:results")
    return render(request, "assessment/scheme_form.html", {"form": form, "scheme": scheme})


@login_required
def result_detail(request, pk: int):
    result = selectors.get_result_for_user(request.user, pk)
    grouped = selectors.result_rows(result)
    columns = selectors.item_columns(result)
    groups = []
    for value, label in UnitGroup.choices:
        rows = [(row, [row.breakdown[k] for k, _n, _w in columns], scope.sees_breakdown(request.user, row))
                for row in grouped.get(value, [])]
        groups.append((label, rows))
    source: dict = next((row.breakdown.get("_source", {}) for rows in grouped.values() for row in rows), {})
    return render(request, "assessment/result_detail.html", {
        "result": result, "columns": columns, "groups": groups, "actions": selectors.result_actions(request.user,
                                                                                                  result),
        "source": source})


@login_required
def result_unit(request, pk: int, unit_id: int):
    result = selectors.get_result_for_user(request.user, pk)
    row = selectors.get_row_for_user(request.user, result, unit_id)
    items = [row.breakdown[k] | {"key": k} for k, _n, _w in selectors.item_columns(result)]
    return render(request, "assessment/result_unit.html", {"result": result, "row": row, "items": items,
                                                           "is_office": is_office(request.user)})


@login_required
@require_POST
def result_step(request, pk: int):
    result = selectors.get_result_for_user(request.user, pk)
    action = request.POST.get("action", "")
    if action not in RESULT_FLOW.actions:
        raise Http404
    try:
        services.result_transition(actor=request.user, result=result, action=action,
                                   expected_version=_int(request.POST.get("version")))
    except services.StaleError as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已%(step)s。") % {"step": RESULT_FLOW.label_of(action)})
    return redirect("assessment:result", pk=pk)


def _download(request, pk: int, fmt: str):
    result = selectors.get_result_for_user(request.user, pk)
    data = exports.result_xlsx(result) if fmt == "xlsx" else exports.result_docx(result)
    services.export_recorded(actor=request.user, result=result, fmt=fmt, size=len(data))
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True,
                                                                 filename=f"{result.title}.{fmt}") or ""
    response["Cache-Control"] = "no-store"
    return response


@login_required
def result_xlsx(request, pk: int):
    return _download(request, pk, "xlsx")


@login_required
def result_docx(request, pk: int):
    return _download(request, pk, "docx")

