"""Who decides what the public sees, and the public's own scope (``published_*``).

| who | sees | acts |
| --- | --- | --- |
| 整改办管理员/工作人员 | decisions and articles of campaigns/offices in its tree | decides disclosure (公开决定) of campaigns, tasks and report summaries; writes, publishes and withdraws articles; publishes the chain head |
| 信息公开审核人 (``Publicist``: e.g. a 市委宣传部 account an office administrator designated) | the same, for the designating office's tree | the same, except designating others |
| 整改办管理员 | publicists of its tree | designates and removes publicists |
| 监督员 (``Role.OBSERVER``: 人大代表、政协委员、环保志愿者, accounts of an office) | the portal, and their own observations | files observations with photos on public tasks |
| 整改办 | observations on the tasks of its campaigns | replies to them |
| anyone else | nothing here (the portal, like any visitor) | nothing |

The public (公众, no login) reaches the portal only through the ``published_*`` functions below:
each returns ``values()`` of whitelisted columns of disclosed objects — a campaign disclosed by the
office; a task of a disclosed campaign, itself disclosed and not a draft; a report summary
disclosed, of an accepted report of a published task — never a model row, so a column added later
to an internal model stays internal until it is named here.
"""

from __future__ import annotations

from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from typing_extensions import TypeIs

from rectify.core.roles import QS, Actor, Role, Viewer, is_active_user, is_office
from rectify.orgs.scope import in_any_tree, in_tree, is_office_admin, unit_within

# --- who decides ---------------------------------------------------------------------------------


def _publicist_office(user: Viewer):
    if not is_active_user(user):
        return None
    cached = getattr(user, "_publicist_office", False)
    if cached is False:
        from rectify.disclosure.models import Publicist

        row = Publicist.objects.select_related("office").filter(user_id=user.pk).first()
        cached = row.office if row is not None else None
        setattr(user, "_publicist_office", cached)  # noqa: B010  (a per-request memo on the account)
    return cached


def deciding_office(user: Viewer):
    """The office unit under which this user decides disclosure, or None."""
    if is_office(user):
        return user.unit
    return _publicist_office(user)


def decides_disclosure(user: Viewer, office=None) -> bool:
    """May decide (公开决定) and write articles for ``office``'s campaigns (any office when None)."""
    mine = deciding_office(user)
    if mine is None:
        return False
    return office is None or unit_within(office, mine)


def manages_publicists(user: Viewer) -> bool:
    return is_office_admin(user)


def visible_decisions(queryset: QS, user: Viewer) -> QS:
    office = deciding_office(user)
    if office is None:
        return queryset.none()
    from rectify.dispatch.models import ProgressReport
    from rectify.ledger.models import Campaign, Task

    campaigns = Campaign.objects.filter(in_tree("office", office)).values("pk")
    tasks = Task.objects.filter(campaign_id__in=campaigns).values("pk")
    reports = ProgressReport.objects.filter(task_id__in=tasks).values("pk")
    from django.db.models import Q

    return queryset.filter(Q(subject="campaign", object_id__in=campaigns) | Q(subject="task", object_id__in=tasks)
                           | Q(subject="report", object_id__in=reports))


def visible_articles(queryset: QS, user: Viewer) -> QS:
    office = deciding_office(user)
    if office is None:
        return queryset.none()
    return queryset.filter(in_tree("office", office))


def writes_article(user: Viewer, article) -> bool:
    return decides_disclosure(user, article.office)


def visible_article_files(queryset: QS, user: Viewer) -> QS:
    office = deciding_office(user)
    if office is None:
        return queryset.none()
    return queryset.filter(in_tree("article__office", office))


def is_observer(user: Viewer) -> TypeIs[Actor]:
    return is_active_user(user) and user.role == Role.OBSERVER


def visible_observations(queryset: QS, user: Viewer) -> QS:
    """An observer's own; the office's campaigns' (the office replies); nobody else's."""
    if is_observer(user):
        return queryset.filter(author_id=user.pk)
    if is_office(user):
        from rectify.ledger.models import Campaign

        return queryset.filter(task__campaign_id__in=Campaign.objects.filter(in_tree("office", user.unit)).values("pk"))
    return queryset.none()


def visible_observation_photos(queryset: QS, user: Viewer) -> QS:
    from rectify.disclosure.models import Observation

    return queryset.filter(observation_id__in=Observation.objects.visible_to(user).values("pk"))


def replies_to(user: Viewer, observation) -> bool:
    from rectify.ledger.models import Campaign

    return is_office(user) and Campaign.objects.filter(in_tree("office", user.unit),
                                                       pk=observation.task.campaign_id).exists()


def campaigns_decided_by(queryset: QS, user: Viewer) -> QS:
    office = deciding_office(user)
    if office is None:
        return queryset.none()
    return queryset.filter(in_tree("office", office))


