"""Every write of the project reserve (项目储备库): create, edit (compare-and-set on ``version``), move
the stage (the declared table), progress, fund-use performance, and the all-or-nothing import."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.http import Http404

from rectify.core.audit import jsonable, record_event
from rectify.dispatch.models import DispatchRound, RoundStatus
from rectify.ledger.models import Task
from rectify.orgs.models import Unit, UnitKind, User
from rectify.orgs.scope import unit_within
from rectify.reserve import scope
from rectify.reserve.models import (
    FundingSource,
    FundPerformance,
    Project,
    ProjectEvidence,
    ProjectFunding,
    ProjectKind,
    ProjectProgress,
    Rating,
)
from rectify.reserve.workflows import STAGE_FLOW

MAX_AMOUNT = Decimal("999999999999.99")
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class StaleProject(ValidationError):
    pass


@dataclass
class ProjectInput:
    code: str
    name: str
    kind: str = ProjectKind.OTHER
    county: Unit | None = None
    location: str = ""
    total_investment: Decimal = Decimal(0)
    annual_investment: Decimal = Decimal(0)
    responsible_unit: Unit | None = None
    start_date: dt.date | None = None
    completion_date: dt.date | None = None
    funding: dict[str, Decimal] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)


def validate(actor: User, data: ProjectInput, *, office: Unit, project_id: int | None = None) -> None:
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.code.strip() or len(data.code) > 40:
        err("code", "项目编号必填，不超过 40 个字符。")
    elif Project.objects.filter(office=office, code=data.code.strip()).exclude(pk=project_id).exists():
        err("code", f"项目编号 {data.code} 已存在。")
    if not data.name.strip() or len(data.name) > 200:
        err("name", "项目名称必填，不超过 200 个字符。")
    if data.kind not in ProjectKind.values:
        err("kind", "项目类型无效。")
    if len(data.location) > 200:
        err("location", "建设地点不超过 200 个字符。")
    for name, amount in (("total_investment", data.total_investment), ("annual_investment", data.annual_investment)):
        if amount < 0 or amount > MAX_AMOUNT:
            err(name, "金额须为 0 及以上的数。")
    if data.annual_investment > data.total_investment:
        err("annual_investment", "年度计划投资不能超过总投资。")
    for source, amount in data.funding.items():
        if source not in FundingSource.values:
            err("funding", f"资金来源「{source}」无效。")
        elif amount < 0 or amount > MAX_AMOUNT:
            err("funding", f"{FundingSource(source).label}金额须为 0 及以上的数。")
    if sum(data.funding.values(), Decimal(0)) > data.total_investment:
        err("funding", "各资金来源合计超过总投资。")
    if data.responsible_unit is None:
        err("responsible_unit", "责任单位必填。")
    elif not unit_within(data.responsible_unit, office):
        err("responsible_unit", "责任单位须在本整改办范围内。")
    if data.county is not None and (data.county.kind != UnitKind.COUNTY or not unit_within(data.county, office)):
        err("county", "所在县市区须为本整改办范围内的县市区。")
    if data.start_date and data.completion_date and data.completion_date < data.start_date:
        err("completion_date", "完工日期不能早于开工日期。")
    visible = set(Task.objects.visible_to(actor).filter(pk__in=[t.pk for t in data.tasks]).values_list("pk", flat=True))
    if any(t.pk not in visible for t in data.tasks):
        err("tasks", "关联的整改任务不存在或无权查看。")
    if errors:
        raise ValidationError(errors)


def _apply(project: Project, data: ProjectInput) -> None:
    project.code, project.name, project.kind = data.code.strip(), data.name.strip(), data.kind
    project.county, project.location = data.county, data.location.strip()
    project.total_investment, project.annual_investment = data.total_investment, data.annual_investment
    project.responsible_unit = data.responsible_unit  # type: ignore[assignment]  # validated: not None
    project.start_date, project.completion_date = data.start_date, data.completion_date


def _write_children(project: Project, data: ProjectInput) -> None:
    ProjectFunding.objects.filter(project=project).delete()
    ProjectFunding.objects.bulk_create(ProjectFunding(project=project, source=s, amount=a)
                                       for s, a in data.funding.items() if a)
    project.tasks.set(data.tasks)


def snapshot(project: Project) -> dict:
    return jsonable({"code": project.code, "name": project.name, "kind": project.kind, "county": project.county_id,
                     "location": project.location, "total": project.total_investment,
                     "annual": project.annual_investment, "responsible": project.responsible_unit_id,
                     "start": project.start_date, "completion": project.completion_date, "stage": project.stage,
                     "funding": {f.source: f.amount for f in project.funding.all()},
                     "tasks": sorted(project.tasks.values_list("pk", flat=True))})


def create_project(*, actor: User, data: ProjectInput, source: str = "") -> Project:
    """新增储备项目 (储备 stage)."""
    if not scope.runs_reserve(actor) or actor.unit is None:
        raise PermissionDenied("只有整改办可以新增储备项目。")
    office = actor.unit
    validate(actor, data, office=office)
    with transaction.atomic():
        project = Project(office=office)
        _apply(project, data)
        project.save()
        _write_children(project, data)
        record_event(actor=actor, action="project_created", obj=project, unit=office,
                     summary=f"新增储备项目「{project.name}」" + (f"（{source}）" if source else ""),
                     after=snapshot(project))
    return project


def update_project(*, actor: User, project: Project, data: ProjectInput, expected_version: int) -> Project:
    with transaction.atomic():
        locked = Project.objects.actionable_by(actor, "edit").select_for_update(of=("self",)).filter(
            pk=project.pk).first()
        if locked is None:
            raise Http404("项目不存在或无权修改。")
        if locked.version != expected_version:
            raise StaleProject(f"该项目已被他人修改（第 {locked.version} 版），请刷新后再改。")
        validate(actor, data, office=locked.office, project_id=locked.pk)
        before = snapshot(locked)
        _apply(locked, data)
        locked.version += 1
        locked.save()
        _write_children(locked, data)
        after = snapshot(locked)
        changed = {k for k in after if before.get(k) != after.get(k)}
        record_event(actor=actor, action="project_updated", obj=locked, unit=locked.office,
                     summary=f"修改储备项目「{locked.name}」：{'、'.join(sorted(changed)) or '无变化'}",
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return locked


def transition(*, actor: User, project: Project, action: str) -> Project:
    """Move the stage along ``STAGE_FLOW``."""
    with transaction.atomic():
        locked = Project.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=project.pk).first()
        if locked is None:
            raise Http404("项目不存在或无权查看。")
        rule = STAGE_FLOW.authorise(actor, locked, action)
        before = locked.stage
        locked.stage = rule.target
        locked.version += 1
        locked.save(update_fields=["stage", "version", "updated_at"])
        record_event(actor=actor, action=STAGE_FLOW.event_of(rule), obj=locked, unit=locked.office,
                     summary=f"储备项目「{locked.name}」{rule.label}", before={"stage": before},
                     after={"stage": rule.target})
    return locked


MAX_PROGRESS_FILES = 10


def record_progress(*, actor: User, project: Project, period: str = "", percent: int, invested: Decimal,
                    text: str, rnd: DispatchRound | None = None,
                    files: list[tuple[str, object]] | tuple = ()) -> ProjectProgress:
    """项目进展: one per project and month. Reported in a dispatch round (``rnd``: open, of the project's
    office; the month is the round's) or, without one, for a month the office names. Evidence files
    (``files``: (name, file object)) are checked by content first (``evidence.inspect``): a rejected
    file leaves nothing written. Files add to those already reported for the month."""
    from rectify.evidence.exif import photo_warnings
    from rectify.evidence.inspect import check_report_total, inspect_upload
    from rectify.evidence.store import EvidenceStore

    if rnd is not None:
        period = rnd.period
    if not _PERIOD.fullmatch(period or ""):
        raise ValidationError("月份格式为 YYYY-MM。")
    if not 0 <= percent <= 100:
        raise ValidationError("形象进度须在 0–100 之间。")
    if invested < 0 or invested > MAX_AMOUNT:
        raise ValidationError("累计完成投资须为 0 及以上的数。")
    if not text.strip() or len(text) > 5000:
        raise ValidationError("请填写进展情况（不超过 5000 字）。")
    if len(files) > MAX_PROGRESS_FILES:
        raise ValidationError(f"一次最多上传 {MAX_PROGRESS_FILES} 个佐证材料。")
    inspected = [(inspect_upload(name, fileobj), fileobj) for name, fileobj in files]  # EvidenceRejected names the file
    store = EvidenceStore()
    with transaction.atomic():
        locked = Project.objects.actionable_by(actor, "progress").select_for_update(of=("self",)).filter(
            pk=project.pk).first()
        if locked is None:
            raise Http404("项目不存在或无权报送进展。")
        if rnd is not None:
            rnd = DispatchRound.objects.select_for_update().filter(pk=rnd.pk).first()
            if rnd is None or rnd.office_id != locked.office_id:
                raise ValidationError("该调度轮次不属于本项目的整改办。")
            if rnd.status != RoundStatus.OPEN:
                raise ValidationError(f"{rnd.title}已结束，不能再报送。")
        row, created = ProjectProgress.objects.update_or_create(
            project=locked, period=period, defaults={"percent": percent, "invested": invested, "text": text.strip(),
                                                     "reported_by": actor, **({"round": rnd} if rnd else {})})
        attached = row.evidence.aggregate(total=Sum("size"), files=Count("pk"))
        check_report_total((attached["total"] or 0) + sum(i.size for i, _f in inspected),
                           files=attached["files"] + len(inspected))  # the per-report caps (SECURITY 19)
        added = []
        for item, _fileobj in inspected:
            meta = item.exif
            warnings = (photo_warnings(meta, measure_start=locked.start_date, task_location=None)
                        if item.kind == "photo" else [])
            added.append(ProjectEvidence.objects.create(
                progress=row, digest=item.digest, extension=item.extension, size=item.size, mime=item.mime,
                kind=item.kind, original_name=item.original_name[:200], taken_at=getattr(meta, "taken_at", None),
                latitude=getattr(meta, "latitude", None), longitude=getattr(meta, "longitude", None),
                warnings=warnings, uploaded_by=actor))
        where = rnd.title if rnd else period
        record_event(actor=actor, action="project_progress_reported", obj=locked, unit=actor.unit,
                     summary=f"报送储备项目「{locked.name}」{where} 进展：形象进度 {percent}%"
                             + (f"，佐证材料 {len(added)} 个" if added else "") + ("" if created else "（更新）"),
                     after={"period": period, "round": rnd.pk if rnd else None, "percent": percent,
                            "invested": str(invested),
                            "evidence": [{"id": e.pk, "name": e.original_name, "sm3": e.digest, "size": e.size}
                                         for e in added]})
        # the files are written last, so a failure above leaves none behind
        for item, fileobj in inspected:
            store.save(item, fileobj)
    return row


def evidence_for_download(*, actor: User, evidence: ProjectEvidence):
    """Re-check the stored file against its digest and record the download; returns its path."""
    from rectify.evidence.store import EvidenceStore

    store = EvidenceStore()
    if not store.verify(evidence.digest, evidence.extension):
        raise Http404("文件缺失或已被改动，请联系管理员。")
    with transaction.atomic():
        record_event(actor=actor, action="evidence_downloaded", object_type="reserve.projectevidence",
                     object_id=evidence.pk, summary=f"下载储备项目进展佐证材料「{evidence.original_name}」")
    return store.path(evidence.digest, evidence.extension)


def record_performance(*, actor: User, project: Project, year: int, planned: Decimal, spent: Decimal,
                       outputs: str, rating: str) -> FundPerformance:
    if not 2000 <= year <= 2100:
        raise ValidationError("年度无效。")
    if planned < 0 or spent < 0 or planned > MAX_AMOUNT or spent > MAX_AMOUNT:
        raise ValidationError("金额须为 0 及以上的数。")
    if rating not in Rating.values:
        raise ValidationError("评价等级无效。")
    if not outputs.strip() or len(outputs) > 5000:
        raise ValidationError("请填写产出与效益（不超过 5000 字）。")
    with transaction.atomic():
        locked = Project.objects.actionable_by(actor, "performance").select_for_update(of=("self",)).filter(
            pk=project.pk).first()
        if locked is None:
            raise Http404("项目不存在或无权评价。")
        row, _created = FundPerformance.objects.update_or_create(
            project=locked, year=year, defaults={"planned": planned, "spent": spent, "outputs": outputs.strip(),
                                                 "rating": rating, "recorded_by": actor})
        record_event(actor=actor, action="project_performance_recorded", obj=locked, unit=locked.office,
                     summary=f"记录储备项目「{locked.name}」{year} 年资金使用绩效：计划 {planned} 万元，"
                             f"使用 {spent} 万元，评价{Rating(rating).label}",
                     after={"year": year, "planned": str(planned), "spent": str(spent), "rating": rating})
    return row


def import_projects(*, actor: User, rows: list[tuple[int, ProjectInput]], filename: str = "") -> tuple[int, int]:
    """All or nothing: every row is validated first (errors name the row), then written in one
    transaction — a new code creates, a known code updates. Returns (created, updated)."""
    if not scope.runs_reserve(actor) or actor.unit is None:
        raise PermissionDenied("只有整改办可以导入储备项目。")
    office = actor.unit
    existing = {p.code: p for p in Project.objects.actionable_by(actor, "edit").filter(
        office=office, code__in=[d.code.strip() for _, d in rows])}
    errors: list[str] = []
    seen: set[str] = set()
    for number, data in rows:
        code = data.code.strip()
        if code in seen:
            errors.append(f"第 {number} 行：项目编号 {code} 在文件中重复")
            continue
        seen.add(code)
        try:
            validate(actor, data, office=office, project_id=existing[code].pk if code in existing else None)
        except ValidationError as exc:
            errors.append(f"第 {number} 行：" + "；".join(exc.messages))
    if errors:
        raise ValidationError(errors)
    created = updated = 0
    with transaction.atomic():
        for _number, data in rows:
            current = existing.get(data.code.strip())
            if current is None:
                create_project(actor=actor, data=data, source=f"Excel 导入：{filename}" if filename else "Excel 导入")
                created += 1
            else:
                update_project(actor=actor, project=current, data=data, expected_version=current.version)
                updated += 1
        record_event(actor=actor, action="projects_imported", unit=office, object_type="reserve.project",
                     summary=f"Excel 导入储备项目「{filename}」：新增 {created} 个，更新 {updated} 个",
                     after={"file": filename, "created": created, "updated": updated})
    return created, updated
