"""The ledger's background work: committing an Excel import (台账导入) outside the request.

The page shows the preview in the request (nothing written) and, on 确认导入, starts a job with the
uploaded file and the fingerprint of the preview the user saw. The job reads the file again, refuses
if what it would do differs from that preview, and writes every row or none (one transaction): a
worker killed half-way leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from rectify.jobs.registry import JobKind, Outcome, register
from rectify.jobs.runner import JobContext, JobFailed
from rectify.ledger import excel
from rectify.ledger.models import Campaign
from rectify.ledger.scope import can_create_tasks

IMPORT = "ledger_import"


def _campaign(user, params: dict) -> Campaign | None:
    return Campaign.objects.actionable_by(user, "add_task").select_related("office").filter(
        pk=params.get("campaign")).first()


def import_allowed(user, params: dict) -> bool:
    return can_create_tasks(user) and _campaign(user, params) is not None


def run_import(job, ctx: JobContext) -> Outcome:
    campaign = _campaign(job.owner, job.params)
    if campaign is None:
        raise JobFailed("整改批次不存在或无权导入。")
    path = ctx.input_path(".xlsx")
    if not path.is_file():
        raise JobFailed("待导入的文件已不存在，请重新上传。")
    ctx.progress(1, "读取文件")
    preview = excel.parse_workbook(path.read_bytes(), campaign=campaign, actor=job.owner,
                                   filename=job.params.get("filename", ""))
    if not preview.ok:
        raise JobFailed("文件有错误，未写入任何数据。请修改文件后重新上传。")
    if preview.fingerprint() != job.params.get("plan"):
        earlier = _same_file_imported(job, campaign, preview.digest)
        if earlier is not None:  # a second submit of one import: the first one changed the ledger
            raise JobFailed(f"该文件已导入（{timezone.localtime(earlier.created_at):%Y-%m-%d %H:%M}，"
                            f"{earlier.actor_name or '本人'}），未重复写入。")
        raise JobFailed("预览之后台账已有变化（例如他人修改了相关任务），未写入任何数据。请重新上传，核对预览后再确认。")
    ctx.progress(20, "写入台账")
    result = excel.commit_import(preview, actor=job.owner,
                                 progress=lambda done, total: ctx.progress(20 + 79 * done / max(total, 1),
                                                                           f"写入台账（{done}/{total} 行）"))
    if not result.ok:
        raise JobFailed(result.summary())
    path.unlink(missing_ok=True)
    return Outcome(summary=result.summary())


def _same_file_imported(job, campaign: Campaign, digest: str):
    """The import of this very file into this campaign since shortly before the job was started."""
    from rectify.core.models import Event

    since = job.created_at - dt.timedelta(minutes=10)
    return (Event.objects.filter(action="ledger_imported", object_type="ledger.campaign", object_id=campaign.pk,
                                 after__sm3=digest, created_at__gte=since).order_by("-seq").first())


def register_kinds() -> None:
    register(JobKind(name=IMPORT, label="台账 Excel 导入", run=run_import, allowed=import_allowed,
                     back_url=lambda job: f"{reverse('ledger:task_list')}?campaign={job.params.get('campaign', '')}"))
