"""What the ledger list (台账列表) can show and remember: its columns, its filter parameters and the
built-in saved filters. Plain data, shared by the selectors (reading a user's choice), the services
(checking what is saved) and the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

# (key, header) in display order. 编号 and 名称 are always shown; the rest may be hidden.
COLUMNS: list[tuple[str, Any]] = [  # (key, lazily translated header)
    ("campaign", _("整改批次")),
    ("category", _("类别")),
    ("responsible", _("主体责任单位")),
    ("lead", _("牵头督导单位")),
    ("leader", _("责任领导")),
    ("deadline", _("整改时限")),
    ("measures", _("措施")),
    ("progress", _("进度")),
    ("status", _("台账状态")),
    ("updated", _("最近更新")),
]
COLUMN_KEYS = frozenset(key for key, _label in COLUMNS)
DEFAULT_COLUMNS: tuple[str, ...] = ("campaign", "category", "responsible", "lead", "leader", "deadline",
                                    "measures", "progress", "status")

# Columns whose header sorts the list: column → (first click, second click), values of
# ledger.selectors.SORTS. 进度 sorts by the default order, worst warning first.
SORTABLE: dict[str, tuple[str, str | None]] = {
    "code": ("code", "-code"), "title": ("title", None), "deadline": ("deadline", "-deadline"),
    "updated": ("-updated", "updated"), "progress": ("warning", None),
}

# The list's filter parameters (ledger.forms.TaskFilterForm); a saved filter keeps these and nothing else.
FILTER_KEYS: tuple[str, ...] = ("q", "campaign", "campaign_q", "category", "unit", "unit_q", "county", "county_q", "lead", "lead_q",
                                "status", "progress_status",
                                "warning_colour", "deadline_kind", "deadline_from", "deadline_to", "my_counties",
                                "sort", "per_page")
MAX_SAVED_FILTERS = 20
MAX_FILTER_NAME = 30
MAX_FILTER_QUERY = 600

# Saved filters every user has: (name, query). "我的" is the user's own scope: what they are
# responsible for seeing (an office its tree, a county its own tasks, a leader their areas).
BUILTIN_FILTERS: list[tuple[Any, str]] = [
    (_("我的逾期"), "progress_status=overdue"),
    (_("我负责县区的滞后任务"), "progress_status=lagging&my_counties=1"),
]


def clean_query(raw: str) -> str:
    """A filter query string reduced to the list's own parameters, in a stable order, without empty
    values or the page number (a saved filter starts on page 1)."""
    given = QueryDict(raw[:4000])
    pairs = [(key, value.strip()[:200]) for key in FILTER_KEYS for value in given.getlist(key)[:1]
             if value.strip()]
    return urlencode(pairs)
