"""Supervision (督导): derived progress status, warnings and, later, the escalation ladder.

`status.derive_status` is the one place that decides a task's progress status (进度状态) and
warning colour (预警颜色); see docs/progress-status.md. It is pure Python, so importing this
package needs no Django setup.
"""

from .status import (
    BRANCHES,
    COLOUR_LABELS,
    DEFAULT_RULES,
    STATUS_LABELS,
    Branch,
    ProgressStatus,
    StatusInput,
    StatusResult,
    StatusRules,
    WarningColour,
    derive_status,
)

__all__ = [
    "BRANCHES",
    "COLOUR_LABELS",
    "DEFAULT_RULES",
    "STATUS_LABELS",
    "Branch",
    "ProgressStatus",
    "StatusInput",
    "StatusResult",
    "StatusRules",
    "WarningColour",
    "derive_status",
]
