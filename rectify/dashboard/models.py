"""Display tokens (大屏令牌): a read-only link for the wall screen of a meeting room, issued and
revoked by the office, so that the board shows without a login prompt mid-meeting."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.orgs.models import Unit


class DisplayTokenQuerySet(models.QuerySet):
    def visible_to(self, user) -> DisplayTokenQuerySet:
        from rectify.dashboard.scope import visible_display_tokens

        return visible_display_tokens(self, user)


class DisplayToken(models.Model):
    """Only the SM3 digest of the key is stored; the key is shown once, when issued. The wall shows
    what the issuing office user's board shows; revoking (or deactivating that account) ends it."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("整改办"))
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("签发时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = DisplayTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("大屏令牌")
        verbose_name_plural = _("大屏令牌")

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"


class ReceiptStatus(models.TextChoices):
    OPEN = "open", _("待办理")
    DONE = "done", _("已办理")


class InstructionQuerySet(models.QuerySet):
    def visible_to(self, user) -> InstructionQuerySet:
        from rectify.dashboard.scope import visible_instructions

        return visible_instructions(self, user)


class Instruction(models.Model):
    """A city leader's instruction (领导批示) on a task or on a county. It reaches the responsible
    units of the task (or the county itself), each of which records what it did (``InstructionReceipt``)."""

    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("批示领导"))
    task = models.ForeignKey("ledger.Task", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("任务"))
    county = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("县市区"))
    text = models.TextField(_("批示内容"))
    created_at = models.DateTimeField(_("批示时间"))

    objects = InstructionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("领导批示")
        verbose_name_plural = _("领导批示")
        constraints = [
            # on a task or on a county, exactly one
            models.CheckConstraint(condition=models.Q(task__isnull=False, county__isnull=True)
                                   | models.Q(task__isnull=True, county__isnull=False), name="instruction_one_subject"),
        ]

    def __str__(self) -> str:
        return f"批示：{self.text[:30]}"


class ReceiptQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReceiptQuerySet:
        from rectify.dashboard.scope import visible_receipts

        return visible_receipts(self, user)


class InstructionReceipt(models.Model):
    """One unit's copy of an instruction and what it did about it (办理情况)."""

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="receipts")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("办理单位"))
    status = models.CharField(_("状态"), max_length=10, choices=ReceiptStatus.choices, default=ReceiptStatus.OPEN)
    action_text = models.TextField(_("办理情况"), blank=True)
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    acted_at = models.DateTimeField(_("办理时间"), null=True, blank=True)

    objects = ReceiptQuerySet.as_manager()

    class Meta:
        ordering = ["instruction_id", "unit__sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["instruction", "unit"], name="receipt_unique_unit")]
        indexes = [
            # a unit's open instructions (its 我的工作 page)
            models.Index(fields=["unit", "status"], name="receipt_unit_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_status_display()}"


class FactKind(models.IntegerChoices):
    COUNTY = 1, _("县市区")  # the county of one of the task's responsible units
    LEAD = 2, _("牵头督导单位")  # one of the task's lead supervising units


class BoardFact(models.Model):
    """One row per (task, county of a responsible unit) and per (task, lead supervising unit), with
    the task's progress status: what the battle map's two largest figures count, kept by database
    triggers on the task units, the tasks' status and the units' county (dashboard.facts), so that
    any write — a service, an import, a bulk update, a raw statement — keeps them true.

    Counting it is one GROUP BY over an index of (kind, unit, status) rather than a join of every
    responsible unit with its task and its unit's path (a province office's board: 1.2 s at
    100,000 tasks). Not a source of truth: ``rectify reindex`` builds it again from the ledger."""

    task = models.ForeignKey("ledger.Task", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                             related_name="+")
    kind = models.PositiveSmallIntegerField(choices=FactKind.choices)
    unit = models.ForeignKey(Unit, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                             related_name="+")
    status = models.CharField(max_length=20, blank=True)
    # the task's category (ledger.Task.category): a leader's sectors (分管领域) are whole categories,
    # whose lead-unit facts are read as a range of boardfact_kind_category (a sector leader's 29,340
    # tasks at 100,000: by task, 38 ms)
    category = models.CharField(max_length=30, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "kind", "unit"], name="boardfact_task_kind_unit")]
        indexes = [models.Index(fields=["kind", "unit", "status"], name="boardfact_kind_unit_status"),
                   models.Index(fields=["kind", "category", "unit", "status"], name="boardfact_kind_category")]


ROUND_TOTAL = ""  # RoundTally.category of a round's totals per status


class RoundTally(models.Model):
    """Per round, task category and status, how many of the round's snapshots
    (supervision.StatusSnapshot, a task's status as the round left it) hold that status: the
    progress chart (进度走势) of an office that sees every task sums these rows by month instead of
    counting the snapshots (a province of 200 cities: 200 rounds a month, 600,000 snapshots over six
    months at 100,000 tasks), and a leader's sums them for its sectors (分管领域, whole categories:
    22,000 tasks of "water" province-wide). Each snapshot is counted under its task's category and
    under the round's total (``category = ROUND_TOTAL``): sum one or the other, never both. Kept by triggers on the snapshots and on a task's
    category (dashboard.facts), so that no writer can leave it behind; not a source of truth:
    ``rectify reindex`` builds it again."""

    round = models.ForeignKey("dispatch.DispatchRound", on_delete=models.DO_NOTHING, db_constraint=False,
                              db_index=False, related_name="+")
    # the task's (ledger.Task.category); ROUND_TOTAL: every category of the round
    category = models.CharField(max_length=30, blank=True, default="")
    status = models.CharField(max_length=20, blank=True)
    n = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "category", "status"],
                                               name="roundtally_round_category_status")]