# --- the public's scope (published) ----------------------------------------------------------------

CAMPAIGN_FIELDS = ("id", "code", "name", "kind", "feedback_date", "description")
TASK_FIELDS = ("id", "campaign_id", "code", "inspection_number", "title", "problem", "target", "category",
               "deadline_kind", "deadline", "start_date", "location_name", "status", "progress_status",
               "closeout_stage")
MEASURE_FIELDS = ("task_id", "ordinal", "text", "due_date", "done", "done_at")
SUMMARY_FIELDS = ("id", "task_id", "public_summary", "percent", "decided_at")
NOTICE_FIELDS = ("id", "task_id", "notice_number", "notice_start", "notice_end", "completion_summary")
FILING_FIELDS = ("id", "task_id", "filing_number", "filed_at")
LOOKBACK_FIELDS = ("id", "task_id", "result", "checked_at", "due_date")
ARTICLE_FIELDS = ("id", "kind", "title", "body", "published_at")
ARTICLE_FILE_FIELDS = ("id", "article_id", "original_name", "size", "mime", "extension")


def _disclosed(subject: str, ref: str) -> Exists:
    """EXISTS(a disclosed decision on the object whose id is the outer row's ``ref``): an index
    probe per row (decision_disclosed_idx), so one task costs one probe and a page of a list stops at
    LIMIT, instead of materialising every disclosed id first."""
    from rectify.disclosure.models import Decision

    return Exists(Decision.objects.filter(subject=subject, disclosed=True, object_id=OuterRef(ref)))


def public_task_q(prefix: str = "") -> Q:
    """The condition "this task is public", for Task (``prefix=""``) or a model with a ``task``
    foreign key (``prefix="task__"``): the task disclosed, its campaign disclosed, not a draft."""
    from rectify.ledger.models import TaskStatus

    task_ref = f"{prefix}id" if prefix else "pk"
    return (Q(_disclosed("task", task_ref)) & Q(_disclosed("campaign", f"{prefix}campaign_id"))
            & ~Q(**{f"{prefix}status": TaskStatus.DRAFT}))


def published_campaigns() -> QuerySet:
    from rectify.ledger.models import Campaign

    return Campaign.objects.filter(_disclosed("campaign", "pk")).order_by("-feedback_date", "-id") \
        .values(*CAMPAIGN_FIELDS)


def published_task_ids() -> QuerySet:
    """Ids of the tasks the public may see."""
    from rectify.ledger.models import Task

    return Task.objects.filter(public_task_q()).values("pk")


def _unit_name(role: str, kind: str | None = None):
    from rectify.ledger.models import TaskUnit

    links = TaskUnit.objects.filter(task_id=OuterRef("pk"), role=role)
    if kind:
        links = links.filter(unit__kind=kind)
    return Subquery(links.order_by("-is_primary", "ordinal", "id").values("unit__name")[:1], output_field=CharField())


def published_task_rows() -> QuerySet:
    """Public tasks as Task rows, for filtering and counting only (``published_tasks`` reads them):
    no join, no annotation, so a count reads the task table and its probes alone."""
    from rectify.ledger.models import Task

    return Task.objects.filter(public_task_q())


def published_tasks(rows: QuerySet | None = None) -> QuerySet:
    """Disclosed tasks as dicts: the whitelisted columns, the campaign's name, the responsible unit
    and the county (区县) of each; per-row subqueries, evaluated for the rows a page shows.
    ``rows``: a filtered ``published_task_rows()``."""
    from rectify.ledger.models import Campaign, UnitRole

    rows = published_task_rows() if rows is None else rows
    campaign_name = Subquery(Campaign.objects.filter(pk=OuterRef("campaign_id")).values("name")[:1],
                             output_field=CharField())
    return (rows.order_by("campaign_id", "code", "id")
            .values(*TASK_FIELDS)
            .annotate(campaign_name=campaign_name,
                      responsible=Coalesce(_unit_name(UnitRole.RESPONSIBLE), Value("")),
                      county=Coalesce(_unit_name(UnitRole.RESPONSIBLE, "county"), Value(""))))


def published_measures(task_ids) -> QuerySet:
    from rectify.ledger.models import Measure

    return (Measure.objects.filter(task_id__in=task_ids).filter(public_task_q("task__"))
            .order_by("task_id", "ordinal", "id").values(*MEASURE_FIELDS, owner=F("owner_unit__name")))


def published_summaries(task_ids=None) -> QuerySet:
    """Public progress summaries (公开摘要) of accepted reports the office disclosed, by month."""
    from rectify.dispatch.models import ProgressReport, ReportStatus

    rows = ProgressReport.objects.filter(_disclosed("report", "pk"), public_task_q("task__"),
                                         status=ReportStatus.ACCEPTED).exclude(public_summary="")
    if task_ids is not None:
        rows = rows.filter(task_id__in=task_ids)
    return rows.order_by("task_id", "-round__period", "id").values(*SUMMARY_FIELDS, period=F("round__period"),
                                                                  unit_name=F("unit__name"))


