"""Truth table of the derived progress status and warning colour (进度状态与预警颜色).

One row per rule and per boundary; docs/progress-status.md states the same rules in prose.
Pure: no database, so these tests also run with `-p no:django`.

Dated rows use a task that starts on day 0 and is due on day 100 (a 100-day line), so the
expected progress (序时进度) on day n is n%.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rectify.supervision.status import (
    BRANCHES,
    COLOUR_LABELS,
    STATUS_LABELS,
    Branch,
    ProgressStatus,
    StatusInput,
    StatusRules,
    WarningColour,
    derive_status,
)

DAY0 = dt.date(2025, 3, 3)


def d(n: int) -> dt.date:
    """Day n of the 100-day line (day 100 is the deadline)."""
    return DAY0 + dt.timedelta(days=n)


def dated(today: int, *, kind: str = "by_date", start: int | None = 0, deadline: int = 100, **kw) -> dict:
    """Inputs of a 限期整改 task from day `start` to day `deadline`, seen on day `today`."""
    return dict(deadline_kind=kind, start=None if start is None else d(start), deadline=d(deadline),
                today=d(today), **kw)


def immediate(today: int, *, start: int | None = 0, **kw) -> dict:
    """立行立改 without a date, started on day `start`."""
    return dict(deadline_kind="immediate", start=None if start is None else d(start), today=d(today), **kw)


def long_term(today: int, *, deadline: int | None = None, **kw) -> dict:
    """长期坚持, optionally with a 见效 date on day `deadline`."""
    return dict(deadline_kind="long_term", start=d(0), deadline=None if deadline is None else d(deadline),
                today=d(today), **kw)


@dataclass(frozen=True)
class Case:
    name: str
    inputs: dict
    status: str
    colour: str
    expected: int | None
    actual: int
    branch: str
    rules: StatusRules = field(default_factory=StatusRules)


TOL10 = StatusRules(lag_tolerance_percent=10)
NO_REPEAT = StatusRules(repeat_yellow_to_red=False)
GRACE10 = StatusRules(immediate_grace_days=10)
NEAR5 = StatusRules(near_deadline_days=5)

C = Case
# fmt: off
TABLE = [
    #  name                          inputs                                                         status         colour    exp   act  branch
    # -- closed and unscheduled
    C("closed",                      dated(200, closed=True, reported_percent=30),                  "closed",      "",       None, 100, "closed"),                     # closed wins over overdue
    C("closed_beats_unable",         long_term(50, closed=True, judged_unable=True),                "closed",      "",       None, 100, "closed"),                     # and over the lead unit's judgement
    C("unscheduled",                 dict(today=d(50)),                                             "unscheduled", "",       None, 0,   "unscheduled"),                # draft: no deadline kind yet
    C("unscheduled_by_date_no_date", dict(deadline_kind="by_date", today=d(50), reported_percent=30), "unscheduled", "",     None, 30,  "unscheduled"),                # by_date without a date (the DB forbids it)
    C("unscheduled_ignores_unable",  dict(today=d(50), judged_unable=True),                         "unscheduled", "",       None, 0,   "unscheduled"),                # nothing to judge against
    # -- overdue
    C("overdue_day_after",           dated(101, reported_percent=80),                               "overdue",     "red",    100,  80,  "overdue"),                    # deadline + 1 day
    C("overdue_immediate_dated",     dated(150, kind="immediate"),                                  "overdue",     "red",    100,  0,   "overdue"),                    # 立行立改 with a date
    C("overdue_and_unable",          dated(101, reported_percent=80, judged_unable=True),           "overdue",     "red",    100,  80,  "overdue"),                    # overdue already red
    C("overdue_reported_complete",   dated(101, reported_percent=100),                              "overdue",     "red",    100,  100, "overdue_reported_complete"),  # done but not closed in time
    C("overdue_no_start",            dated(101, start=None),                                        "overdue",     "red",    100,  0,   "overdue"),                    # overdue needs no start
    # -- on the deadline day
    C("deadline_day_complete",       dated(100, reported_percent=100),                              "on_schedule", "",       100,  100, "complete_pending_closeout"),  # today == deadline is not overdue
    C("deadline_day_99",             dated(100, reported_percent=99),                               "lagging",     "yellow", 100,  99,  "lagging"),                    # expected 100 on the day
    C("deadline_day_within_tol",     dated(100, reported_percent=95),                               "on_schedule", "blue",   100,  95,  "near_deadline", TOL10),       # 0 days left, inside tolerance
    # -- expected progress on the line
    C("start_day",                   dated(0),                                                      "on_schedule", "",       0,    0,   "on_schedule"),                # today == start: expected 0
    C("before_start",                dated(-10),                                                    "on_schedule", "",       0,    0,   "on_schedule"),                # clamped to 0
    C("equal",                       dated(60, reported_percent=60),                                "on_schedule", "",       60,   60,  "on_schedule"),                # actual == expected
    C("lagging_by_one",              dated(60, reported_percent=59),                                "lagging",     "yellow", 60,   59,  "lagging"),                    # one point short
    C("ahead",                       dated(60, reported_percent=80),                                "on_schedule", "",       60,   80,  "on_schedule"),
    C("rounded_down",                dated(2, deadline=3, reported_percent=66),                     "on_schedule", "blue",   66,   66,  "near_deadline"),              # 2/3 → 66, never rounded up
    C("tolerance_edge",              dated(60, reported_percent=50),                                "on_schedule", "",       60,   50,  "on_schedule", TOL10),         # gap 10 == tolerance
    C("tolerance_exceeded",          dated(60, reported_percent=49),                                "lagging",     "yellow", 60,   49,  "lagging", TOL10),             # gap 11 > tolerance
    C("start_equals_deadline_eve",   dated(99, start=100),                                          "on_schedule", "blue",   0,    0,   "near_deadline"),              # one-day line: 0 before
    C("start_equals_deadline_day",   dated(100, start=100),                                         "lagging",     "yellow", 100,  0,   "lagging"),                    # and 100 on the day
    C("no_start_far",                dated(30, start=None, reported_percent=10),                    "on_schedule", "",       None, 10,  "on_schedule"),                # no line: cannot lag
    C("no_start_near",               dated(90, start=None, reported_percent=10),                    "on_schedule", "blue",   None, 10,  "near_deadline"),              # but still near its deadline
    # -- near the deadline (blue)
    C("near_15_days",                dated(85, reported_percent=90),                                "on_schedule", "blue",   85,   90,  "near_deadline"),              # 15 calendar days left
    C("near_16_days",                dated(84, reported_percent=90),                                "on_schedule", "",       84,   90,  "on_schedule"),                # 16 left: not yet
    C("near_14_days",                dated(86, reported_percent=90),                                "on_schedule", "blue",   86,   90,  "near_deadline"),              # 14 left
    C("near_workdays_15",            dated(70, reported_percent=90, days_to_deadline_workdays=15),  "on_schedule", "blue",   70,   90,  "near_deadline"),              # work days win over 30 calendar days
    C("near_workdays_16",            dated(90, reported_percent=95, days_to_deadline_workdays=16),  "on_schedule", "",       90,   95,  "on_schedule"),                # 10 calendar days, but 16 work days
    C("near_custom_window",          dated(94, reported_percent=95),                                "on_schedule", "",       94,   95,  "on_schedule", NEAR5),         # 6 left, window 5
    C("complete_before_deadline",    dated(95, reported_percent=100),                               "on_schedule", "",       95,   100, "complete_pending_closeout"),  # 100% reported: no blue
    C("lagging_near_is_yellow",      dated(95, reported_percent=50),                                "lagging",     "yellow", 95,   50,  "lagging"),                    # lagging beats blue
    # -- measures when no accepted report
    C("measures_on_schedule",        dated(60, measures_total=5, measures_done=3),                  "on_schedule", "",       60,   60,  "on_schedule"),                # 3/5 → 60
    C("measures_lagging",            dated(60, measures_total=5, measures_done=2),                  "lagging",     "yellow", 60,   40,  "lagging"),                    # 2/5 → 40
    C("measures_rounded_down",       dated(66, measures_total=3, measures_done=2),                  "on_schedule", "",       66,   66,  "on_schedule"),                # 2/3 → 66
    C("measures_all_done",           dated(60, measures_total=4, measures_done=4),                  "on_schedule", "",       60,   100, "complete_pending_closeout"),
    C("report_beats_measures",       dated(60, reported_percent=20, measures_total=5, measures_done=5), "lagging", "yellow", 60,   20,  "lagging"),                    # the accepted report is the truth
    C("nothing_at_all",              dated(10),                                                     "lagging",     "yellow", 10,   0,   "lagging"),                    # no report, no measures → 0
    # -- 未报送: no accepted report, and no round has asked for one past its due date yet
    C("not_reported_first_round",    dated(60, report_due_passed=False),                            "not_reported", "",      60,   0,   "not_reported"),               # not 滞后 until the first round is due
    C("not_reported_measures",       dated(60, measures_total=5, measures_done=2, report_due_passed=False), "not_reported", "", 60, 40, "not_reported"),             # measures alone do not make it 滞后
    C("not_reported_near_deadline",  dated(95, report_due_passed=False),                            "not_reported", "blue",  95,   0,   "near_deadline"),              # blue still shows the deadline
    C("not_reported_on_schedule",    dated(10, measures_total=10, measures_done=5, report_due_passed=False), "on_schedule", "", 10, 50, "on_schedule"),             # ahead of the line: 序时推进
    C("not_reported_overdue",        dated(101, report_due_passed=False),                           "overdue",     "red",    100,  0,   "overdue"),                    # the deadline does not wait
    C("not_reported_has_report",     dated(60, reported_percent=40, report_due_passed=False),       "lagging",     "yellow", 60,   40,  "lagging"),                    # an accepted report is judged
    C("not_reported_immediate",      immediate(31, report_due_passed=False),                        "not_reported", "",      100,  0,   "not_reported"),
    C("not_reported_long_term",      long_term(40, report_due_passed=False),                        "long_term",   "",       None, 0,   "long_term"),                  # no yellow before a report is due
    # -- two yellows in a row, and the lead unit's judgement
    C("repeat_yellow",               dated(60, reported_percent=40, previous_colour="yellow"),      "lagging",     "red",    60,   40,  "repeat_yellow"),              # 连续两轮黄色预警
    C("repeat_after_red",            dated(60, reported_percent=40, previous_colour="red"),         "lagging",     "red",    60,   40,  "repeat_yellow"),              # stays red, no flip-flop
    C("repeat_disabled",             dated(60, reported_percent=40, previous_colour="yellow"),      "lagging",     "yellow", 60,   40,  "lagging", NO_REPEAT),
    C("yellow_after_blue",           dated(60, reported_percent=40, previous_colour="blue"),        "lagging",     "yellow", 60,   40,  "lagging"),                    # blue does not count
    C("yellow_after_none",           dated(60, reported_percent=40, previous_colour=""),            "lagging",     "yellow", 60,   40,  "lagging"),
    C("recovered_after_yellow",      dated(60, reported_percent=60, previous_colour="yellow"),      "on_schedule", "",       60,   60,  "on_schedule"),                # caught up: colour clears
    C("blue_after_yellow",           dated(90, reported_percent=95, previous_colour="yellow"),      "on_schedule", "blue",   90,   95,  "near_deadline"),              # only yellow escalates
    C("unable_on_schedule",          dated(30, reported_percent=50, judged_unable=True),            "on_schedule", "red",    30,   50,  "unable"),                     # judgement overrides progress
    C("unable_lagging",              dated(60, reported_percent=10, judged_unable=True, previous_colour="yellow"), "lagging", "red", 60, 10, "unable"),                # and the repeat rule
    C("unable_complete",             dated(60, reported_percent=100, judged_unable=True),           "on_schedule", "red",    60,   100, "unable"),                     # even when reported done
    # -- 立行立改 without a date
    C("immediate_within_grace",      immediate(30, reported_percent=50),                            "on_schedule", "",       None, 50,  "immediate_undated"),          # day 30 of 30
    C("immediate_after_grace",       immediate(31, reported_percent=50),                            "lagging",     "yellow", 100,  50,  "immediate_lagging"),          # day 31: should be done
    C("immediate_repeat",            immediate(61, reported_percent=50, previous_colour="yellow"),  "lagging",     "red",    100,  50,  "repeat_yellow"),
    C("immediate_never_overdue",     immediate(900),                                                "lagging",     "yellow", 100,  0,   "immediate_lagging"),          # no date: lagging, not overdue
    C("immediate_custom_grace",      immediate(11, reported_percent=50),                            "lagging",     "yellow", 100,  50,  "immediate_lagging", GRACE10),
    C("immediate_complete",          immediate(90, reported_percent=100),                           "on_schedule", "",       None, 100, "complete_pending_closeout"),
    C("immediate_no_start",          immediate(90, start=None),                                     "on_schedule", "",       None, 0,   "immediate_undated"),          # cannot tell
    C("immediate_before_start",      immediate(-5),                                                 "on_schedule", "",       None, 0,   "immediate_undated"),
    C("immediate_unable",            immediate(5, judged_unable=True),                              "on_schedule", "red",    None, 0,   "unable"),
    # -- 长期坚持
    C("long_term",                   long_term(400, reported_percent=50),                           "long_term",   "",       None, 50,  "long_term"),                  # never overdue
    C("long_term_no_report",         long_term(40),                                                 "long_term",   "yellow", None, 0,   "long_term_no_report"),
    C("long_term_measures_no_report", long_term(40, measures_total=2, measures_done=2),             "long_term",   "yellow", None, 100, "long_term_no_report"),        # measures are not a report
    C("long_term_missed",            long_term(101, deadline=100, reported_percent=80),             "long_term",   "yellow", None, 80,  "long_term_missed"),           # 见效 date passed
    C("long_term_on_date",           long_term(100, deadline=100, reported_percent=80),             "long_term",   "",       None, 80,  "long_term"),                  # on the day: not yet missed
    C("long_term_met",               long_term(200, deadline=100, reported_percent=100),            "long_term",   "",       None, 100, "long_term"),                  # 见效 reached
    C("long_term_missed_no_report",  long_term(200, deadline=100),                                  "long_term",   "yellow", None, 0,   "long_term_missed"),           # both flags, missed first
    C("long_term_repeat",            long_term(60, previous_colour="yellow"),                       "long_term",   "red",    None, 0,   "repeat_yellow"),
    C("long_term_unable",            long_term(60, reported_percent=50, judged_unable=True),        "long_term",   "red",    None, 50,  "unable"),
    C("long_term_ignores_near",      long_term(95, deadline=100, reported_percent=10),              "long_term",   "",       None, 10,  "long_term"),                  # no blue for long-term
]
# fmt: on


@pytest.mark.parametrize("case", TABLE, ids=[c.name for c in TABLE])
def test_truth_table(case: Case) -> None:
    result = derive_status(StatusInput(**case.inputs), case.rules)
    got = (result.status, result.colour, result.expected_percent, result.actual_percent, result.branch)
    assert got == (case.status, case.colour, case.expected, case.actual, case.branch)
    assert result.reasons, "every decision explains itself"


def test_every_branch_is_in_the_table() -> None:
    exercised = {derive_status(StatusInput(**c.inputs), c.rules).branch for c in TABLE}
    assert exercised == set(BRANCHES)


def test_table_names_are_unique() -> None:
    names = [c.name for c in TABLE]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("inputs", "rules", "reason"), [
    (dated(60, reported_percent=40), StatusRules(), "序时进度 60%，实际进度 40%，滞后 20 个百分点"),
    (dated(60, reported_percent=60), StatusRules(), "序时进度 60%，实际进度 60%，达到序时进度"),
    (dated(60, reported_percent=55), TOL10, "序时进度 60%，实际进度 55%，差 5 个百分点，在容差 10 个百分点以内"),
    (dated(60, reported_percent=40, previous_colour="yellow"), StatusRules(), "连续两轮黄色预警，升级为红色预警"),
    (dated(30, judged_unable=True), StatusRules(), "牵头督导单位研判无法按期完成"),
    (dated(103), StatusRules(), "已超过整改时限（2025年06月11日）3 天，尚未销号"),
    (dated(60, measures_total=5, measures_done=2), StatusRules(), "无已采纳的进展报送，按已完成措施 2/5 计：40%"),
    (dated(90, reported_percent=95), StatusRules(), "距整改时限（2025年06月11日）还有 10 天（预警期 15 天），尚未完成"),
    (dated(70, reported_percent=95, days_to_deadline_workdays=12), StatusRules(),
     "距整改时限（2025年06月11日）还有 12 个工作日（预警期 15 个工作日），尚未完成"),
    (long_term(101, deadline=100, reported_percent=80), StatusRules(),
     "长期坚持任务阶段目标未按期见效（2025年06月11日前见效，实际进度 80%）"),
    (long_term(200, deadline=100), StatusRules(), "长期坚持任务无已采纳的进展报送"),
])
def test_reasons_explain_in_chinese(inputs: dict, rules: StatusRules, reason: str) -> None:
    assert reason in derive_status(StatusInput(**inputs), rules).reasons


def test_labels_cover_every_status_and_colour() -> None:
    assert set(STATUS_LABELS) == set(ProgressStatus)
    assert STATUS_LABELS["on_schedule"] == "序时推进"
    assert COLOUR_LABELS == {"blue": "蓝色预警", "yellow": "黄色预警", "red": "红色预警"}
    assert set(COLOUR_LABELS) == set(WarningColour) - {WarningColour.NONE}
    result = derive_status(StatusInput(**dated(60, reported_percent=40)))
    assert (result.status_label, result.colour_label) == ("滞后", "黄色预警")
    assert derive_status(StatusInput(**dated(60, reported_percent=60))).colour_label == ""


def test_branches_are_the_branch_enum() -> None:
    assert BRANCHES == tuple(Branch)
    assert len(set(BRANCHES)) == len(BRANCHES)


@pytest.mark.parametrize("bad", [
    dict(today=d(0), deadline_kind="someday"),
    dict(today=d(0), previous_colour="green"),
    dict(today=d(0), reported_percent=101),
    dict(today=d(0), reported_percent=-1),
    dict(today=d(0), reported_percent=True),
    dict(today=d(0), measures_total=-1),
    dict(today=d(0), measures_total=2, measures_done=3),
])
def test_bad_input_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        StatusInput(**bad)


@pytest.mark.parametrize("bad", [
    dict(near_deadline_days=-1), dict(lag_tolerance_percent=101), dict(immediate_grace_days=1.5),
])
def test_bad_rules_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        StatusRules(**bad)


def test_pure_no_django_needed() -> None:
    # The status is computed in bulk (battle map, tick); it must not touch Django or a database.
    code = ("import sys, rectify.supervision.status; "
            "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    root = Path(__file__).resolve().parent.parent
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
