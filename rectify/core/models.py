"""The tamper-evident record (审计事件): an append-only, SM3 hash-chained event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

APPEND_ONLY = "审计记录只可追加，不可修改或删除（保存期内的记录一律不得清除）。"


class EventQuerySet(models.QuerySet):
    """The audit record is append-only (SECURITY.md checks 15 and 16): no code path of the
    application may update or delete events, whatever the database (PostgreSQL also refuses it
    to the application's role with a trigger). Nothing is ever purged, so nothing younger than
    the 180 days the law asks for can be."""

    def visible_to(self, user) -> EventQuerySet:
        from rectify.core.scope import visible_events

        return visible_events(self, user)

    def update(self, **kwargs):
        raise PermissionError(APPEND_ONLY)

    def delete(self):
        raise PermissionError(APPEND_ONLY)

    def bulk_update(self, objs, fields, batch_size=None):
        raise PermissionError(APPEND_ONLY)


class Event(models.Model):
    """One entry of the audit record. Never updated or deleted by the application.

    ``hash = SM3(prev_hash || canonical JSON of every other stored field)``; ``seq`` runs 1..N
    without gaps, so an edit, a deletion and a reordering each break a recomputed link.
    Actor and unit are kept as plain ids plus names (no foreign keys): deleting a user must
    never rewrite history.
    """

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    unit_id = models.BigIntegerField(null=True, blank=True)
    unit_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    success = models.BooleanField(default=True)
    prev_hash = models.CharField(max_length=64)
    # Not indexed: nothing looks an event up by its link, and its uniqueness follows from seq's (the
    # HMAC covers seq). A unique index on 64 random hex digits put each new event on a random page
    # of a table-sized index: 0.6 s of an import's write lock per 10,000 events at 5 million.
    hash = models.CharField(max_length=64)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            # the timeline of one object (task detail page)
            models.Index(fields=["object_type", "object_id", "seq"], name="event_object_idx"),
            # login/security reviews by action and time
            models.Index(fields=["action", "created_at"], name="event_action_idx"),
        ]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(APPEND_ONLY)


class ChainHead(models.Model):
    """The chain's write lock: appending an event locks this single row (``SELECT … FOR UPDATE``),
    so writers queue. The row holds nothing else: the newest event is the head."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # The chain key version new links are made with (core/audit.py KEY_ROTATED): changed only by a
    # rotation, in the transaction that records it. Verification does not read it: it follows the
    # rotation events in the chain itself.
    key_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("审计链写锁")


# --- Work-day calendar (法定节假日与调休) -------------------------------------------------------
# The State Council publishes each year's holidays in the late autumn before; chinese-calendar
# only knows the years up to its release, so the calendar is data the office extends.


class CalendarSource(models.TextChoices):
    PACKAGE = "package", _("chinese-calendar 程序包")
    OFFICE = "office", _("整改办录入")


class CalendarQuerySet(models.QuerySet):
    def visible_to(self, user) -> CalendarQuerySet:
        from rectify.core.scope import visible_calendar

        return visible_calendar(self, user)


class CalendarYear(models.Model):
    """A year whose holidays and adjusted working days are on record. A year without a row is
    "unknown": work days there fall back to Monday–Friday, and every such date says so."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=10, choices=CalendarSource.choices)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("录入人"))
    entered_at = models.DateTimeField(_("录入时间"))
    note = models.CharField(_("依据/备注"), max_length=300, blank=True)

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["year"]
        verbose_name = _("节假日年度")
        verbose_name_plural = _("节假日年度")

    def __str__(self) -> str:
        return f"{self.year} 年"


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("休")
    WORKDAY = "workday", _("班")  # 调休上班日: a Saturday or Sunday worked in exchange for a holiday


class CalendarDay(models.Model):
    """A day that differs from the plain week: a holiday (any weekday, weekends inside a holiday
    period included) or an adjusted working day on a weekend."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")

    def __str__(self) -> str:
        return f"{self.date} {self.name} {self.get_kind_display()}"


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> NotificationQuerySet:
        from rectify.core.scope import visible_notifications

        return visible_notifications(self, user)


class Notification(models.Model):
    """An in-app reminder (站内提醒). ``key`` makes a reminder idempotent per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    key = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_unique_key")]
        indexes = [
            # unread badge in every page header
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
        ]


class DocumentNumberQuerySet(models.QuerySet):
    def visible_to(self, user) -> DocumentNumberQuerySet:
        from rectify.core.scope import visible_document_numbers

        return visible_document_numbers(self, user)


class DocumentNumber(models.Model):
    """One issued 发文字号 (e.g. 整改办通〔2026〕3号), written only by ``core.numbers.allocate_number``.

    ``series`` is the word of the number (通, 督, …): kinds that share a word share one sequence per
    year (a bulletin and a circular are both 通), so a number is never issued twice.
    """

    kind = models.CharField(_("文书类型"), max_length=30)
    series = models.CharField(_("代字"), max_length=10)
    year = models.PositiveSmallIntegerField(_("年份"))
    seq = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("发文字号"), max_length=60, unique=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    issued_at = models.DateTimeField(_("编号时间"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("编号人"))

    objects = DocumentNumberQuerySet.as_manager()

    class Meta:
        ordering = ["year", "series", "seq"]
        verbose_name = _("发文字号")
        verbose_name_plural = _("发文字号")
        constraints = [
            # the sequence itself; also serves "the highest seq of this word this year"
            models.UniqueConstraint(fields=["series", "year", "seq"], name="docnumber_unique_series_seq"),
            models.UniqueConstraint(fields=["kind", "year", "seq"], name="docnumber_unique_kind_seq"),
            # asking again for the same document returns the number it already has
            models.UniqueConstraint(fields=["kind", "object_type", "object_id"], name="docnumber_unique_object"),
        ]

    def __str__(self) -> str:
        return self.number
