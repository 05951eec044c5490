"""Ledger pages. Thin: parse the request, call a selector or a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from rectify.core.paging import list_page
from rectify.ledger import selectors, services
from rectify.ledger.forms import MeasureFormSet, TaskFilterForm, TaskForm, measures_from
from rectify.ledger.models import Campaign, UnitRole
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
        sort=d.get("sort") or "code")


@login_required
def task_list(request):
    form = TaskFilterForm(request.GET or None, campaigns=selectors.campaigns_for(request.user))
    filters = _filters_from(form)
    qs = selectors.with_list_data(selectors.task_queryset(request.user, filters))
    per_page = request.GET.get("per_page")
    page = list_page(request, qs, int(per_page) if per_page in PAGE_SIZES else settings.LEDGER_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "ledger/task_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "can_create": can_create_tasks(request.user),
        "export_query": request.GET.urlencode(),
    })


@login_required
def task_detail(request, pk: int):
    task, can_edit = selectors.get_task_for_user(request.user, pk)
    panels = selectors.task_panels(request.user, task)
    return render(request, "ledger/task_detail.html", {
        "task": task, "can_edit": can_edit, "units": selectors.units_by_role(task),
        "missing": services.missing_essentials(task), "timeline": selectors.task_timeline(task, request.user)[:200],
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
