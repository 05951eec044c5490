"""``{% load workdays %}``: make the weekends-only fallback visible next to a work-day date.

``{{ task.report_due|workday_warning }}`` renders a small warning when the date's year has no
holidays on record; ``{{ due|workday_warning:start }}`` checks every year from start to due, since
a count of work days is only as good as the least-known year it crossed.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html

from rectify.core import workdays

register = template.Library()


@register.filter
def workday_warning(value, start=None):
    if not isinstance(value, dt.date):
        return ""
    years = workdays.unknown_years_in(value, start if isinstance(start, dt.date) else None)
    if not years:
        return ""
    text = workdays.warning_text(years)
    return format_html('<span class="badge draft workday-warning" role="note" title="{}">⚠ {}</span>', text, text)


@register.filter
def is_workday(value) -> bool:
    return isinstance(value, dt.date) and workdays.is_workday(value)
