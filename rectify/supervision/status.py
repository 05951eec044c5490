"""Derived progress status (进度状态) and warning colour (预警颜色) of a task.

Pure Python, no database: the caller gathers the facts (deadline, start, the last *accepted*
report, measure counts, the lead unit's judgement, last round's colour) into a `StatusInput`,
and `derive_status` returns the status, the expected and actual progress, the colour, the
reasons in Chinese and the identifier of the rule that fired. The rules, as a truth table, are
in docs/progress-status.md; `BRANCHES` lists every rule identifier and tests cover each one.

Status is never typed in (DESIGN §5 "Derived, not typed"): it is recomputed whenever it is shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from rectify.ledger.progress import COLOUR_LABELS, STATUS_LABELS, ProgressStatus, WarningColour

__all__ = ["COLOUR_LABELS", "STATUS_LABELS", "ProgressStatus", "WarningColour", "StatusInput", "derive_status"]


class Branch(StrEnum):
    """The rule that decided a result; stable identifiers for the truth table and for logs."""

    CLOSED = "closed"  # closed → 已完成, no colour
    UNSCHEDULED = "unscheduled"  # no deadline kind, or by_date without a date → 未定时限
    OVERDUE = "overdue"  # dated, today > deadline → 逾期, red
    OVERDUE_REPORTED_COMPLETE = "overdue_reported_complete"  # as above, but progress is 100%
    UNABLE = "unable"  # lead unit judged it cannot finish in time → red
    REPEAT_YELLOW = "repeat_yellow"  # a yellow after a yellow (or red) round → red
    LAGGING = "lagging"  # dated: actual < expected − tolerance → 滞后, yellow
    IMMEDIATE_LAGGING = "immediate_lagging"  # 立行立改 without date, not done after the grace days
    IMMEDIATE_UNDATED = "immediate_undated"  # 立行立改 without date, within the grace days
    LONG_TERM_MISSED = "long_term_missed"  # 长期坚持: 见效 date passed below 100% → yellow
    LONG_TERM_NO_REPORT = "long_term_no_report"  # 长期坚持: no accepted report → yellow
    LONG_TERM = "long_term"  # 长期坚持, nothing to flag
    COMPLETE_PENDING_CLOSEOUT = "complete_pending_closeout"  # 100% before the deadline, not closed
    NEAR_DEADLINE = "near_deadline"  # on schedule, deadline within the window, < 100% → blue
    ON_SCHEDULE = "on_schedule"  # 序时推进, no colour
    NOT_REPORTED = "not_reported"  # behind the line, no accepted report, no report due yet → 未报送


BRANCHES: tuple[str, ...] = tuple(Branch)

_DEADLINE_KINDS = ("immediate", "by_date", "long_term", "")
_COLOURS = ("", "blue", "yellow", "red")


@dataclass(frozen=True)
class StatusRules:
    """Configurable warning rules (预警规则); the defaults are the office's usual ones."""

    near_deadline_days: int = 15  # blue within this many days of the deadline (work days if given)
    lag_tolerance_percent: int = 0  # lagging when actual < expected − tolerance
    repeat_yellow_to_red: bool = True  # two yellows in a row become a red
    immediate_grace_days: int = 30  # 立行立改 without a date: calendar days from start to finish

    def __post_init__(self) -> None:
        for name in ("near_deadline_days", "lag_tolerance_percent", "immediate_grace_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"StatusRules.{name} 必须是非负整数，收到 {value!r}")
        if self.lag_tolerance_percent > 100:
            raise ValueError(f"StatusRules.lag_tolerance_percent 不能超过 100，收到 {self.lag_tolerance_percent}")


DEFAULT_RULES = StatusRules()


@dataclass(frozen=True, kw_only=True)
class StatusInput:
    """The facts about one task at one moment.

    `reported_percent` comes from the last *accepted* progress report (None if there is none);
    `previous_colour` is the colour computed in the previous dispatch round; when the caller has
    the official work-day calendar it passes `days_to_deadline_workdays`, otherwise the
    near-deadline window counts calendar days.
    """

    today: dt.date
    closed: bool = False
    deadline_kind: str = ""
    deadline: dt.date | None = None
    start: dt.date | None = None
    reported_percent: int | None = None
    measures_total: int = 0
    measures_done: int = 0
    judged_unable: bool = False
    previous_colour: str | None = None
    days_to_deadline_workdays: int | None = None
    # A dispatch round that asked this task for a report has passed its due date. Until then a
    # task with no accepted report is 未报送, not 滞后 (and a long-term task is not flagged).
    report_due_passed: bool = True
    # How many responsible units' latest accepted reports `reported_percent` is the mean of.
    reporting_units: int = 1

    def __post_init__(self) -> None:
        if self.deadline_kind not in _DEADLINE_KINDS:
            raise ValueError(f"未知的整改时限类型：{self.deadline_kind!r}")
        if self.previous_colour not in (*_COLOURS, None):
            raise ValueError(f"未知的预警颜色：{self.previous_colour!r}")
        if self.reported_percent is not None and not _is_int_between(self.reported_percent, 0, 100):
            raise ValueError(f"报送进度必须是 0–100 的整数，收到 {self.reported_percent!r}")
        if not _is_int_between(self.measures_total, 0, None):
            raise ValueError(f"措施总数必须是非负整数，收到 {self.measures_total!r}")
        if not _is_int_between(self.measures_done, 0, self.measures_total):
            raise ValueError(f"已完成措施数必须在 0 与措施总数 {self.measures_total} 之间，收到 {self.measures_done!r}")


@dataclass(frozen=True)
class StatusResult:
    status: ProgressStatus
    expected_percent: int | None  # 序时进度; None where no line from start to deadline applies
    actual_percent: int  # reported percent, else share of measures done, else 0
    colour: WarningColour
    reasons: list[str] = field(default_factory=list)
    branch: Branch = Branch.ON_SCHEDULE

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def colour_label(self) -> str:
        return COLOUR_LABELS.get(self.colour, "")


def derive_status(inp: StatusInput, rules: StatusRules = DEFAULT_RULES) -> StatusResult:
    """The progress status and warning colour of a task (进度状态与预警颜色). One truth."""
    if inp.closed:
        return StatusResult(ProgressStatus.CLOSED, None, 100, WarningColour.NONE, ["任务已销号"], Branch.CLOSED)

    actual, reasons = _actual_percent(inp)

    if inp.deadline_kind == "" or (inp.deadline_kind == "by_date" and inp.deadline is None):
        why = "未设定整改时限类型" if inp.deadline_kind == "" else "限期整改任务未设定整改时限"
        return StatusResult(ProgressStatus.UNSCHEDULED, None, actual, WarningColour.NONE,
                            [f"{why}，暂不计算进度状态", *reasons], Branch.UNSCHEDULED)

    if inp.deadline_kind == "long_term":
        return _long_term(inp, rules, actual, reasons)
    if inp.deadline is None:  # 立行立改 without a date
        return _immediate_undated(inp, rules, actual, reasons)
    return _dated(inp, rules, actual, reasons)


# ---- helpers -------------------------------------------------------------------------------


def _is_int_between(value: object, low: int, high: int | None) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)
            and value >= low and (high is None or value <= high))


