"""The derived progress status (进度状态) and warning colour (预警颜色) a task carries: the values
and their Chinese labels. Pure Python, no database. The rules that derive them live in
``rectify.supervision.status``; the ledger only stores the result so that it can filter and sort.
"""

from __future__ import annotations

from enum import StrEnum


class ProgressStatus(StrEnum):
    CLOSED = "closed"  # 已完成 (销号)
    ON_SCHEDULE = "on_schedule"  # 序时推进
    LAGGING = "lagging"  # 滞后
    OVERDUE = "overdue"  # 逾期
    LONG_TERM = "long_term"  # 长期坚持
    UNSCHEDULED = "unscheduled"  # 未定时限 (no deadline kind yet, e.g. a draft)
    NOT_REPORTED = "not_reported"  # 未报送 (behind the line, but no report was due yet)


STATUS_LABELS: dict[str, str] = {
    ProgressStatus.CLOSED: "已完成",
    ProgressStatus.ON_SCHEDULE: "序时推进",
    ProgressStatus.LAGGING: "滞后",
    ProgressStatus.OVERDUE: "逾期",
    ProgressStatus.LONG_TERM: "长期坚持",
    ProgressStatus.UNSCHEDULED: "未定时限",
    ProgressStatus.NOT_REPORTED: "未报送",
}


class WarningColour(StrEnum):
    NONE = ""
    BLUE = "blue"
    YELLOW = "yellow"
    RED = "red"


COLOUR_LABELS: dict[str, str] = {
    WarningColour.BLUE: "蓝色预警",
    WarningColour.YELLOW: "黄色预警",
    WarningColour.RED: "红色预警",
}


def describe_status(status: str, colour: str) -> str:
    """"滞后·黄色预警", or "未计算" before the first computation."""
    label = STATUS_LABELS.get(status, "") or "未计算"
    return label + (f"·{COLOUR_LABELS[colour]}" if colour in COLOUR_LABELS else "")
