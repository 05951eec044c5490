"""Reserve pages: list with filters, a project, create/edit, stage steps, progress and performance,
xlsx import (all or nothing) and export. Thin."""

from __future__ import annotations

import re
import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rectify.core.paging import list_page
from rectify.core.ratelimit import throttled
from rectify.ledger.models import Task
from rectify.orgs.models import Unit, UnitKind
from rectify.orgs.scope import in_tree
from rectify.reserve import excel, scope, services
from rectify.reserve.forms import ImportForm, PerformanceForm, ProgressForm, ProjectFilterForm, ProjectForm
from rectify.reserve.models import FundingSource, Project
from rectify.reserve.workflows import STAGE_FLOW

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _counties(user):
    if scope.runs_reserve(user):
        return Unit.objects.filter(in_tree("", user.unit), kind=UnitKind.COUNTY).order_by("sort_order", "id")
    return Unit.objects.filter(pk__in=Project.objects.visible_to(user).values("county_id")).order_by("sort_order", "id")


def _project(user, pk: int) -> Project:
    project = (Project.objects.visible_to(user).select_related("county", "responsible_unit", "office")
               .filter(pk=pk).first())
    if project is None:
        raise Http404(_("项目不存在或无权查看"))
    return project


@login_required
def project_list(request):
    form = ProjectFilterForm(request.GET or None, counties=_counties(request.user))
    qs = Project.objects.visible_to(request.user).select_related("county", "responsible_unit")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(name__icontains=d["q"]) | qs.filter(code__icontains=d["q"])
        if d["county"]:
            qs = qs.filter(county=d["county"])
        if d["stage"]:
            qs = qs.filter(stage=d["stage"])
        if d["kind"]:
            qs = qs.filter(kind=d["kind"])
    page = list_page(request, qs.order_by("code", "id"), 30)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "reserve/list.html", {"form": form, "page": page, "query": query.urlencode(),
                                                 "can_edit": scope.runs_reserve(request.user)})


def _progress_form(project: Project, data=None, files=None) -> ProgressForm:
    rounds = scope.rounds_for_project(project).order_by("-period", "-id")
    month = timezone.localdate().strftime("%Y-%m")
    initial = {"round": rounds.filter(period=month).values_list("pk", flat=True).first(), "period": month}
    return ProgressForm(data, files, rounds=rounds, initial=initial)


@login_required
def project_detail(request, pk: int):
    project = _project(request.user, pk)
    can_progress = Project.objects.actionable_by(request.user, "progress").filter(pk=pk).exists()
    can_edit = Project.objects.actionable_by(request.user, "edit").filter(pk=pk).exists()
    progress = list(project.progress.select_related("round").prefetch_related("evidence")[:24])
    return render(request, "reserve/detail.html", {
        "project": project, "funding": list(project.funding.all()), "tasks": list(project.tasks.all()[:200]),
        "progress": progress, "performance": list(project.performance.all()[:10]),
        "actions": STAGE_FLOW.available(request.user, project), "can_progress": can_progress, "can_edit": can_edit,
        "progress_form": _progress_form(project) if can_progress else None,
        "performance_form": PerformanceForm(initial={"year": timezone.localdate().year}) if can_edit else None,
    })


_SPLIT = re.compile(r"[\s,，、;；]+")


def _input(user, form: ProjectForm) -> services.ProjectInput:
    d = form.cleaned_data
    codes = [c for c in _SPLIT.split(d["task_codes"] or "") if c]
    tasks = list(Task.objects.visible_to(user).filter(code__in=codes))
    if len({t.code for t in tasks}) != len(set(codes)) or len(tasks) != len(set(codes)):
        raise ValidationError({"task_codes": [_("关联任务编号不存在、无权查看或对应多项任务。")]})
    return services.ProjectInput(
        code=d["code"], name=d["name"], kind=d["kind"], county=d["county"], location=d["location"],
        total_investment=d["total_investment"], annual_investment=d["annual_investment"],
        responsible_unit=d["responsible_unit"], start_date=d["start_date"], completion_date=d["completion_date"],
        funding={s.value: d[f"fund_{s.value}"] for s in FundingSource if d.get(f"fund_{s.value}")}, tasks=tasks)


