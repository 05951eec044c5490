"""Dispatch pages: rounds and the dispatch table, progress reports, evidence. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.core.paging import list_page, query_int
from rectify.core.ratelimit import throttled
from rectify.core.workdays import add_workdays, nth_workday_of_month
from rectify.dispatch import scope, selectors, services
from rectify.dispatch.forms import DecisionForm, EvidenceForm, OpenRoundForm, ReportForm
from rectify.dispatch.models import ProgressReport


def _errors(exc: ValidationError) -> list[str]:
    return [m for msgs in exc.message_dict.values() for m in msgs] if hasattr(exc, "error_dict") else exc.messages


@login_required
def round_list(request):
    rounds = selectors.rounds_for(request.user)
    form = None
    if scope.runs_rounds(request.user):
        from django.utils import timezone

        today = timezone.localdate()
        open_day = nth_workday_of_month(today.year, today.month, 1)
        form = OpenRoundForm(initial={"period": f"{today:%Y-%m}", "due_date": add_workdays(open_day, 5)})
    page = list_page(request, rounds, 24)
    return render(request, "dispatch/round_list.html", {"page": page, "form": form,
                                                         "todo": selectors.my_open_reports(request.user)[:50]})


@login_required
@require_POST
def round_open(request):
    if not scope.runs_rounds(request.user):
        raise PermissionDenied(_("只有整改办可以开启调度轮次。"))
    form = OpenRoundForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return redirect("dispatch:round_list")
    try:
        rnd, created = services.open_round(actor=request.user, office=request.user.unit,
                                           period=form.cleaned_data["period"], due_date=form.cleaned_data["due_date"],
                                           require_unit_review=form.cleaned_data["require_unit_review"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("dispatch:round_list")
    if created:
        messages.success(request, _("已开启%(round)s，共 %(slots)s 个报送任务。") % {"round": rnd.title, "slots": rnd.reports.count()})
    else:
        messages.info(request, _("%(round)s已存在，未重复开启。") % {"round": rnd.title})
    return redirect("dispatch:round_detail", pk=rnd.pk)


@login_required
def round_detail(request, pk: int):
    rnd = selectors.get_round_for_user(request.user, pk)
    return render(request, "dispatch/round_detail.html", {
        "round": rnd, "table": selectors.round_table(request.user, rnd), "labels": selectors.BUCKET_LABELS,
        "can_run": scope.runs_round(request.user, rnd) and rnd.status == "open",
        "panels": selectors.round_panels(request.user, rnd)})


@login_required
@require_POST
def round_close(request, pk: int):
    rnd = selectors.get_round_for_user(request.user, pk)
    try:
        services.close_round(actor=request.user, rnd=rnd)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        return redirect("dispatch:round_detail", pk=rnd.pk)
    messages.success(request, _("%(round)s已结束，可生成月度通报。") % {"round": rnd.title})
    return redirect("dispatch:round_detail", pk=rnd.pk)


@login_required
def report_list(request):
    g = request.GET

    def as_int(name):
        return query_int(g.get(name), low=1)

    qs = selectors.report_list_page(request.user, rnd=as_int("round"), unit=as_int("unit"), bucket=g.get("bucket", ""),
                                    lead=g.get("lead", ""), task=as_int("task"))
    page = list_page(request, qs, 50)
    query = g.copy()
    query.pop("page", None)
    return render(request, "dispatch/report_list.html", {
        "page": page, "query": query.urlencode(), "bucket": selectors.BUCKET_LABELS.get(g.get("bucket", ""), ""),
        "rounds": selectors.rounds_for(request.user)[:24], "labels": selectors.BUCKET_LABELS})


ACTIONS = {"save", "submit", "approve", "send_back", "accept", "return"}
CONTENT = ("progress_text", "percent", "measures_completed", "difficulties", "next_steps", "public_summary")


def _initial_form(report):
    return ReportForm(task=report.task, initial={
        "version": report.version, "progress_text": report.progress_text, "percent": report.percent,
        "measures_completed": list(report.measures_completed.all()), "difficulties": report.difficulties,
        "next_steps": report.next_steps, "public_summary": report.public_summary})


def _typed_differs(report, data) -> bool:
    """Whether what the page sent differs from the stored draft (an unchanged form is not re-saved)."""
    stored = {"progress_text": report.progress_text, "percent": report.percent, "difficulties": report.difficulties,
              "next_steps": report.next_steps, "public_summary": report.public_summary}
    if any((data[k] or "").strip() != (v or "") if k != "percent" else data[k] != v for k, v in stored.items()):
        return True
    return {m.pk for m in data["measures_completed"]} != set(report.measures_completed.values_list("pk", flat=True))


def _attach(request, report, upload) -> bool:
    """Attach one uploaded file, telling the user the outcome; False when it was refused."""
    from rectify.evidence.inspect import EvidenceRejected

    try:
        evidence = services.attach_evidence(actor=request.user, report=report, name=upload.name, fileobj=upload)
    except (EvidenceRejected, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, _("已上传「%(name)s」。") % {"name": evidence.original_name})
    for warning in evidence.warnings:
        messages.warning(request, warning)
    return True


@login_required
def report_detail(request, pk: int):
    report = selectors.get_report_for_user(request.user, pk)
    user = request.user
    can_write = scope.writes_report(user, report) and report.status in services.EDITABLE
    form = _initial_form(report)
    decision = DecisionForm(initial={"version": report.version})
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "upload":  # a browser without formaction= sent the 上传 button here
            action = "save"
        if action not in ACTIONS:
            raise Http404
        # The report form also carries the evidence file input (no lost typing): a file chosen
        # before 保存草稿/报送 is attached with it, before the report leaves the writer's hands.
        upload = request.FILES.get("file") if action in {"save", "submit"} else None
        try:
            if action in {"save", "submit"}:
                form = ReportForm(request.POST, task=report.task)
                if not form.is_valid():
                    raise ValidationError("请检查填写内容。")
                d = form.cleaned_data
                if upload is not None and action == "submit" and not _attach(request, report, upload):
                    raise ValidationError("佐证材料未通过检查，未报送。")
                services.transition(actor=user, report=report, action=action, expected_version=d["version"],
                                    changes={k: d[k] for k in CONTENT})
                if upload is not None and action == "save":
                    _attach(request, report, upload)
            else:
                decision = DecisionForm(request.POST)
                if not decision.is_valid():
                    raise ValidationError("请检查填写内容。")
                services.transition(actor=user, report=report, action=action,
                                    expected_version=decision.cleaned_data["version"],
                                    reason=decision.cleaned_data.get("reason") or "",
                                    judged_unable=decision.cleaned_data.get("judged_unable") or False)
        except services.StaleReportError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            for m in _errors(exc):
                messages.error(request, m)
            if action in {"save", "submit"}:
                return render(request, "dispatch/report_detail.html", _context(request, report, form, decision,
                                                                               can_write), status=400)
        else:
            messages.success(request, _("已%(action)s。") % {"action": services.REPORT_FLOW.label_of(action)})
            return redirect("dispatch:report_detail", pk=report.pk)
        report = selectors.get_report_for_user(user, pk)
    return render(request, "dispatch/report_detail.html", _context(request, report, form, decision, can_write))


def _context(request, report, form, decision, can_write):
    user = request.user
    offered = {t.action for t in selectors.report_actions(user, report)}
    return {
        "report": report, "form": form, "decision": decision, "can_write": can_write,
        "can_review": "approve" in offered, "can_decide": "accept" in offered,
        "evidence_form": EvidenceForm(), "evidence": list(report.evidence.all()),
        "history": ProgressReport.objects.visible_to(user).filter(task=report.task, unit=report.unit)
        .exclude(pk=report.pk).select_related("round").order_by("-round__period")[:12],
        "panels": selectors.report_panels(user, report),
    }


@login_required
@require_POST
@throttled("upload")
def evidence_upload(request, pk: int):
    """Upload a file; when the report form came with it (its 上传 button), save what was typed first.

    The file input and the 上传 button belong to the report form (HTML ``form=``), so a photo
    uploaded before 保存草稿 no longer empties the text and percentage that were typed.
    """
    report = selectors.get_report_for_user(request.user, pk)
    typed = _save_typing(request, report)
    upload = EvidenceForm(request.POST, request.FILES)
    if upload.is_valid():
        _attach(request, report, upload.cleaned_data["file"])
    else:
        messages.error(request, _("请选择要上传的文件。"))
    return _back_to_report(request, pk, typed)


def _save_typing(request, report):
    """Save what the report form sent with an evidence button as the draft (no lost typing).

    Returns the bound form when the typing could not be saved (it is then shown again), else None.
    A form that matches the stored draft is not saved again."""
    if not ("version" in request.POST and scope.writes_report(request.user, report)
            and report.status in services.EDITABLE):
        return None
    form = ReportForm(request.POST, task=report.task)
    if not form.is_valid():
        messages.error(request, _("填写内容有误，草稿未保存，请修改后再保存。"))
        return form
    if not _typed_differs(report, form.cleaned_data):
        return None
    try:
        services.transition(actor=request.user, report=report, action="save",
                            expected_version=form.cleaned_data["version"],
                            changes={k: form.cleaned_data[k] for k in CONTENT})
    except services.StaleReportError as exc:
        messages.error(request, str(exc))
        return form
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
        return form
    messages.success(request, _("已%(action)s。") % {"action": services.REPORT_FLOW.label_of("save")})
    return None


def _back_to_report(request, pk: int, typed):
    if typed is None:
        return redirect("dispatch:report_detail", pk=pk)
    report = selectors.get_report_for_user(request.user, pk)
    return render(request, "dispatch/report_detail.html", _context(
        request, report, typed, DecisionForm(initial={"version": report.version}),
        scope.writes_report(request.user, report) and report.status in services.EDITABLE), status=400)


@login_required
@require_POST
def evidence_delete(request, pk: int):
    """Remove a file; its 删除 button belongs to the report form too, so the typing is saved first."""
    evidence = selectors.get_evidence_for_user(request.user, pk)
    typed = _save_typing(request, selectors.get_report_for_user(request.user, evidence.report_id))
    services.remove_evidence(actor=request.user, evidence=evidence)
    messages.success(request, _("已删除佐证材料。"))
    return _back_to_report(request, evidence.report_id, typed)


@login_required
def evidence_file(request, pk: int):
    """Serve an evidence file to users in scope only; the digest is re-checked first."""
    from rectify.evidence.serve import attachment_response

    evidence = selectors.get_evidence_for_user(request.user, pk)
    path = services.evidence_for_download(actor=request.user, evidence=evidence)
    return attachment_response(path, download_name=evidence.original_name, mime=evidence.mime)


@login_required
def evidence_thumb(request, pk: int):
    from django.http import FileResponse

    from rectify.evidence.store import EvidenceStore

    evidence = selectors.get_evidence_for_user(request.user, pk)
    if evidence.kind != "photo":
        raise Http404
    path = EvidenceStore().thumbnail(evidence.digest, evidence.extension)
    response = FileResponse(open(path, "rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
