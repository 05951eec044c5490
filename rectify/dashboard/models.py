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
