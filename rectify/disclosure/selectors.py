"""Reads for the portal (through ``scope.published_*`` only) and for the office's disclosure pages
(through ``visible_to``). Every portal list costs a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.functional import cached_property

from rectify.core.models import Event
from rectify.core.paging import ListPaginator, count_rows
from rectify.disclosure import scope
from rectify.disclosure.models import Article, Decision, Subject
from rectify.ledger.models import Campaign, CloseoutStage, Task, TaskStatus
from rectify.orgs.models import Category

PUBLIC_STATUSES = [(s.value, s.label) for s in TaskStatus if s != TaskStatus.DRAFT]
MAX_QUERY = 50


@dataclass(frozen=True)
class TaskFilters:
    county: int | None = None
    category: str = ""
    stage: str = ""
    status: str = ""
    campaign: int | None = None
    q: str = ""

    @classmethod
    def from_query(cls, data) -> TaskFilters:
        def small_int(name):
            raw = (data.get(name) or "").strip()
            return int(raw) if raw.isdigit() and len(raw) <= 12 else None

        category = data.get("category") or ""
        stage = data.get("stage") or ""
        status = data.get("status") or ""
        return cls(county=small_int("county"), campaign=small_int("campaign"),
                   category=category if category in Category.values else "",
                   stage=stage if stage in CloseoutStage.values else "",
                   status=status if status in dict(PUBLIC_STATUSES) else "",
                   q=(data.get("q") or "").strip()[:MAX_QUERY])


def public_task_rows(filters: TaskFilters) -> QuerySet:
    """The public tasks matching the filters (rows for counting; ``scope.published_tasks`` reads them)."""
    from rectify.ledger.models import TaskUnit, UnitRole

    rows = scope.published_task_rows()
    if filters.county:
        rows = rows.filter(pk__in=TaskUnit.objects.filter(unit_id=filters.county, role=UnitRole.RESPONSIBLE)
                           .values("task_id"))
    if filters.campaign:
        rows = rows.filter(campaign_id=filters.campaign)
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.stage:
        rows = rows.filter(closeout_stage=filters.stage)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.q:
        rows = rows.filter(Q(title__icontains=filters.q) | Q(code__icontains=filters.q)
                           | Q(location_name__icontains=filters.q))
    return rows


def public_tasks(filters: TaskFilters) -> QuerySet:
    return scope.published_tasks(public_task_rows(filters))


class PublicPaginator(ListPaginator):
    """Pages of public rows (dicts) counted on the plain filtered rows: no annotation or join in the count."""

    def __init__(self, rows: QuerySet, count_rows: QuerySet, per_page: int):
        super().__init__(rows, per_page)
        self.count_source = count_rows

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        return count_rows(self.count_source)


def public_task(pk: int) -> dict:
    row = scope.published_tasks().filter(pk=pk).first()
    if row is None:
        raise Http404("任务不存在或未公开。")
    return row


def task_extras(task_id: int) -> dict:
    """What the task page shows beside the task: measures, monthly summaries, close-out stage,
    look-back results and the articles that name it."""
    return {"measures": list(scope.published_measures([task_id])[:200]),
            "summaries": list(scope.published_summaries([task_id])[:120]),
            "notice": scope.published_notices().filter(task_id=task_id).first(),
            "filing": scope.published_filings().filter(task_id=task_id).first(),
            "lookbacks": list(scope.published_lookbacks().filter(task_id=task_id)[:20]),
            "articles": task_articles(task_id)}


def task_articles(task_id: int) -> list[dict]:
    from rectify.disclosure.models import ArticleStatus

    through = Article.tasks.through
    ids = through.objects.filter(task_id=task_id).values("article_id")
    return list(Article.objects.filter(pk__in=ids, status=ArticleStatus.PUBLISHED).order_by("-published_at")
                .values("id", "kind", "title", "published_at")[:20])


def overview() -> dict:
    """Counts of the published ledger: by status, by close-out stage, by county; filings by month.
    Aggregates over the disclosed set, computed once per chain head (the page is cached)."""
    from django.db.models.functions import TruncMonth

    from rectify.closeout.models import Closeout, CloseoutStatus
    from rectify.ledger.models import TaskUnit, UnitRole
    from rectify.orgs.models import UnitKind

    ids = scope.published_task_ids()
    tasks = scope.published_task_rows()
    by_status: dict[str, int] = defaultdict(int)
    by_stage: dict[str, int] = defaultdict(int)
    for r in tasks.order_by().values("status", "closeout_stage").annotate(n=Count("id")):  # one pass for both
        by_status[r["status"]] += r["n"]
        by_stage[r["closeout_stage"]] += r["n"]
    per_county: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    county_ids: dict[str, int] = {}
    for r in (TaskUnit.objects.filter(task_id__in=ids, role=UnitRole.RESPONSIBLE, unit__kind=UnitKind.COUNTY)
              .order_by().values("unit_id", "unit__name", "task__status").annotate(n=Count("task_id", distinct=True))):
        per_county[r["unit__name"]][r["task__status"]] += r["n"]
        county_ids[r["unit__name"]] = r["unit_id"]
    counties = [{"id": county_ids[name], "name": name, "active": c.get("active", 0), "closing": c.get("closing", 0),
                 "closed": c.get("closed", 0), "total": sum(c.values())}
                for name, c in sorted(per_county.items(), key=lambda kv: county_ids[kv[0]])]
    months = [{"month": r["m"], "n": r["n"]} for r in
              Closeout.objects.filter(status=CloseoutStatus.FILED, task_id__in=ids, filed_at__isnull=False)
              .annotate(m=TruncMonth("filed_at")).order_by("m").values("m").annotate(n=Count("id"))]
    running = 0
    for m in months:
        running += m["n"]
        m["total"] = running
    total = sum(by_status.values())
    return {
        "total": total,
        "by_status": [(label, by_status.get(value, 0)) for value, label in PUBLIC_STATUSES],
        "by_stage": [(s.label, by_stage.get(s.value, 0)) for s in CloseoutStage],
        "counties": counties, "months": months,
        "campaigns": list(scope.published_campaigns()[:50]),
        "closed_share": round(by_status.get("closed", 0) * 100 / total, 1) if total else 0,
    }


# The actions a task's disclosed history names (its events' own summaries may hold internal text:
# they are not published, only what kind of step happened, when, and the event's hashes).
PUBLIC_ACTIONS = {
    "task_created": "任务立项", "task_updated": "任务信息更新", "task_reopened": "重新打开整改",
    "report_accept": "月度进展采纳", "status_flipped": "进度状态变化", "disclosure_decided": "公开决定",
    "closeout_started": "申请销号（初审自评）", "closeout_self_assessed": "初审自评",
    "closeout_applied": "初审通过，申请销号", "closeout_notice_published": "发布整改情况公示",
    "closeout_accepted": "受理销号申请", "closeout_verified": "核查通过", "closeout_filed": "备案销号",
    "closeout_returned": "退回整改", "objection_filed": "收到公示异议", "objection_upheld": "异议成立",
    "objection_dismissed": "异议不成立", "lookback_holding": "回头看：巩固", "lookback_rebound": "回头看：反弹",
}


def task_history(task_id: int, *, limit: int = 5000) -> list[dict]:
    """The published task's public steps: sequence, time, kind of step and the event's hashes.
    Only the actions named in PUBLIC_ACTIONS; never an event's summary, actor or before/after
    (those may hold what is not disclosed), and no trace of other events on the task."""
    public_task(task_id)
    rows = (Event.objects.filter(object_type="ledger.task", object_id=str(task_id), action__in=list(PUBLIC_ACTIONS))
            .order_by("seq").values("seq", "created_at", "action", "prev_hash", "hash")[:limit])
    return [{**r, "step": PUBLIC_ACTIONS[r["action"]]} for r in rows]


def bulletin_heads(limit: int = 100) -> list[dict]:
    """Heads printed in monthly bulletins (月度调度通报): each generation records the head it printed
    in its event (documents.bulletin.generate_bulletin). Only the round, the document number, the
    format, the time and the head are read — never the event's actor or summary."""
    rows = (Event.objects.filter(action="document_generated", object_type="dispatch.dispatchround",
                                 after__chain_head__isnull=False)
            .order_by("-seq").values("created_at", "object_label", "after")[:limit])
    out = []
    for r in rows:
        after = r["after"] or {}
        seq, _sep, digest = str(after.get("chain_head", "")).partition(":")
        if seq.isdigit() and len(digest) == 64:
            out.append({"seq": int(seq), "hash": digest, "where": f"{r['object_label']}月度调度通报",
                        "number": str(after.get("doc_number", ""))[:60], "format": str(after.get("format", ""))[:5],
                        "published_at": r["created_at"]})
    return out


