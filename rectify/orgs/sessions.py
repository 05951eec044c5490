"""Who is signed in where (SECURITY.md check 7): each login's session is listed with its browser,
address, start and last activity; the holder ends their own, the security administrator (or the
office administrator over the account) anyone's; and a login beyond
``settings.MAX_SESSIONS_PER_USER`` ends the oldest session.

A session row (``UserSession``) is written at login only. The last activity shown is the session's
own idle timer (``last_activity``, refreshed by orgs.middleware at most once a minute), read from
the session store: listing sessions writes nothing, and no page view writes more than before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.orgs.models import User, UserSession
from rectify.orgs.scope import security_users


def _store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _session_model() -> type[AbstractBaseSession]:
    return _store_class().get_model_class()


@dataclass
class LiveSession:
    row: UserSession
    last_activity: dt.datetime | None
    current: bool


def live_sessions(rows: list[UserSession], *, current_key: str = "") -> list[LiveSession]:
    """The rows whose session still exists and has not expired, with each one's last activity
    (one query for all of them)."""
    if not rows:
        return []
    model = _session_model()
    store = _store_class()()
    now = timezone.now()
    stored = {s.session_key: s for s in model.objects.filter(session_key__in=[r.session_key for r in rows],
                                                             expire_date__gt=now)}
    idle = dt.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    found = []
    for row in rows:
        session = stored.get(row.session_key)
        if session is None:
            continue
        data = store.decode(session.session_data)
        last = data.get("last_activity")
        when = dt.datetime.fromtimestamp(last, tz=dt.UTC) if isinstance(last, int | float) else None
        if when is not None and now - when > idle:
            continue  # idle past the timeout: ends at its next request
        found.append(LiveSession(row, when, row.session_key == current_key))
    return found


def sessions_of(viewer, user) -> list[UserSession]:
    return list(UserSession.objects.visible_to(viewer).filter(user_id=user.pk).select_related("user"))


def _delete_stored(session_key: str) -> None:
    _store_class()().delete(session_key)


def session_started(*, user: User, session_key: str, user_agent: str, ip: str) -> None:
    """Record a new login's session; forget rows whose session is gone; past the cap, end the oldest."""
    if not session_key:
        return
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one login of a user at a time
        UserSession.objects.filter(session_key=session_key).delete()
        UserSession.objects.create(user=user, session_key=session_key, user_agent=user_agent[:300], ip=ip[:64])
        rows = list(UserSession.objects.filter(user=user).order_by("created_at", "id"))
        alive = {s.row.pk for s in live_sessions(rows)}
        stale = [r.pk for r in rows if r.pk not in alive and r.session_key != session_key]
        if stale:
            UserSession.objects.filter(pk__in=stale).delete()
        cap = settings.MAX_SESSIONS_PER_USER
        others = [r for r in rows if r.pk in alive and r.session_key != session_key]
        while cap and len(others) + 1 > cap:
            oldest = others.pop(0)
            _delete_stored(oldest.session_key)
            oldest.delete()
            record_event(actor=user, action="session_ended_cap", obj=user,
                         summary=f"同时登录超过 {cap} 个会话，结束最早的会话（{oldest.ip or '未知地址'}，"
                                 f"{timezone.localtime(oldest.created_at):%Y-%m-%d %H:%M} 登录）",
                         after={"session": oldest.pk, "ip": oldest.ip, "user_agent": oldest.user_agent[:100]})


def session_closed(session_key: str | None) -> None:
    """Logout or timeout: the session is gone from the store; forget its row (no event: logout has its own)."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def session_key_changed(old: str | None, new: str | None) -> None:
    """A password change gives the session a new key (Django's update_session_auth_hash)."""
    if old and new and old != new:
        UserSession.objects.filter(session_key=old).update(session_key=new)


def end_session(*, actor: User, session: UserSession) -> None:
    """End one session at once (its cookie no longer signs anyone in): the holder's own, or, for the
    security administrator or the account's office administrator, anyone's."""
    if actor.pk != session.user_id and not security_users(User.objects.all(), actor).filter(
            pk=session.user_id).exists():
        raise PermissionDenied("无权结束该会话。")
    with transaction.atomic():
        locked = UserSession.objects.select_for_update().filter(pk=session.pk).select_related("user").first()
        if locked is None:
            raise ValidationError("该会话已结束。")
        _delete_stored(locked.session_key)
        locked.delete()
        whose = "本人" if actor.pk == locked.user_id else locked.user.username
        record_event(actor=actor, action="session_ended", obj=locked.user,
                     summary=f"{actor.username} 结束{whose}的会话（{locked.ip or '未知地址'}，"
                             f"{timezone.localtime(locked.created_at):%Y-%m-%d %H:%M} 登录）",
                     after={"session": locked.pk, "ip": locked.ip, "holder": locked.user.username})


def end_all_sessions(*, actor: User | None, user: User, reason: str, record: bool = True) -> int:
    """End every session of ``user``, inside another service's transaction; ``record=False`` when
    that service's own event says so."""
    rows = list(UserSession.objects.filter(user=user))
    for row in rows:
        _delete_stored(row.session_key)
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    if rows and record:
        record_event(actor=actor, action="sessions_ended", obj=user,
                     summary=f"结束 {user.username} 的全部 {len(rows)} 个会话（{reason}）")
    return len(rows)
