"""Targets (目标指标) and observed values (监测值): attainment for every comparator, hand entry,
imports that are all or nothing, and the pages."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError

from rectify.core.models import Event
from rectify.indicators import services
from rectify.indicators.attainment import Attainment, attain
from rectify.indicators.models import Indicator, IndicatorScope, Measurement
from rectify.indicators.services import IndicatorInput

D = Decimal


@pytest.mark.parametrize(("comparator", "target", "value", "expected"), [
    ("≥", "92", "92", "met"), ("≥", "92", "91.99", "not_met"),
    (">", "92", "92.1", "met"), (">", "92", "92", "not_met"),
    ("=", "100", "100", "met"), ("=", "100", "99.9", "not_met"),
    ("≤", "35", "35", "met"), ("≤", "35", "35.5", "not_met"),
    ("<", "35", "34.9", "met"), ("<", "35", "35", "not_met"),
    ("yes", "1", "1", "met"), ("yes", "1", "0", "not_met"),
])
def test_attainment_of_every_comparator(comparator, target, value, expected):
    assert attain(comparator, D(target), D(value)) == Attainment(expected)
    assert attain(comparator, D(target), None) == Attainment.NO_DATA  # missing data is never met


def test_decrease_and_increase_compare_with_the_baseline():
    assert attain("decrease", D("5"), D("40"), baseline=D("46")) == Attainment.MET
    assert attain("decrease", D("5"), D("42"), baseline=D("46")) == Attainment.NOT_MET
    assert attain("increase", D("3"), D("63"), baseline=D("60")) == Attainment.MET
    assert attain("increase", D("3"), D("62"), baseline=D("60")) == Attainment.NOT_MET
    assert attain("decrease", D("5"), D("40")) == Attainment.NO_DATA  # no baseline: cannot tell
    assert attain("increase", D("5"), None, baseline=D("1")) == Attainment.NO_DATA


def _air(world, **kw) -> Indicator:
    data = IndicatorInput(name="中心城区空气质量优良率", comparator=">", value=D("92"), unit="%", year=2022, kept=True)
    for k, v in kw.items():
        setattr(data, k, v)
    return services.create_indicator(actor=world.users["office_admin"], data=data)


def test_office_defines_a_target_and_records_values(world):
    ind = _air(world)
    assert Event.objects.filter(action="indicator_created", object_id=str(ind.pk)).exists()
    services.record_measurement(actor=world.users["office_staff"], indicator=ind, region=world.office,
                                period="2022", value="91.5", source="市生态环境局")
    m = services.record_measurement(actor=world.users["office_staff"], indicator=ind, region=world.office,
                                    period="2022", value="93.2")
    assert Measurement.objects.count() == 1 and m.value == D("93.2")  # a second entry replaces the first
    event = Event.objects.filter(action="measurement_recorded").order_by("-seq").first()
    assert event.before == {"value": "91.5"} and event.after["value"] == "93.2"
    with pytest.raises(ValidationError):  # the city target has no county values
        services.record_measurement(actor=world.users["office_staff"], indicator=ind, region=world.county_a,
                                    period="2022", value="93")
    with pytest.raises(ValidationError):
        services.record_measurement(actor=world.users["office_staff"], indicator=ind, region=world.office,
                                    period="22年", value="93")
    with pytest.raises(PermissionDenied):
        services.record_measurement(actor=world.users["reporter_a"], indicator=ind, region=world.office,
                                    period="2023", value="93")
    with pytest.raises(PermissionDenied):
        services.create_indicator(actor=world.users["leader_a"], data=IndicatorInput(
            name="x", comparator="≥", value=D(1)))


def test_a_county_scope_needs_its_county(world):
    with pytest.raises(ValidationError) as exc:
        _air(world, scope=IndicatorScope.COUNTY)
    assert "county" in exc.value.error_dict
    ind = _air(world, scope=IndicatorScope.COUNTY, county=world.county_b)
    assert services.regions_of(ind) == [world.county_b]
    yes = _air(world, name="达到国家空气质量二级标准", comparator="yes", value=D(1), unit="",
               scope=IndicatorScope.EACH_COUNTY)
    assert set(services.regions_of(yes)) == {world.county_a, world.county_b}
    services.record_measurement(actor=world.users["office_admin"], indicator=yes, region=world.county_a,
                                period="2023", value="否")
    assert Measurement.objects.get(indicator=yes).value == 0


def _xlsx(rows) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("监测值")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            sheet.write(r, c, v)
    book.close()
    return out.getvalue()


def _csv(rows, encoding="utf-8-sig") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def test_import_is_all_or_nothing_with_every_row_error(world):
    yes = _air(world, name="达到国家空气质量二级标准", comparator="yes", value=D(1), unit="",
               scope=IndicatorScope.EACH_COUNTY)
    bad = _xlsx([["地区", "期间", "监测值"], ["零陵区", "2022", "是"], ["不存在县", "2022", "是"],
                 ["祁阳市", "2022年13月", "也许"], ["零陵区", "2022", "否"]])
    with pytest.raises(services.ImportRejected) as exc:
        services.import_measurements(actor=world.users["office_admin"], indicator=yes, data=bad, filename="a.xlsx")
    lines = dict(exc.value.row_errors)
    assert set(lines) == {3, 4, 5}
    assert "不存在县" in lines[3] and "期间" in lines[4] and "是/否" in lines[4] and "重复" in lines[5]
    assert not Measurement.objects.exists()
    good = _csv([["数据来源", "地区", "年份", "监测值"], ["省监测站", "零陵区", "2022", "是"],
                 ["", "祁阳市", "2022", "否"], ["", "祁阳市", "2023", "达标"]], "gb18030")
    n = services.import_measurements(actor=world.users["office_admin"], indicator=yes, data=good, filename="b.csv",
                                     source="市生态环境局")
    assert n == 3
    got = {(m.region.name, m.period): (m.value, m.source) for m in Measurement.objects.select_related("region")}
    assert got[("零陵区", "2022")] == (D(1), "省监测站") and got[("祁阳市", "2022")] == (D(0), "市生态环境局")
    event = Event.objects.get(action="measurements_imported")
    assert event.after["rows"] == 3 and event.after["file"] == "b.csv" and len(event.after["sm3"]) == 64


def test_import_refuses_what_is_not_a_sheet(world):
    ind = _air(world)
    for data, name in ((b"\x00\x01garbage", "x.xlsx"), (b"", "x.csv"), (_csv([["a", "b"], ["1", "2"]]), "x.csv")):
        with pytest.raises(services.ImportRejected) as exc:
            services.import_measurements(actor=world.users["office_admin"], indicator=ind, data=data, filename=name)
        assert exc.value.row_errors[0][0] == 0
    assert not Measurement.objects.exists()


def test_pages_show_trend_comparison_and_attainment(world):
    ind = _air(world, name="各县市区空气质量优良率", comparator="≥", value=D("90"), scope=IndicatorScope.EACH_COUNTY)
    for county, period, value in ((world.county_a, "2022", "91"), (world.county_b, "2022", "88"),
                                  (world.county_a, "2021", "89")):
        services.record_measurement(actor=world.users["office_admin"], indicator=ind, region=county, period=period,
                                    value=value)
    listing = world.client("leader_a").get("/indicators/").content.decode()
    assert "各县市区空气质量优良率" in listing and "1/2 个地区达标" in listing
    page = world.client("reporter_a").get(f"/indicators/{ind.pk}/")
    assert page.status_code == 200
    chart = page.context["chart"]
    assert chart["periods"] == ["2021", "2022"] and chart["target"] == 90.0
    assert {c["name"]: c["attainment"] for c in chart["comparison"]} == {"零陵区": "met", "祁阳市": "not_met"}
    assert b"measurement-form" not in page.content  # a county reads, the office records
    office = world.client("office_staff")
    assert b"measurement-form" in office.get(f"/indicators/{ind.pk}/").content
    response = office.post(f"/indicators/{ind.pk}/values/", {"region": world.county_b.pk, "period": "2023",
                                                             "value": "92.5", "source": "月报"})
    assert response.status_code == 302 and Measurement.objects.filter(period="2023").count() == 1
    upload = io.BytesIO(_xlsx([["地区", "期间", "监测值"], ["零陵区", "2023", "abc"]]))
    upload.name = "v.xlsx"
    page = office.post(f"/indicators/{ind.pk}/import/", {"file": upload})
    assert page.status_code == 200 and "第 2 行" in page.content.decode()
    assert world.client("reporter_a").post(f"/indicators/{ind.pk}/values/", {}).status_code == 404


def test_the_office_creates_a_target_through_the_form(world):
    client = world.client("office_admin")
    response = client.post("/indicators/new/", {"name": "森林覆盖率", "comparator": "≥", "value": "65", "unit": "%",
                                                "year": "2022", "kept": "on", "scope": "city"})
    assert response.status_code == 302
    ind = Indicator.objects.get(name="森林覆盖率")
    assert ind.kept and ind.scope == "city"
    assert world.client("reporter_a").get("/indicators/new/").status_code == 403
