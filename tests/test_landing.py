"""Every role lands on its own page from / : the office and a city leader on the board (the
leader's limited, with the tasks it leads), a lead unit and a responsible unit on what waits for
them, the discipline commission on its workspace, the security auditor on the audit record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rectify.dispatch import services as dispatch

LANDS = {
    "office_admin": "/board/", "office_staff": "/board/", "leader_a": "/board/", "lead_env": "/board/work/",
    "reporter_a": "/board/work/", "reviewer_a": "/board/work/", "discipline": "/accountability/",
    "auditor": "/audit/",
}


@pytest.mark.parametrize(("persona", "target"), LANDS.items())
def test_each_role_lands_on_its_page(world, persona, target):
    client = world.client(persona)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == target
    assert client.get(target).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert "/accounts/login/" in client.get("/")["Location"]


def test_a_leader_sees_the_tasks_it_leads(world):
    from rectify.ledger.models import Task

    Task.objects.filter(pk=world.task_b.pk).update(leader=world.users["leader_a"])  # 祁阳市: not its county
    page = world.client("leader_a").get("/board/").content.decode()
    assert 'id="limited-note"' in page and 'id="led-tasks"' in page and "T-02" in page.split('id="led-tasks"')[1]


def test_units_see_what_waits_for_them(world):
    today = timezone.localdate()
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period=f"{today:%Y-%m}",
                                 due_date=today + dt.timedelta(days=10), require_unit_review=False)
    reporter = world.client("reporter_a").get("/board/work/").content.decode()
    assert "本轮待报送（1）" in reporter and "T-01" in reporter
    report = rnd.reports.get(unit=world.county_a)
    dispatch.transition(actor=world.users["reporter_a"], report=report, action="submit",
                        changes={"progress_text": "完成管网 1 公里。", "percent": 20})
    lead = world.client("lead_env").get("/board/work/").content.decode()
    assert "待我审核的进展报送（1）" in lead and "T-01" in lead
    assert "待我审核的进展报送（0）" in world.client("lead_housing").get("/board/work/").content.decode()
    from rectify.supervision import services as supervision

    supervision.issue_escalation(actor=world.users["office_admin"], task=world.task_a, rung="circular",
                                 reason="进度滞后", target_unit=world.county_a, reply_due=today + dt.timedelta(days=5))
    reporter = world.client("reporter_a").get("/board/work/").content.decode()
    assert "待回复的督办（1）" in reporter
    assert world.client("office_admin").get("/board/work/").status_code == 404