def _form(request, data=None, initial=None):
    units = Unit.objects.filter(in_tree("", request.user.unit), is_active=True).order_by("path")
    return ProjectForm(data, initial=initial, counties=_counties(request.user), units=units)


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def project_new(request):
    if not scope.runs_reserve(request.user):
        raise PermissionDenied(_("只有整改办可以新增储备项目。"))
    form = _form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.create_project(actor=request.user, data=_input(request.user, form))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已新增储备项目。"))
            return redirect("reserve:detail", pk=project.pk)
    return render(request, "reserve/form.html", {"form": form, "project": None})


@login_required
def project_edit(request, pk: int):
    project = Project.objects.actionable_by(request.user, "edit").filter(pk=pk).first()
    if project is None:
        raise Http404(_("项目不存在或无权修改"))
    initial = {"version": project.version, "code": project.code, "name": project.name, "kind": project.kind,
               "county": project.county_id, "location": project.location,
               "total_investment": project.total_investment, "annual_investment": project.annual_investment,
               "responsible_unit": project.responsible_unit_id, "start_date": project.start_date,
               "completion_date": project.completion_date,
               "task_codes": "、".join(project.tasks.values_list("code", flat=True))}
    for f in project.funding.all():
        initial[f"fund_{f.source}"] = f.amount
    form = _form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(actor=request.user, project=project, data=_input(request.user, form),
                                    expected_version=form.cleaned_data["version"] or 0)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("reserve:detail", pk=project.pk)
    return render(request, "reserve/form.html", {"form": form, "project": project})


@login_required
@require_POST
def project_transition(request, pk: int, action: str):
    project = _project(request.user, pk)
    try:
        services.transition(actor=request.user, project=project, action=action)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    return redirect("reserve:detail", pk=pk)


@login_required
@require_POST
@throttled("upload")
def project_progress(request, pk: int):
    from rectify.evidence.inspect import EvidenceRejected

    project = _project(request.user, pk)
    form = _progress_form(project, request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_progress(actor=request.user, project=project, period=d["period"] or "",
                                     percent=d["percent"], invested=d["invested"], text=d["text"], rnd=d["round"],
                                     files=[(f.name, f) for f in d["evidence_files"]])
        except EvidenceRejected as exc:
            messages.error(request, _("进展未报送：%(reason)s") % {"reason": str(exc)})
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("进展已报送。"))
    else:
        messages.error(request, _("进展填写有误：%(errors)s") % {"errors": "；".join(
            str(e) for errors in form.errors.values() for e in errors)})
    return redirect("reserve:detail", pk=pk)


@login_required
@require_POST
def project_performance(request, pk: int):
    project = _project(request.user, pk)
    form = PerformanceForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_performance(actor=request.user, project=project, year=d["year"], planned=d["planned"],
                                        spent=d["spent"], outputs=d["outputs"], rating=d["rating"])
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("资金使用绩效评价已记录。"))
    else:
        messages.error(request, _("绩效评价填写有误：%(errors)s") % {"errors": "；".join(
            str(e) for errors in form.errors.values() for e in errors)})
    return redirect("reserve:detail", pk=pk)


@login_required
def project_import(request):
    if not scope.runs_reserve(request.user):
        raise PermissionDenied(_("只有整改办可以导入储备项目。"))
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            errors = [_("文件过大，上限为 %(limit)s MB。") % {"limit": settings.IMPORT_MAX_BYTES // 1048576}]
        else:
            try:
                rows = excel.read_workbook(upload.read(), actor=request.user)
                created, updated = services.import_projects(actor=request.user, rows=rows,
                                                            filename=upload.name[:200])
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, _("导入完成：新增 %(created)s 个，更新 %(updated)s 个。")
                                 % {"created": created, "updated": updated})
                return redirect("reserve:list")
    return render(request, "reserve/import.html", {"form": form, "errors": errors[:200], "columns": excel.COLUMNS})


@login_required
def project_export(request):
    out = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        excel.export_projects(excel.export_queryset(request.user).iterator(chunk_size=500), out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return FileResponse(out, as_attachment=True, filename=f"生态环保项目储备库{timezone.localdate():%Y%m%d}.xlsx",
                        content_type=XLSX)


@login_required
@require_GET
def evidence_file(request, pk: int):
    """A progress report's evidence file, to whoever sees the project; the digest is re-checked first."""
    from rectify.evidence.serve import attachment_response
    from rectify.reserve.models import ProjectEvidence

    evidence = ProjectEvidence.objects.visible_to(request.user).filter(pk=pk).first()
    if evidence is None:
        raise Http404("文件不存在或无权查看。")
    path = services.evidence_for_download(actor=request.user, evidence=evidence)
    return attachment_response(path, download_name=evidence.original_name, mime=evidence.mime)
