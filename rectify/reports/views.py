"""Reporting pages: the office's campaigns with their report deadline, one campaign's report page
(received date, countdown, narrative, generate, dossiers). Thin: forms, services, jobs."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.jobs.models import Job
from rectify.reports import scope, services
from rectify.reports.deadlines import countdown, countdown_to
from rectify.reports.figures import SECTIONS
from rectify.reports.forms import DossierForm, GenerateForm, NarrativeForm, ReceivedForm
from rectify.reports.jobs import DOSSIER, REPORT
from rectify.reports.models import CampaignDeadline, CampaignReport


def _campaign(user, pk: int):
    campaign = scope.reporting_campaigns(user).select_related("office").filter(pk=pk).first()
    if campaign is None:
        raise Http404(_("整改批次不存在或无权查看"))
    return campaign


@login_required
def index(request):
    from rectify.ledger.scope import can_create_tasks

    if not can_create_tasks(request.user):
        raise PermissionDenied(_("只有整改办可以编制整改报告。"))
    campaigns = list(scope.reporting_campaigns(request.user).select_related("reporting").order_by("-feedback_date", "-id")[:100])
    today = timezone.localdate()
    rows = [(c, getattr(c, "reporting", None), countdown(getattr(c, "reporting", None), today)) for c in campaigns]
    return render(request, "reports/index.html", {"rows": rows})


def _page(request, campaign, *, received_form=None, narrative_form=None, generate_form=None, dossier_form=None):
    row = CampaignReport.objects.visible_to(request.user).filter(campaign=campaign).first()
    today = timezone.localdate()
    initial = {"version": row.version if row else 1, "intro": row.intro if row else ""}
    for key, _h in SECTIONS:
        initial[f"summary_{key}"] = (row.summaries or {}).get(key, "") if row else ""
    jobs = [j for j in Job.objects.visible_to(request.user).filter(kind__in=[REPORT, DOSSIER]).order_by("-id")[:20]
            if j.kind == DOSSIER or j.params.get("campaign") == campaign.pk][:10]
    return render(request, "reports/campaign.html", {
        "campaign": campaign, "report": row, "countdown": countdown(row, today),
        "received_form": received_form or ReceivedForm(initial={"received_date": row.received_date if row else None}),
        "narrative_form": narrative_form or NarrativeForm(initial=initial),
        "generate_form": generate_form or GenerateForm(initial={"as_of": row.due_date if row and row.due_date
                                                                 and row.due_date <= today else today}),
        "dossier_form": dossier_form or DossierForm(), "jobs": jobs,
        "deadlines": [(d, countdown_to(d.due_date, today)) for d in
                      CampaignDeadline.objects.visible_to(request.user).filter(campaign=campaign)[:50]],
    })


@login_required
def campaign_page(request, pk: int):
    return _page(request, _campaign(request.user, pk))


def _error(request, exc) -> None:
    messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))


@login_required
@require_POST
def set_received(request, pk: int):
    campaign = _campaign(request.user, pk)
    form = ReceivedForm(request.POST)
    if not form.is_valid():
        return _page(request, campaign, received_form=form)
    try:
        row = services.set_received_date(actor=request.user, campaign=campaign, received=form.cleaned_data["received_date"])
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, _("已保存。整改落实情况报告期限：%(due)s") % {"due": row.due_date or "—"})
    return redirect("reports:campaign", pk=campaign.pk)


@login_required
@require_POST
def save_narrative(request, pk: int):
    campaign = _campaign(request.user, pk)
    form = NarrativeForm(request.POST)
    if not form.is_valid():
        return _page(request, campaign, narrative_form=form)
    try:
        services.save_narrative(actor=request.user, campaign=campaign, intro=form.cleaned_data["intro"],
                                summaries=form.summaries(), expected_version=form.cleaned_data["version"])
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return _page(request, campaign, narrative_form=form)
    messages.success(request, _("报告文字已保存。"))
    return redirect("reports:campaign", pk=campaign.pk)


@login_required
@require_POST
def generate(request, pk: int):
    campaign = _campaign(request.user, pk)
    form = GenerateForm(request.POST)
    if not form.is_valid():
        return _page(request, campaign, generate_form=form)
    try:
        job = services.start_report(actor=request.user, campaign=campaign, as_of=form.cleaned_data["as_of"])
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return redirect("reports:campaign", pk=campaign.pk)
    return redirect("jobs:detail", pk=job.pk)


_SPLIT = re.compile(r"[\s,，、;；]+")


@login_required
@require_POST
def dossier(request, pk: int):
    campaign = _campaign(request.user, pk)
    form = DossierForm(request.POST)
    if not form.is_valid():
        return _page(request, campaign, dossier_form=form)
    codes = [c for c in _SPLIT.split(form.cleaned_data["codes"]) if c]
    tasks = scope.dossier_tasks(request.user).filter(campaign=campaign)
    if codes:
        found = dict(tasks.filter(code__in=codes).values_list("code", "pk"))
        missing = [c for c in codes if c not in found]
        if missing:
            form.add_error("codes", _("本批次没有这些任务编号：%(codes)s") % {"codes": "、".join(missing[:20])})
            return _page(request, campaign, dossier_form=form)
        ids, name = list(found.values()), f"{campaign.name}（{len(found)} 项）"
    else:
        ids, name = list(tasks.values_list("pk", flat=True)), f"{campaign.name}（全部）"
    try:
        job = services.start_dossier(actor=request.user, task_ids=ids, name=name)
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return redirect("reports:campaign", pk=campaign.pk)
    return redirect("jobs:detail", pk=job.pk)


@login_required
@require_POST
def task_dossier(request, pk: int):
    task = scope.dossier_tasks(request.user).filter(pk=pk).first()
    if task is None:
        raise Http404(_("任务不存在或无权查看"))
    job = services.start_dossier(actor=request.user, task_ids=[task.pk], name=f"{task.code} {task.title}"[:80])
    return redirect("jobs:detail", pk=job.pk)


MAX_OFFERS = 50


@login_required
@require_POST
def accept_deadlines(request, pk: int):
    """采纳方案中的报送期限 (from the plan's review page): the kept rows, all or nothing; back to the review."""
    import datetime as dt

    from django.utils.http import url_has_allowed_host_and_scheme

    campaign = _campaign(request.user, pk)
    back = request.POST.get("next", "")
    if not (back.startswith("/plans/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = f"/reports/campaigns/{campaign.pk}/"
    post = request.POST
    chosen: list[services.AcceptedDeadline] = []
    problems: list[str] = []
    count = min(_int(post.get("count"), 0), MAX_OFFERS)
    for i in range(count):
        if not post.get(f"d{i}-keep"):
            continue
        name = (post.get(f"d{i}-name") or "").strip()[:100]
        try:
            start = dt.date.fromisoformat(post.get(f"d{i}-start") or "")
        except ValueError:
            problems.append(_("「%(name)s」：请填写起算日期。") % {"name": name or i + 1})
            continue
        chosen.append(services.AcceptedDeadline(
            name=name, amount=_int(post.get(f"d{i}-amount"), 0), unit=post.get(f"d{i}-unit", "")[:10],
            start=start, rule=post.get(f"d{i}-rule", "")[:200], source=post.get(f"d{i}-source", "")[:500],
            as_received=bool(post.get(f"d{i}-received"))))
    if problems:
        messages.error(request, _("报送期限未保存：") + "；".join(problems))
        return redirect(back)
    try:
        rows = services.accept_plan_deadlines(actor=request.user, campaign=campaign, deadlines=chosen,
                                              document=post.get("document", "")[:200])
    except ValidationError as exc:
        messages.error(request, _("报送期限未保存：") + "；".join(exc.messages))
    else:
        received = next((d for d in chosen if d.as_received), None)
        messages.success(request, _("已采纳 %(n)s 项报送期限%(received)s。") % {
            "n": len(rows), "received": _("，并记录收到督察报告日期 %(d)s") % {"d": received.start} if received else ""})
    return redirect(back)


def _int(value, default: int) -> int:
    try:
        return int(str(value)[:6])
    except (TypeError, ValueError):
        return default
