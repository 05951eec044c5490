"""The rectification ledger (整改台账): campaigns, tasks, their units and measures."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from rectify.orgs.models import Category, Unit, User


class CampaignKind(models.TextChoices):
    CENTRAL = "central", _("中央生态环境保护督察反馈")
    LOOKBACK = "lookback", _("督察“回头看”")
    WARNING_FILM = "warning_film", _("警示片披露问题")
    PROVINCIAL = "provincial", _("省级生态环境保护督察")
    CITY = "city", _("市级交办")
    SUMMER = "summer", _("夏季攻势")
    OTHER = "other", _("其他")


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user) -> CampaignQuerySet:
        from rectify.ledger.scope import visible_campaigns

        return visible_campaigns(self, user)

    def actionable_by(self, user, action: str) -> CampaignQuerySet:
        from rectify.ledger.scope import actionable_campaigns

        return actionable_campaigns(self, user, action)


class Campaign(models.Model):
    """Origin of a batch of tasks (整改来源/批次)."""

    code = models.CharField(_("批次编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("来源类型"), max_length=20, choices=CampaignKind.choices, default=CampaignKind.CENTRAL)
    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("牵头整改办"))
    feedback_date = models.DateField(_("反馈日期"), null=True, blank=True)
    description = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-feedback_date", "-id"]
        verbose_name = _("整改批次")
        verbose_name_plural = _("整改批次")
        # the campaign picker's first 301 in this order (a province's 800: 1.9 → 0.3 ms)
        indexes = [models.Index(fields=["feedback_date", "id"], name="campaign_order_idx")]

    def __str__(self) -> str:
        return self.name


class DeadlineKind(models.TextChoices):
    IMMEDIATE = "immediate", _("立行立改")
    BY_DATE = "by_date", _("限期整改")
    LONG_TERM = "long_term", _("长期坚持")


class TaskStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("整改中")
    CLOSING = "closing", _("销号中")
    CLOSED = "closed", _("已销号")


class CloseoutStage(models.TextChoices):
    """How far a task's close-out (销号) has come: a ledger column, filter and export column.
    Written by the close-out app alone (rectify/closeout), blank when no close-out is under way."""

    SELF_ASSESSING = "self_assessing", _("初审自评")
    APPLIED = "applied", _("待公示")
    IN_NOTICE = "in_notice", _("公示中")
    ACCEPTED = "accepted", _("待核查")
    VERIFIED = "verified", _("待备案")
    FILED = "filed", _("已备案销号")


class UnitRole(models.TextChoices):
    RESPONSIBLE = "responsible", _("主体责任单位")
    LEAD_SUPERVISOR = "lead_supervisor", _("牵头督导单位")
    CO_SUPERVISOR = "co_supervisor", _("配合督导单位")
    ACCEPTANCE = "acceptance", _("牵头验收单位")


class TaskQuerySet(models.QuerySet):
    def visible_to(self, user) -> TaskQuerySet:
        """The only way a view or the API reaches tasks: the user's scope (see ledger/scope.py)."""
        from rectify.ledger.scope import visible_tasks

        return visible_tasks(self, user)

    def actionable_by(self, user, action: str) -> TaskQuerySet:
        """Tasks on which the user may take ``action`` ("view", "edit", "lead"; see ledger/scope.py)."""
        from rectify.ledger.scope import actionable_tasks

        return actionable_tasks(self, user, action)

    def editable_by(self, user) -> TaskQuerySet:
        return self.actionable_by(user, "edit")


def _behind_first(rank=None):
    """The furthest behind first as an integer key: 实际进度 lowest (none before 0 %), then dated
    before undated — the progress sort's key, and the colour sort's within a colour (``rank``, a
    multiple of 100,000, before it). Built fresh for each generated column that uses it."""
    behind = (Coalesce("actual_percent", models.Value(-1)) + models.Value(1)) * models.Value(2)
    undated = models.Case(models.When(deadline__isnull=True, then=models.Value(1)), default=models.Value(0))
    return (behind if rank is None else rank + behind) + undated


