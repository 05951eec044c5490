"""Who sees the core's own records: notifications, the audit record and the work-day calendar.

| object | who sees | who acts |
| --- | --- | --- |
| Notification (站内提醒) | its addressee | its addressee marks it read |
| Event (审计事件) | the security auditor and the office administrator (the whole record); everyone else reads a task's events only through its timeline, after the task's own scope check | nobody (append-only) |
| CalendarYear / CalendarDay | office users | the office administrator enters a year |
| DocumentNumber (发文字号) | office users | nobody directly: the service that issues a document allocates its number |
"""

from __future__ import annotations

from rectify.core.roles import QS, Role, Viewer, is_active_user, is_office


def visible_notifications(queryset: QS, user: Viewer) -> QS:
    return queryset.filter(user=user) if is_active_user(user) else queryset.none()


def reads_audit_record(user: Viewer) -> bool:
    return is_active_user(user) and user.role in {Role.AUDITOR, Role.OFFICE_ADMIN}


def visible_events(queryset: QS, user: Viewer) -> QS:
    return queryset if reads_audit_record(user) else queryset.none()


def views_calendar(user: Viewer) -> bool:
    return is_office(user)


def changes_calendar(user: Viewer) -> bool:
    return is_office(user) and user.role == Role.OFFICE_ADMIN


def visible_calendar(queryset: QS, user: Viewer) -> QS:
    return queryset if views_calendar(user) else queryset.none()


def visible_document_numbers(queryset: QS, user: Viewer) -> QS:
    return queryset if is_office(user) else queryset.none()
