"""The fields every stored file keeps, as an abstract model: a progress report's evidence
(``dispatch.Evidence``) today; close-out check records, look-backs and supervisors' observations
later. Each concrete subclass adds what the file belongs to (a report, a close-out step …) and its
own scope; the file itself lives in ``store.EvidenceStore`` under its SM3 digest.

``concrete_file_models()`` lists every installed subclass, so that a check of the files on disk
(``EvidenceStore.missing_or_altered``) can collect the (digest, extension) pairs of all of them.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredFile(models.Model):
    """A file checked by ``inspect.inspect_upload`` and stored by content (佐证材料)."""

    digest = models.CharField(max_length=64, db_index=True)  # SM3 hex; the file's name in the store
    extension = models.CharField(max_length=10)  # canonical, decided by content
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=100)
    kind = models.CharField(max_length=10)  # "photo" | "pdf" | "docx" | "xlsx"
    original_name = models.CharField(_("原文件名"), max_length=200)  # sanitised, display only
    taken_at = models.DateTimeField(_("拍摄时间"), null=True, blank=True)  # photos: EXIF
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)  # exif.photo_warnings at upload
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


def concrete_file_models() -> list[type[StoredFile]]:
    """Every installed concrete model that keeps stored files, by label (proxies left out: their
    rows are their concrete model's)."""
    found = [m for m in apps.get_models() if issubclass(m, StoredFile) and not m._meta.proxy]
    return sorted(found, key=lambda m: m._meta.label)
