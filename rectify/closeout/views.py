"""Close-out and look-back pages. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.closeout import scope, selectors, services
from rectify.closeout.forms import (
    AnswerForm,
    BulkForm,
    CheckForm,
    FileForm,
    LookBackFileForm,
    LookBackForm,
    PolicyForm,
    ResultForm,
    SelfAssessmentForm,
    StepForm,
)
from rectify.closeout.models import OPEN_STATUSES, Closeout, CloseoutStatus, Standard
from rectify.closeout.workflows import CLOSEOUT_FLOW
from rectify.core.paging import MAX_ID, list_page, query_int
from rectify.core.ratelimit import throttled
from rectify.core.roles import is_office
from rectify.core.workdays import unknown_years_in, warning_text
from rectify.evidence.inspect import EvidenceRejected
from rectify.evidence.serve import attachment_response
from rectify.ledger.models import Campaign
from rectify.ledger.selectors import get_campaign_for_user, get_task_for_user

STEPS = [CloseoutStatus.SELF_ASSESSING, CloseoutStatus.APPLIED, CloseoutStatus.IN_NOTICE, CloseoutStatus.ACCEPTED,
         CloseoutStatus.VERIFIED, CloseoutStatus.FILED]
NEEDS_REASON = {"withdraw", "return", "verify_fail"}


def _messages_of(exc) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(getattr(exc, "messages", [str(exc)]))


def _int(value: str | None, *, upper: int = MAX_ID) -> int | None:
    return query_int(value, high=upper)


@login_required
def closeout_list(request):
    status = request.GET.get("status", "open")
    if status not in {"open", "", *CloseoutStatus.values}:
        status = "open"
    q = (request.GET.get("q") or "").strip()[:50]
    qs = selectors.closeout_list(request.user, status=status, campaign=_int(request.GET.get("campaign")), q=q)
    page = list_page(request, qs, 50)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "closeout/list.html", {
        "page": page, "status": status, "q": q, "query": query.urlencode(), "statuses": CloseoutStatus.choices,
        "can_bulk": is_office(request.user) and status in {"in_notice", "verified"},
        "bulk": BulkForm(initial={"action": "file" if status == "verified" else "accept_application"}),
        "campaigns": Campaign.objects.visible_to(request.user)})


@login_required
@require_POST
def bulk(request):
    form = BulkForm(request.POST)
    ids = [i for i in (_int(v) for v in request.POST.getlist("ids")[:1000]) if i]
    if not form.is_valid() or not ids:
        messages.error(request, _("请先勾选要批量处理的销号申请。"))
        return redirect(request.META.get("HTTP_REFERER") or "closeout:list")
    try:
        outcomes = services.bulk_transition(actor=request.user, closeout_ids=ids, action=form.cleaned_data["action"])
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return redirect("closeout:list")
    done = sum(1 for o in outcomes if o.ok)
    return render(request, "closeout/bulk_result.html", {
        "outcomes": outcomes, "done": done, "failed": len(outcomes) - done,
        "label": CLOSEOUT_FLOW.label_of(form.cleaned_data["action"])})


@login_required
def assess(request, task_id: int):
    """初审自评: the responsible unit's reviewer assesses the task (the first one starts the close-out)."""
    task, _editable = get_task_for_user(request.user, task_id)
    current = task.closeouts.filter(status__in=OPEN_STATUSES).first()
    probe = current or Closeout(task=task, status=CloseoutStatus.SELF_ASSESSING)
    if not scope.assesses(request.user, probe):
        raise Http404(_("无权为该任务进行初审自评"))
    blockers = [] if current else services.eligibility(task)
    initial = {}
    if current is not None:
        mine = current.assessments.filter(unit__in=services.assessing_units(request.user, task)).first()
        if mine is not None:
            for item in mine.items.all():
                initial[f"{item.standard}_verdict"], initial[f"{item.standard}_statement"] = item.verdict, item.statement
        initial["completion_summary"] = current.completion_summary
    form = SelfAssessmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_self_assessment(actor=request.user, task=task, items=form.items(),
                                            completion_summary=form.cleaned_data["completion_summary"])
        except ValidationError as exc:
            for m in _messages_of(exc):
                form.add_error(None, m)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            closeout = task.closeouts.filter(status__in=OPEN_STATUSES).get()
            messages.success(request, _("初审自评已保存。各责任单位自评完成后，即可申请销号。"))
            return redirect("closeout:detail", pk=closeout.pk)
    return render(request, "closeout/assess.html", {"task": task, "form": form, "blockers": blockers,
                                                    "current": current})