def _actual_percent(inp: StatusInput) -> tuple[int, list[str]]:
    if inp.reported_percent is not None:
        if inp.reporting_units > 1:
            return inp.reported_percent, [f"实际进度取 {inp.reporting_units} 个责任单位各自最近一次已采纳报送的"
                                          f"平均值（未报送的单位按 0% 计）：{inp.reported_percent}%"]
        return inp.reported_percent, [f"实际进度取最近一次已采纳的进展报送：{inp.reported_percent}%"]
    if inp.measures_total:
        # Rounded down, so that 100% means every measure is done.
        percent = inp.measures_done * 100 // inp.measures_total
        return percent, [f"无已采纳的进展报送，按已完成措施 {inp.measures_done}/{inp.measures_total} 计：{percent}%"]
    return 0, ["无已采纳的进展报送，也无整改措施，实际进度按 0% 计"]


NOT_REPORTED_REASON = "尚无已采纳的进展报送，首轮调度报送尚未到期，暂不判定滞后"


def _awaiting_first_report(inp: StatusInput) -> bool:
    """No accepted report, and no round has asked for one past its due date: 未报送, not 滞后."""
    return inp.reported_percent is None and not inp.report_due_passed


def _expected_percent(start: dt.date, deadline: dt.date, today: dt.date) -> int:
    """序时进度: share of the way from start to deadline, 0–100, rounded down."""
    span = (deadline - start).days
    if span <= 0:  # start on (or, wrongly, after) the deadline: all due on the deadline
        return 100 if today >= deadline else 0
    elapsed = min(max((today - start).days, 0), span)
    return elapsed * 100 // span


