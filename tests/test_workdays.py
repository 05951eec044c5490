"""Work days by the official calendar: package-seeded years, the weekends-only fallback for years
not yet on record, and the office entering a year through /calendar/.

Dates asserted below were checked against chinese-calendar 1.11: 2025-10-01..08 are holidays,
2025-09-28 (Sun) and 2025-10-11 (Sat) are adjusted working days; 2026-02-15..23 are the Spring
Festival, 2026-02-14 (Sat) and 2026-02-28 (Sat) adjusted working days. The 2027 schedule used
here is made up for the tests (the real one is published in late 2026).
"""

from __future__ import annotations

import datetime as dt
import random

import chinese_calendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template

from rectify.core import workdays
from rectify.core.models import CalendarDay, CalendarYear, Event

D = dt.date

# A made-up 2027 schedule: New Year on Friday; Spring Festival Sat 6 – Fri 12 Feb, Sat 13 worked.
TEXT_2027 = """2027-01-01 元旦 休
2027年2月6日至2027年2月12日 春节 休
2027-02-13 春节调休 班
"""


@pytest.fixture(autouse=True)
def fresh_calendar(db):
    # The cache is per process and test transactions roll back: start and end each test cold.
    # A transactional test elsewhere in the run flushes the seed migration's rows; re-seed.
    workdays.invalidate()
    workdays.ensure_seeded()
    yield
    workdays.invalidate()


def reference_add(start: dt.date, n: int) -> dt.date:
    day, step, left = start, dt.timedelta(days=1 if n > 0 else -1), abs(n)
    while left:
        day += step
        left -= chinese_calendar.is_workday(day)
    return day


def render_warning(day, start=None) -> str:
    return Template("{% load workdays %}{{ day|workday_warning:start }}").render(Context({"day": day, "start": start}))


def preview_and_confirm(client, text, year, **extra):
    preview = client.post("/calendar/enter/", {"year": year, "text": text, "note": "测试用安排", "action": "preview"})
    assert preview.status_code == 200, preview.content.decode()
    assert "尚未保存" in preview.content.decode()
    data = {"year": year, "text": preview.context["text"], "note": "测试用安排", "stamp": preview.context["stamp"],
            "action": "confirm", **extra}
    return preview, client.post("/calendar/enter/", data)


# --- the seeded package years ---------------------------------------------------------------


def test_seed_matches_the_package_on_every_day():
    assert CalendarYear.objects.filter(source="package").count() == 23
    day = D(2004, 1, 1)
    while day <= D(2026, 12, 31):
        assert workdays.is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
    assert workdays.year_known(2004) and workdays.year_known(2026)
    assert not workdays.year_known(2003) and not workdays.year_known(2027)
    assert workdays.seed_from_package() == 0  # idempotent