@login_required
def detail(request, pk: int):
    closeout = selectors.get_closeout_for_user(request.user, pk)
    user = request.user
    actions = selectors.closeout_actions(user, closeout)
    today = timezone.localdate()
    missing = services.missing_assessments(closeout) if closeout.status == CloseoutStatus.SELF_ASSESSING else []
    checks = {c.standard: c for c in closeout.checks.all()}
    can_check = closeout.status == CloseoutStatus.ACCEPTED and scope.verifies(user, closeout)
    unknown = (unknown_years_in(closeout.notice_start, closeout.notice_end)
               if closeout.notice_start and closeout.notice_end else [])
    return render(request, "closeout/detail.html", {
        "closeout": closeout, "task": closeout.task, "steps": STEPS, "actions": actions,
        "current_index": [s.value for s in STEPS].index(closeout.status) if closeout.status in STEPS else 0,
        "step_form": StepForm(initial={"version": closeout.version}), "needs_reason": NEEDS_REASON,
        "assessments": list(closeout.assessments.all()), "missing": missing,
        "can_assess": closeout.status == CloseoutStatus.SELF_ASSESSING and scope.assesses(user, closeout),
        "checks": [(value, label, checks.get(value)) for value, label in Standard.choices],
        "can_check": can_check, "check_form": CheckForm(prefix="check", initial={"checked_on": today, "onsite": True}),
        "objections": selectors.objections_for(user, closeout), "answer_form": AnswerForm(),
        "can_answer": scope.runs_closeout(user, closeout),
        "objection_open": services.objection_open(closeout, today),
        "notice_warning": warning_text(unknown), "policy": services.policy_for(closeout.task.campaign),
        "is_office": scope.runs_closeout(user, closeout),
        "history": closeout.task.closeouts.exclude(pk=closeout.pk).order_by("-attempt")[:10],
        "file_rows": _file_rows(selectors.closeout_files(user, closeout)),
        "file_form": FileForm(prefix="file", initial={"stage": "check" if can_check else "assessment"}),
    })


def _file_rows(files):
    """Per standard: its self-assessment evidence and its check evidence."""
    return [(label, files.get(("assessment", value), []), files.get(("check", value), []))
            for value, label in Standard.choices]


@login_required
@require_POST
def step(request, pk: int):
    closeout = selectors.get_closeout_for_user(request.user, pk)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查填写内容。"))
        return redirect("closeout:detail", pk=pk)
    action = form.cleaned_data["action"]
    if action not in CLOSEOUT_FLOW.actions:
        raise Http404
    try:
        services.transition(actor=request.user, closeout=closeout, action=action,
                            expected_version=form.cleaned_data["version"], reason=form.cleaned_data["reason"],
                            opinion=form.cleaned_data["opinion"])
    except services.StaleCloseoutError as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已%(step)s。") % {"step": CLOSEOUT_FLOW.label_of(action)})
    return redirect("closeout:detail", pk=pk)


@login_required
@require_POST
def record_check(request, pk: int):
    closeout = selectors.get_closeout_for_user(request.user, pk)
    form = CheckForm(request.POST, prefix="check")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_check(actor=request.user, closeout=closeout, standard=d["standard"], finding=d["finding"],
                                  onsite=d["onsite"], checked_on=d["checked_on"], checkers=d["checkers"],
                                  passed=d["passed"])
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("核查记录已保存。"))
    else:
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
    return redirect("closeout:detail", pk=pk)


@login_required
@require_POST
def answer(request, pk: int):
    objection = selectors.get_objection_for_user(request.user, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_objection(actor=request.user, objection=objection, action=form.cleaned_data["action"],
                                      answer=form.cleaned_data["answer"])
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("已答复异议（回执 %(receipt)s）。") % {"receipt": objection.receipt})
    else:
        messages.error(request, _("请选择答复结论并填写答复内容。"))
    return redirect("closeout:detail", pk=objection.closeout_id)