class Task(models.Model):
    """One problem to rectify (整改任务)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("整改批次"))
    code = models.CharField(_("任务编号"), max_length=40)
    inspection_number = models.CharField(_("督察问题编号"), max_length=40, blank=True)
    title = models.CharField(_("问题/任务名称"), max_length=300)
    problem = models.TextField(_("问题描述"), blank=True)
    target = models.TextField(_("整改目标"), blank=True)
    category = models.CharField(_("问题类别"), max_length=30, choices=Category.choices, default=Category.OTHER)
    leader = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="led_tasks",
                               verbose_name=_("责任领导"))
    deadline_kind = models.CharField(_("整改时限类型"), max_length=20, choices=DeadlineKind.choices, blank=True)
    deadline = models.DateField(_("整改时限"), null=True, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    location_name = models.CharField(_("位置"), max_length=200, blank=True)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    progress_note = models.TextField(_("整改进展"), blank=True)
    completion_note = models.TextField(_("完成情况"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)
    # Derived by rectify.supervision.status from the record (deadline, accepted reports, measures);
    # stored only so that the ledger can filter and sort by it. Never typed in.
    progress_status = models.CharField(_("进度状态"), max_length=20, blank=True)
    warning_colour = models.CharField(_("预警颜色"), max_length=10, blank=True)
    # The ledger's default order (sort=warning, 预警优先): red, yellow, blue, none, and within a colour
    # the dated tasks before those without a deadline (NULLS LAST, folded in so that one index
    # serves it on both databases). The database keeps it from the two columns, so every write
    # path (form, import, status refresh, bulk tools) leaves it right.
    warning_rank = models.GeneratedField(
        expression=models.Case(
            *[models.When(warning_colour=colour, deadline__isnull=dated, then=models.Value(rank))
              for colour, base in (("red", 0), ("yellow", 2), ("blue", 4))
              for dated, rank in ((False, base), (True, base + 1))],
            models.When(deadline__isnull=True, then=models.Value(7)),
            default=models.Value(6)),
        output_field=models.PositiveSmallIntegerField(), db_persist=True)
    expected_percent = models.PositiveSmallIntegerField(_("序时进度"), null=True, blank=True)
    actual_percent = models.PositiveSmallIntegerField(_("实际进度"), null=True, blank=True)
    # The list's colour sort (预警从重到轻) as one stored key, so that task_colour_order_idx is its
    # order: the colour worst first (red, yellow, blue, none), then the furthest behind (实际进度
    # lowest first, none before 0 %), then dated before undated (the deadline and the id follow in
    # the index). The sort was a CASE over every task the user sees, sorted before LIMIT.
    colour_order = models.GeneratedField(
        expression=_behind_first(models.Case(*[models.When(warning_colour=colour, then=models.Value(rank * 100000))
                                               for colour, rank in (("red", 0), ("yellow", 1), ("blue", 2))],
                                             default=models.Value(300000))),
        output_field=models.PositiveIntegerField(), db_persist=True)
    # The progress sort (进度从低到高) likewise: the lowest 实际进度 first (none before 0 %), dated
    # before undated (task_progress_order_idx adds the deadline and the id). Sorting the column itself
    # put the tasks with no percent, and the undated, first on SQLite and last on PostgreSQL.
    progress_order = models.GeneratedField(expression=_behind_first(), output_field=models.PositiveIntegerField(),
                                           db_persist=True)
    status_reasons = models.JSONField(_("状态说明"), default=list, blank=True)
    status_computed_on = models.DateField(_("状态计算日期"), null=True, blank=True)
    closeout_stage = models.CharField(_("销号阶段"), max_length=20, choices=CloseoutStage.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["campaign_id", "code"]
        verbose_name = _("整改任务")
        verbose_name_plural = _("整改任务")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="task_code_unique_in_campaign"),
            models.CheckConstraint(
                condition=~models.Q(deadline_kind="by_date") | models.Q(deadline__isnull=False),
                name="task_by_date_has_deadline"),
        ]
        # The ledger list (ledger.selectors.task_queryset) reads a page in index order and stops at
        # LIMIT; its default sort, campaign then code, is the unique constraint's index above.
        indexes = [
            # ledger list in its default order (campaign, code) and its count, read from the index
            # alone: the scope's campaign_id IN (…) / EXISTS(… task_id = id) need no table row
            models.Index(fields=["campaign", "code", "id"], name="task_list_idx"),
            # ledger list filtered by status and deadline
            models.Index(fields=["status", "deadline"], name="task_status_deadline_idx"),
            # ledger list filtered by status (台账状态, most often 整改中) in its default order: page 1
            # read in index order instead of sorting every active task (100 ms → 1 ms at 25k tasks);
            # the trailing campaign makes the filtered count index-only (the scope's campaign_id IN)
            models.Index(fields=["status", "warning_rank", "deadline", "code", "id", "campaign"],
                         name="task_status_warning_idx"),
            # ledger list filtered by category (问题类别) in its default order (page 1 read in index order
            # instead of walking the warning order past every other category), and its count index-only
            # with the scope's campaign_id IN (…) (30 → 4 ms at 25k tasks, the colour filter likewise)
            models.Index(fields=["category", "warning_rank", "deadline", "code", "id", "campaign"],
                         name="task_category_warning_idx"),
            # the same for progress status (进度状态; the battle map's links), and the board's GROUP BY
            models.Index(fields=["progress_status", "warning_rank", "deadline", "code", "id", "campaign"],
                         name="task_progress_warning_idx"),
            # ledger filter "销号阶段" and the close-out list by stage
            models.Index(fields=["closeout_stage", "deadline"], name="task_closeout_stage_idx"),
            # ledger list sorted by deadline (sort=deadline / -deadline), and deadline_from/_to ranges:
            # a range's count from the index alone (with the campaign, which a scope names: without
            # it PostgreSQL counted a year's 20,000 of 100,000 tasks by reading a whole other index)
            models.Index(fields=["deadline", "code", "id", "campaign"], name="task_deadline_idx"),
            # ledger list sorted by last change (sort=updated / -updated)
            models.Index(fields=["updated_at", "id"], name="task_updated_idx"),
            # ledger list sorted by title (sort=title)
            models.Index(fields=["title", "id"], name="task_title_idx"),
            # ledger list in its default order, worst warning first (sort=warning), page 1 read in
            # index order and stopped at LIMIT
            models.Index(fields=["warning_rank", "deadline", "code", "id"], name="task_warning_idx"),
            # the same for deadline kind (时限类型: three values, a third of the ledger each, whose
            # count read every task at 100,000 tasks)
            models.Index(fields=["deadline_kind", "warning_rank", "deadline", "code", "id", "campaign"],
                         name="task_kind_warning_idx"),
            # ledger list filtered by warning colour (红/黄/蓝预警; the battle map's links): its count
            # from the index alone. With the id, as the other filters' indexes: a scope's condition
            # names it (an office's units' tasks), and without it PostgreSQL read every task of the
            # colour from the table (27,000 red of 100,000: 28 ms)
            models.Index(fields=["warning_colour", "campaign", "id"], name="task_colour_idx"),
            # ledger list sorted by colour (sort=colour): colour_order, then the nearest deadline
            models.Index(fields=["colour_order", "deadline", "id"], name="task_colour_order_idx"),
            # ledger list sorted by progress (sort=progress): progress_order, then the nearest deadline
            models.Index(fields=["progress_order", "deadline", "id"], name="task_progress_order_idx"),
            # the battle map's statuses of a leader's sectors (分管领域: whole categories), grouped by
            # category and status in this index's order, read from it alone (a sector leader's 29,340
            # tasks at 100,000: 47 ms by key → 2 ms; dashboard.selectors.status_counts). Led by the
            # category: led by the status, SQLite read the progress-status filter's page from it and
            # sorted (1 → 43 ms at 100,000 tasks) instead of task_progress_warning_idx's order.
            models.Index(fields=["category", "progress_status"], name="task_category_progress_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def progress_label(self) -> str:
        from rectify.ledger.progress import STATUS_LABELS

        return STATUS_LABELS.get(self.progress_status, "")

    @property
    def colour_label(self) -> str:
        from rectify.ledger.progress import COLOUR_LABELS

        return COLOUR_LABELS.get(self.warning_colour, "")

    def deadline_display(self) -> str:
        if self.deadline_kind == DeadlineKind.LONG_TERM:
            return "长期坚持" + (f"（{self.deadline:%Y年%m月%d日}前见效）" if self.deadline else "")
        if self.deadline_kind == DeadlineKind.IMMEDIATE and not self.deadline:
            return "立行立改"
        if self.deadline:
            return f"{self.deadline:%Y年%m月%d日}"
        return "未设定"


class TaskUnit(models.Model):
    """A unit's role on a task; several responsible units, one of them primary."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_units")
    # indexed by taskunit_unit_task_idx, which starts with it
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="task_roles", db_index=False)
    role = models.CharField(max_length=20, choices=UnitRole.choices)
    is_primary = models.BooleanField(default=False)
    ordinal = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["role", "ordinal", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit", "role"], name="task_unit_role_unique"),
        ]
        indexes = [
            # scope and "filter by unit": the tasks where units hold a role, read from the index
            # alone (a city office's scope in a province at 25,000 tasks on PostgreSQL: its units'
            # tasks 12 → 0.5 ms; without the task id the planner scanned every task unit instead)
            models.Index(fields=["unit", "role", "task"], name="taskunit_unit_task_idx"),
        ]


