"""Open data (开放数据): everything the portal discloses, as CSV and JSON, described by a Data
Package (``datapackage.json``, Frictionless Data) with each field's type and meaning and the
licence. Rows come from ``scope.published_*`` only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from rectify.disclosure import scope

MAX_ROWS = 200_000


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # Table Schema types: integer, string, date, datetime, boolean
    title: str


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    fields: tuple[Field, ...]
    rows: Callable


def _f(spec: str) -> tuple[Field, ...]:
    out = []
    for line in spec.strip().splitlines():
        name, type_, title = (p.strip() for p in line.split("|"))
        out.append(Field(name, type_, title))
    return tuple(out)


DATASETS = {d.name: d for d in [
    Dataset("campaigns", "整改批次", _f("""
        id | integer | 批次标识
        code | string | 批次编号
        name | string | 名称
        kind | string | 来源类型代码（central 中央督察反馈、lookback 回头看、warning_film 警示片、provincial 省级督察、city 市级交办、summer 夏季攻势、other 其他）
        feedback_date | date | 反馈日期
        description | string | 说明
    """), scope.published_campaigns),
    Dataset("tasks", "整改任务", _f("""
        id | integer | 任务标识（门户地址 /gongkai/tasks/<id>/）
        campaign_id | integer | 所属批次标识
        campaign_name | string | 所属批次名称
        code | string | 任务编号
        inspection_number | string | 督察问题编号
        title | string | 问题/任务名称
        problem | string | 问题描述
        target | string | 整改目标
        category | string | 问题类别代码
        deadline_kind | string | 整改时限类型（immediate 立行立改、by_date 限期整改、long_term 长期坚持）
        deadline | date | 整改时限
        start_date | date | 开始日期
        location_name | string | 位置
        status | string | 状态（active 整改中、closing 销号中、closed 已销号）
        progress_status | string | 进度状态（由记录计算）
        closeout_stage | string | 销号阶段代码
        responsible | string | 主体责任单位
        county | string | 所在县市区
    """), scope.published_tasks),
    Dataset("measures", "整改措施", _f("""
        task_id | integer | 任务标识
        ordinal | integer | 序号
        text | string | 措施内容
        owner | string | 责任单位
        due_date | date | 完成时限
        done | boolean | 已完成
        done_at | date | 完成日期
    """), lambda: scope.published_measures(scope.published_task_ids())),
    Dataset("summaries", "月度进展公开摘要", _f("""
        id | integer | 摘要标识
        task_id | integer | 任务标识
        period | string | 调度月份（YYYY-MM）
        unit_name | string | 报送单位
        public_summary | string | 公开摘要
        percent | integer | 完成进度（%）
        decided_at | datetime | 采纳时间
    """), scope.published_summaries),
    Dataset("notices", "销号公示（公示期内）", _f("""
        id | integer | 公示标识（门户地址 /gongkai/notices/<id>/）
        task_id | integer | 任务标识
        task_code | string | 任务编号
        task_title | string | 任务名称
        notice_number | string | 公示文号
        notice_start | date | 公示开始
        notice_end | date | 公示截止
        completion_summary | string | 整改完成情况
    """), scope.published_notices),
    Dataset("filings", "已备案销号", _f("""
        id | integer | 销号标识
        task_id | integer | 任务标识
        task_code | string | 任务编号
        task_title | string | 任务名称
        filing_number | string | 备案编号
        filed_at | datetime | 备案时间
    """), scope.published_filings),
    Dataset("lookbacks", "回头看结果", _f("""
        id | integer | 复查标识
        task_id | integer | 任务标识
        task_code | string | 任务编号
        task_title | string | 任务名称
        lookback_title | string | 回头看名称
        result | string | 复查结论（holding 巩固、rebound 反弹）
        checked_at | datetime | 复查时间
        due_date | date | 复查时限
    """), scope.published_lookbacks),
    Dataset("articles", "通报、曝光、典型案例与整改方案", _f("""
        id | integer | 文章标识（门户地址 /gongkai/articles/<id>/）
        kind | string | 类型（circular 通报、exposure 曝光、case 典型案例、plan 整改方案）
        title | string | 标题
        body | string | 正文
        published_at | datetime | 发布时间
    """), scope.published_articles),
]}


def licence() -> dict:
    return {"name": getattr(settings, "OPEN_DATA_LICENCE", "CC-BY-4.0"),
            "title": getattr(settings, "OPEN_DATA_LICENCE_TITLE", "署名 4.0 国际（CC BY 4.0）"),
            "path": getattr(settings, "OPEN_DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/")}


def rows(dataset: Dataset) -> list[dict]:
    names = [f.name for f in dataset.fields]
    return [{n: row.get(n) for n in names} for row in dataset.rows()[:MAX_ROWS]]


def _head(head) -> dict:
    return {"seq": head.seq, "hash": head.hash, "time": head.time}


def as_json(dataset: Dataset, data: list[dict], head) -> str:
    return json.dumps({"dataset": dataset.name, "title": dataset.title, "licence": licence(),
                       "generated_at": timezone.now(), "chain_head": _head(head),
                       "schema": {"fields": [f.__dict__ for f in dataset.fields]}, "rows": data},
                      cls=DjangoJSONEncoder, ensure_ascii=False)


def datapackage(head) -> dict:
    return {
        "name": "rectify-disclosure", "title": "督察整改信息公开数据", "licenses": [licence()],
        "created": timezone.now().isoformat(), "chain_head": {"seq": head.seq, "hash": head.hash},
        "resources": [{"name": f"{d.name}-{fmt}", "path": f"/gongkai/data/{d.name}.{fmt}", "title": d.title,
                       "format": fmt, "encoding": "utf-8",
                       "schema": {"fields": [{"name": f.name, "type": f.type, "title": f.title} for f in d.fields]}}
                      for d in DATASETS.values() for fmt in ("csv", "json")],
    }


def csv_cell(value) -> str:
    """A CSV cell; text beginning with = + - @ is prefixed with ' (formula injection in spreadsheets)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def feed_entries(limit: int = 50) -> list[dict[str, Any]]:
    """New notices, filings, disclosed progress summaries and articles, newest first."""

    entries: list[dict[str, Any]] = []
    for n in scope.published_notices().order_by("-notice_start", "-id")[:limit]:
        start = n["notice_start"] or timezone.localdate()
        entries.append({"id": f"notice-{n['id']}", "title": f"销号公示：{n['task_code']} {n['task_title']}",
                        "link": f"/gongkai/notices/{n['id']}/",
                        "description": f"公示期 {n['notice_start']} 至 {n['notice_end']}，{n['notice_number']}",
                        "time": timezone.make_aware(dt.datetime.combine(start, dt.time(9)))})
    for f in scope.published_filings()[:limit]:
        entries.append({"id": f"filing-{f['id']}", "title": f"备案销号：{f['task_code']} {f['task_title']}",
                        "link": f"/gongkai/tasks/{f['task_id']}/", "description": f"备案编号 {f['filing_number']}",
                        "time": f["filed_at"]})
    for s in scope.recent_summaries(limit):
        entries.append({"id": f"summary-{s['id']}", "title": f"{s['period']} 整改进展",
                        "link": f"/gongkai/tasks/{s['task_id']}/", "description": s["public_summary"],
                        "time": s["disclosed_at"]})
    for a in scope.published_articles()[:limit]:
        entries.append({"id": f"article-{a['id']}", "title": a["title"], "link": f"/gongkai/articles/{a['id']}/",
                        "description": a["body"][:300], "time": a["published_at"]})
    entries = [e for e in entries if e["time"] is not None]
    entries.sort(key=lambda e: e["time"], reverse=True)
    return entries[:limit]
