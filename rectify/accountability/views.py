"""Accountability pages: the case workspace (the commission's landing page), the case page, 立案,
the steps of the table, the investigation's records, downloads, case handlers. Thin."""

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

from rectify.accountability import report_doc, scope, selectors, services
from rectify.accountability.forms import CaseFileForm, CaseForm, FindingsForm, NoteForm, PersonForm, StepForm
from rectify.accountability.models import (
    EDITABLE_STATES,
    FINISHED_STATES,
    AccountabilityCase,
    CaseKind,
    CaseStatus,
    FileKind,
    Outcome,
)
from rectify.accountability.workflows import CASE_FLOW, NEEDS_REASON
from rectify.core.audit import record_event
from rectify.core.paging import query_int
from rectify.core.ratelimit import throttled
from rectify.core.roles import Role, is_office
from rectify.evidence.inspect import EvidenceRejected
from rectify.evidence.serve import attachment_response
from rectify.ledger.models import Task
from rectify.orgs.models import User

S = CaseStatus
STAGES = [(S.PROPOSED, _("立案")), (S.INVESTIGATING, _("调查")), (S.REPORTED, _("报告审核")),
          (S.REFERRED, _("移交")), (S.ACCEPTED, _("受理办理")), (S.DECIDED, _("作出处理")), (S.CLOSED, _("结案"))]
STAGE_INDEX: dict[str, int] = {S.PROPOSED: 0, S.OPENED: 0, S.INVESTIGATING: 1, S.REPORTED: 2, S.REVIEWED: 2, S.REFERRED: 3,
               S.ACCEPTED: 4, S.DECIDED: 5, S.CLOSED: 6}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _messages_of(exc) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(getattr(exc, "messages", [str(exc)]))


def _int(value: str | None) -> int | None:
    return query_int(value)


@login_required
def workspace(request):
    """追责问责: the cases this user may see, by stage; for the commission, its landing page."""
    user = request.user
    if not scope.sees_workspace(user):
        if is_office(user):  # an office user who is not (yet) a case handler
            return render(request, "accountability/not_handler.html", {
                "manages_handlers": scope.manages_handlers(user)})
        raise Http404(_("页面不存在"))
    tabs = selectors.tabs_for(user)
    tab = request.GET.get("tab") or tabs[0]
    if tab not in tabs:
        tab = tabs[0]
    q = (request.GET.get("q") or "").strip()[:50]
    page = Paginator(selectors.case_list(user, tab=tab, q=q), 30).get_page(request.GET.get("page"))
    for case in page:  # persons concerned are masked in every list
        case.masked_persons = [row.name for row in selectors.masked_persons(case)]
    query = request.GET.copy()
    query.pop("page", None)
    counts = selectors.tab_counts(user)
    return render(request, "accountability/workspace.html", {
        "page": page, "tab": tab, "q": q, "query": query.urlencode(),
        "tabs": [(key, selectors.TABS[key][0], counts[key]) for key in tabs],
        "commission": selectors.commission_workspace(user) if user.role == Role.DISCIPLINE else None,
        "is_handler": scope.is_case_handler(user), "manages_handlers": scope.manages_handlers(user),
        "today": timezone.localdate()})


def _resolve_tasks(user, form: CaseForm) -> list[int] | None:
    codes = form.codes()
    if len(codes) > 50:
        form.add_error("task_codes", _("一个案件最多关联 50 项任务。"))
        return None
    found: dict[str, list[int]] = {}
    for code, pk in Task.objects.visible_to(user).filter(code__in=codes).values_list("code", "pk"):
        found.setdefault(code, []).append(pk)
    unknown = [c for c in codes if c not in found]
    twice = [c for c in codes if len(found.get(c, [])) > 1]
    if unknown:
        form.add_error("task_codes", _("您的范围内没有这些任务编号：%(codes)s") % {"codes": "、".join(unknown[:10])})
    if twice:
        form.add_error("task_codes", _("这些编号对应多个批次的任务，请从任务页面发起：%(codes)s") % {"codes": "、".join(twice[:10])})
    return None if unknown or twice else [found[c][0] for c in codes]


