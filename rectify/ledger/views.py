"""Ledger pages. Thin: parse the request, call a selector or a service, render."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.core.paging import list_page
from rectify.ledger import list_options, selectors, services
from rectify.ledger.forms import MeasureFormSet, TaskFilterForm, TaskForm, measures_from
from rectify.ledger.models import Campaign, UnitRole
from rectify.ledger.rows import render_rows, render_timeline
from rectify.ledger.scope import can_create_tasks

PAGE_SIZES = {"20", "50", "100", "200"}


def _filters_from(form: TaskFilterForm) -> selectors.TaskFilter:
    d = form.cleaned_data if form.is_valid() else {}
    return selectors.TaskFilter(
        campaign=d["campaign"].pk if d.get("campaign") else None, category=d.get("category") or "",
        unit=d["unit"].pk if d.get("unit") else None, county=d["county"].pk if d.get("county") else None,
        lead=d["lead"].pk if d.get("lead") else None,
        status=d.get("status") or "", progress_status=d.get("progress_status") or "",
        warning_colour=d.get("warning_colour") or "", deadline_kind=d.get("deadline_kind") or "",
        deadline_from=d.get("deadline_from"), deadline_to=d.get("deadline_to"), q=(d.get("q") or "").strip(),
        my_counties=bool(d.get("my_counties")), sort=d.get("sort") or "warning")


def _active_filters(form: TaskFilterForm) -> list[str]:
    """「问题类别 水污染」…: the filters in force, for the one-line summary of the collapsed filter bar."""
    if not form.is_bound or not form.is_valid():
        return []
    shown = []
    for name, value in form.cleaned_data.items():
        if name in ("sort", "per_page") or value in (None, "", False):
            continue
        field = form.fields[name]
        if value is True:
            shown.append(str(field.label))
            continue
        if isinstance(value, dt.date):
            text = f"{value:%Y-%m-%d}"
        elif getattr(field, "choices", None) and not hasattr(value, "pk"):
            text = str(dict(field.choices).get(value, value))
        else:
            text = str(value)
        shown.append(f"{field.label}：{text}")
    return shown


def _saved_filters(preference, current: str) -> list[dict]:
    """The built-in and the user's own saved filters, each marked when it is the filter in force."""
    chips = [{"name": str(name), "query": query, "own": False} for name, query in list_options.BUILTIN_FILTERS]
    chips += [{"name": f.get("name", ""), "query": f.get("query", ""), "own": True}
              for f in preference.saved_filters if isinstance(f, dict)]
    for chip in chips:
        chip["active"] = bool(current) and list_options.clean_query(chip["query"]) == current
    return chips


def _sort_headers(query, current: str) -> dict[str, dict]:
    """For each sortable column: the address its header links to and its aria-sort."""
    rest = query.copy()
    rest.pop("sort", None)
    base = rest.urlencode()
    headers = {}
    for column, (first, second) in list_options.SORTABLE.items():
        target = second if current == first and second else first
        state = "none"
        if current in (first, second):
            state = "other" if current == "warning" else ("descending" if current.startswith("-") else "ascending")
        headers[column] = {"href": f"?{base}&sort={target}" if base else f"?sort={target}", "state": state}
    return headers


@login_required
def task_list(request):
    form = TaskFilterForm(request.GET or None, campaigns=selectors.campaigns_for(request.user))
    filters = _filters_from(form)
    qs = selectors.with_page_data(selectors.task_queryset(request.user, filters))
    per_page = request.GET.get("per_page")
    page = list_page(request, qs, int(per_page) if per_page in PAGE_SIZES else settings.LEDGER_PAGE_SIZE,
                     count=selectors.task_count(request.user, filters))
    query = request.GET.copy()
    query.pop("page", None)
    sizes = query.copy()
    sizes.pop("per_page", None)
    preference = selectors.list_preference(request.user)  # one query; defaults when never saved
    names = selectors.unit_names(page)  # one query of names for the whole page
    for task in page:
        roles = names.get(task.pk, {})
        task.responsible_names = "、".join(roles.get(UnitRole.RESPONSIBLE, []))
        task.lead_names = "、".join(roles.get(UnitRole.LEAD_SUPERVISOR, []))
    current = list_options.clean_query(request.GET.urlencode())
    return render(request, "ledger/task_list.html", {
        "form": form, "page": page, "rows": render_rows(page, preference.shown_columns()),
        "query": query.urlencode(), "can_create": can_create_tasks(request.user),
        "export_query": request.GET.urlencode(), "current_query": current,
        "active_filters": _active_filters(form), "filter_errors": form.is_bound and not form.is_valid(),
        "columns": preference.shown_columns(), "two_line": preference.two_line,
        "column_choices": list_options.COLUMNS, "saved_filters": _saved_filters(preference, current),
        "colspan": 2 + len(preference.shown_columns()), "size_query": sizes.urlencode(),
        "page_sizes": sorted(int(n) for n in PAGE_SIZES), "per_page": page.paginator.per_page,
        "sort_headers": _sort_headers(query, filters.sort),
    })