def test_national_day_2025():
    for day in (D(2025, 9, 28), D(2025, 10, 11)):
        assert chinese_calendar.is_workday(day) and day.weekday() >= 5
        assert workdays.is_workday(day)
    assert not any(workdays.is_workday(D(2025, 10, i)) for i in range(1, 9))
    assert workdays.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert workdays.add_workdays(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert workdays.add_workdays(D(2025, 9, 26), 1) == D(2025, 9, 28)  # Friday → the Sunday worked
    assert workdays.add_workdays(D(2025, 10, 9), 2) == D(2025, 10, 11)  # Saturday worked
    assert workdays.workdays_between(D(2025, 9, 30), D(2025, 10, 9)) == 1
    # (9-26, 10-13]: 9-28, 9-29, 9-30, 10-09, 10-10, 10-11, 10-13
    assert workdays.workdays_between(D(2025, 9, 26), D(2025, 10, 13)) == 7
    assert workdays.workdays_between(D(2025, 10, 13), D(2025, 9, 26)) == -7
    # n == 0: the day itself if a work day, else the next one
    assert workdays.add_workdays(D(2025, 9, 30), 0) == D(2025, 9, 30)
    assert workdays.add_workdays(D(2025, 10, 1), 0) == D(2025, 10, 9)
    assert workdays.next_workday_on_or_after(D(2025, 10, 4)) == D(2025, 10, 9)
    assert workdays.nth_workday_of_month(2025, 10, 1) == D(2025, 10, 9)
    assert workdays.nth_workday_of_month(2025, 10, 5) == D(2025, 10, 14)  # 9, 10, 11 (Sat), 13, 14


def test_spring_festival_2026():
    assert workdays.add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)  # Saturday worked
    assert workdays.add_workdays(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert workdays.add_workdays(D(2026, 2, 13), 5) == D(2026, 2, 27) == reference_add(D(2026, 2, 13), 5)
    assert workdays.add_workdays(D(2026, 2, 13), 6) == D(2026, 2, 28)
    assert workdays.add_workdays(D(2026, 2, 24), -1) == D(2026, 2, 14)
    assert workdays.workdays_between(D(2026, 2, 13), D(2026, 2, 28)) == 6
    assert workdays.nth_workday_of_month(2026, 2, -1) == D(2026, 2, 28)


def test_arithmetic_agrees_with_the_package_on_random_spans():
    rng = random.Random(20261128)
    for _ in range(400):
        start = D(2004, 2, 1) + dt.timedelta(days=rng.randrange((D(2026, 11, 30) - D(2004, 2, 1)).days))
        n = rng.choice([i for i in range(-25, 26) if i])
        end = workdays.add_workdays(start, n)
        assert end == reference_add(start, n), (start, n)
        if n > 0:
            assert workdays.workdays_between(start, end) == n
        else:  # going back, the n work days are [end, start)
            assert workdays.workdays_between(end - dt.timedelta(days=1), start - dt.timedelta(days=1)) == -n
        other = start + dt.timedelta(days=rng.randrange(-400, 400))
        if D(2004, 1, 1) <= other <= D(2026, 12, 31):
            lo, hi = sorted((start, other))
            expected = sum(chinese_calendar.is_workday(lo + dt.timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
            assert workdays.workdays_between(lo, hi) == expected


def test_warm_cache_costs_no_queries(django_assert_num_queries):
    workdays.is_workday(D(2025, 10, 1))
    with django_assert_num_queries(0):
        assert workdays.add_workdays(D(2025, 9, 30), 20) > D(2025, 10, 9)
        workdays.workdays_between(D(2020, 1, 1), D(2026, 1, 1))


# --- years not on record ----------------------------------------------------------------------


def test_unknown_year_counts_weekends_only_and_says_so():
    assert not workdays.year_known(2027)
    assert workdays.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 1)  # a Friday: no holiday known
    assert workdays.add_workdays(D(2027, 2, 5), 1) == D(2027, 2, 8)
    assert workdays.is_workday(D(2027, 10, 1))
    assert not workdays.is_workday(D(2027, 10, 2))  # Saturday
    assert workdays.workdays_between(D(2026, 12, 31), D(2027, 12, 31)) == 261
    assert workdays.unknown_years_in(D(2026, 6, 1), D(2028, 1, 1)) == [2027, 2028]
    result = workdays.add_workdays_result(D(2026, 12, 30), 3)
    assert result.date == D(2027, 1, 4) and result.unknown_years == (2027,)
    assert result.warning == "2027 年法定节假日尚未录入，按仅周末休息计算"
    html = render_warning(D(2027, 3, 1))
    assert "2027 年法定节假日尚未录入，按仅周末休息计算" in html and "workday-warning" in html
    assert render_warning(D(2026, 3, 1)) == ""
    assert "2027 年" in render_warning(D(2026, 12, 31), D(2027, 1, 5))  # a span that crosses into 2027
    assert render_warning(None) == ""


def test_stray_days_of_an_unknown_year_are_ignored():
    CalendarDay.objects.create(date=D(2027, 1, 1), kind="holiday", name="元旦")
    workdays.invalidate()
    assert workdays.is_workday(D(2027, 1, 1))  # not known until the year is entered as a whole


def test_a_flushed_calendar_is_reseeded():
    CalendarDay.objects.all().delete()
    CalendarYear.objects.all().delete()
    workdays.invalidate()
    assert not workdays.is_workday(D(2025, 10, 1))
    assert CalendarYear.objects.count() == 23


def test_another_process_entry_is_seen_after_the_check_interval(monkeypatch):
    assert not workdays.year_known(2027)  # warm the cache
    from django.utils import timezone

    CalendarYear.objects.create(year=2027, source="office", entered_at=timezone.now())  # as another process
    assert not workdays.year_known(2027)  # cached within the interval
    monkeypatch.setattr(workdays, "CHECK_SECONDS", 0.0)
    assert workdays.year_known(2027)


# --- entering a year through the page --------------------------------------------------------


def test_entering_2027_through_the_page_changes_the_arithmetic(world):
    client = world.client("office_admin")
    assert "2027 年法定节假日尚未录入" in client.get("/calendar/").content.decode()
    year_page = client.get("/calendar/2027/").content.decode()
    assert "2027 年法定节假日尚未录入" in year_page and "全年共 261 个工作日" in year_page
    form = client.get("/calendar/enter/")
    assert form.status_code == 200 and form.context["form"].initial["year"] >= 2027

    preview, done = preview_and_confirm(client, TEXT_2027, 2027)
    assert [d.date for d in preview.context["days"]][:3] == [D(2027, 1, 1), D(2027, 2, 6), D(2027, 2, 7)]
    assert preview.context["summary"] == {"holidays": 8, "weekday_holidays": 6, "adjusted": 1,
                                          "total_workdays": 261 - 6 + 1}
    assert done.status_code == 302 and done.url == "/calendar/2027/"

    row = CalendarYear.objects.get(year=2027)
    assert row.source == "office" and row.entered_by == world.users["office_admin"] and row.note == "测试用安排"
    assert CalendarDay.objects.filter(date__year=2027).count() == 9
    assert workdays.year_known(2027)
    assert workdays.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert workdays.add_workdays(D(2027, 2, 5), 1) == D(2027, 2, 13)
    assert workdays.add_workdays(D(2027, 2, 13), 1) == D(2027, 2, 15)
    assert render_warning(D(2027, 3, 1)) == ""

    event = Event.objects.get(action="calendar_year_entered")
    assert event.before is None and event.actor_id == world.users["office_admin"].pk
    assert ["2027-02-13", "workday", "春节调休"] in event.after["days"]
    page = client.get("/calendar/2027/").content.decode()
    assert "春节调休" in page and "尚未录入" not in page


def test_replacing_a_year_needs_confirmation_and_keeps_before(world):
    client = world.client("office_admin")
    edit = client.get("/calendar/enter/?year=2026")
    assert "2026-02-15至2026-02-23 春节 休" in edit.context["form"].initial["text"]
    text = edit.context["form"].initial["text"] + "\n2026-12-31 测试加休 休\n"

    preview, refused = preview_and_confirm(client, text, 2026)
    assert preview.context["existing"] is not None and "我确认替换" in preview.content.decode()
    assert refused.status_code == 200 and "替换须勾选确认" in refused.content.decode()
    assert CalendarYear.objects.get(year=2026).source == "package" and workdays.is_workday(D(2026, 12, 31))

    _, done = preview_and_confirm(client, text, 2026, confirm_replace="1")
    assert done.status_code == 302
    assert CalendarYear.objects.get(year=2026).source == "office"
    assert not workdays.is_workday(D(2026, 12, 31)) and not workdays.is_workday(D(2026, 2, 16))
    event = Event.objects.get(action="calendar_year_entered")
    assert event.before["source"] == "package" and ["2026-02-14", "workday", "春节"] in event.before["days"]
    assert ["2026-12-31", "holiday", "测试加休"] in event.after["days"]


def test_confirm_after_someone_else_entered_the_year_is_refused(world):
    client = world.client("office_admin")
    preview = client.post("/calendar/enter/", {"year": 2027, "text": TEXT_2027, "action": "preview"})
    workdays.enter_year(actor=world.users["office_admin"], year=2027,
                        days=workdays.parse_calendar_text("2027-01-01 元旦 休", 2027).days)
    stale = client.post("/calendar/enter/", {"year": 2027, "text": preview.context["text"], "action": "confirm",
                                             "stamp": preview.context["stamp"], "confirm_replace": "1"})
    assert stale.status_code == 200 and "已被他人修改" in stale.content.decode()
    assert CalendarDay.objects.filter(date__year=2027).count() == 1


def test_bad_lines_are_reported_and_nothing_is_saved(world):
    client = world.client("office_admin")
    text = "\n".join([
        "2027-01-01 元旦 休",            # 1 fine
        "2027-02-30 春节 休",            # 2 no such date
        "2027-02-06 春节",               # 3 no kind
        "2027-02-08 春节调休 班",        # 4 Monday marked as worked
        "2026-12-31 元旦 休",            # 5 other year
        "2027-01-01 元旦 休",            # 6 duplicate
        "二〇二七年一月一日 元旦 休",      # 7 not a date
        "2027-02-12至2027-02-06 春节 休",  # 8 reversed range
    ])
    for action in ("preview", "confirm"):  # a forged confirm re-parses and refuses too
        response = client.post("/calendar/enter/", {"year": 2027, "text": text, "action": action, "stamp": "none"})
        body = response.content.decode()
        assert response.status_code == 200 and "未保存任何内容" in body
        errors = response.context["line_errors"]
        assert [e.split("：")[0] for e in errors] == [f"第 {i} 行" for i in (2, 3, 4, 5, 6, 7, 8)]
        assert "2027-02-08 是星期一" in errors[2] and "与第 1 行重复" in errors[4]
    assert not CalendarYear.objects.filter(year=2027).exists() and not CalendarDay.objects.filter(date__year=2027).exists()
    assert not Event.objects.filter(action="calendar_year_entered").exists()


def test_import_from_a_gbk_csv_file(world):
    client = world.client("office_admin")
    content = "日期,名称,类型\n2027-01-01,元旦,休\n\"2027年2月6日至12日\",春节,休\n2027/2/13,春节调休,班\n".encode("gb18030")
    upload = SimpleUploadedFile("2027节假日.csv", content, content_type="text/csv")
    preview = client.post("/calendar/enter/", {"year": 2027, "upload": upload, "action": "preview"})
    assert preview.status_code == 200, preview.content.decode()
    assert len(preview.context["days"]) == 9
    assert preview.context["text"] == "2027-01-01 元旦 休\n2027-02-06至2027-02-12 春节 休\n2027-02-13 春节调休 班"
    wrong = client.post("/calendar/enter/", {"year": 2027, "action": "preview",
                                             "upload": SimpleUploadedFile("x.xlsx", b"PK\x03\x04")})
    assert "只能导入 .txt 或 .csv 文件" in wrong.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_only_the_office_admin_may_change_the_calendar(world, client):
    staff = world.client("office_staff")
    assert staff.get("/calendar/").status_code == 200
    assert staff.get("/calendar/2025/").status_code == 200
    assert "录入/导入节假日" not in staff.get("/calendar/").content.decode()
    assert staff.get("/calendar/enter/").status_code == 403
    forged = staff.post("/calendar/enter/", {"year": 2027, "text": TEXT_2027, "action": "confirm", "stamp": "none"})
    assert forged.status_code == 403
    for persona in ("reporter_a", "lead_env", "leader_a", "auditor"):
        other = world.client(persona)
        assert other.get("/calendar/").status_code == 403
        assert other.get("/calendar/2026/").status_code == 403
        assert other.post("/calendar/enter/", {"year": 2027, "text": TEXT_2027, "action": "confirm"}).status_code == 403
    assert client.get("/calendar/").status_code == 302  # anonymous → login
    with pytest.raises(workdays.PermissionDenied):
        workdays.enter_year(actor=world.users["office_staff"], year=2027,
                            days=workdays.parse_calendar_text(TEXT_2027, 2027).days)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_parser_formats():
    result = workdays.parse_calendar_text(
        "# 国办发明电\n\n2027年1月1日 元旦 放假\n2027.2.6至2.12 春节 休\n2027-02-13\t春节调休\t上班\n2027-10-01～2027-10-07，国庆节，休\n", 2027)
    assert result.ok, result.errors
    assert len(result.days) == 1 + 7 + 1 + 7
    assert result.days[0].date == D(2027, 1, 1) and result.days[0].kind == "holiday"
    assert {d.name for d in result.days} == {"元旦", "春节", "春节调休", "国庆节"}
    assert [d for d in result.days if d.kind == "workday"][0].date == D(2027, 2, 13)
    assert workdays.format_days(result.days).splitlines()[-1] == "2027-10-01至2027-10-07 国庆节 休"
    assert not workdays.parse_calendar_text("", 2027).ok
    assert workdays.parse_calendar_text("2027-01-011 元旦 休", 2027).errors  # no silent truncation