class MeasureQuerySet(models.QuerySet):
    def visible_to(self, user) -> MeasureQuerySet:
        from rectify.ledger.scope import visible_measures

        return visible_measures(self, user)


class Measure(models.Model):
    """One concrete step of a task (整改措施)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="measures")
    ordinal = models.PositiveSmallIntegerField(_("序号"), default=1)
    text = models.TextField(_("措施内容"))
    owner_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("责任单位"))
    due_date = models.DateField(_("完成时限"), null=True, blank=True)
    done = models.BooleanField(_("已完成"), default=False)
    done_at = models.DateField(_("完成日期"), null=True, blank=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["task_id", "ordinal", "id"]
        verbose_name = _("整改措施")
        verbose_name_plural = _("整改措施")

    def __str__(self) -> str:
        return f"{self.ordinal}. {self.text[:40]}"


class CampaignTally(models.Model):
    """每批次任务数: how many tasks each campaign holds, kept by database triggers on the tasks
    (:mod:`rectify.ledger.tally`), so that the whole ledger's count for an office that sees every
    task is a sum over the campaigns, not a read of every task. Not written by the application."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="+")
    tasks = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("批次任务数")
        verbose_name_plural = _("批次任务数")


class ListPreferenceQuerySet(models.QuerySet):
    def visible_to(self, user) -> ListPreferenceQuerySet:
        """A user reads only their own list settings (see ledger/scope.py)."""
        from rectify.ledger.scope import own_preferences

        return own_preferences(self, user)


class ListPreference(models.Model):
    """One user's settings of the ledger list (台账列表): shown columns, one or two lines per task, and
    named saved filters. Read in one query with the list; written only by the services
    ``ledger.services.save_list_view`` / ``save_list_filter`` / ``delete_list_filter``."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="ledger_list_preference")
    # column keys of ledger.list_options.COLUMNS (a new row starts with the default set)
    columns = models.JSONField(_("显示的列"), default=list, blank=True)
    two_line = models.BooleanField(_("每条任务两行显示"), default=False)
    # [{"name": "...", "query": "progress_status=overdue&county=3"}], at most MAX_SAVED_FILTERS
    saved_filters = models.JSONField(_("保存的筛选"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ListPreferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("台账列表设置")
        verbose_name_plural = _("台账列表设置")

    def __str__(self) -> str:
        return f"台账列表设置 · {self.user_id}"

    def shown_columns(self) -> list[str]:
        from rectify.ledger.list_options import COLUMNS, DEFAULT_COLUMNS

        chosen = set(self.columns) if self.pk else set(DEFAULT_COLUMNS)  # never saved: the default set
        return [key for key, _label in COLUMNS if key in chosen]
