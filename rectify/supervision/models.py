"""The escalation ladder (督办措施) and per-round snapshots of the derived progress status."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.evidence.models import StoredFile
from rectify.ledger.models import Task
from rectify.orgs.models import Unit, User


class Rung(models.TextChoices):
    WARNING = "warning", _("预警")
    CIRCULAR = "circular", _("通报")
    SUPERVISION = "supervision", _("督办")
    LISTED = "listed", _("挂牌督办")
    INTERVIEW = "interview", _("约谈")
    SUSPENSION = "suspension", _("区域限批")


LADDER: list[str] = [r.value for r in Rung]  # the order the seed plan names them in

DOCUMENT_TITLES = {
    Rung.WARNING: "整改预警提醒函",
    Rung.CIRCULAR: "整改工作情况通报",
    Rung.SUPERVISION: "督办通知书",
    Rung.LISTED: "挂牌督办通知书",
    Rung.INTERVIEW: "约谈通知书",
    Rung.SUSPENSION: "区域限批决定书",
}


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("待回复")
    REPLIED = "replied", _("已回复")
    CLOSED = "closed", _("已办结")


class Trigger(models.TextChoices):
    MANUAL = "manual", _("人工发起")
    DEADLINE_NEAR = "deadline_near", _("临近整改时限未完成")
    LAGGING_TWICE = "lagging_twice", _("连续两轮滞后")
    REPORT_MISSING = "report_missing", _("逾期未报送")
    OVERDUE = "overdue", _("超过整改时限未完成")
    UNABLE = "unable", _("研判无法按期完成")


# The board_rank values of each status: a status filter is a range of the board's order.
BOARD_RANKS: dict[str, tuple[int, int]] = {EscalationStatus.OPEN: (0, 1), EscalationStatus.REPLIED: (2, 3), EscalationStatus.CLOSED: (4, 5)}
# 督办台账's order (escalation_order_idx), which the battle map's open-escalations panel shares.
BOARD_ORDER = ("board_rank", "reply_due", "-issued_at", "-id")


class EscalationQuerySet(models.QuerySet):
    def visible_to(self, user) -> EscalationQuerySet:
        from rectify.supervision.scope import visible_escalations

        return visible_escalations(self, user)


class Escalation(models.Model):
    """One rung of the ladder issued on a task to a target unit."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="escalations")
    rung = models.CharField(_("督办措施"), max_length=20, choices=Rung.choices)
    trigger = models.CharField(_("触发原因"), max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    reason = models.TextField(_("事由"))
    target_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="escalations",
                                    verbose_name=_("督办对象"))
    reply_due = models.DateField(_("回复期限"), null=True, blank=True)
    skip_reason = models.TextField(_("越级理由"), blank=True)
    doc_number = models.CharField(_("发文字号"), max_length=60, blank=True)
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    issuing_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField(_("发出时间"))
    status = models.CharField(_("状态"), max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    reply_text = models.TextField(_("回复内容"), blank=True)
    replied_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    round = models.ForeignKey("dispatch.DispatchRound", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="escalations")
    # Automatic warnings carry a key ("deadline_near:<task>:<yyyy-mm>") so tick never repeats one.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    # The 督办台账's order without today's date in it: open (0, 1), replied (2, 3), closed (4, 5),
    # each with a reply date before those without (NULLS LAST folded in, so that one index serves
    # it on both databases). Among open ones with a date the overdue come first by themselves: they
    # are the earliest dates. Kept by the database, so no write path can leave it stale.
    board_rank = models.GeneratedField(
        expression=models.Case(
            *[models.When(status=status, reply_due__isnull=undated, then=models.Value(rank))
              for status, base in ((EscalationStatus.OPEN, 0), (EscalationStatus.REPLIED, 2))
              for undated, rank in ((False, base), (True, base + 1))],
            models.When(reply_due__isnull=True, then=models.Value(5)),
            default=models.Value(4)),
        output_field=models.PositiveSmallIntegerField(), db_persist=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("督办措施")
        verbose_name_plural = _("督办措施")
        indexes = [
            # escalation board: open ones by reply date
            models.Index(fields=["status", "reply_due"], name="escalation_board_idx"),
            # the 督办台账 in its order (selectors.escalation_board), a page read in index order and
            # stopped at LIMIT instead of ranking and sorting every escalation (18 ms at 85,803)
            models.Index(fields=list(BOARD_ORDER), name="escalation_order_idx"),
            models.Index(fields=["task", "rung"], name="escalation_task_rung_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rung_display()}：{self.task.code}"

    @property
    def ladder_index(self) -> int:
        return LADDER.index(self.rung)


class FlipQuerySet(models.QuerySet):
    def visible_to(self, user) -> FlipQuerySet:
        from rectify.supervision.scope import visible_flips

        return visible_flips(self, user)


class StatusFlip(models.Model):
    """One change of a task's derived status or warning colour (预警颜色变化), kept like
    healthchecks' Flip so that "when did this task turn red, and why" is answered by the record."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="flips")
    at = models.DateTimeField(_("变化时间"))
    computed_on = models.DateField(_("计算日期"))
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20)
    old_colour = models.CharField(max_length=10, blank=True)
    new_colour = models.CharField(max_length=10, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    round = models.ForeignKey("dispatch.DispatchRound", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", help_text=_("在结束该轮调度时判定"))

    objects = FlipQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("预警颜色变化")
        verbose_name_plural = _("预警颜色变化")
        indexes = [
            # a task's colour history (task page), newest first
            models.Index(fields=["task", "-at"], name="flip_task_idx"),
        ]

    def describe(self) -> str:
        from rectify.ledger.progress import describe_status

        text = f"{describe_status(self.old_status, self.old_colour)} → {describe_status(self.new_status, self.new_colour)}"
        return text + (f"（{'；'.join(self.reasons)}）" if self.reasons else "")


class StatusSnapshot(models.Model):
    """The derived status of a task as it stood at the end of a round (for "two yellows in a row")."""

    round = models.ForeignKey("dispatch.DispatchRound", on_delete=models.CASCADE, related_name="snapshots")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="snapshots")
    status = models.CharField(max_length=20)
    colour = models.CharField(max_length=10, blank=True)
    expected_percent = models.PositiveSmallIntegerField(null=True)
    actual_percent = models.PositiveSmallIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "task"], name="snapshot_unique")]


class ReplyFile(StoredFile):
    """佐证材料 of a reply (回复督办): what the document asked the unit to send back."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="reply_files")

    class Meta:
        ordering = ["id"]
        verbose_name = _("督办回复材料")
        verbose_name_plural = _("督办回复材料")
