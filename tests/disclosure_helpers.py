"""A disclosed world for the portal tests: the campaign and its tasks disclosed by the office,
T-01 in its close-out notice with a disclosed monthly summary, T-03 closed and filed, a published
article and a published chain head."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from rectify.closeout.models import Closeout, CloseoutStatus
from rectify.disclosure import services as disclosure
from rectify.disclosure.models import Subject
from rectify.dispatch.models import ProgressReport
from rectify.ledger import services as ledger
from rectify.ledger.models import DeadlineKind, Task
from rectify.orgs.models import Category
from tests import test_closeout as co


def third_task(world, code="T-03", title="零陵区黑臭水体治理"):
    return ledger.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=ledger.TaskInput(
        code=code, title=title, problem=f"{title}的问题描述。", target="消除黑臭", category=Category.WATER,
        responsible_units=[world.county_a], lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.BY_DATE,
        deadline=dt.date(2026, 12, 31), measures=[ledger.MeasureInput(text="清淤疏浚")]))


def public_world(world) -> dict:
    admin = world.users["office_admin"]
    t3 = third_task(world)
    # T-03: closed and filed (its own round), then T-01 into its notice
    co.closed_task(world, co.make_eligible(world, t3, period="2026-09"))
    closeout = co.through_notice(world, co.assessed(world))
    report = ProgressReport.objects.filter(task=world.task_a, status="accepted").first()
    ProgressReport.objects.filter(pk=report.pk).update(public_summary="城区截污管网已全部建成。")
    report.refresh_from_db()
    disclosure.disclose_campaign_tasks(actor=admin, campaign=world.campaign)
    disclosure.decide(actor=admin, subject=Subject.REPORT, obj=report, disclosed=True)
    article = disclosure.create_article(actor=admin, kind="circular", title="关于整改滞后问题的通报",
                                        body="经调度，部分任务进度滞后。", task_ids=[world.task_a.pk])
    disclosure.article_transition(actor=admin, article=article, action="publish")
    head = disclosure.publish_head(actor=admin, where="2026年10月调度通报")
    return {"closeout": Closeout.objects.get(pk=closeout.pk), "t3": Task.objects.get(pk=t3.pk), "report": report,
            "article": article, "head": head}


def answer_challenge(html: str) -> dict:
    """Read the arithmetic question on a form and answer it, as a person would."""
    question = re.search(r"(\d+) (加|减) (\d+) 等于几", html)
    assert question, "no challenge on the page"
    a, op, b = int(question.group(1)), question.group(2), int(question.group(3))
    token = re.search(r'name="challenge_token" value="([^"]+)"', html).group(1)
    return {"challenge_token": token, "challenge_answer": str(a + b if op == "加" else a - b)}


def replace(obj, **changes):
    return dataclasses.replace(obj, **changes)


__all__ = ["CloseoutStatus", "answer_challenge", "public_world", "third_task"]
