"""In-app reminders (站内提醒) and e-mail when SMTP is configured.

Every notification carries a key; (user, key) is unique, so a reminder raised twice — by a tick
that ran twice or crashed half-way — is stored once.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

log = logging.getLogger(__name__)


def notify(*, users, kind: str, title: str, url: str = "", body: str = "", key: str) -> int:
    """Create one notification per user unless that user already has this key. Returns how many."""
    from rectify.core.models import Notification

    users = list(users)
    if not users:
        return 0
    have = set(Notification.objects.filter(key=key, user__in=users).values_list("user_id", flat=True))
    rows = [Notification(user=u, kind=kind, title=title[:200], body=body, url=url, key=key)
            for u in users if u.pk not in have]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows and settings.EMAIL_HOST:
        recipients = [u.email for u in users if u.email and u.pk not in have]
        if recipients:
            transaction.on_commit(lambda: _mail(title, body, url, recipients))
    return len(rows)


def _mail(title: str, body: str, url: str, recipients: list[str]) -> None:
    try:
        base = getattr(settings, "RECTIFY_BASE_URL", "")
        send_mail(f"[督察整改] {title}", f"{body}\n\n{base}{url}".strip(), None, recipients, fail_silently=False)
    except Exception:  # noqa: BLE001 — mail is best effort; the in-app notice is the record
        log.exception("reminder e-mail failed")


def unread_count(user) -> int:
    from rectify.core.models import Notification

    return Notification.objects.visible_to(user).filter(read_at__isnull=True).count()


def mark_read(*, user, pk: int | None = None) -> int:
    """Mark one of the user's reminders read (or all of them when ``pk`` is None)."""
    from django.utils import timezone

    from rectify.core.models import Notification

    qs = Notification.objects.visible_to(user).filter(read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())