def recent_summaries(limit: int = 50) -> list[dict]:
    """The newest disclosed summaries by the time they were disclosed (the feed): read from the
    decisions' own index newest first, then checked against ``published_summaries``."""
    from rectify.disclosure.models import Decision

    decided = list(Decision.objects.filter(subject="report", disclosed=True).order_by("-decided_at", "-id")
                   .values_list("object_id", "decided_at")[:limit * 4])
    when = dict(decided)
    rows = list(published_summaries().filter(pk__in=list(when)))
    for row in rows:
        row["disclosed_at"] = when[row["id"]]
    rows.sort(key=lambda r: (r["disclosed_at"], r["id"]), reverse=True)
    return rows[:limit]


def public_notice_q() -> Q:
    """For ``closeout.hooks.public_notices``: a close-out's notice is public when its task is."""
    return public_task_q("task__")


def published_notices() -> QuerySet:
    """Close-out notices (销号公示) under way, of published tasks."""
    from rectify.closeout.models import Closeout, CloseoutStatus

    return (Closeout.objects.filter(public_task_q("task__"), status=CloseoutStatus.IN_NOTICE)
            .order_by("notice_end", "id")
            .values(*NOTICE_FIELDS, task_code=F("task__code"), task_title=F("task__title")))


def published_filings() -> QuerySet:
    """Filed close-outs (已备案销号) of published tasks."""
    from rectify.closeout.models import Closeout, CloseoutStatus

    return (Closeout.objects.filter(public_task_q("task__"), status=CloseoutStatus.FILED)
            .order_by("-filed_at", "-id")
            .values(*FILING_FIELDS, task_code=F("task__code"), task_title=F("task__title")))


def published_lookbacks() -> QuerySet:
    """Look-back results (回头看: 巩固/反弹) of published tasks; the check's statement stays internal."""
    from rectify.closeout.models import CheckResult, LookBackCheck

    return (LookBackCheck.objects.filter(public_task_q("task__")).exclude(result=CheckResult.PENDING)
            .order_by("-checked_at", "-id")
            .values(*LOOKBACK_FIELDS, lookback_title=F("lookback__title"), task_code=F("task__code"),
                    task_title=F("task__title")))


def published_articles() -> QuerySet:
    from rectify.disclosure.models import Article, ArticleStatus

    return Article.objects.filter(status=ArticleStatus.PUBLISHED).order_by("-published_at", "-id") \
        .values(*ARTICLE_FIELDS)


def published_article_tasks(article_ids) -> QuerySet:
    """(article, task) links to published tasks only."""
    from rectify.disclosure.models import Article

    through = Article.tasks.through
    return (through.objects.filter(public_task_q("task__"), article_id__in=article_ids)
            .order_by("article_id", "task_id").values("article_id", "task_id", code=F("task__code"),
                                                      title=F("task__title")))


def published_article_files(article_ids) -> QuerySet:
    from rectify.disclosure.models import ArticleFile, ArticleStatus

    return (ArticleFile.objects.filter(article_id__in=article_ids, article__status=ArticleStatus.PUBLISHED)
            .order_by("article_id", "id").values(*ARTICLE_FILE_FIELDS))


def published_article_file(pk: int):
    """The one published attachment (a row: the view needs its digest to find the file), or None."""
    from rectify.disclosure.models import ArticleFile, ArticleStatus

    return ArticleFile.objects.filter(pk=pk, article__status=ArticleStatus.PUBLISHED).only(
        "id", "digest", "extension", "original_name", "mime").first()


def published_counties() -> QuerySet:
    """County-level units (区县) under the offices of disclosed campaigns: the filter's choices.
    Administrative divisions are public facts; a county with no public task yet simply lists none."""
    from rectify.ledger.models import Campaign
    from rectify.orgs.models import Unit, UnitKind

    paths = list(Campaign.objects.filter(_disclosed("campaign", "pk")).values_list("office__path", flat=True)
                 .distinct()[:500])
    if not paths:
        return Unit.objects.none().values("id", "name")
    return (Unit.objects.filter(in_any_tree("", paths), kind=UnitKind.COUNTY, is_active=True)
            .order_by("sort_order", "id").values("id", "name"))


def notice_for_objection(pk: int):
    """The close-out under notice that an objection is filed against: a row for the closeout
    service, reached only when its notice is published (never rendered)."""
    from rectify.closeout.models import Closeout, CloseoutStatus

    return Closeout.objects.filter(public_task_q("task__"), pk=pk, status=CloseoutStatus.IN_NOTICE).first()