@login_required
def case_new(request):
    """立案: from a task's page (?task=) or by task codes."""
    user = request.user
    handler = scope.is_case_handler(user)
    if not handler and user.role != Role.SUPERVISOR:
        raise Http404(_("页面不存在"))
    initial = {"investigation_due": timezone.localdate() + dt.timedelta(days=30), "kind": CaseKind.SUPERFICIAL}
    task_id = _int(request.GET.get("task"))
    if task_id:
        task = Task.objects.visible_to(user).prefetch_related("task_units__unit").filter(pk=task_id).first()
        if task is None or not scope.may_open_on(user, task):
            raise Http404(_("任务不存在或无权对其立案"))
        lead = next((tu.unit for tu in task.task_units.all() if tu.role == "lead_supervisor"), None)
        initial.update({"task_codes": task.code, "title": task.title[:200], "lead_unit": lead})
    form = CaseForm(request.POST or None, initial=initial, choose_lead=handler)
    if request.method == "POST" and form.is_valid():
        task_ids = _resolve_tasks(user, form)
        if task_ids is not None:
            d = form.cleaned_data
            try:
                case = services.open_case(actor=user, task_ids=task_ids, kind=d["kind"], title=d["title"],
                                          facts=d["facts"], lead_unit=d.get("lead_unit"),
                                          investigation_due=d["investigation_due"],
                                          unit_ids=[u.pk for u in d["units"]] or None)
            except (ValidationError, PermissionDenied) as exc:
                for m in _messages_of(exc):
                    form.add_error(None, m)
            else:
                messages.success(request, _("已立案：%(number)s。") % {"number": case.number})
                return redirect("accountability:case", pk=case.pk)
    return render(request, "accountability/case_form.html", {"form": form, "creating": True})


@login_required
def case_edit(request, pk: int):
    case = selectors.get_case_for_user(request.user, pk)
    if not scope.handles(request.user, case) or case.status not in (S.PROPOSED, S.OPENED):
        raise Http404(_("案件不存在或当前不能修改"))
    form = CaseForm(request.POST or None, initial={
        "task_codes": ", ".join(link.task.code for link in case.task_links.all()), "kind": case.kind,
        "title": case.title, "facts": case.facts, "lead_unit": case.lead_unit,
        "investigation_due": case.investigation_due or timezone.localdate() + dt.timedelta(days=30),
        "units": [link.unit for link in case.unit_links.all()], "version": case.version})
    if request.method == "POST" and form.is_valid():
        task_ids = _resolve_tasks(request.user, form)
        if task_ids is not None:
            d = form.cleaned_data
            try:
                services.update_case(actor=request.user, case=case, expected_version=d.get("version"), kind=d["kind"],
                                     title=d["title"], facts=d["facts"], task_ids=task_ids,
                                     unit_ids=[u.pk for u in d["units"]], lead_unit=d.get("lead_unit"),
                                     investigation_due=d["investigation_due"])
            except services.StaleCaseError as exc:
                form.add_error(None, str(exc))
            except (ValidationError, PermissionDenied) as exc:
                for m in _messages_of(exc):
                    form.add_error(None, m)
            else:
                messages.success(request, _("案件信息已保存。"))
                return redirect("accountability:case", pk=case.pk)
    return render(request, "accountability/case_form.html", {"form": form, "case": case})


