"""Browser test (Playwright + Debian's Chromium) of an accountability referral, end to end:

the lead supervising unit (市生态环境局) opens a case from its task's page, investigates (a person
concerned, a record, its findings) and submits the 追责建议报告; the office's case handler reviews it and
refers it to the discipline commission with a referral number; the commission lands on its workspace,
accepts the referral, records the outcome and closes the case. Along the way the county concerned
finds nothing, and the task's own status never moves.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from rectify.accountability.models import AccountabilityCase
from rectify.ledger.models import Task
from tests.accountability_helpers import designate
from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import PASSWORD, make_world

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()
expect = sync_api.expect


@pytest.fixture
def site(live_server, transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = make_world()
    designate(world)  # office_staff (staff1) handles cases; office_admin does not
    return live_server.url, world


def log_in(browser, base, username, lands_on=None):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if lands_on:
        page.wait_for_url(f"{base}{lands_on}")
    else:  # each role's landing page (tests/test_landing.py)
        page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"accountability-{name}.png"), full_page=True)


def step(page, summary, button, fields=None):
    """Open a step of the case's 办理 section, fill its fields, confirm."""
    actions = page.locator("#case-actions")
    details = actions.locator("details", has=page.locator("summary", has_text=summary))
    if details.get_attribute("open") is None:  # the first step is shown open already
        details.locator("summary").click()
    form = details.locator("form")
    for label, value in (fields or {}).items():
        field = form.get_by_label(label, exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    form.get_by_role("button", name=button).click()


def test_a_referral_from_the_lead_unit_through_the_office_to_the_commissions_outcome(browser, site):
    base, world = site
    task_status = Task.objects.filter(pk=world.task_a.pk).values("status", "version", "deadline").get()
    later = timezone.localdate() + dt.timedelta(days=30)

    # 1. The lead unit opens a case from its task's page.
    lead = log_in(browser, base, "env1")
    lead.goto(f"{base}/ledger/tasks/{world.task_a.pk}/")
    lead.get_by_role("link", name="追责问责立案").click()
    lead.wait_for_url(re.compile(r"/accountability/cases/new/\?task=\d+$"))
    expect(lead.get_by_label("关联任务编号")).to_have_value("T-01")
    lead.get_by_label("问题类型").select_option(label="虚假整改")
    lead.get_by_label("案由").fill("零陵区城区污水管网虚假整改")
    lead.get_by_label("问题线索").fill("报称管网已接通，现场核查发现主干管未接入污水处理厂。")
    lead.get_by_label("调查时限").fill(f"{later:%Y-%m-%d}")
    lead.get_by_role("button", name="立案").click()
    lead.wait_for_url(re.compile(r"/accountability/cases/\d+/$"))
    case_url = lead.url
    case = AccountabilityCase.objects.get()
    expect(lead.locator(".messages")).to_contain_text(f"已立案：{case.number}")
    expect(lead.locator("#case-status")).to_have_text("已立案（待调查）")

    # 2. It investigates: starts, records a person concerned, a record, its findings; submits the report.
    step(lead, "开始调查", "确认开始调查")
    expect(lead.locator("#case-status")).to_have_text("调查中")
    person = lead.locator("#person-form")
    person.get_by_label("姓名").fill("李建国")
    person.get_by_label("职务").fill("零陵区住建局副局长")
    person.get_by_label("所在单位").select_option(label="零陵区")
    person.get_by_role("button", name="登记涉及人员").click()
    expect(lead.locator("#persons")).to_contain_text("李建国")
    lead.locator("#note-form").get_by_label("记录内容").fill("现场核查主干管，调取施工日志和监理记录。")
    lead.get_by_role("button", name="添加记录").click()
    expect(lead.locator("#notes")).to_contain_text("调取施工日志")
    findings = lead.locator("#findings-form")
    findings.get_by_label("调查认定的事实").fill("主干管未接入污水处理厂，报送的完成情况不实。")
    findings.get_by_label("追责问责建议").fill("建议对李建国同志予以通报批评。")
    findings.get_by_role("button", name="保存调查结论").click()
    expect(lead.locator(".messages")).to_contain_text("调查结论已保存")
    shot(lead, "investigating")
    step(lead, "提交追责建议报告", "确认提交追责建议报告")
    lead.wait_for_url(f"{base}/accountability/")  # its view of the case ends with the report
    expect(lead.locator(".messages")).to_contain_text("已提交追责建议报告")
    lead.goto(case_url)
    expect(lead.locator("body")).not_to_contain_text(case.number)

    # The county concerned finds nothing: not in its menu, not on its task, not by guessing.
    county = log_in(browser, base, "rep_a")
    expect(county.get_by_role("navigation", name="主导航")).not_to_contain_text("追责问责")
    county.goto(f"{base}/ledger/tasks/{world.task_a.pk}/")
    expect(county.locator("body")).not_to_contain_text("追责")
    assert county.goto(case_url).status == 404

    # 3. The office's case handler reviews the report and refers the case.
    office = log_in(browser, base, "staff1")
    office.get_by_role("navigation", name="主导航").get_by_role("link", name="追责问责").click()
    office.get_by_role("link", name=re.compile("^报告待审核")).click()
    office.get_by_role("link", name=case.number).click()
    office.wait_for_url(case_url)
    expect(office.locator("#report-file")).to_contain_text("追责建议报告")
    step(office, "审核通过", "确认审核通过", {"审核意见：": "事实清楚，证据充分，同意移交。"})
    expect(office.locator("#case-status")).to_have_text("已审核（待移交）")
    step(office, "移交纪委监委", "确认移交纪委监委", {"移交至：": "市纪委监委", "移交说明：": "请依规依纪依法处理。"})
    expect(office.locator("#case-status")).to_have_text("已移交（待受理）")
    case.refresh_from_db()
    expect(office.locator("#referral")).to_contain_text(case.referral_number)
    shot(office, "referred")

    # 4. The commission lands on its workspace, accepts, records the outcome and closes.
    commission = log_in(browser, base, "jw1", lands_on="/accountability/")
    awaiting = commission.locator("#awaiting")
    expect(awaiting).to_contain_text(case.referral_number)
    shot(commission, "commission-workspace")
    awaiting.get_by_role("link", name=re.compile(case.number)).click()
    commission.wait_for_url(case_url)
    expect(commission.locator("#linked-tasks")).to_contain_text("T-01")  # the task's timeline, read-only
    step(commission, "受理", "确认受理", {"受理编号：": "纪受〔2026〕12号",
                                      "办理时限：": f"{later:%Y-%m-%d}"})
    expect(commission.locator("#case-status")).to_have_text("纪委监委办理中")
    commission.goto(f"{base}/accountability/")
    expect(commission.locator("#handling")).to_contain_text(case.number)
    expect(commission.locator("#handling")).to_contain_text(f"{later:%Y-%m-%d}")
    commission.goto(case_url)
    step(commission, "录入处理结果", "确认录入处理结果", {
        "处理结果（案件）：": "通报批评", "处理情况：": "对相关责任人通报批评，责令限期整改到位。",
        "李建国的处理结果：": "通报批评"})
    expect(commission.locator("#outcome")).to_contain_text("通报批评")
    step(commission, "结案", "确认结案")
    expect(commission.locator("#case-status")).to_have_text("已结案")
    shot(commission, "closed")

    case.refresh_from_db()
    assert case.status == "closed" and case.outcome == "criticism"
    assert case.persons.get().outcome == "criticism"
    assert Task.objects.filter(pk=world.task_a.pk).values("status", "version", "deadline").get() == task_status
