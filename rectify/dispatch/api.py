"""Dispatch under /api/v1: rounds, report slots, progress reports and their evidence.

Thin, like the pages: every read goes through ``rectify.dispatch.selectors`` (scoped), every write
through ``rectify.dispatch.services``. A stale ``version`` answers 409 with the current version.
"""


import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from rectify.core.paging import ApiId, ApiPagination, ApiVersion
from rectify.dispatch import scope, selectors, services
from rectify.dispatch.models import ProgressReport
from rectify.evidence.inspect import EvidenceRejected
from rectify.evidence.serve import attachment_response

router = Router(tags=["调度报送"])


# --- schemas ---------------------------------------------------------------------------------


class Message(Schema):
    detail: str


class Conflict(Schema):
    detail: str
    current_version: int
    current_status: str


class RoundOut(Schema):
    id: int
    office: str = Field(..., alias="office.name")
    period: str
    title: str
    opened_at: dt.datetime
    due_date: dt.date
    require_unit_review: bool
    status: str
    closed_at: dt.datetime | None


class RoundOpenOut(RoundOut):
    created: bool = Field(False, description="False：该月份的轮次已存在，未重复开启")
    slots: int = Field(0, description="报送任务数")


class Counts(Schema):
    total: int = 0
    reported: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    not_started: int = 0
    returned: int = 0
    to_review: int = 0
    to_accept: int = 0
    accepted: int = 0


class UnitRow(Counts):
    unit_id: int
    unit: str
    kind: str


class LeadRow(Counts):
    lead: str | None


class RoundDetailOut(RoundOut):
    totals: Counts
    by_unit: list[UnitRow]
    by_lead: list[LeadRow]
    past_due: bool
    bucket_labels: dict[str, str]


class RoundIn(Schema):
    period: str = Field(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="调度月份 YYYY-MM")
    due_date: dt.date
    require_unit_review: bool = True


class ReportOut(Schema):
    id: int
    round: int = Field(..., alias="round_id")
    period: str = Field(..., alias="round.period")
    task: int = Field(..., alias="task_id")
    task_code: str = Field(..., alias="task.code")
    task_title: str = Field(..., alias="task.title")
    unit: int = Field(..., alias="unit_id")
    unit_name: str = Field(..., alias="unit.name")
    status: str
    status_label: str = ""
    percent: int | None
    late: bool
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    version: int
    evidence_count: int = 0

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()


class EvidenceOut(Schema):
    id: int
    original_name: str
    size: int
    mime: str
    kind: str
    taken_at: dt.datetime | None
    latitude: float | None
    longitude: float | None
    warnings: list[str]
    uploaded_at: dt.datetime
    url: str

    @staticmethod
    def resolve_url(obj):
        return reverse("api:dispatch_evidence_download", args=[obj.pk])


class ReportDetailOut(ReportOut):
    round_title: str = Field(..., alias="round.title")
    progress_text: str
    measures_completed: list[int] = []
    difficulties: str
    next_steps: str
    public_summary: str
    return_reason: str
    judged_unable: bool
    author: str | None = None
    evidence: list[EvidenceOut] = []
    actions: list[str] = Field([], description="当前用户可执行的操作")

    @staticmethod
    def resolve_measures_completed(obj):
        return sorted(m.pk for m in obj.measures_completed.all())

    @staticmethod
    def resolve_author(obj):
        return str(obj.author) if obj.author_id else None

    @staticmethod
    def resolve_evidence(obj):
        return list(obj.evidence.all())

    @staticmethod
    def resolve_evidence_count(obj):
        return len(obj.evidence.all())

    @staticmethod
    def resolve_actions(obj, context):
        return _allowed_actions(context["request"].auth, obj)


class ReportFilterIn(Schema):
    round: ApiId | None = None
    unit: ApiId | None = None
    bucket: str = Field("", description="、".join(f"{k}（{v}）" for k, v in selectors.BUCKET_LABELS.items()))
    task: ApiId | None = None
    lead: str = Field("", description="牵头督导单位名称")