def _fmt(day: dt.date) -> str:
    # not f"{day:%Y年%m月%d日}": strftime with non-ASCII text goes through the locale's wide-character
    # path, 0.1 ms a call (an import of 10,000 tasks spent 0.8 s here)
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def _result(status: ProgressStatus, expected: int | None, actual: int, colour: WarningColour,
            reasons: list[str], branch: Branch, inp: StatusInput, rules: StatusRules) -> StatusResult:
    """Build the result, turning a second yellow in a row into a red."""
    if (colour == WarningColour.YELLOW and rules.repeat_yellow_to_red
            and inp.previous_colour in (WarningColour.YELLOW, WarningColour.RED)):
        # After a red round the task is still behind: stay red rather than fall back to yellow.
        why = "连续两轮黄色预警" if inp.previous_colour == WarningColour.YELLOW else "上轮已为红色预警且本轮仍应预警"
        return StatusResult(status, expected, actual, WarningColour.RED,
                            [*reasons, f"{why}，升级为红色预警"], Branch.REPEAT_YELLOW)
    return StatusResult(status, expected, actual, colour, reasons, branch)


def _dated(inp: StatusInput, rules: StatusRules, actual: int, reasons: list[str]) -> StatusResult:
    """限期整改, or 立行立改 with a date."""
    deadline = inp.deadline
    assert deadline is not None
    if inp.today > deadline:
        late = (inp.today - deadline).days
        reasons = [f"已超过整改时限（{_fmt(deadline)}）{late} 天，尚未销号", *reasons]
        if inp.judged_unable:
            reasons.append("牵头督导单位研判无法按期完成")
        branch = Branch.OVERDUE
        if actual >= 100:
            reasons.append("已报完成但未在时限内销号，仍按逾期计")
            branch = Branch.OVERDUE_REPORTED_COMPLETE
        return StatusResult(ProgressStatus.OVERDUE, 100, actual, WarningColour.RED, reasons, branch)

    if inp.start is None:
        # No line to measure against: the task cannot be found lagging, only near its deadline.
        expected = None
        reasons.append("未设定开始日期，无法计算序时进度，按序时推进计")
        lagging = False
    else:
        expected = _expected_percent(inp.start, deadline, inp.today)
        gap = expected - actual
        lagging = gap > rules.lag_tolerance_percent
        if inp.today < inp.start:
            reasons.append(f"尚未到开始日期（{_fmt(inp.start)}）")
        if lagging:
            reasons.append(f"序时进度 {expected}%，实际进度 {actual}%，滞后 {gap} 个百分点")
        elif gap > 0:
            reasons.append(f"序时进度 {expected}%，实际进度 {actual}%，差 {gap} 个百分点，"
                           f"在容差 {rules.lag_tolerance_percent} 个百分点以内")
        else:
            reasons.append(f"序时进度 {expected}%，实际进度 {actual}%，达到序时进度")
    status = ProgressStatus.LAGGING if lagging else ProgressStatus.ON_SCHEDULE
    if lagging and _awaiting_first_report(inp):
        status, lagging = ProgressStatus.NOT_REPORTED, False
        reasons.append(NOT_REPORTED_REASON)

    if inp.judged_unable:
        return StatusResult(status, expected, actual, WarningColour.RED,
                            [*reasons, "牵头督导单位研判无法按期完成"], Branch.UNABLE)
    if lagging:
        return _result(status, expected, actual, WarningColour.YELLOW, reasons, Branch.LAGGING, inp, rules)
    if actual >= 100:
        return StatusResult(status, expected, actual, WarningColour.NONE,
                            [*reasons, "已报完成，待销号"], Branch.COMPLETE_PENDING_CLOSEOUT)

    if inp.days_to_deadline_workdays is not None:
        days_left, unit = inp.days_to_deadline_workdays, "个工作日"
    else:
        days_left, unit = (deadline - inp.today).days, "天"
    if days_left <= rules.near_deadline_days:
        return StatusResult(status, expected, actual, WarningColour.BLUE,
                            [*reasons, f"距整改时限（{_fmt(deadline)}）还有 {days_left} {unit}"
                                       f"（预警期 {rules.near_deadline_days} {unit}），尚未完成"],
                            Branch.NEAR_DEADLINE)
    branch = Branch.NOT_REPORTED if status == ProgressStatus.NOT_REPORTED else Branch.ON_SCHEDULE
    return StatusResult(status, expected, actual, WarningColour.NONE, reasons, branch)


