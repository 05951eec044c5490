"""The ledger: 四清楚 drafts, editing with version checks, filters, search, paging, timeline."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rectify.ledger import services
from rectify.ledger.models import DeadlineKind, Task, TaskStatus, UnitRole
from rectify.orgs.models import Category
from rectify.orgs.services import issue_api_token


def form_data(task: Task, **overrides) -> dict:
    units = {tu.role: tu.unit_id for tu in task.task_units.all()}
    data = {
        "version": task.version, "campaign": task.campaign_id, "code": task.code, "title": task.title,
        "problem": task.problem, "target": task.target, "category": task.category,
        "deadline_kind": task.deadline_kind, "deadline": task.deadline.isoformat() if task.deadline else "",
        "primary_unit": units.get(UnitRole.RESPONSIBLE, ""), "lead_supervisor": units.get(UnitRole.LEAD_SUPERVISOR, ""),
        "m-TOTAL_FORMS": str(task.measures.count()), "m-INITIAL_FORMS": "0",
    }
    for i, m in enumerate(task.measures.all()):
        data[f"m-{i}-id"] = m.pk
        data[f"m-{i}-text"] = m.text
    data.update(overrides)
    return data


def test_a_task_stays_draft_until_four_things_are_clear(world):
    admin = world.users["office_admin"]
    task = services.create_task(actor=admin, campaign=world.campaign, data=services.TaskInput(
        code="T-09", title="某矿山未完成生态修复"))
    assert task.status == TaskStatus.DRAFT
    page = world.client("office_admin").get(f"/ledger/tasks/{task.pk}/").content.decode()
    for missing in ["问题不清楚", "措施不清楚", "责任不清楚", "时限不清楚"]:
        assert missing in page

    data = services.task_input_from(task)
    data.problem = "露天开采后未复绿，裸露面积约 30 亩。"
    data.responsible_units = [world.county_a]
    data.deadline_kind = DeadlineKind.LONG_TERM
    task = services.update_task(actor=admin, task=task, expected_version=task.version, data=data)
    assert task.status == TaskStatus.DRAFT
    assert services.missing_essentials(task) == ["措施不清楚：至少需要一条整改措施"]

    data.measures = [services.MeasureInput(text="编制矿山生态修复方案")]
    task = services.update_task(actor=admin, task=task, expected_version=task.version, data=data)
    assert task.status == TaskStatus.ACTIVE
    assert "四清楚" not in world.client("office_admin").get(f"/ledger/tasks/{task.pk}/").content.decode()


def test_by_date_deadline_needs_a_date(world):
    with pytest.raises(services.ValidationError):
        services.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=services.TaskInput(
            code="T-10", title="x", deadline_kind=DeadlineKind.BY_DATE))


def test_codes_are_unique_within_a_campaign(world):
    with pytest.raises(services.ValidationError) as exc:
        services.create_task(actor=world.users["office_admin"], campaign=world.campaign,
                             data=services.TaskInput(code="T-01", title="重复编号"))
    assert "已存在" in str(exc.value)


def test_acceptance_unit_defaults_to_the_lead_supervisor(world):
    roles = {tu.role: tu.unit for tu in world.task_a.task_units.all()}
    assert roles[UnitRole.ACCEPTANCE] == roles[UnitRole.LEAD_SUPERVISOR] == world.dept_env


def test_create_form_with_inline_measures(world):
    client = world.client("office_staff")
    response = client.post("/ledger/tasks/new/", {
        "campaign": world.campaign.pk, "code": "T-20", "title": "城区黑臭水体整治", "problem": "两条黑臭水体反弹。",
        "category": Category.WATER, "primary_unit": world.county_a.pk, "other_units": [world.county_b.pk],
        "lead_supervisor": world.dept_housing.pk, "co_supervisors": [world.dept_env.pk],
        "deadline_kind": DeadlineKind.BY_DATE, "deadline": "2027-06-30",
        "m-TOTAL_FORMS": "3", "m-INITIAL_FORMS": "0",
        "m-0-text": "截污纳管", "m-0-owner_unit": world.county_a.pk, "m-0-due_date": "2027-03-31",
        "m-1-text": "清淤疏浚", "m-2-text": "",
    })
    assert response.status_code == 302
    task = Task.objects.get(code="T-20")
    assert task.status == TaskStatus.ACTIVE
    assert [m.text for m in task.measures.all()] == ["截污纳管", "清淤疏浚"]
    responsible = task.task_units.filter(role=UnitRole.RESPONSIBLE).order_by("ordinal")
    assert [(tu.unit, tu.is_primary) for tu in responsible] == [(world.county_a, True), (world.county_b, False)]
    detail = client.get(f"/ledger/tasks/{task.pk}/").content.decode()
    assert "新增整改任务 T-20" in detail


def test_edit_shows_in_timeline(world):
    client = world.client("office_admin")
    task = world.task_a
    response = client.post(f"/ledger/tasks/{task.pk}/edit/", form_data(task, target="2026 年底前管网全覆盖"))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.version == 2 and task.target == "2026 年底前管网全覆盖"
    page = client.get(f"/ledger/tasks/{task.pk}/").content.decode()
    assert "修改整改任务 T-01：整改目标" in page


def test_second_stale_edit_is_refused_with_a_clear_message(world):
    first, second = world.client("office_admin"), world.client("office_staff")
    task = world.task_a
    stale_form = form_data(task, title="第二人的标题")
    assert first.post(f"/ledger/tasks/{task.pk}/edit/", form_data(task, title="第一人的标题")).status_code == 302
    refused = second.post(f"/ledger/tasks/{task.pk}/edit/", stale_form)
    assert refused.status_code == 409
    text = refused.content.decode()
    assert "已被 admin1" in text and "请刷新页面" in text
    task.refresh_from_db()
    assert task.title == "第一人的标题" and task.version == 2


def test_stale_api_write_gets_409(world):
    user = world.users["office_admin"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='t')}")
    body = {"code": "T-01", "title": "新标题", "problem": "p", "responsible_units": ["零陵区"],
            "deadline_kind": "long_term", "version": 1}
    assert api.put(f"/api/v1/tasks/{world.task_a.pk}", json.dumps(body), content_type="application/json").status_code == 200
    again = api.put(f"/api/v1/tasks/{world.task_a.pk}", json.dumps(body), content_type="application/json")
    assert again.status_code == 409 and again.json()["current_version"] == 2


def _extra_tasks(world, count):
    admin = world.users["office_admin"]
    for i in range(count):
        services.create_task(actor=admin, campaign=world.campaign, data=services.TaskInput(
            code=f"X-{i:03d}", title=f"批量任务{i}", problem="问题", category=Category.AIR if i % 2 else Category.SOIL,
            responsible_units=[world.county_a if i % 3 else world.county_b], lead_supervisor=world.dept_env,
            co_supervisors=[world.dept_housing], leader=world.users["leader_a"], deadline_kind=DeadlineKind.BY_DATE,
            deadline=dt.date(2025, 1, 1) + dt.timedelta(days=30 * i),
            measures=[services.MeasureInput(text="措施一"), services.MeasureInput(text="措施二", done=True)]))


def test_query_count_does_not_grow_with_page_size(world):
    _extra_tasks(world, 60)
    client = world.client("office_admin")
    counts = {}
    for per_page in (20, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/ledger/?per_page={per_page}")
        assert response.status_code == 200
        assert response.content.decode().count('data-label="编号"') == min(per_page, 62)
        counts[per_page] = len(ctx.captured_queries)
    assert counts[20] == counts[100]
    assert counts[100] <= 16, counts  # pinned: session, user, count, page, prefetch, filter form choices


@pytest.mark.parametrize("query,expected", [
    ("category=soil", lambda t: t.category == "soil"),
    ("status=active", lambda t: t.status == "active"),
    ("deadline_from=2026-01-01&deadline_to=2026-12-31",
     lambda t: t.deadline and dt.date(2026, 1, 1) <= t.deadline <= dt.date(2026, 12, 31)),
    ("q=批量任务1", lambda t: "批量任务1" in t.title),
    ("q=垃圾 渗滤液", lambda t: t.code == "T-02"),
])
def test_filters_and_keyword_search(world, query, expected):
    _extra_tasks(world, 15)
    page = world.client("office_admin").get(f"/ledger/?per_page=200&{query}").content.decode()
    for task in Task.objects.all():
        assert (f">{task.code}</a>" in page) == bool(expected(task)), (query, task.code)


def test_filter_by_county_and_unit(world):
    _extra_tasks(world, 9)
    client = world.client("office_admin")
    county_page = client.get(f"/ledger/?per_page=200&county={world.county_b.pk}").content.decode()
    unit_page = client.get(f"/ledger/?per_page=200&unit={world.dept_housing.pk}").content.decode()
    for task in Task.objects.prefetch_related("task_units"):
        units = {(tu.role, tu.unit_id) for tu in task.task_units.all()}
        assert (f">{task.code}</a>" in county_page) == ((UnitRole.RESPONSIBLE, world.county_b.pk) in units)
        assert (f">{task.code}</a>" in unit_page) == any(u == world.dept_housing.pk for _, u in units)


def test_sort_and_paginate(world):
    _extra_tasks(world, 30)
    client = world.client("office_admin")
    page1 = client.get("/ledger/?sort=-deadline&per_page=20").content.decode()
    page2 = client.get("/ledger/?sort=-deadline&per_page=20&page=2").content.decode()
    assert "第 1/2 页" in page1 and "X-029" in page1 and "X-029" not in page2
    assert page1.index("X-029") < page1.index("X-028")


def test_check_20_user_text_is_escaped(world):
    admin = world.users["office_admin"]
    task = services.create_task(actor=admin, campaign=world.campaign, data=services.TaskInput(
        code="T-XSS", title="<script>alert(1)</script>", problem="<img src=x onerror=alert(1)>"))
    page = world.client("office_admin").get(f"/ledger/tasks/{task.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_ledger_filters_and_sorts_by_derived_progress_status(world):
    from rectify.supervision.services import refresh_statuses

    Task.objects.filter(pk=world.task_b.pk).update(deadline=dt.date(2025, 6, 30))  # past due, not closed
    refresh_statuses(today=dt.date(2026, 11, 28))
    world.task_b.refresh_from_db()
    assert (world.task_b.progress_status, world.task_b.warning_colour) == ("overdue", "red")
    client = world.client("office_admin")
    overdue = client.get("/ledger/?progress_status=overdue").content.decode()
    assert ">T-02</a>" in overdue and ">T-01</a>" not in overdue
    red = client.get("/ledger/?warning_colour=red").content.decode()
    assert ">T-02</a>" in red and "逾期·红色预警" in red
    worst_first = client.get("/ledger/?sort=colour").content.decode()
    assert worst_first.index(">T-02</a>") < worst_first.index(">T-01</a>")


# The task page's timeline as ledger/task_detail.html wrote it before rows.render_timeline: the oracle
_TIMELINE_TEMPLATE = (
    '{% load i18n %}{% translate "系统" as system %}{% for e in timeline %}'
    '<li><div class="when">{{ e.created_at|date:"Y-m-d H:i:s" }} · {{ e.actor_name|default:system }}'
    '{% if e.unit_name %}{% blocktranslate with name=e.unit_name %}（{{ name }}）{% endblocktranslate %}{% endif %}'
    ' · #{{ e.seq }}</div>{{ e.summary }}</li>{% empty %}<li>{% translate "暂无记录。" %}</li>{% endfor %}')


def test_the_timeline_is_written_as_the_template_wrote_it(world):
    """rows.render_timeline against the template it replaced, on the task page's own events and on
    events with no actor name, no unit, markup in every text and a time that is another day in UTC:
    the same items (whitespace between them aside), escaped, in local time; empty says so."""
    from types import SimpleNamespace

    from django.template import Context, Template
    from django.utils import translation

    from rectify.core.models import Event
    from rectify.ledger.rows import render_timeline

    crafted = [
        SimpleNamespace(created_at=dt.datetime(2026, 12, 2, 17, 30, 5, tzinfo=dt.UTC), actor_name="", unit_name="",
                        seq=7, summary="系统 <b>自动</b> & 计算"),
        SimpleNamespace(created_at=dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC), actor_name='王"某"<i>',
                        unit_name="零陵区 & <县>", seq=8, summary="'引号' \"双引号\""),
    ]
    own = list(Event.objects.filter(object_type="ledger.task", object_id=str(world.task_a.pk)).order_by("-seq"))
    assert own
    with translation.override("zh-hans"):
        for events in (crafted, own, []):
            expected = Template(_TIMELINE_TEMPLATE).render(Context({"timeline": events}))
            assert render_timeline(events).replace("\n  ", "") == expected
    assert "2026-12-03 01:30:05" in render_timeline(crafted)  # Asia/Shanghai
    page = world.client("office_admin").get(f"/ledger/tasks/{world.task_a.pk}/").content.decode()
    assert render_timeline(own) in page