@login_required
def case_detail(request, pk: int):
    user = request.user
    case = selectors.get_case_for_user(user, pk)
    actions = selectors.case_actions(user, case)
    handler = scope.handles(user, case)
    investigator = scope.investigates(user, case)
    persons = selectors.persons_for(case, masked=False)
    may_edit_people = case.status in EDITABLE_STATES and (handler or (investigator and case.status == S.INVESTIGATING))
    may_record = ((investigator and case.status == S.INVESTIGATING)
                  or (scope.commission_of(user, case) and case.status in (S.ACCEPTED, S.DECIDED))
                  or (handler and case.status not in FINISHED_STATES))
    return render(request, "accountability/case_detail.html", {
        "case": case, "actions": actions, "needs_reason": NEEDS_REASON,
        "step_form": StepForm(initial={"version": case.version, "lead_unit": case.lead_unit,
                                       "investigation_due": case.investigation_due
                                       or timezone.localdate() + dt.timedelta(days=30),
                                       "handling_due": timezone.localdate() + dt.timedelta(days=60)},
                              persons=[p.person for p in persons]),
        "stages": STAGES, "stage_index": STAGE_INDEX.get(case.status, -1),
        "finished_without": case.status in (S.DECLINED, S.NOT_REFERRED),
        "is_handler": handler, "is_investigator": investigator,
        "can_edit": handler and case.status in (S.PROPOSED, S.OPENED),
        "persons": persons, "person_form": PersonForm(), "may_edit_people": may_edit_people,
        "findings_form": FindingsForm(initial={"version": case.version, "findings": case.findings,
                                               "recommendation": case.recommendation}),
        "may_write_findings": investigator and case.status == S.INVESTIGATING,
        "notes": selectors.notes_for(case), "note_form": NoteForm(), "may_record": may_record,
        "files": selectors.files_for(user, case), "file_form": CaseFileForm(),
        "report": next((f for f in selectors.files_for(user, case).order_by("-pk") if f.file_kind == FileKind.REPORT),
                       None),
        "may_preview": (investigator and case.status == S.INVESTIGATING) or handler,
        "linked": selectors.linked_tasks(user, case), "history": selectors.case_history(case)[:100],
        "outcomes": Outcome, "today": timezone.localdate()})


@login_required
@require_POST
def case_step(request, pk: int):
    case = selectors.get_case_for_user(request.user, pk)
    form = StepForm(request.POST, persons=list(case.persons.all()))
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return redirect("accountability:case", pk=pk)
    d = form.cleaned_data
    action = d["action"]
    if action not in CASE_FLOW.actions:
        raise Http404
    try:
        services.transition(actor=request.user, case=case, action=action, expected_version=d["version"],
                            reason=d["reason"], opinion=d["opinion"], note=d["note"], lead_unit=d["lead_unit"],
                            investigation_due=d["investigation_due"], commission=d["commission"],
                            commission_ref=d["commission_ref"], handling_due=d["handling_due"], outcome=d["outcome"],
                            detail=d["detail"], person_outcomes=form.person_outcomes())
    except services.StaleCaseError as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已%(step)s。") % {"step": CASE_FLOW.label_of(action)})
        if not AccountabilityCase.objects.visible_to(request.user).filter(pk=pk).exists():
            # the lead unit's view of a case ends when it submits its report
            return redirect("accountability:workspace")
    return redirect("accountability:case", pk=pk)


@login_required
@require_POST
def findings(request, pk: int):
    case = selectors.get_case_for_user(request.user, pk)
    form = FindingsForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.save_findings(actor=request.user, case=case, expected_version=d["version"],
                                   findings=d["findings"], recommendation=d["recommendation"])
        except services.StaleCaseError as exc:
            messages.error(request, str(exc))
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("调查结论已保存。"))
    else:
        messages.error(request, _("请检查填写内容。"))
    return redirect("accountability:case", pk=pk)


@login_required
@require_POST
def person_add(request, pk: int):
    case = selectors.get_case_for_user(request.user, pk)
    form = PersonForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.add_person(actor=request.user, case=case, name=d["name"], post=d["post"], unit=d["unit"])
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("已登记涉及人员。"))
    else:
        messages.error(request, _("请填写姓名并选择所在单位。"))
    return redirect("accountability:case", pk=pk)


@login_required
@require_POST
def person_remove(request, pk: int):
    person = selectors.get_person_for_user(request.user, pk)
    try:
        services.remove_person(actor=request.user, person=person)
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已移除涉及人员。"))
    return redirect("accountability:case", pk=person.case_id)