@login_required
def policy(request, campaign_id: int):
    campaign = get_campaign_for_user(request.user, campaign_id, action="add_task")
    current = services.policy_for(campaign)
    form = PolicyForm(request.POST or None, initial={"notice_workdays": current.notice_workdays,
                                                    "onsite_required": current.onsite_required,
                                                    "verifier": current.verifier})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_policy(actor=request.user, campaign=campaign, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                form.add_error(None, m)
        else:
            messages.success(request, _("销号程序设置已保存。"))
            return redirect("closeout:policy", campaign_id=campaign.pk)
    return render(request, "closeout/policy.html", {"campaign": campaign, "form": form, "saved": current.pk})


@login_required
def lookback_list(request):
    campaigns = Campaign.objects.actionable_by(request.user, "add_task")
    form = LookBackForm(request.POST or None, campaigns=campaigns,
                        initial={"due_date": timezone.localdate() + dt.timedelta(days=30), "share_percent": 20})
    if request.method == "POST":
        if not campaigns.exists():
            raise PermissionDenied(_("只有整改办可以组织回头看。"))
        if form.is_valid():
            d = form.cleaned_data
            codes = [c.strip() for c in d["manual"].replace("，", ",").replace("\n", ",").split(",") if c.strip()]
            found = dict(d["campaign"].tasks.filter(code__in=codes).values_list("code", "pk"))
            unknown = [c for c in codes if c not in found]
            if unknown:
                form.add_error("manual", _("本批次没有这些任务编号：%(codes)s") % {"codes": "、".join(unknown[:10])})
            else:
                try:
                    lookback = services.start_lookback(
                        actor=request.user, campaign=d["campaign"], title=d["title"], share_percent=d["share_percent"],
                        due_date=d["due_date"], seed=d["seed"], categories=d["categories"],
                        closed_from=d["closed_from"], closed_to=d["closed_to"], manual_task_ids=list(found.values()))
                except (ValidationError, PermissionDenied) as exc:
                    for m in _messages_of(exc):
                        form.add_error(None, m)
                else:
                    messages.success(request, _("已组织回头看，共 %(n)s 项复查任务。") % {"n": lookback.checks.count()})
                    return redirect("closeout:lookback", pk=lookback.pk)
    page = list_page(request, selectors.lookback_list(request.user), 30)
    return render(request, "closeout/lookback_list.html", {"page": page, "form": form,
                                                            "can_start": campaigns.exists()})


@login_required
def lookback_detail(request, pk: int):
    lookback = selectors.get_lookback_for_user(request.user, pk)
    checks = list(selectors.lookback_checks(request.user, lookback))
    files = selectors.lookback_files(request.user, lookback)
    rows = [(c, scope.rechecks(request.user, c) and c.result == "pending", files.get(c.pk, [])) for c in checks]
    return render(request, "closeout/lookback_detail.html", {
        "lookback": lookback, "rows": rows, "result_form": ResultForm(), "file_form": LookBackFileForm(),
        "counts": {r: sum(1 for c in checks if c.result == r) for r in ("pending", "holding", "rebound")}})


@login_required
@require_POST
def lookback_result(request, pk: int):
    check = selectors.get_check_for_user(request.user, pk)
    form = ResultForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_lookback_result(actor=request.user, check=check, action=d["action"],
                                            statement=d["statement"], new_deadline=d["new_deadline"])
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("复查结论已记录：%(task)s。") % {"task": check.task.code})
    else:
        messages.error(request, _("请选择复查结论并填写复查情况。"))
    return redirect("closeout:lookback", pk=check.lookback_id)


@login_required
@require_POST
@throttled("upload")
def upload(request, pk: int):
    closeout = selectors.get_closeout_for_user(request.user, pk)
    form = FileForm(request.POST, request.FILES, prefix="file")
    if not form.is_valid():
        messages.error(request, _("请选择销号标准和要上传的文件。"))
        return redirect("closeout:detail", pk=pk)
    upload = form.cleaned_data["file"]
    try:
        stored = services.attach_closeout_file(actor=request.user, closeout=closeout, stage=form.cleaned_data["stage"],
                                               standard=form.cleaned_data["standard"], name=upload.name,
                                               fileobj=upload)
    except EvidenceRejected as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已上传「%(name)s」。") % {"name": stored.original_name})
    return redirect("closeout:detail", pk=pk)


@login_required
@require_POST
@throttled("upload")
def lookback_upload(request, pk: int):
    check = selectors.get_check_for_user(request.user, pk)
    form = LookBackFileForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.attach_lookback_file(actor=request.user, check=check, name=upload.name, fileobj=upload)
        except EvidenceRejected as exc:
            messages.error(request, str(exc))
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("已上传「%(name)s」。") % {"name": upload.name})
    else:
        messages.error(request, _("请选择要上传的文件。"))
    return redirect("closeout:lookback", pk=check.lookback_id)


@login_required
def file_download(request, pk: int):
    stored = selectors.get_closeout_file_for_user(request.user, pk)
    path = services.file_for_download(actor=request.user, stored=stored)
    return attachment_response(path, download_name=stored.original_name, mime=stored.mime)


@login_required
def lookback_file_download(request, pk: int):
    stored = selectors.get_lookback_file_for_user(request.user, pk)
    path = services.file_for_download(actor=request.user, stored=stored)
    return attachment_response(path, download_name=stored.original_name, mime=stored.mime)
