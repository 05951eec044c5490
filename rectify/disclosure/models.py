"""Public disclosure (信息公开): what the office decided to show the public, the articles it writes
(通报、曝光、典型案例、整改方案) and the chain heads it published.

Nothing here copies internal data: a decision names an object (campaign, task, report summary) and
says whether it is disclosed; the portal reads the disclosed objects' whitelisted columns through
``disclosure.scope.published_*`` (``values()`` of named columns, never full rows).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.evidence.models import StoredFile
from rectify.ledger.models import Task
from rectify.orgs.models import Unit


class Subject(models.TextChoices):
    CAMPAIGN = "campaign", _("整改批次")
    TASK = "task", _("整改任务")
    REPORT = "report", _("进展公开摘要")


class DecisionQuerySet(models.QuerySet):
    def visible_to(self, user) -> DecisionQuerySet:
        from rectify.disclosure.scope import visible_decisions

        return visible_decisions(self, user)


class Decision(models.Model):
    """One disclosure decision (公开决定): an object is shown to the public or withheld. The newest
    decision is the row itself (one per object); its history is in the audit chain."""

    subject = models.CharField(_("公开对象"), max_length=10, choices=Subject.choices)
    object_id = models.PositiveBigIntegerField()
    disclosed = models.BooleanField(_("公开"), default=False)
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(_("决定时间"))

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("公开决定")
        verbose_name_plural = _("公开决定")
        constraints = [models.UniqueConstraint(fields=["subject", "object_id"], name="decision_one_per_object")]
        indexes = [
            # published_*: "object_id IN (disclosed ids of this subject)"
            models.Index(fields=["subject", "disclosed", "object_id"], name="decision_disclosed_idx"),
            # the feed: the newest disclosed summaries
            models.Index(fields=["subject", "disclosed", "decided_at"], name="decision_recent_idx"),
        ]


class Publicist(models.Model):
    """A user an office administrator gave the right to decide disclosure (宣传部门, e.g. 市委宣传部,
    which the plan makes lead on publicity), for the campaigns of that administrator's office tree."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="publicist")
    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("整改办"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("信息公开审核人")
        verbose_name_plural = _("信息公开审核人")


class ArticleKind(models.TextChoices):
    CIRCULAR = "circular", _("通报")
    EXPOSURE = "exposure", _("曝光")
    CASE = "case", _("典型案例")
    PLAN = "plan", _("整改方案")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class ArticleQuerySet(models.QuerySet):
    def visible_to(self, user) -> ArticleQuerySet:
        from rectify.disclosure.scope import visible_articles

        return visible_articles(self, user)


class Article(models.Model):
    """A published notice the office writes (通报、曝光、典型案例, or the plan itself), with
    attachments, linked to tasks. Plain text: never rendered as HTML."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("发布单位"))
    kind = models.CharField(_("类型"), max_length=10, choices=ArticleKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    tasks = models.ManyToManyField(Task, blank=True, related_name="+", verbose_name=_("相关任务"))
    status = models.CharField(_("状态"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("公开文章")
        verbose_name_plural = _("公开文章")
        indexes = [
            # the portal's article list: published ones, newest first
            models.Index(fields=["status", "published_at", "id"], name="article_published_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ArticleFileQuerySet(models.QuerySet):
    def visible_to(self, user) -> ArticleFileQuerySet:
        from rectify.disclosure.scope import visible_article_files

        return visible_article_files(self, user)


class ArticleFile(StoredFile):
    """An attachment of an article (附件), public once the article is published."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="files")

    objects = ArticleFileQuerySet.as_manager()

    class Meta:
        ordering = ["article_id", "id"]
        verbose_name = _("文章附件")
        verbose_name_plural = _("文章附件")


class PublishedHead(models.Model):
    """A head of the audit chain (count and hash) published outside the database (链头公布): in a
    monthly bulletin or on the portal. Anyone who kept it can later check that today's record still
    extends it."""

    seq = models.BigIntegerField(_("链长"))
    hash = models.CharField(_("链头哈希"), max_length=64)
    event_time = models.DateTimeField(_("链头事件时间"))
    published_at = models.DateTimeField(_("公布时间"))
    where = models.CharField(_("公布于"), max_length=200)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-seq", "-id"]
        verbose_name = _("已公布的链头")
        verbose_name_plural = _("已公布的链头")
        constraints = [models.UniqueConstraint(fields=["seq", "where"], name="published_head_once")]


class ObservationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ObservationQuerySet:
        from rectify.disclosure.scope import visible_observations

        return visible_observations(self, user)


class Observation(models.Model):
    """An on-site observation (现场监督) a 监督员 (人大代表、政协委员、环保志愿者) files on a public task,
    with photos. Seen by its author and the office; never on the portal. The office's reply is a
    field: answered is derived (a reply is there), not a state."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="+", verbose_name=_("整改任务"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("监督员"))
    observed_on = models.DateField(_("监督日期"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    content = models.TextField(_("监督情况"))
    created_at = models.DateTimeField(_("提交时间"))
    reply = models.TextField(_("整改办回复"), blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    objects = ObservationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("现场监督")
        verbose_name_plural = _("现场监督")
        indexes = [
            # an observer's own list; the office's list by task
            models.Index(fields=["author", "created_at"], name="observation_author_idx"),
            models.Index(fields=["task", "created_at"], name="observation_task_idx"),
        ]


class ObservationPhotoQuerySet(models.QuerySet):
    def visible_to(self, user) -> ObservationPhotoQuerySet:
        from rectify.disclosure.scope import visible_observation_photos

        return visible_observation_photos(self, user)


class ObservationPhoto(StoredFile):
    """A photo (or PDF) of an observation, checked by content and stored by digest like all evidence."""

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="photos")

    objects = ObservationPhotoQuerySet.as_manager()

    class Meta:
        ordering = ["observation_id", "id"]
        verbose_name = _("现场监督照片")
        verbose_name_plural = _("现场监督照片")


__all__ = ["Article", "ArticleFile", "ArticleKind", "ArticleStatus", "Decision", "Observation", "ObservationPhoto", "PublishedHead", "Publicist",
           "Subject"]
