"""The comprehensive evaluation (综合评估考核): the arithmetic on a worked example with the table computed
by hand, the same table computed from a record built through the services, the scheme and the published
result in the record, who sees what, the exports.

The scheme is the default one (分值合计 100):

| 评分项目 | 分值 | 计分 |
| --- | --- | --- |
| 按时报送率 | 20 | 20 × 按时/应报 |
| 任务序时推进率 | 25 | 25 × 序时推进（含已完成、长期坚持）/有时限的任务 |
| 到期任务销号率 | 20 | 20 × 已销号/到期任务（无到期任务得满分） |
| 逾期任务 | 15 | 15 − 3 × 件数 |
| 被督办 | 10 | 10 − 2 × 件数 |
| 回头看反弹 | 5 | 5 − 5 × 件数 |
| 追责问责 | 5 | 5 − 5 × 件数 |

The worked example, by hand:

| 单位 | 按时报送 | 序时推进 | 到期销号 | 逾期 | 被督办 | 反弹 | 追责 | 总分 | 名次 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| 零陵区 | 20×2/4 = 10.00 | 25×1/2 = 12.50 | 20×0/2 = 0.00 | 15−3×1 = 12.00 | 10−2×0 = 10.00 | 5−5×1 = 0.00 | 5−5×0 = 5.00 | 49.50 | 县市区 2 |
| 祁阳市 | 20×1/4 = 5.00 | 25×1/2 = 12.50 | 无到期 = 20.00 | 15.00 | 10−2×2 = 6.00 | 5.00 | 5−5×1 = 0.00 | 63.50 | 县市区 1 |
| 市住房和城乡建设局 | 20×1/2 = 10.00 | 25×1/1 = 25.00 | 无到期 = 20.00 | 15.00 | 10−2×1 = 8.00 | 5.00 | 5.00 | 88.00 | 市直部门 1 |
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone

from rectify.accountability import services as accountability
from rectify.assessment import scoring, services
from rectify.assessment.models import AssessmentResult, AssessmentRow
from rectify.assessment.scoring import Fact
from rectify.core.models import Event
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from rectify.ledger import services as ledger
from rectify.ledger.models import DeadlineKind
from rectify.orgs.models import Category, Role
from rectify.orgs.services import create_user, issue_api_token
from rectify.supervision import services as supervision
from rectify.supervision.models import Rung
from tests.accountability_helpers import designate, fresh
from tests.conftest import PASSWORD

D = Decimal
HAND = {  # unit → (item scores in the scheme's order, total, rank)
    "零陵区": (["10.00", "12.50", "0.00", "12.00", "10.00", "0.00", "5.00"], "49.50", 2),
    "祁阳市": (["5.00", "12.50", "20.00", "15.00", "6.00", "5.00", "0.00"], "63.50", 1),
    "市住房和城乡建设局": (["10.00", "25.00", "20.00", "15.00", "8.00", "5.00", "5.00"], "88.00", 1),
}
ORDER = ["on_time_reports", "on_schedule", "closeouts", "overdue_tasks", "escalations", "rebounds", "cases"]


def test_the_arithmetic_on_the_worked_example():
    items = scoring.parse_items(scoring.DEFAULT_ITEMS)
    facts = {
        "零陵区": {"on_time_reports": Fact(2, 4), "on_schedule": Fact(1, 2), "closeouts": Fact(0, 2),
                  "overdue_tasks": Fact(count=1), "rebounds": Fact(count=1)},
        "祁阳市": {"on_time_reports": Fact(1, 4), "on_schedule": Fact(1, 2), "escalations": Fact(count=2),
                  "cases": Fact(count=1)},
        "市住房和城乡建设局": {"on_time_reports": Fact(1, 2), "on_schedule": Fact(1, 1), "escalations": Fact(count=1)},
    }
    totals = {}
    for unit, unit_facts in facts.items():
        total, breakdown = scoring.score_unit(items, unit_facts)
        assert [breakdown[k]["score"] for k in ORDER] == HAND[unit][0], unit
        assert str(total) == HAND[unit][1], unit
        totals[unit] = total
    ranks = scoring.competition_ranks([("零陵区", totals["零陵区"]), ("祁阳市", totals["祁阳市"])])
    assert ranks == {"祁阳市": 1, "零陵区": 2}
    breakdown = scoring.score_unit(items, facts["零陵区"])[1]
    assert breakdown["on_time_reports"]["formula"] == "20 × 2/4 = 10.00"
    assert breakdown["overdue_tasks"]["formula"] == "15 − 3 × 1 = 12.00"
    assert scoring.score_unit(items, facts["祁阳市"])[1]["closeouts"]["formula"] == "无应计事项，按满分 20 计"


def test_rounding_floors_and_ties():
    items = scoring.parse_items([{"indicator": "on_time_reports", "weight": "20"},
                                 {"indicator": "on_schedule", "weight": "25"},
                                 {"indicator": "escalations", "weight": "10", "per_item": "4"}])
    # 20 × 2/3 = 13.333… → 13.33; 25 × 5/6 = 20.8333… → 20.83; 10 − 4 × 3 < 0 → 0 (扣完为止)
    total, b = scoring.score_unit(items, {"on_time_reports": Fact(2, 3), "on_schedule": Fact(5, 6),
                                          "escalations": Fact(count=3)})
    assert (b["on_time_reports"]["score"], b["on_schedule"]["score"], b["escalations"]["score"]) == \
        ("13.33", "20.83", "0.00")
    assert total == D("34.16") and "扣完为止" in b["escalations"]["formula"]
    # half up: 25 × 1/8 = 3.125 → 3.13
    assert scoring.item_score(items[1], Fact(1, 8))[0] == D("3.13")
    assert scoring.competition_ranks([("a", D("90")), ("b", D("95")), ("c", D("90")), ("d", D("80"))]) == \
        {"b": 1, "a": 2, "c": 2, "d": 4}


@pytest.mark.parametrize("items,message", [
    ([], "至少"),
    ([{"indicator": "nope", "weight": "10"}], "未知"),
    ([{"indicator": "cases", "weight": "10"}], "每项扣分"),
    ([{"indicator": "cases", "weight": "101", "per_item": "1"}], "0–100"),
    ([{"indicator": "cases", "weight": "1.234", "per_item": "1"}], "两位小数"),
    ([{"indicator": "cases", "weight": "x", "per_item": "1"}], "数字"),
    ([{"indicator": "cases", "weight": "5", "per_item": "5"}, {"indicator": "cases", "weight": "5", "per_item": "5"}],
     "重复"),
    ([{"indicator": "on_schedule", "weight": "0"}], "大于 0"),
])
def test_scheme_items_are_validated(items, message):
    with pytest.raises(ValidationError, match=message):
        scoring.parse_items(items)


# --- the same table from the record -------------------------------------------------------------------


def build_record(world):
    """A campaign whose record gives exactly the facts of the worked example (see the module docstring)."""
    from tests.test_closeout import closed_task, make_eligible

    admin, today = world.users["office_admin"], timezone.localdate()
    world.reporter_h = create_user(actor=None, username="rep_h", password=PASSWORD, role=Role.REPORTER,
                                   unit=world.dept_housing, display_name="住建局填报员", must_change_password=False)
    campaign = ledger.create_campaign(actor=admin, code="K-2026", name="考核样例批次", kind="city")

    def task(code, unit, lead, *, kind=DeadlineKind.BY_DATE, deadline=None, start=None):
        return ledger.create_task(actor=admin, campaign=campaign, data=ledger.TaskInput(
            code=code, title=f"{code} 样例任务", problem="问题。", category=Category.WATER, responsible_units=[unit],
            lead_supervisor=lead, deadline_kind=kind, deadline=deadline, start_date=start,
            measures=[ledger.MeasureInput(text="措施一")]))

    k1 = task("K-1", world.county_a, world.dept_env, deadline=today + dt.timedelta(days=60))
    k2 = task("K-2", world.county_a, world.dept_env, deadline=today - dt.timedelta(days=5))
    k3 = task("K-3", world.county_b, world.dept_housing, deadline=today + dt.timedelta(days=60),
              start=today - dt.timedelta(days=300))
    k4 = task("K-4", world.county_b, world.dept_housing, kind=DeadlineKind.LONG_TERM)
    k5 = task("K-5", world.dept_housing, world.dept_env, deadline=today + dt.timedelta(days=60),
              start=today - dt.timedelta(days=300))
    k6 = task("K-6", world.county_a, world.dept_env, deadline=today - dt.timedelta(days=3))
    # K-6 goes through 销号 (its own round, due long after the period)
    make_eligible(world, k6, period="2025-01")
    k6 = closed_task(world, k6)

    writers = {world.county_a.pk: world.users["reporter_a"], world.county_b.pk: world.users["reporter_b"],
               world.dept_housing.pk: world.reporter_h}
    leads = {k1.pk: "lead_env", k2.pk: "lead_env", k3.pk: "lead_housing", k4.pk: "lead_housing", k5.pk: "lead_env"}

    def report(rnd, t, percent, *, accept):
        slot = ProgressReport.objects.get(round=rnd, task=t)
        slot = dispatch.transition(actor=writers[slot.unit_id], report=slot, action="submit",
                                   changes={"progress_text": "进展。", "percent": percent})
        if accept:
            dispatch.transition(actor=world.users[leads[t.pk]], report=slot, action="accept")

    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    r1, _ = dispatch.open_round(actor=admin, office=world.office, period=last_month,
                                due_date=today + dt.timedelta(days=5), require_unit_review=False)
    for t, percent in ((k1, 100), (k2, 50), (k3, 10), (k5, 90)):  # K-4 not reported
        report(r1, t, percent, accept=True)
    r2, _ = dispatch.open_round(actor=admin, office=world.office, period=f"{today:%Y-%m}",
                                due_date=today - dt.timedelta(days=1), require_unit_review=False)
    for t in (k1, k3, k4, k5):  # all late (due yesterday); K-2 not reported
        report(r2, t, 10, accept=False)
    dispatch.close_round(actor=admin, rnd=r1)
    dispatch.close_round(actor=admin, rnd=r2)

    supervision.issue_escalation(actor=admin, task=k3, rung=Rung.CIRCULAR, reason="滞后", target_unit=world.county_b,
                                 reply_due=today + dt.timedelta(days=10))
    supervision.issue_escalation(actor=admin, task=k3, rung=Rung.SUPERVISION, reason="仍滞后",
                                 target_unit=world.county_b, reply_due=today + dt.timedelta(days=10))
    supervision.issue_escalation(actor=admin, task=k5, rung=Rung.CIRCULAR, reason="报送逾期",
                                 target_unit=world.dept_housing, reply_due=today + dt.timedelta(days=10))

    from rectify.closeout import services as closeout

    lookback = closeout.start_lookback(actor=admin, campaign=campaign, title="样例回头看", share_percent=100,
                                       due_date=today + dt.timedelta(days=10))
    closeout.record_lookback_result(actor=world.users["lead_env"], check=lookback.checks.get(task=k6),
                                    action="rebound", statement="反弹。", new_deadline=today + dt.timedelta(days=10))

    # cases: one closed with 通报批评 on K-3 (counts for 祁阳市), one closed 不予追责 on K-2 (零陵区, does not
    # count), one still under investigation on K-5 (住建局, does not count)
    designate(world)
    staff = fresh(world, "office_staff")
    counted = accountability.open_case(actor=staff, task_ids=[k3.pk], kind="superficial", title="K-3 表面整改",
                                       facts="线索。", lead_unit=world.dept_env, investigation_due=today + dt.timedelta(days=30))
    not_counted = accountability.open_case(actor=staff, task_ids=[k2.pk], kind="overdue", title="K-2 逾期",
                                           facts="线索。", lead_unit=world.dept_housing,
                                           investigation_due=today + dt.timedelta(days=30))
    accountability.open_case(actor=staff, task_ids=[k5.pk], kind="negligence", title="K-5 不落实", facts="线索。",
                             lead_unit=world.dept_env, investigation_due=today + dt.timedelta(days=30))
    from tests.accountability_helpers import step

    for case, lead, outcome in ((counted, "lead_env", "criticism"), (not_counted, "lead_housing", "none")):
        case = step(world, lead, case, "start")
        case.refresh_from_db()
        accountability.save_findings(actor=fresh(world, lead), case=case, expected_version=case.version,
                                     findings="事实。", recommendation="建议。")
        for action, kwargs in (("submit_report", {}), ("approve_report", {"opinion": "同意"}),
                               ("refer", {"commission": world.discipline})):
            case = step(world, lead if action == "submit_report" else "office_staff", case, action, **kwargs)
        case = step(world, "discipline", case, "accept", handling_due=today + dt.timedelta(days=30))
        case = step(world, "discipline", case, "record_outcome", outcome=outcome, detail="处理。", reason="已尽责。")
        step(world, "discipline", case, "close")
    scheme = services.save_scheme(actor=admin, campaign=campaign, name="2026 年考核办法", items=scoring.DEFAULT_ITEMS)
    return campaign, scheme, today - dt.timedelta(days=40), today + dt.timedelta(days=20)


@pytest.fixture
def scored(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    campaign, scheme, start, end = build_record(world)
    result = services.compute_result(actor=world.users["office_admin"], scheme=scheme, title="样例考核",
                                     period_start=start, period_end=end)
    return world, result


def test_the_record_gives_the_hand_computed_table(scored):
    world, result = scored
    rows = {r.unit.name: r for r in AssessmentRow.objects.filter(result=result).select_related("unit")}
    assert set(rows) == set(HAND)
    for unit, (scores, total, rank) in HAND.items():
        row = rows[unit]
        assert [row.breakdown[k]["score"] for k in ORDER] == scores, (unit, {k: row.breakdown[k]["formula"]
                                                                            for k in ORDER})
        assert str(row.total) == total and row.rank == rank, unit
    assert rows["零陵区"].group == "county" and rows["市住房和城乡建设局"].group == "department"
    # the records behind the figures
    lingling = rows["零陵区"].breakdown
    assert {r["label"] for r in lingling["on_time_reports"]["records"]} >= {
        f"{timezone.localdate():%Y-%m} K-1（逾期报送）", f"{timezone.localdate():%Y-%m} K-2（未报送）"}
    assert [r["label"] for r in lingling["overdue_tasks"]["records"]] == ["K-2"]
    assert {r["label"] for r in lingling["closeouts"]["records"]} == {"K-2（到期未销号）", "K-6（到期未销号）"}
    assert lingling["rebounds"]["count"] == 1
    qiyang = rows["祁阳市"].breakdown
    assert qiyang["cases"]["count"] == 1 and qiyang["cases"]["records"] == []  # a count, never which case
    assert len(qiyang["escalations"]["records"]) == 2


def test_publishing_puts_the_table_and_its_digest_in_the_record(scored):
    world, result = scored
    admin = world.users["office_admin"]
    assert Event.objects.filter(action="assessment_scheme_saved").exists()
    with pytest.raises(Http404):  # a draft does not exist for a county
        services.result_transition(actor=world.users["reporter_a"], result=result, action="publish")
    published = services.result_transition(actor=admin, result=result, action="publish")
    assert published.status == "published" and published.published_at
    event = Event.objects.get(action="assessment_published")
    assert event.after["digest"] == result.digest and len(event.after["table"]) == 3
    assert {row["unit"]: row["total"] for row in event.after["table"]} == {u: t for u, (_s, t, _r) in HAND.items()}
    with pytest.raises(ValidationError):
        services.result_transition(actor=admin, result=published, action="discard")


def test_who_sees_the_result_and_the_breakdowns(scored):
    world, result = scored
    url = f"/assessment/results/{result.pk}/"
    lingling = AssessmentRow.objects.get(result=result, unit=world.county_a).unit_id
    assert world.client("office_staff").get(url).status_code == 200
    for persona in ("reporter_a", "leader_a", "lead_env", "discipline", "auditor"):
        assert world.client(persona).get(url).status_code == 404, persona  # a draft is the office's
    services.result_transition(actor=world.users["office_admin"], result=result, action="publish")
    for persona in ("reporter_a", "reporter_b", "leader_a", "lead_env"):
        assert world.client(persona).get(url).status_code == 200, persona
    for persona in ("discipline", "auditor"):
        assert world.client(persona).get(url).status_code == 404, persona
    breakdown = f"/assessment/results/{result.pk}/units/{lingling}/"
    assert world.client("reporter_a").get(breakdown).status_code == 200  # its own
    assert world.client("reporter_b").get(breakdown).status_code == 404  # not another county's
    assert world.client("office_admin").get(breakdown).status_code == 200
    page = world.client("reporter_b").get(url).content.decode()
    assert "49.50" in page and "63.50" in page


def test_exports_carry_the_same_table(scored):
    from docx import Document
    from python_calamine import CalamineWorkbook

    world, result = scored
    client = world.client("office_admin")
    xlsx = client.get(f"/assessment/results/{result.pk}/result.xlsx")
    assert xlsx.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content))
    counties = book.get_sheet_by_name("县市区得分").to_python()
    assert [row[1] for row in counties[2:]] == ["祁阳市", "零陵区"] and counties[2][-1] == 63.5
    detail = book.get_sheet_by_name("得分明细").to_python()
    assert any(row[1] == "零陵区" and row[2] == "按时报送率" and row[8] == "20 × 2/4 = 10.00" for row in detail)
    docx = client.get(f"/assessment/results/{result.pk}/result.docx")
    document = Document(io.BytesIO(docx.content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "88.00" in cells and "市住房和城乡建设局" in cells
    assert Event.objects.filter(action="document_generated", object_id=str(result.pk)).count() == 2


def test_the_api_computes_and_publishes(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    campaign, scheme, start, end = build_record(world)
    admin = world.users["office_admin"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=admin, user=admin, name='t')}")
    created = api.post("/api/v1/assessment-results", {"scheme": scheme.pk, "title": "接口考核",
                                                     "period_start": start.isoformat(), "period_end": end.isoformat()},
                       content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    totals = {row["unit"]: row["total"] for row in body["rows"]}
    assert totals == {u: t for u, (_s, t, _r) in HAND.items()}
    published = api.post(f"/api/v1/assessment-results/{body['id']}/actions/publish", {"version": body["version"]},
                         content_type="application/json")
    assert published.status_code == 200 and published.json()["status"] == "published"
    reporter = world.users["reporter_b"]
    other = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=reporter, user=reporter, name='t')}")
    rows = other.get(f"/api/v1/assessment-results/{body['id']}").json()["rows"]
    assert {r["unit"]: r["breakdown"] is not None for r in rows} == {
        "零陵区": False, "祁阳市": True, "市住房和城乡建设局": False}
    assert other.get("/api/v1/assessment-schemes").json()["items"] == []
    bad = api.put(f"/api/v1/assessment-schemes/{scheme.pk}", {"campaign": campaign.pk, "name": "x", "items": [
        {"indicator": "cases", "weight": "10", "per_item": "0"}]}, content_type="application/json")
    assert bad.status_code == 422


def test_a_result_that_no_longer_matches_its_digest_is_not_published(scored):
    world, result = scored
    AssessmentRow.objects.filter(result=result, unit=world.county_a).update(total=D("99.00"))
    with pytest.raises(ValidationError, match="不一致"):
        services.result_transition(actor=world.users["office_admin"], result=result, action="publish")
    assert AssessmentResult.objects.get(pk=result.pk).status == "draft"
