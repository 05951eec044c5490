"""The project reserve (项目储备库): scoped list with filters, the stage table, progress and fund-use
performance, and the xlsx import that writes every row or none (export → import round-trips)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError

from rectify.core.audit import verify_chain
from rectify.core.models import Event
from rectify.reserve import services
from rectify.reserve.models import FundPerformance, Project, ProjectProgress, Stage
from rectify.reserve.workflows import STAGE_FLOW


def _make(world, code="P-01", county=None, **kw) -> Project:
    fields = {"name": f"{code} 湿地修复", "kind": "restoration", "county": county or world.county_a,
              "location": "潇水沿岸", "total_investment": Decimal("1200"), "annual_investment": Decimal("400"),
              "responsible_unit": county or world.county_a, "start_date": dt.date(2026, 3, 1),
              "completion_date": dt.date(2027, 12, 31),
              "funding": {"central": Decimal("500"), "local": Decimal("300"), "ppp": Decimal("400")},
              "tasks": [world.task_a], **kw}
    data = services.ProjectInput(code=code, **fields)
    return services.create_project(actor=world.users["office_admin"], data=data)


def test_projects_are_seen_by_the_office_and_their_own_county_only(world):
    a = _make(world, "P-01")
    b = _make(world, "P-02", county=world.county_b)
    office = world.client("office_admin").get("/reserve/").content.decode()
    assert "P-01" in office and "P-02" in office
    county = world.client("reporter_a").get("/reserve/").content.decode()
    assert "P-01" in county and "P-02" not in county
    assert world.client("reporter_a").get(f"/reserve/{b.pk}/").status_code == 404
    assert world.client("leader_a").get(f"/reserve/{a.pk}/").status_code == 200  # 包零陵 leader
    assert world.client("leader_a").get(f"/reserve/{b.pk}/").status_code == 404
    for persona in ("discipline", "auditor", "lead_housing"):
        assert "P-01" not in world.client(persona).get("/reserve/").content.decode()
    filtered = world.client("office_admin").get(f"/reserve/?county={world.county_b.pk}&stage=reserve").content.decode()
    assert "P-02" in filtered and "P-01" not in filtered
    assert "P-01" not in world.client("office_admin").get("/reserve/?stage=construction").content.decode()
    with pytest.raises(PermissionDenied):
        services.create_project(actor=world.users["reporter_a"], data=services.ProjectInput(
            code="X", name="x", responsible_unit=world.county_a))


def test_validation_names_the_field(world):
    with pytest.raises(ValidationError) as err:
        _make(world, "P-09", annual_investment=Decimal("5000"))  # more than the total
    assert "年度计划投资不能超过总投资" in str(err.value)
    assert not Project.objects.exists()


def test_stage_steps_progress_and_performance(world):
    project = _make(world)
    client = world.client("office_admin")
    page = client.get(f"/reserve/{project.pk}/").content.decode()
    assert "转入前期" in page and "开工建设" not in page  # the table's steps from 储备 only
    for action, stage in (("prepare", Stage.PREPARATION), ("build", Stage.CONSTRUCTION)):
        assert client.post(f"/reserve/{project.pk}/stage/{action}/").status_code == 302
        project.refresh_from_db()
        assert project.stage == stage
    client.post(f"/reserve/{project.pk}/stage/operate/")  # not from 在建: refused, nothing changes
    project.refresh_from_db()
    assert project.stage == Stage.CONSTRUCTION
    assert world.client("reporter_a").post(f"/reserve/{project.pk}/stage/complete/").status_code == 302
    project.refresh_from_db()
    assert project.stage == Stage.CONSTRUCTION  # a county may not move the stage
    rep = world.client("reporter_a")
    assert rep.post(f"/reserve/{project.pk}/progress/", {"period": "2026-11", "percent": 45, "invested": "520",
                                                         "text": "完成清淤 3 公里。"}).status_code == 302
    assert ProjectProgress.objects.get(project=project).percent == 45
    assert world.client("reporter_b").post(f"/reserve/{project.pk}/progress/", {
        "period": "2026-11", "percent": 99, "invested": "1", "text": "x"}).status_code == 404
    client.post(f"/reserve/{project.pk}/performance/", {"year": 2026, "planned": "400", "spent": "380",
                                                        "outputs": "修复湿地 120 公顷。", "rating": "good"})
    perf = FundPerformance.objects.get(project=project)
    assert perf.spent == Decimal("380") and perf.rating == "good"
    rep.post(f"/reserve/{project.pk}/performance/", {"year": 2025, "planned": "1", "spent": "1", "outputs": "x",
                                                     "rating": "poor"})
    assert FundPerformance.objects.count() == 1  # only the office evaluates
    actions = set(Event.objects.filter(object_type="reserve.project").values_list("action", flat=True))
    assert {"project_created", "project_prepared", "project_started", "project_progress_reported",
            "project_performance_recorded"} <= actions
    assert verify_chain().ok
    assert {t.action for t in STAGE_FLOW.available(world.users["office_admin"], project)} == {
        "complete", "back_to_preparation"}


def _workbook(rows: list[list]) -> bytes:
    from rectify.reserve.excel import COLUMNS

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet()
    for c, name in enumerate(COLUMNS):
        sheet.write(0, c, name)
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def _row(code, county="零陵区", unit="零陵区", total=800, task="T-01"):
    return [code, f"{code} 污水处理厂提标", "污染治理", county, "城区", total, 200, 300, 100, 200, 0, 0, unit,
            "2026-01-01", "2026-12-31", task]


def test_import_is_all_or_nothing_and_export_round_trips(world):
    client = world.client("office_admin")
    bad = _workbook([_row("I-01"), _row("I-02", county="火星县"), _row("I-03", total="很多")])
    upload = io.BytesIO(bad)
    upload.name = "储备.xlsx"
    page = client.post("/reserve/import/", {"file": upload}).content.decode()
    assert "未写入任何数据" in page and "第 3 行" in page and "火星县" in page and "第 4 行" in page
    assert not Project.objects.exists()
    upload = io.BytesIO(_workbook([_row("I-01"), _row("I-02", county="祁阳市", unit="祁阳市", task="T-02")]))
    upload.name = "储备.xlsx"
    assert client.post("/reserve/import/", {"file": upload}).status_code == 302
    assert Project.objects.count() == 2
    one = Project.objects.get(code="I-01")
    assert {f.source: f.amount for f in one.funding.all()} == {"central": 300, "provincial": 100, "local": 200}
    assert list(one.tasks.values_list("code", flat=True)) == ["T-01"]
    exported = b"".join(client.get("/reserve/export.xlsx").streaming_content)
    upload = io.BytesIO(exported)
    upload.name = "导出.xlsx"
    before = list(Project.objects.order_by("code").values("code", "name", "total_investment", "county_id", "version"))
    assert client.post("/reserve/import/", {"file": upload}).status_code == 302  # re-import: same values
    after = list(Project.objects.order_by("code").values("code", "name", "total_investment", "county_id", "version"))
    assert [{k: v for k, v in r.items() if k != "version"} for r in after] == [
        {k: v for k, v in r.items() if k != "version"} for r in before]
    assert Project.objects.count() == 2
    assert world.client("reporter_a").post("/reserve/import/", {"file": upload}).status_code == 403
