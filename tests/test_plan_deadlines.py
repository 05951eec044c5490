"""Deadlines a plan states (「上报整改方案6个月内报送问题整改落实情况」, 「印发后30个工作日内报送……」) are
offered on the plan's review page as the campaign's deadlines; the office accepts them with their start
dates (a service, one audit event), the 6-month one as the received date. Through the pages."""

from __future__ import annotations

import datetime as dt
import re

from rectify.core.models import Event, Notification
from rectify.core.workdays import add_workdays
from rectify.ledger.models import Task
from rectify.reports.deadlines import remind_due
from rectify.reports.models import CampaignDeadline, CampaignReport, add_months

PLAN = ("某市整改方案\n一、工作措施\n（一）加强污水管网建设。责任单位：市住建局。\n"
        "（二）强化督办落实。实行一月一调度一督办，在上报整改方案6个月内报送问题整改落实情况。"
        "各县市区在方案印发后30个工作日内报送整改工作台账，每月25日前报送整改进展情况。\n")


def _preview(world, client):
    response = client.post("/plans/", {"campaign": world.campaign.pk, "text": PLAN})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def _section(page: str) -> str:
    m = re.search(r'<section class="card" id="plan-deadlines">(.*?)</section>', page, re.S)
    assert m, "no deadlines section on the review page"
    return m.group(1)


def test_the_review_page_offers_the_plans_deadlines_and_the_office_accepts_them(world):
    client = world.client("office_admin")
    url = _preview(world, client)
    section = _section(client.get(url).content.decode())
    assert "问题整改落实情况" in section and "整改工作台账" in section
    assert 'name="d0-received"' in section and 'name="d1-received"' not in section  # only the 6-month one
    assert "每月25日前报送整改进展情况" in section  # periodic: shown, not offered as a date
    # the block is its own form, outside the import form: the import form does not carry its fields
    page = client.get(url).content.decode()
    import_form = page[page.index('<form method="post">'):page.index("</form>")]
    assert "d0-start" not in import_form

    received, issued = dt.date(2026, 7, 16), dt.date(2026, 8, 3)
    response = client.post(f"/reports/campaigns/{world.campaign.pk}/deadlines/", {
        "next": url, "count": 2, "document": "方案.txt",
        "d0-keep": "1", "d0-name": "问题整改落实情况", "d0-amount": "6", "d0-unit": "months",
        "d0-rule": "上报整改方案6个月内报送问题整改落实情况", "d0-start": received.isoformat(), "d0-received": "1",
        "d1-keep": "1", "d1-name": "整改工作台账", "d1-amount": "30", "d1-unit": "work_days",
        "d1-rule": "印发后30个工作日内报送整改工作台账", "d1-start": issued.isoformat()})
    assert response.status_code == 302 and response["Location"] == url  # back to the review, nothing imported
    assert not Task.objects.filter(campaign=world.campaign, code__contains="-F").exists()
    report = CampaignReport.objects.get(campaign=world.campaign)
    assert report.received_date == received and report.due_date == add_months(received, 6)
    ledger_deadline = CampaignDeadline.objects.get(campaign=world.campaign)
    assert ledger_deadline.name == "整改工作台账" and ledger_deadline.due_date == add_workdays(issued, 30)
    event = Event.objects.get(action="campaign_deadlines_accepted")
    assert [d["name"] for d in event.after["deadlines"]] == ["问题整改落实情况", "整改工作台账"]
    # the review page now says what the campaign has; the report page lists the accepted deadline
    assert "整改工作台账 " + f"{ledger_deadline.due_date:%Y-%m-%d}" in _section(client.get(url).content.decode())
    campaign_page = client.get(f"/reports/campaigns/{world.campaign.pk}/").content.decode()
    assert 'id="campaign-deadlines"' in campaign_page and "整改工作台账" in campaign_page
    # tick reminds the office of it like of the 6-month report
    remind_due(add_workdays(ledger_deadline.due_date, -10))
    assert Notification.objects.filter(kind="campaign_deadline_due", user=world.users["office_admin"]).exists()


def test_bad_deadlines_are_refused_whole_and_others_may_not_accept(world):
    client = world.client("office_admin")
    url = _preview(world, client)
    response = client.post(f"/reports/campaigns/{world.campaign.pk}/deadlines/", {
        "next": url, "count": 2,
        "d0-keep": "1", "d0-name": "整改工作台账", "d0-amount": "30", "d0-unit": "work_days", "d0-start": "2026-08-03",
        "d1-keep": "1", "d1-name": "其他", "d1-amount": "999", "d1-unit": "months", "d1-start": "2026-08-03"},
        follow=True)
    assert "报送期限未保存" in response.content.decode() and "1–120" in response.content.decode()
    assert not CampaignDeadline.objects.exists() and not Event.objects.filter(action="campaign_deadlines_accepted").exists()
    # an address outside the plans is not followed back
    response = client.post(f"/reports/campaigns/{world.campaign.pk}/deadlines/", {
        "next": "https://evil.example/plans/", "count": 1, "d0-keep": "1", "d0-name": "台账", "d0-amount": "3",
        "d0-unit": "months", "d0-start": "2026-08-03"})
    assert response["Location"] == f"/reports/campaigns/{world.campaign.pk}/"
    # a county may not
    assert world.client("reporter_a").post(f"/reports/campaigns/{world.campaign.pk}/deadlines/", {
        "count": 1, "d0-keep": "1", "d0-name": "x", "d0-amount": "3", "d0-unit": "months",
        "d0-start": "2026-08-03"}).status_code == 404
    assert CampaignDeadline.objects.count() == 1
