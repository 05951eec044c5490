"""The tamper-evident record (审计事件): an append-only, SM3 hash-chained event log."""

from __future__ import annotations

from django.db import models


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
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            # the timeline of one object (task detail page)
            models.Index(fields=["object_type", "object_id", "seq"], name="event_object_idx"),
            # login/security reviews by action and time
            models.Index(fields=["action", "created_at"], name="event_action_idx"),
        ]
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """The newest link of the chain. Appending locks this single row, so writers queue."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计链头"