# --- the office's pages ------------------------------------------------------------------------------


def decisions_for(subject: str, ids) -> dict[int, Decision]:
    return {d.object_id: d for d in Decision.objects.filter(subject=subject, object_id__in=list(ids))}


def campaigns_for(user) -> list[Campaign]:
    rows = list(scope.campaigns_decided_by(Campaign.objects.all(), user).select_related("office")[:200])
    states = decisions_for(Subject.CAMPAIGN, [c.pk for c in rows])
    for c in rows:
        setattr(c, "disclosure", states.get(c.pk))  # noqa: B010
    return rows


def get_campaign_for_user(user, pk: int) -> Campaign:
    campaign = scope.campaigns_decided_by(Campaign.objects.all(), user).select_related("office").filter(pk=pk).first()
    if campaign is None:
        raise Http404("整改批次不存在或无权操作。")
    return campaign


def get_task_for_user(user, pk: int) -> Task:
    campaigns = scope.campaigns_decided_by(Campaign.objects.all(), user).values("pk")
    task = Task.objects.select_related("campaign__office").filter(pk=pk, campaign_id__in=campaigns).first()
    if task is None:
        raise Http404("任务不存在或无权操作。")
    return task


def get_article_for_user(user, pk: int) -> Article:
    article = Article.objects.visible_to(user).filter(pk=pk).first()
    if article is None:
        raise Http404("文章不存在或无权操作。")
    return article
