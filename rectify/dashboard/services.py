"""Writes of the dashboard app: issuing and revoking display tokens (大屏令牌), each in the record."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.sm3 import sm3_hex
from rectify.dashboard.models import DisplayToken
from rectify.dashboard.scope import manages_displays
from rectify.orgs.models import User
from rectify.orgs.scope import unit_within

KEY_PREFIX = "wall_"


def digest_of(key: str) -> str:
    return sm3_hex(key.encode())


def issue_display_token(*, actor: User, name: str) -> tuple[DisplayToken, str]:
    """Issue a wall-screen link; returns the token and its key (shown this once)."""
    if not manages_displays(actor) or actor.unit is None:
        raise PermissionDenied("只有整改办可以签发大屏令牌。")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": ["请填写用途（如“二楼会议室大屏”，不超过 100 个字）。"]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = DisplayToken.objects.create(office=actor.unit, name=name, prefix=key[len(KEY_PREFIX):][:8],
                                            digest=digest_of(key), issued_by=actor, issued_at=timezone.now())
        record_event(actor=actor, action="display_token_issued", obj=token, summary=f"签发大屏令牌「{token}」",
                     after={"token": token.pk, "name": name, "prefix": token.prefix})
    return token, key


def revoke_display_token(*, actor: User, token: DisplayToken) -> DisplayToken:
    """Revoke (吊销): the wall stops at its next refresh."""
    if not (manages_displays(actor) and unit_within(token.office, actor.unit)):
        raise PermissionDenied("只有整改办可以吊销大屏令牌。")
    with transaction.atomic():
        locked = DisplayToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at:
            raise ValidationError(f"大屏令牌「{locked}」已吊销。")
        locked.revoked_at, locked.revoked_by = timezone.now(), actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record_event(actor=actor, action="display_token_revoked", obj=locked, summary=f"吊销大屏令牌「{locked}」",
                     before={"revoked": False}, after={"revoked": True})
    return locked


def wall_viewer(key: str) -> User | None:
    """Whose board a wall shows: the issuer of a live token for this key (read-only, no session)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    token = (DisplayToken.objects.select_related("issued_by", "issued_by__unit")
             .filter(digest=digest_of(key), revoked_at__isnull=True).first())
    if token is None or not token.issued_by.is_active or not manages_displays(token.issued_by):
        return None
    return token.issued_by
