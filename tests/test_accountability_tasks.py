"""A case never changes its tasks (避免以问责代替整改): whatever happens to the case — opened, proposed by
the software, investigated, returned, refused, referred, decided, closed — the task keeps its own status,
deadline, version, units, measures, reports, escalations and close-outs, stays in dispatch, and gets no
line on its timeline from the case."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from rectify.accountability import services
from rectify.accountability.models import CaseKind, CaseSource
from rectify.closeout.models import Closeout
from rectify.core.models import Event
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from rectify.ledger.models import Measure, Task, TaskUnit
from rectify.supervision.models import Escalation
from tests.accountability_helpers import (
    LATER,
    conclude,
    designate,
    fresh,
    investigate,
    open_case,
    refer,
    step,
)

PACKAGE = Path(__file__).resolve().parent.parent / "rectify" / "accountability"


def snapshot(task: Task) -> dict:
    task = Task.objects.get(pk=task.pk)
    return {
        "task": {f.attname: getattr(task, f.attname) for f in Task._meta.concrete_fields},
        "units": sorted(TaskUnit.objects.filter(task=task).values_list("unit_id", "role", "is_primary", "ordinal")),
        "measures": list(Measure.objects.filter(task=task).order_by("pk").values()),
        "reports": list(ProgressReport.objects.filter(task=task).order_by("pk").values()),
        "escalations": list(Escalation.objects.filter(task=task).order_by("pk").values()),
        "closeouts": list(Closeout.objects.filter(task=task).order_by("pk").values()),
        "timeline": list(Event.objects.filter(object_type="ledger.task", object_id=str(task.pk))
                         .order_by("seq").values_list("seq", flat=True)),
    }


LAST_MONTH = timezone.localdate().replace(day=1) - dt.timedelta(days=1)


@pytest.fixture
def rectifying(world):
    """T-01 in rectification with this month's report submitted and accepted."""
    designate(world)
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period=f"{LAST_MONTH:%Y-%m}",
                                 due_date=LATER, require_unit_review=False)
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    report = dispatch.transition(actor=world.users["reporter_a"], report=report, action="submit",
                                 changes={"progress_text": "完成管网 2 公里。", "percent": 40})
    dispatch.transition(actor=world.users["lead_env"], report=report, action="accept")
    return world


def test_no_step_of_a_case_changes_its_task(rectifying):
    world = rectifying
    before = snapshot(world.task_a)
    checks = []

    def unchanged(label):
        checks.append(label)
        assert snapshot(world.task_a) == before, f"the task changed at: {label}"

    case = open_case(world)
    unchanged("立案")
    returned = investigate(world, case)
    unchanged("调查并提交报告")
    returned = step(world, "office_staff", returned, "return_report", reason="补充证据")
    unchanged("退回补充调查")
    returned = step(world, "lead_env", returned, "submit_report")
    case = refer(world, returned)
    unchanged("审核并移交")
    case = step(world, "discipline", case, "return_referral", reason="补充材料")
    case = step(world, "office_staff", case, "refer", commission=world.discipline)
    unchanged("退回移交后再次移交")
    conclude(world, case, outcome="sanction")
    unchanged("受理、处理、结案")
    declined = step(world, "office_staff", open_case(world, title="不予立案的"), "decline", reason="线索不实")
    unchanged("不予立案")
    dropped = step(world, "office_staff", investigate(world, open_case(world, title="不予移交的")), "not_refer",
                   reason="未发现失职")
    unchanged("不予移交")
    proposed = services.propose_case(source=CaseSource.LISTED, task=world.task_a, kind=CaseKind.NEGLIGENCE,
                                     summary="挂牌督办", key="test:1")
    unchanged("系统提出追责建议")
    step(world, "office_staff", proposed, "open", lead_unit=world.dept_env, investigation_due=LATER)
    unchanged("对追责建议立案")
    assert declined.status == "declined" and dropped.status == "not_referred" and len(checks) == 10


def test_the_task_goes_on_being_rectified_while_a_case_runs(rectifying):
    world = rectifying
    case = step(world, "lead_env", open_case(world), "start")
    # next month's round still asks for its report, and the lead unit still accepts it
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period=f"{timezone.localdate():%Y-%m}",
                                 due_date=LATER, require_unit_review=False)
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    report = dispatch.transition(actor=world.users["reporter_a"], report=report, action="submit",
                                 changes={"progress_text": "完成管网 4 公里。", "percent": 70})
    report = dispatch.transition(actor=world.users["lead_env"], report=report, action="accept")
    assert report.status == "accepted"
    task = Task.objects.get(pk=world.task_a.pk)
    assert task.status == "active" and task.actual_percent == 70
    assert case.status == "investigating"


def test_the_app_has_no_way_to_write_a_task():
    """Structurally: no module of rectify/accountability imports a lower app's services or writes a
    ledger, dispatch, supervision or close-out model."""
    forbidden_modules = {"rectify.ledger.services", "rectify.dispatch.services", "rectify.supervision.services",
                         "rectify.closeout.services"}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in forbidden_modules:
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rectify.") and any(
                    alias.name == "services" for alias in node.names) and node.module != "rectify.accountability":
                found.append(f"{path.name}:{node.lineno} imports {node.module}.services")
    assert found == []


def test_dates_of_the_task_are_not_the_cases(rectifying):
    """The case's own deadlines (调查时限, 办理时限) are not the task's 整改时限."""
    world = rectifying
    case = open_case(world)
    task = Task.objects.get(pk=world.task_a.pk)
    assert case.investigation_due == LATER and task.deadline == dt.date(2026, 12, 31)
    assert fresh(world, "office_staff")
