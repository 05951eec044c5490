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