def _back_to_list(request) -> HttpResponse:
    """Back to the list with the filter the form was sent from (only the list's own parameters)."""
    query = list_options.clean_query(request.POST.get("back", ""))
    return redirect(reverse("ledger:task_list") + (f"?{query}" if query else ""))


def _first_error(exc: ValidationError) -> str:
    return "；".join(exc.messages)


@login_required
@require_POST
def list_view_save(request):
    """列设置: the columns shown and one or two lines per task, remembered for this user."""
    try:
        services.save_list_view(actor=request.user, columns=request.POST.getlist("columns"),
                                two_line=request.POST.get("rows") == "two")
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, _("列表显示设置已保存。"))
    return _back_to_list(request)


@login_required
@require_POST
def saved_filter_save(request):
    """保存当前筛选 under a name of the user's choosing."""
    name = request.POST.get("name", "")[:200]
    try:
        services.save_list_filter(actor=request.user, name=name, query=request.POST.get("back", ""))
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, _("已保存筛选“%(name)s”。") % {"name": " ".join(name.split())})
    return _back_to_list(request)


@login_required
@require_POST
def saved_filter_delete(request):
    name = request.POST.get("name", "")[:200]
    try:
        services.delete_list_filter(actor=request.user, name=name)
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, _("已删除筛选“%(name)s”。") % {"name": name})
    return _back_to_list(request)


@login_required
def task_detail(request, pk: int):
    task, can_edit = selectors.get_task_for_user(request.user, pk)
    panels = selectors.task_panels(request.user, task)
    return render(request, "ledger/task_detail.html", {
        "task": task, "can_edit": can_edit, "units": selectors.units_by_role(task),
        "missing": services.missing_essentials(task), "timeline": render_timeline(selectors.task_timeline(task, request.user)
                                    .only("created_at", "actor_name", "unit_name", "seq", "summary")[:200]),
        "roles": UnitRole, "panels": panels, "panel_actions": [a for p in panels for a in p.actions],
    })


def _editable_campaigns(user):
    return Campaign.objects.actionable_by(user, "add_task")


@login_required
def task_create(request):
    if not can_create_tasks(request.user):
        raise PermissionDenied(_("只有整改办可以新增任务。"))
    campaigns = _editable_campaigns(request.user)
    form = TaskForm(request.POST or None, campaigns=campaigns,
                    initial={"campaign": request.GET.get("campaign") or campaigns.first()})
    formset = MeasureFormSet(request.POST or None, prefix="m")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            task = services.create_task(actor=request.user, campaign=form.cleaned_data["campaign"],
                                        data=form.to_input(measures_from(formset)))
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已新增任务 %(code)s。") % {"code": task.code})
            return redirect("ledger:task_detail", pk=task.pk)
    return render(request, "ledger/task_form.html", {"form": form, "formset": formset, "creating": True})


@login_required
def task_edit(request, pk: int):
    task, can_edit = selectors.get_task_for_user(request.user, pk)
    if not can_edit:
        raise Http404(_("任务不存在或无权修改"))
    campaigns = Campaign.objects.filter(pk=task.campaign_id)
    if request.method == "POST":
        form = TaskForm(request.POST, campaigns=campaigns)
        formset = MeasureFormSet(request.POST, prefix="m")
        if form.is_valid() and formset.is_valid():
            try:
                expected = form.cleaned_data.get("version") or 0
                services.update_task(actor=request.user, task=task, expected_version=expected,
                                     data=form.to_input(measures_from(formset)))
            except services.StaleVersionError as exc:
                form.add_error(None, str(exc))
                return render(request, "ledger/task_form.html",
                              {"form": form, "formset": formset, "task": task, "stale": True}, status=409)
            except ValidationError as exc:
                _attach_errors(form, exc)
            else:
                messages.success(request, _("任务 %(code)s 已保存。") % {"code": task.code})
                return redirect("ledger:task_detail", pk=task.pk)
    else:
        data = services.task_input_from(task)
        form = TaskForm(campaigns=campaigns, initial={
            "version": task.version, "campaign": task.campaign, "code": task.code,
            "inspection_number": task.inspection_number, "title": task.title, "problem": task.problem,
            "target": task.target, "category": task.category,
            "primary_unit": data.responsible_units[0] if data.responsible_units else None,
            "other_units": data.responsible_units[1:], "lead_supervisor": data.lead_supervisor,
            "co_supervisors": data.co_supervisors,
            "acceptance_unit": data.acceptance_unit if data.acceptance_unit != data.lead_supervisor else None,
            "leader": task.leader, "deadline_kind": task.deadline_kind, "deadline": task.deadline,
            "start_date": task.start_date, "progress_note": task.progress_note,
            "completion_note": task.completion_note, "location_name": task.location_name,
            "latitude": task.latitude, "longitude": task.longitude})
        formset = MeasureFormSet(prefix="m", initial=[
            {"id": m.id, "text": m.text, "owner_unit": m.owner_unit, "due_date": m.due_date, "done": m.done}
            for m in data.measures])
    return render(request, "ledger/task_form.html", {"form": form, "formset": formset, "task": task})


def _attach_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