@login_required
@require_POST
def note_add(request, pk: int):
    case = selectors.get_case_for_user(request.user, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(actor=request.user, case=case, text=form.cleaned_data["text"])
        except (ValidationError, PermissionDenied) as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("记录已保存。"))
    else:
        messages.error(request, _("请填写记录内容。"))
    return redirect("accountability:case", pk=pk)


@login_required
@require_POST
@throttled("upload")
def file_upload(request, pk: int):
    case = selectors.get_case_for_user(request.user, pk)
    form = CaseFileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的文件。"))
        return redirect("accountability:case", pk=pk)
    upload = form.cleaned_data["file"]
    try:
        stored = services.attach_file(actor=request.user, case=case, name=upload.name, fileobj=upload,
                                      note=form.cleaned_data["note"])
    except EvidenceRejected as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已上传「%(name)s」。") % {"name": stored.original_name})
    return redirect("accountability:case", pk=pk)


@login_required
def file_download(request, pk: int):
    stored = selectors.get_case_file_for_user(request.user, pk)
    path = services.file_for_download(actor=request.user, stored=stored)
    return attachment_response(path, download_name=stored.original_name, mime=stored.mime)


def _docx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=DOCX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
    response["Cache-Control"] = "no-store"
    return response


@login_required
def report_preview(request, pk: int):
    """The 追责建议报告 as it would be generated now (the lead unit drafts; the handler reads along).
    The submitted report is the frozen file on the case."""
    case = selectors.get_case_for_user(request.user, pk)
    if not ((scope.investigates(request.user, case) and case.status == S.INVESTIGATING)
            or scope.handles(request.user, case)):
        raise Http404(_("案件不存在或无权查看"))
    data = report_doc.report_docx(case, submitted_by=request.user)
    record_event(actor=request.user, action="document_generated", obj=case, unit=request.user.unit,
                 summary="生成追责建议报告（草稿预览）", after={"format": "docx", "bytes": len(data)})
    return _docx(data, "草稿-" + report_doc.report_filename(case))


@login_required
def referral_letter(request, pk: int):
    """问题线索移交函: the office's handlers and the commission, once the case was referred."""
    case = selectors.get_case_for_user(request.user, pk)
    if not case.referral_number or not (scope.handles(request.user, case) or scope.commission_of(request.user, case)):
        raise Http404(_("案件尚未移交"))
    data = report_doc.referral_docx(case)
    record_event(actor=request.user, action="document_generated", obj=case, unit=request.user.unit,
                 summary=f"生成问题线索移交函（{case.referral_number}）", after={"format": "docx", "bytes": len(data)})
    return _docx(data, report_doc.referral_filename(case))


@login_required
def handlers(request):
    """案件承办人: office administrators designate who in the office handles cases."""
    if not scope.manages_handlers(request.user):
        raise Http404(_("页面不存在"))
    if request.method == "POST":
        user = User.objects.visible_to(request.user).filter(pk=_int(request.POST.get("user"))).first()
        if user is None:
            messages.error(request, _("请选择用户。"))
        else:
            try:
                services.grant_case_handler(actor=request.user, user=user)
            except (ValidationError, PermissionDenied) as exc:
                for m in _messages_of(exc):
                    messages.error(request, m)
            else:
                messages.success(request, _("已指定 %(user)s 为案件承办人。") % {"user": user.username})
        return redirect("accountability:handlers")
    return render(request, "accountability/handlers.html", {
        "handlers": selectors.handlers_for(request.user), "candidates": selectors.handler_candidates(request.user)})


@login_required
@require_POST
def handler_revoke(request, user_id: int):
    user = User.objects.visible_to(request.user).filter(pk=user_id).first()
    allowed = scope.manages_handlers(request.user)  # a plain bool: the service takes the request's User
    if user is None or not allowed:
        raise Http404(_("用户不存在"))
    try:
        services.revoke_case_handler(actor=request.user, user=user)
    except (ValidationError, PermissionDenied) as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("已取消 %(user)s 的案件承办人资格。") % {"user": user.username})
    return redirect("accountability:handlers")