class ReportIn(Schema):
    version: int = Field(..., description="读取时的版本号；过期的写入返回 409")
    progress_text: str | None = None
    percent: int | None = Field(None, ge=0, le=100)
    measures_completed: list[int] | None = Field(None, description="本月已完成的措施 id")
    difficulties: str | None = None
    next_steps: str | None = None
    public_summary: str | None = Field(None, max_length=200)


class VersionIn(Schema):
    version: ApiVersion


class ReasonIn(VersionIn):
    reason: str


class AcceptIn(VersionIn):
    judged_unable: bool = Field(False, description="牵头单位判断无法按期完成（红色预警）")


# --- helpers ---------------------------------------------------------------------------------


def _allowed_actions(user, report: ProgressReport) -> list[str]:
    """What the user may do next to this report, from the transition table and the scope rules."""
    return [t.action for t in selectors.report_actions(user, report)]




def _counts(row: dict) -> dict:
    return {name: row.get(name) or 0 for name in Counts.model_fields}


def _transition(request, report_id: int, action: str, *, version: int, changes: dict | None = None,
                reason: str = "", judged_unable: bool = False):
    report = selectors.get_report_for_user(request.auth, report_id)
    try:
        services.transition(actor=request.auth, report=report, action=action, expected_version=version,
                            changes=changes, reason=reason, judged_unable=judged_unable)
    except services.StaleReportError as exc:
        return Status(409, {"detail": str(exc), "current_version": exc.report.version,
                            "current_status": exc.report.status})
    return Status(200, selectors.get_report_for_user(request.auth, report_id))


def _changes(payload: ReportIn) -> dict:
    return payload.dict(exclude_unset=True, exclude={"version"})


TRANSITION_RESPONSES = {200: ReportDetailOut, 409: Conflict}


# --- rounds ----------------------------------------------------------------------------------


@router.get("/rounds", response=list[RoundOut], summary="调度轮次（按权限范围）")
@paginate(ApiPagination)
def list_rounds(request):
    return selectors.rounds_for(request.auth)


@router.post("/rounds", response={200: RoundOpenOut, 201: RoundOpenOut},
             summary="开启调度轮次（整改办；同一月份已存在时返回 200 与 created=false）")
def open_round(request, payload: RoundIn):
    user = request.auth
    if not scope.runs_rounds(user):
        raise PermissionDenied("只有整改办可以开启调度轮次。")
    rnd, created = services.open_round(actor=user, office=user.unit, period=payload.period,
                                       due_date=payload.due_date, require_unit_review=payload.require_unit_review)
    rnd = selectors.get_round_for_user(user, rnd.pk)
    rnd.created = created
    rnd.slots = rnd.reports.count()
    return Status(201 if created else 200, rnd)


@router.get("/rounds/{round_id}", response=RoundDetailOut, summary="调度轮次与调度表（合计、按责任单位、按牵头单位）")
def get_round(request, round_id: int):
    rnd = selectors.get_round_for_user(request.auth, round_id)
    table = selectors.round_table(request.auth, rnd)
    rnd.totals = _counts(table["totals"])
    rnd.by_unit = [{"unit_id": row["unit_id"], "unit": row["unit__name"], "kind": row["unit__kind"], **_counts(row)}
                   for row in table["by_unit"]]
    rnd.by_lead = [{"lead": row["lead"], **_counts(row)} for row in table["by_lead"]]
    rnd.past_due = table["past_due"]
    rnd.bucket_labels = selectors.BUCKET_LABELS
    return rnd


@router.post("/rounds/{round_id}/close", response=RoundOut, summary="结束调度轮次（整改办）")
def close_round(request, round_id: int):
    rnd = selectors.get_round_for_user(request.auth, round_id)
    services.close_round(actor=request.auth, rnd=rnd)
    return selectors.get_round_for_user(request.auth, round_id)