def _immediate_undated(inp: StatusInput, rules: StatusRules, actual: int, reasons: list[str]) -> StatusResult:
    """立行立改 without a date: due within `immediate_grace_days` of the start; lagging, never overdue."""
    if inp.judged_unable:
        return StatusResult(ProgressStatus.ON_SCHEDULE, None, actual, WarningColour.RED,
                            [*reasons, "牵头督导单位研判无法按期完成"], Branch.UNABLE)
    if actual >= 100:
        return StatusResult(ProgressStatus.ON_SCHEDULE, None, actual, WarningColour.NONE,
                            [*reasons, "已报完成，待销号"], Branch.COMPLETE_PENDING_CLOSEOUT)
    if inp.start is not None:
        elapsed = (inp.today - inp.start).days
        if elapsed > rules.immediate_grace_days and _awaiting_first_report(inp):
            return StatusResult(ProgressStatus.NOT_REPORTED, 100, actual, WarningColour.NONE,
                                [*reasons, NOT_REPORTED_REASON], Branch.NOT_REPORTED)
        if elapsed > rules.immediate_grace_days:
            reasons = [*reasons, f"立行立改任务自开始（{_fmt(inp.start)}）已过 {elapsed} 天"
                                 f"（超过 {rules.immediate_grace_days} 天）仍未完成"]
            return _result(ProgressStatus.LAGGING, 100, actual, WarningColour.YELLOW, reasons,
                           Branch.IMMEDIATE_LAGGING, inp, rules)
        why = f"立行立改任务自开始已过 {max(elapsed, 0)} 天，在 {rules.immediate_grace_days} 天内"
    else:
        why = "立行立改任务未设定开始日期，无法判断是否滞后"
    return StatusResult(ProgressStatus.ON_SCHEDULE, None, actual, WarningColour.NONE,
                        [*reasons, why], Branch.IMMEDIATE_UNDATED)


def _long_term(inp: StatusInput, rules: StatusRules, actual: int, reasons: list[str]) -> StatusResult:
    """长期坚持: never overdue; yellow when its 见效 date is missed or nobody reports."""
    status = ProgressStatus.LONG_TERM
    if inp.judged_unable:
        return StatusResult(status, None, actual, WarningColour.RED,
                            [*reasons, "牵头督导单位研判无法按期见效"], Branch.UNABLE)
    flags: list[tuple[Branch, str]] = []
    if inp.deadline is not None and inp.today > inp.deadline and actual < 100:
        flags.append((Branch.LONG_TERM_MISSED,
                      f"长期坚持任务阶段目标未按期见效（{_fmt(inp.deadline)}前见效，实际进度 {actual}%）"))
    if inp.reported_percent is None and inp.report_due_passed:
        flags.append((Branch.LONG_TERM_NO_REPORT, "长期坚持任务无已采纳的进展报送"))
    if flags:
        return _result(status, None, actual, WarningColour.YELLOW, [*reasons, *(why for _, why in flags)],
                       flags[0][0], inp, rules)
    return StatusResult(status, None, actual, WarningColour.NONE, [*reasons, "长期坚持，持续推进"], Branch.LONG_TERM)
