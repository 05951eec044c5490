"""Help requests on dispatch's pages (registered on dispatch.hooks.round_panels and report_panels):
the dispatch table lists the open ones, a report's page offers to turn its 存在困难 into one."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from rectify.assessment import scope, selectors
from rectify.assessment.models import OPEN_HELP
from rectify.ledger.hooks import TaskPanel


def round_help_panel(*, user, rnd) -> TaskPanel | None:
    data = selectors.round_help(user, rnd)
    if not data["open_total"]:
        return None
    return TaskPanel(order=50, template="assessment/_round_help.html", context={"help": data})


def report_help_panel(*, user, report) -> TaskPanel | None:
    requests = selectors.report_help(user, report)
    may_ask = (scope.asks_for_help(user, report) and bool(report.difficulties.strip()) and report.status != "pending"
               and not any(h.status in OPEN_HELP for h in requests))
    if not requests and not may_ask:
        return None
    actions = [(_("据此申请帮扶"), reverse("assessment:help_new", args=[report.pk]))] if may_ask else []
    return TaskPanel(order=50, template="assessment/_report_help.html", actions=actions,
                     context={"help_requests": requests, "may_ask": may_ask, "report": report})


def bulletin_help_section(*, rnd, start, end):
    """documents.bulletin_sections: help requests raised in the month and those still open (帮扶情况)."""
    import datetime as dt

    from django.utils import timezone

    from rectify.assessment.models import HelpRequest
    from rectify.documents.hooks import BulletinSection
    from rectify.orgs.scope import in_tree

    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    office_help = HelpRequest.objects.filter(in_tree("task__campaign__office", rnd.office))
    raised = office_help.filter(created_at__gte=low, created_at__lt=high).count()
    still_open = list(office_help.filter(status__in=OPEN_HELP, created_at__lt=high)
                      .select_related("unit", "task", "helper_unit").order_by("unit__sort_order", "task__code"))
    if not raised and not still_open:
        return None
    return BulletinSection(
        order=60, title="帮扶情况", sheet="帮扶申请",
        paragraphs=[f"本月各单位据进展报送中的困难提出帮扶申请 {raised} 项；截至通报生成时，办理中的帮扶申请 "
                    f"{len(still_open)} 项，名单如下。请牵头督导单位和帮扶单位抓紧答复、落实帮扶。"],
        headers=["序号", "申请单位", "任务编号", "需要的帮扶", "帮扶单位", "状态"],
        rows=[[n, h.unit.name, h.task.code, h.needs, h.helper_unit.name if h.helper_unit_id else "—",
               h.get_status_display()] for n, h in enumerate(still_open, 1)],
        widths_mm=[10, 24, 18, 62, 24, 18])