# --- reports ---------------------------------------------------------------------------------


@router.get("/reports", response=list[ReportOut],
            summary="进展报送列表（bucket=not_started 即尚未报送的报送任务）")
@paginate(ApiPagination)
def list_reports(request, filters: Query[ReportFilterIn]):
    if filters.bucket and filters.bucket not in selectors.BUCKETS:
        raise ValidationError({"bucket": [f"未知的分类：{filters.bucket}"]})
    return selectors.report_queryset(request.auth, rnd=filters.round, unit=filters.unit, bucket=filters.bucket,
                                     lead=filters.lead, task=filters.task)


@router.get("/reports/{report_id}", response=ReportDetailOut, summary="进展报送详情（含佐证材料）")
def get_report(request, report_id: int):
    return selectors.get_report_for_user(request.auth, report_id)


@router.patch("/reports/{report_id}", response=TRANSITION_RESPONSES, summary="保存草稿")
def save_report(request, report_id: int, payload: ReportIn):
    return _transition(request, report_id, "save", version=payload.version, changes=_changes(payload))


@router.post("/reports/{report_id}/submit", response=TRANSITION_RESPONSES, summary="报送（可同时提交内容）")
def submit_report(request, report_id: int, payload: ReportIn):
    return _transition(request, report_id, "submit", version=payload.version, changes=_changes(payload))


@router.post("/reports/{report_id}/approve", response=TRANSITION_RESPONSES, summary="本单位审核通过并上报（初审）")
def approve_report(request, report_id: int, payload: VersionIn):
    return _transition(request, report_id, "approve", version=payload.version)


@router.post("/reports/{report_id}/send-back", response=TRANSITION_RESPONSES, summary="本单位退回修改（须填原因）")
def send_back_report(request, report_id: int, payload: ReasonIn):
    return _transition(request, report_id, "send_back", version=payload.version, reason=payload.reason)


@router.post("/reports/{report_id}/accept", response=TRANSITION_RESPONSES, summary="牵头单位采纳")
def accept_report(request, report_id: int, payload: AcceptIn):
    return _transition(request, report_id, "accept", version=payload.version, judged_unable=payload.judged_unable)


@router.post("/reports/{report_id}/return", response=TRANSITION_RESPONSES, summary="牵头单位退回（须填原因）")
def return_report(request, report_id: int, payload: ReasonIn):
    return _transition(request, report_id, "return", version=payload.version, reason=payload.reason)


# --- evidence --------------------------------------------------------------------------------


@router.post("/reports/{report_id}/evidence", response={201: EvidenceOut, 422: Message},
             summary="上传佐证材料（multipart，字段 file；按内容检查类型）")
def upload_evidence(request, report_id: int, file: File[UploadedFile]):
    report = selectors.get_report_for_user(request.auth, report_id)
    try:
        evidence = services.attach_evidence(actor=request.auth, report=report, name=file.name or "", fileobj=file)
    except EvidenceRejected as exc:
        return Status(422, {"detail": exc.message})
    return Status(201, evidence)


@router.get("/evidence/{evidence_id}", response={200: None}, url_name="dispatch_evidence_download",
            summary="下载佐证材料（下载前复核 SM3 摘要）")
def download_evidence(request, evidence_id: int):
    evidence = selectors.get_evidence_for_user(request.auth, evidence_id)
    path = services.evidence_for_download(actor=request.auth, evidence=evidence, channel="（API）")
    return attachment_response(path, download_name=evidence.original_name, mime=evidence.mime)


@router.delete("/evidence/{evidence_id}", response={204: None}, summary="删除佐证材料（报送可编辑时）")
def delete_evidence(request, evidence_id: int):
    evidence = selectors.get_evidence_for_user(request.auth, evidence_id)
    services.remove_evidence(actor=request.auth, evidence=evidence)
    return Status(204, None)
