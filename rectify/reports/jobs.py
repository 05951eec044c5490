"""Reporting's background work: the rectification report (``sixmonth_report``) and 一案一档 dossiers
(``dossier``), both run by a worker (rectify/jobs) with progress, their result a .zip."""

from __future__ import annotations

import datetime as dt
import zipfile

from django.urls import reverse

from rectify.core.audit import record_event
from rectify.jobs.registry import JobKind, Outcome, register
from rectify.jobs.runner import JobContext, JobFailed
from rectify.ledger.excel import export_queryset, ledger_rows, write_ledger
from rectify.ledger.selectors import TaskFilter
from rectify.reports import dossier, scope, sixmonth
from rectify.reports.figures import report_data
from rectify.reports.models import CampaignReport

REPORT = "sixmonth_report"
DOSSIER = "dossier"


def _campaign(user, params: dict):
    return scope.reporting_campaigns(user).select_related("office").filter(pk=params.get("campaign")).first()


def report_allowed(user, params: dict) -> bool:
    return _campaign(user, params) is not None


def run_report(job, ctx: JobContext) -> Outcome:
    campaign = _campaign(job.owner, job.params)
    if campaign is None:
        raise JobFailed("整改批次不存在或无权生成报告。")
    try:
        as_of = dt.date.fromisoformat(job.params.get("as_of", ""))
    except ValueError:
        raise JobFailed("报告日期无效。") from None
    settings_row = CampaignReport.objects.filter(campaign=campaign).first()
    ctx.progress(2, "汇总台账数据")
    total = max(campaign.tasks.count(), 1)
    data = report_data(campaign, as_of, intro=settings_row.intro if settings_row else "",
                       summaries=settings_row.summaries if settings_row else {},
                       received_date=settings_row.received_date if settings_row else None,
                       due_date=settings_row.due_date if settings_row else None,
                       progress=lambda n: ctx.progress(2 + 28 * n / total, f"汇总台账数据（{n}/{total} 项）"))
    try:
        sixmonth.register_font()
    except sixmonth.FontMissing as exc:
        raise JobFailed(str(exc)) from None
    stem = sixmonth.file_stem(data)
    ctx.progress(30, "生成 Word 文档")
    docx = ctx.part_path(".docx")
    sixmonth.render_docx(data, docx)
    ctx.progress(50, "生成 PDF")
    pdf = ctx.part_path(".pdf")
    sixmonth.render_pdf(data, pdf, progress=lambda f: ctx.progress(50 + 30 * f, "生成 PDF"))
    ctx.progress(80, "导出台账 Excel")
    xlsx = ctx.part_path(".xlsx")
    write_ledger(ledger_rows(export_queryset(job.owner, TaskFilter(campaign=campaign.pk)).order_by("code", "id")),
                 str(xlsx))
    ctx.progress(95, "打包")
    out = ctx.part_path(".zip")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(docx, f"{stem}.docx")
        archive.write(pdf, f"{stem}.pdf")
        archive.write(xlsx, f"{campaign.name}整改台账（截至{as_of:%Y-%m-%d}）.xlsx")
    n, digest = data.chain_head
    record_event(actor=job.owner, action="document_generated", obj=campaign, unit=campaign.office,
                 summary=f"生成{sixmonth.title_of(data)}（截至{as_of:%Y-%m-%d}）",
                 after={"as_of": as_of.isoformat(), "tasks": data.totals["tasks"], "chain_head": f"{n}:{digest}",
                        "job": job.pk})
    return Outcome(summary=f"已生成报告：任务 {data.totals['tasks']} 项，已销号 {data.totals['closed']} 项，"
                           f"依据审计链头 {n}:{digest[:16]}…", file=out, filename=f"{stem}.zip")


def dossier_allowed(user, params: dict) -> bool:
    ids = params.get("tasks") or []
    return bool(ids) and scope.dossier_tasks(user).filter(pk__in=ids).count() == len(set(ids))


def run_dossier(job, ctx: JobContext) -> Outcome:
    ids = sorted(set(job.params.get("tasks") or []))
    tasks = scope.dossier_tasks(job.owner).filter(pk__in=ids)
    if tasks.count() != len(ids):
        raise JobFailed("所选任务中有不存在或无权导出的任务，未生成档案。")
    out = ctx.part_path(".zip")
    count, files = dossier.write_dossier(job.owner, tasks, out,
                                         progress=lambda done, total: ctx.progress(1 + 98 * done / max(total, 1),
                                                                                   f"整理档案（{done}/{total} 项）"))
    record_event(actor=job.owner, action="dossier_exported", obj=job,
                 summary=f"导出一案一档 {count} 项任务（{files} 个文件）", after={"tasks": ids[:50], "count": count})
    name = job.params.get("name") or "一案一档"
    return Outcome(summary=f"已导出 {count} 项任务的档案（{files} 个文件）", file=out, filename=f"{name}.zip")


def register_kinds() -> None:
    register(JobKind(name=REPORT, label="整改落实情况报告", run=run_report, allowed=report_allowed,
                     back_url=lambda job: reverse("reports:campaign", args=[job.params.get("campaign", 0)])))
    register(JobKind(name=DOSSIER, label="一案一档导出", run=run_dossier, allowed=dossier_allowed,
                     back_url=lambda job: reverse("reports:index")))
