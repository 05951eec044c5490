"""Who sees the core's own records: notifications, the audit record and the work-day calendar.

| object | who sees | who acts |
| --- | --- | --- |
| Notification (站内提醒) | its addressee | its addressee marks it read |
| Event (审计事件) | the security auditor and the office administrator (the whole record); the security administrator the security part (events on accounts: logins, failures, locks, resets, roles, tokens); everyone else reads a task's events only through its timeline, after the task's own scope check; the system administrator none | nobody (append-only) |
| CalendarYear / CalendarDay | office users and the system administrator | the office administrator or the system administrator enters a year |
| DocumentNumber (发文字号) | office users | nobody directly: the service that issues a document allocates its number |
"""

from __future__ import annotations

from rectify.core.roles import QS, Role, Viewer, is_active_user, is_office


def visible_notifications(queryset: QS, user: Viewer) -> QS:
    return queryset.filter(user=user) if is_active_user(user) else queryset.none()


def reads_audit_record(user: Viewer) -> bool:
    return is_active_user(user) and user.role in {Role.AUDITOR, Role.OFFICE_ADMIN, Role.SECURITY_ADMIN}


# The security part of the record (安全审计): every event whose object is an account.
SECURITY_OBJECT_TYPES = ("orgs.user",)


def visible_events(queryset: QS, user: Viewer) -> QS:
    if not reads_audit_record(user):
        return queryset.none()
    if getattr(user, "role", "") == Role.SECURITY_ADMIN:
        return queryset.filter(object_type__in=SECURITY_OBJECT_TYPES)
    return queryset


def _system_admin(user: Viewer) -> bool:
    return is_active_user(user) and user.role == Role.SYSTEM_ADMIN


def views_calendar(user: Viewer) -> bool:
    return is_office(user) or _system_admin(user)


def changes_calendar(user: Viewer) -> bool:
    return (is_office(user) and user.role == Role.OFFICE_ADMIN) or _system_admin(user)


def visible_calendar(queryset: QS, user: Viewer) -> QS:
    return queryset if views_calendar(user) else queryset.none()


def visible_document_numbers(queryset: QS, user: Viewer) -> QS:
    return queryset if is_office(user) else queryset.none()
