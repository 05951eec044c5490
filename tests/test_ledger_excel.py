"""The ledger as Excel: import (tolerant, previewed, all or nothing) and export (scoped, streamed,
formula-safe). Uses the personas of tests/conftest.py."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from types import SimpleNamespace

import pytest

from rectify.core.audit import verify_chain
from rectify.core.models import Event
from rectify.core.sm3 import sm3_hex
from rectify.jobs.worker import run_pending
from rectify.ledger import excel
from rectify.ledger.excel.cells import free_text
from rectify.ledger.excel_cli import run_export, run_import
from rectify.ledger.models import DeadlineKind, Task, TaskStatus, UnitRole
from rectify.ledger.selectors import TaskFilter
from rectify.orgs.models import Category, Role
from rectify.orgs.services import create_user
from tests.conftest import PASSWORD
from tests.excel_helpers import (
    empty_workbook,
    generated_rows,
    office_workbook,
    plain_workbook,
    read_sheet,
)

D = dt.date


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    # Uploads waiting for confirmation and export scratch files go to a throwaway directory.
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.JOBS_DIR = tmp_path / "jobs"
    return settings.UPLOAD_DIR


def preview_of(world, data: bytes, filename="台账.xlsx", persona="office_admin"):
    return excel.parse_workbook(data, campaign=world.campaign, actor=world.users[persona], filename=filename)


def export_bytes(user, filters=None) -> bytes:
    out = io.BytesIO()
    excel.export_ledger(user=user, filters=filters, target=out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------
# Reading cells


@pytest.mark.parametrize("text, kind, date", [
    ("2022年12月底", DeadlineKind.BY_DATE, D(2022, 12, 31)),
    ("2023年6月", DeadlineKind.BY_DATE, D(2023, 6, 30)),
    ("2023年2月底", DeadlineKind.BY_DATE, D(2023, 2, 28)),
    ("2024年2月", DeadlineKind.BY_DATE, D(2024, 2, 29)),
    ("2023.6.30", DeadlineKind.BY_DATE, D(2023, 6, 30)),
    ("2023-06-30", DeadlineKind.BY_DATE, D(2023, 6, 30)),
    ("2023/6/30", DeadlineKind.BY_DATE, D(2023, 6, 30)),
    ("2023年6月30日前完成", DeadlineKind.BY_DATE, D(2023, 6, 30)),
    ("２０２３年６月底", DeadlineKind.BY_DATE, D(2023, 6, 30)),
    (" 2023 年 12 月 底 ", DeadlineKind.BY_DATE, D(2023, 12, 31)),
    ("2025年底前", DeadlineKind.BY_DATE, D(2025, 12, 31)),
    ("长期坚持", DeadlineKind.LONG_TERM, None),
    ("立行立改", DeadlineKind.IMMEDIATE, None),
    ("立行立改，2021年12月底前", DeadlineKind.IMMEDIATE, D(2021, 12, 31)),
    ("长期坚持（2025年底前见效）", DeadlineKind.LONG_TERM, D(2025, 12, 31)),
    ("长期坚持(2025年12月31日前见效)", DeadlineKind.LONG_TERM, D(2025, 12, 31)),
    (dt.datetime(2023, 6, 30), DeadlineKind.BY_DATE, D(2023, 6, 30)),
    (D(2023, 6, 30), DeadlineKind.BY_DATE, D(2023, 6, 30)),
    (45107.0, DeadlineKind.BY_DATE, D(2023, 6, 30)),  # a date cell that lost its format
    ("", "", None),
])
def test_deadline_texts(text, kind, date):
    assert excel.parse_deadline(text)[:2] == (kind, date)


@pytest.mark.parametrize("text", ["3个月内", "尽快", "2023年2月30日", "1899年1月", "12.5"])
def test_deadline_texts_that_are_refused(text):
    with pytest.raises(excel.DeadlineError):
        excel.parse_deadline(text)


@pytest.mark.parametrize("kind, date", [
    (DeadlineKind.BY_DATE, D(2022, 12, 31)), (DeadlineKind.LONG_TERM, None), (DeadlineKind.LONG_TERM, D(2025, 12, 31)),
    (DeadlineKind.IMMEDIATE, None), (DeadlineKind.IMMEDIATE, D(2021, 12, 31)),
])
def test_exported_deadlines_read_back_unchanged(kind, date):
    assert excel.parse_deadline(excel.format_deadline(kind, date))[:2] == (kind, date)


@pytest.mark.parametrize("text, measures", [
    ("1.制定方案\n2.完成建设", ["制定方案", "完成建设"]),
    ("1、制定方案；2、完成建设。", ["制定方案", "完成建设。"]),
    ("１．制定方案\n２．完成建设", ["制定方案", "完成建设"]),
    ("（1）制定方案（2）完成建设", ["制定方案", "完成建设"]),
    ("①制定方案②完成建设③验收", ["制定方案", "完成建设", "验收"]),
    ("一是制定方案；二是完成建设。", ["制定方案", "完成建设。"]),
    ("1.总体方案：（1）排查（2）建档\n2.完成建设", ["总体方案：（1）排查（2）建档", "完成建设"]),
    ("采取以下措施：1.制定方案 2.完成建设", ["采取以下措施：", "制定方案", "完成建设"]),
    ("完成1、2号池改造，削减1.5万吨", ["完成1、2号池改造，削减1.5万吨"]),
    ("制定整改方案并组织实施", ["制定整改方案并组织实施"]),
    ("1.唯一的措施", ["唯一的措施"]),
])
def test_measures_are_split_by_their_numbering(text, measures):
    assert excel.split_measures(text) == measures


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\",\"点击\")", "+86 1380000", "-1", "@SUM(A1)", "'=already",
                                   "正常文本", "'plain quote"])
def test_neutralise_is_reversible(value):
    cell = excel.neutralise(value)
    assert cell[:1] not in {"=", "+", "-", "@"}
    assert excel.unneutralise(cell) == value


@pytest.mark.parametrize(("cell", "text"), [
    ("  整改方案\r\n第二行\r第三行  ", "整改方案\n第二行\n第三行"),
    ("\u00a0前后不间断空格\u00a0", "前后不间断空格"),  # NBSP becomes a space, then trimmed
    ("  '=SUM(A1) ", "=SUM(A1)"),  # the export's neutralising quote, inside the cell's spaces
    ("' =SUM(A1)", "' =SUM(A1)"),  # not a neutralising quote: kept
    ("'plain quote", "'plain quote"),
    (None, ""), (12.0, "12"), (True, "是"), (dt.date(2026, 3, 1), "2026-03-01"), ("", ""),
])
def test_free_text_is_the_cell_as_written(cell, text):
    """Free text (problem, target, measures, notes): trimmed, line endings unified, a neutralising
    quote removed, nothing else changed (the fast path for plain text cells keeps this)."""
    assert free_text(cell) == text


# ------------------------------------------------------------------------------------------------
# Whole-file errors


def test_a_text_file_renamed_xlsx_is_refused_clearly(world):
    preview = preview_of(world, "这不是表格，只是改了扩展名的文本。".encode(), filename="台账.xlsx")
    assert preview.file_errors == ["文件不是有效的 Excel（.xlsx）文件"]
    assert not preview.ok


def test_a_zip_that_is_not_a_workbook_is_refused(world):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    assert preview_of(world, out.getvalue()).file_errors == ["文件不是有效的 Excel（.xlsx）文件"]


def test_an_empty_workbook_is_refused(world):
    preview = preview_of(world, empty_workbook())
    assert len(preview.file_errors) == 1 and "工作表为空" in preview.file_errors[0]


def test_wrong_headers_say_what_is_missing_and_what_was_found(world):
    preview = preview_of(world, plain_workbook(["姓名", "电话", "地址"], [["张三", "138", "某地"]]))
    [error] = preview.file_errors
    for missing in ["问题/任务名称", "责任单位", "整改时限"]:
        assert missing in error
    assert "姓名" in error and "电话" in error


def test_a_file_over_the_size_limit_is_refused(world, settings):
    settings.IMPORT_MAX_BYTES = 100
    preview = preview_of(world, office_workbook(generated_rows(3, units=["零陵区"])))
    assert "文件过大" in preview.file_errors[0]


def test_only_the_office_may_import(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        preview_of(world, office_workbook([]), persona="reporter_a")


# ------------------------------------------------------------------------------------------------
# The office layout


def test_an_office_ledger_with_merged_headers_and_text_dates_is_read(world):
    rows = [
        {"序号": 1, "任务编号": "X-01", "问题/任务名称": "零陵区城区黑臭水体反弹", "问题描述": "督察发现，\n城区黑臭水体反弹。",
         "整改目标": "消除黑臭", "整改措施": "1.排查排口\n2.截污纳管\n3.清淤", "责任单位": "零陵区人民政府、祁阳市",
         "牵头督导单位": "生态环境局", "配合单位": "住建局", "责任领导": "包零陵市领导", "整改时限": "2022年12月底",
         "整改进展": "已完成排查", "问题类别": "水污染防治", "督察问题编号": "二-3"},
        {"序号": 2, "任务编号": "Ｘ－02", "问题/任务名称": "  垃圾填埋场渗滤液超标 ", "整改措施": "（1）建设处理站（2）在线监测",
         "责任单位": "祁阳市\n零陵区", "整改时限": "长期坚持（2025年底前见效）", "问题类别": "环境基础设施"},
        {"序号": 3, "任务编号": "X-03", "问题/任务名称": "矿山未修复", "整改措施": "编制修复方案并实施",
         "责任单位": "零陵区（牵头）；市住房和城乡建设局", "整改时限": dt.datetime(2023, 6, 30)},
        {"序号": 4, "任务编号": "X-04", "问题/任务名称": "立行立改问题", "责任单位": "零陵区",
         "整改时限": "立行立改，2021年12月底前"},
        {},  # a blank row is ignored
        {"序号": 6},  # so is a template row with only its 序号
    ]
    data = office_workbook(rows, extra=["问题类别", "督察问题编号"])
    preview = preview_of(world, data)
    assert preview.file_errors == []
    assert [r.errors for r in preview.rows] == [[], [], [], []], [r.errors for r in preview.rows]
    assert preview.header_row == 2 and preview.ok
    first, second, third, fourth = (r.data for r in preview.rows)
    assert first.code == "X-01" and first.problem == "督察发现，\n城区黑臭水体反弹。"  # full-width text kept
    assert [u.name for u in first.responsible_units] == ["零陵区", "祁阳市"]
    assert first.lead_supervisor == world.dept_env and first.co_supervisors == [world.dept_housing]
    assert first.leader == world.users["leader_a"]
    assert (first.deadline_kind, first.deadline) == (DeadlineKind.BY_DATE, D(2022, 12, 31))
    assert [m.text for m in first.measures] == ["排查排口", "截污纳管", "清淤"]
    assert first.category == Category.WATER and first.inspection_number == "二-3"
    assert second.code == "X-02" and second.title == "垃圾填埋场渗滤液超标"
    assert [u.name for u in second.responsible_units] == ["祁阳市", "零陵区"]
    assert (second.deadline_kind, second.deadline) == (DeadlineKind.LONG_TERM, D(2025, 12, 31))
    assert [m.text for m in second.measures] == ["建设处理站", "在线监测"]
    assert [u.name for u in third.responsible_units] == ["零陵区", "市住房和城乡建设局"]
    assert (third.deadline_kind, third.deadline) == (DeadlineKind.BY_DATE, D(2023, 6, 30))
    assert [m.text for m in third.measures] == ["编制修复方案并实施"]
    assert (fourth.deadline_kind, fourth.deadline) == (DeadlineKind.IMMEDIATE, D(2021, 12, 31))
    assert {r.action for r in preview.rows} == {"create"}

    before = Task.objects.count()
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert result.ok and result.created == 4
    assert Task.objects.count() == before + 4
    task = Task.objects.get(campaign=world.campaign, code="X-01")
    assert task.status == TaskStatus.ACTIVE
    primary = task.task_units.get(role=UnitRole.RESPONSIBLE, is_primary=True)
    assert primary.unit == world.county_a
    event = Event.objects.filter(action="task_created", object_id=str(task.pk)).get()
    assert "Excel 导入：台账.xlsx" in event.summary
    summary = Event.objects.filter(action="ledger_imported").get()
    assert summary.after["file"] == "台账.xlsx" and summary.after["created"] == 4
    assert summary.after["sm3"] == sm3_hex(data)


def test_a_task_spread_over_merged_rows_is_one_task(world):
    # One task, three rows: 序号/编号/名称/单位/时限 merged down, one measure per row.
    rows = [{"整改措施": "排查排口"}, {"整改措施": "截污纳管"}, {"整改措施": "清淤疏浚"},
            {"序号": 2, "任务编号": "M-02", "问题/任务名称": "下一个问题", "责任单位": "祁阳市", "整改时限": "2023年6月"}]
    merged = [(0, 2, "序号", 1), (0, 2, "任务编号", "M-01"), (0, 2, "问题/任务名称", "黑臭水体"),
              (0, 2, "责任单位", "零陵区"), (0, 2, "整改时限", "2023年12月底"), (0, 2, "责任领导", "包零陵市领导")]
    preview = preview_of(world, office_workbook(rows, merged_rows=merged))
    assert preview.ok, [r.errors for r in preview.rows]
    assert [r.code for r in preview.rows] == ["M-01", "M-02"]
    assert [m.text for m in preview.rows[0].data.measures] == ["排查排口", "截污纳管", "清淤疏浚"]
    assert preview.rows[0].data.leader == world.users["leader_a"]


def test_row_errors_are_named_in_chinese(world):
    rows = [
        {"序号": 1, "任务编号": "E-01", "问题/任务名称": "单位不存在", "责任单位": "零陵区、不存在县", "整改时限": "2023年6月"},
        {"序号": 2, "任务编号": "E-02", "问题/任务名称": "时限错误", "责任单位": "零陵区", "整改时限": "尽快"},
        {"序号": 3, "任务编号": "E-03", "责任单位": "零陵区", "整改时限": "2023年6月"},
        {"序号": 4, "任务编号": "E-01", "问题/任务名称": "编号重复", "责任单位": "零陵区", "整改时限": "2023年6月"},
        {"序号": 5, "任务编号": "E-05", "问题/任务名称": "领导不存在", "责任单位": "零陵区", "整改时限": "2023年6月",
         "责任领导": "王五"},
        {"序号": 6, "问题/任务名称": "没有编号", "责任单位": "零陵区", "整改时限": "2023年6月"},
    ]
    preview = preview_of(world, office_workbook(rows))
    errors = {r.number: "；".join(r.errors) for r in preview.rows}
    assert "责任单位「不存在县」不存在" in errors[4]
    assert "整改时限「尽快」无法识别" in errors[5]
    assert "缺少问题/任务名称和问题描述" in errors[6]
    assert "任务编号 E-01 与第 4 行重复" in errors[7]
    assert "责任领导「王五」不存在或不是市领导账户" in errors[8]
    assert "任务编号为空" in errors[9]
    assert not preview.ok
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert not result.ok and "有 6 行存在错误" in result.summary()


def test_without_a_code_column_codes_come_from_the_sequence_number(world):
    headers = ["序号", "问题名称", "主体责任单位", "完成时限", "整改措施"]
    data = plain_workbook(headers, [[1, "问题甲", "零陵区", "2023年6月", "方案"], [2, "问题乙", "祁阳市", "长期坚持", ""],
                                    ["三", "问题丙", "祁阳市", "长期坚持", ""]])
    preview = preview_of(world, data)
    assert any("按序号生成编号" in n and "T-2021-001" in n for n in preview.notes)
    assert [r.code for r in preview.rows[:2]] == ["T-2021-001", "T-2021-002"]
    assert "序号「三」不是数字" in preview.rows[2].errors[0]


def test_a_row_with_an_unknown_unit_among_500_good_rows_blocks_the_whole_import(world):
    rows = generated_rows(500, units=["零陵区", "祁阳市"])
    rows.insert(250, {**rows[0], "序号": 999, "任务编号": "BAD-1", "责任单位": "零陵区、火星县"})
    preview = preview_of(world, office_workbook(rows))
    [bad] = preview.error_rows
    assert bad.number == 4 + 250 and bad.errors == ["责任单位「火星县」不存在（未找到该名称、简称或别名）"]
    assert preview.create_count == 500
    tasks, events = Task.objects.count(), Event.objects.count()
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert not result.ok
    assert Task.objects.count() == tasks and Event.objects.count() == events


def test_a_failure_midway_rolls_everything_back(world):
    rows = generated_rows(20, units=["零陵区"])
    preview = preview_of(world, office_workbook(rows))
    assert preview.ok
    # Someone creates one of the codes between preview and commit: the service refuses that row.
    from rectify.ledger import services

    services.create_task(actor=world.users["office_staff"], campaign=world.campaign,
                         data=services.TaskInput(code="G-00015", title="抢先建的任务"))
    tasks = Task.objects.count()
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert not result.ok and "G-00015" in result.errors[0] and "已存在" in result.errors[0]
    assert Task.objects.count() == tasks


def test_a_thousand_rows_are_imported_in_one_go(world):
    """The size of a real batch; the 10,000-row figure is measured in bench/ (bench/ledger_excel.py)."""
    rows = generated_rows(1_000, units=["零陵区", "祁阳市", "零陵区人民政府"], leader="包零陵市领导")
    preview = preview_of(world, office_workbook(rows))
    assert preview.ok and preview.create_count == 1_000
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert result.ok and result.created == 1_000
    assert Task.objects.filter(campaign=world.campaign, code__startswith="G-").count() == 1_000
    assert verify_chain().ok


def test_reimporting_the_same_file_updates_by_code(world):
    rows = generated_rows(30, units=["零陵区", "祁阳市"])
    excel.commit_import(preview_of(world, office_workbook(rows)), actor=world.users["office_admin"])
    task = Task.objects.get(campaign=world.campaign, code="G-00007")
    assert task.version == 1
    measure_ids = list(task.measures.values_list("id", flat=True))
    count = Task.objects.count()

    rows[6]["整改进展"] = "已完成管网建设 12 公里"
    rows[6]["整改措施"] = "1.制定整改方案\n2.完成管网建设\n3.组织验收\n4.开展回头看"
    preview = preview_of(world, office_workbook(rows))
    assert (preview.create_count, preview.update_count, preview.unchanged_count) == (0, 1, 29)
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 1, 29)
    assert Task.objects.count() == count
    task.refresh_from_db()
    assert task.progress_note == "已完成管网建设 12 公里" and task.version == 2
    assert list(task.measures.values_list("id", flat=True))[:3] == measure_ids  # same measures kept
    assert task.measures.count() == 4
    assert Task.objects.get(campaign=world.campaign, code="G-00008").version == 1


def test_an_update_without_some_columns_leaves_those_fields_alone(world):
    world.task_a.refresh_from_db()
    data = plain_workbook(["任务编号", "问题名称", "责任单位", "整改时限"],
                          [["T-01", "零陵区城区污水管网建设滞后（修订）", "零陵区", "2026年12月31日"]])
    preview = preview_of(world, data)
    assert preview.ok and preview.rows[0].action == "update"
    excel.commit_import(preview, actor=world.users["office_admin"])
    task = Task.objects.get(pk=world.task_a.pk)
    assert task.title.endswith("（修订）")
    assert task.category == Category.WATER and task.measures.count() == 2  # no such columns in the file
    assert task.task_units.filter(role=UnitRole.LEAD_SUPERVISOR, unit=world.dept_env).exists()


def test_a_re_import_reads_tasks_as_the_edit_form_does_without_a_query_per_task(world, django_assert_num_queries):
    from django.db.models import Prefetch

    from rectify.ledger.models import Measure, TaskUnit
    from rectify.ledger.services import task_input_from

    task = (Task.objects.select_related("leader")
            .prefetch_related(Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")),
                              Prefetch("measures", queryset=Measure.objects.select_related("owner_unit")))
            .get(pk=world.task_a.pk))
    with django_assert_num_queries(0):
        prefetched = task_input_from(task, prefetched=True)
    assert prefetched == task_input_from(Task.objects.get(pk=world.task_a.pk))
    assert [m.text for m in prefetched.measures] == ["制定整改方案", "完成管网建设"]
    assert prefetched.responsible_units == [world.county_a] and prefetched.lead_supervisor == world.dept_env


def test_an_edit_between_preview_and_commit_is_not_overwritten(world):
    from rectify.ledger import services

    data = plain_workbook(["任务编号", "问题名称", "责任单位", "整改时限"],
                          [["T-01", "从表格改的名称", "零陵区", "2026年12月31日"]])
    preview = preview_of(world, data)
    task = Task.objects.get(pk=world.task_a.pk)
    edit = services.task_input_from(task)
    edit.title = "他人刚改的名称"
    services.update_task(actor=world.users["office_staff"], task=task, expected_version=task.version, data=edit)
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert not result.ok and "预览之后该任务已被他人修改" in result.errors[0]
    assert Task.objects.get(pk=task.pk).title == "他人刚改的名称"


def test_a_bulk_import_records_what_the_one_task_services_record(world):
    """The import writes in bulk (ledger.services.write_tasks) and builds its events' snapshots in
    memory: they are what create_task / update_task would have recorded, read back from the rows."""
    from rectify.core.audit import jsonable
    from rectify.ledger.services import snapshot

    admin = world.users["office_admin"]
    rows = generated_rows(12, units=["零陵区", "祁阳市"], leader="包零陵市领导")
    excel.commit_import(preview_of(world, office_workbook(rows)), actor=admin)
    created = list(Task.objects.filter(campaign=world.campaign, code__startswith="G-"))
    assert len(created) == 12
    for task in created:
        event = Event.objects.get(action="task_created", object_id=str(task.pk))
        assert event.after == jsonable(snapshot(task)) and event.object_label == str(task)
        assert task.status == TaskStatus.ACTIVE and task.version == 1
    rows[2]["整改进展"] = "已完成管网建设 3 公里"
    rows[2]["整改措施"] = "1.制定整改方案\n2.完成雨污分流"
    excel.commit_import(preview_of(world, office_workbook(rows)), actor=admin)
    task = Task.objects.get(campaign=world.campaign, code="G-00003")
    event = Event.objects.get(action="task_updated", object_id=str(task.pk))
    assert set(event.after) == {"progress_note", "measures"}
    assert event.after == {k: jsonable(snapshot(task))[k] for k in event.after}
    assert event.before["measures"][1]["text"] == "完成管网建设" and task.version == 2
    assert "修改整改任务 G-00003：整改进展、整改措施（来源：Excel 导入：台账.xlsx）" == event.summary
    assert verify_chain().ok


def test_a_bulk_write_stores_new_tasks_with_the_status_a_recomputation_gives(world):
    """New tasks go in with their derived status computed in memory (ledger.new_task_status, no
    reports yet): recomputing every one of them afterwards, as the daily tick does, changes nothing.
    Each deadline kind, past and future deadlines, measures done and not, and a draft missing its
    essentials."""
    from django.utils import timezone

    from rectify.ledger import services
    from rectify.supervision.services import refresh_statuses

    admin, today = world.users["office_admin"], timezone.localdate()
    shapes = [
        {"deadline_kind": DeadlineKind.BY_DATE, "deadline": today - dt.timedelta(days=40)},   # overdue
        {"deadline_kind": DeadlineKind.BY_DATE, "deadline": today + dt.timedelta(days=3)},    # due soon
        {"deadline_kind": DeadlineKind.BY_DATE, "deadline": today + dt.timedelta(days=400),
         "start_date": today - dt.timedelta(days=300)},                                        # behind schedule
        {"deadline_kind": DeadlineKind.LONG_TERM, "deadline": None},
        {"deadline_kind": DeadlineKind.IMMEDIATE, "deadline": None},
        {"deadline_kind": "", "deadline": None},                                               # a draft
    ]
    writes = [services.TaskWrite(data=services.TaskInput(
        code=f"S-{i}", title=f"状态{i}", problem="问题" if i % 6 != 5 else "", category=Category.WATER,
        responsible_units=[world.county_a], lead_supervisor=world.dept_env,
        measures=[services.MeasureInput(text=f"措施{k}", done=k <= i % 3) for k in range(1, 1 + i % 4)],
        **shape)) for i, shape in enumerate(shapes * 2)]
    assert services.write_tasks(actor=admin, campaign=world.campaign, writes=writes) == (12, 0)
    new = Task.objects.filter(campaign=world.campaign, code__startswith="S-")
    stored = {t.pk: (t.progress_status, t.warning_colour, t.expected_percent, t.actual_percent, t.status_reasons,
                     t.status_computed_on) for t in new}
    assert all(v[0] and v[5] == today for v in stored.values()), stored
    assert len({v[0] for v in stored.values()}) >= 3  # several statuses, not one default
    assert refresh_statuses(tasks=new, today=today) == 0
    assert not Event.objects.filter(action="task_statuses_computed").exists()  # nothing computed afterwards


def test_rows_sharing_a_deadline_cell_each_get_its_reading(world):
    """A 整改时限 cell is parsed once per file and its result given to every row that has it:
    each row still gets its own error or note, and a date cell and the same text read alike."""
    rows = generated_rows(6, units=["零陵区"])
    for row, deadline in zip(rows, ["尽快", "2023年6月、2023年12月", "尽快", "2023年6月、2023年12月",
                                    dt.datetime(2023, 6, 30), "2023年6月30日"], strict=True):
        row["整改时限"] = deadline
    preview = preview_of(world, office_workbook(rows))
    by_code = {r.code: r for r in preview.rows}
    for code in ("G-00001", "G-00003"):
        assert any("整改时限「尽快」无法识别" in e for e in by_code[code].errors), by_code[code].errors
    for code in ("G-00002", "G-00004"):
        row = by_code[code]
        assert not row.errors and row.data.deadline == dt.date(2023, 12, 31)
        assert any("整改时限含多个日期" in w for w in row.warnings), row.warnings
    assert by_code["G-00005"].data.deadline == by_code["G-00006"].data.deadline == dt.date(2023, 6, 30)


def test_a_bulk_write_refuses_a_code_the_campaign_already_holds_and_writes_nothing(world):
    """write_tasks checks the new codes against the campaign's (one read of its code index): a
    task created between an import's preview and its commit makes the whole write refused, with
    the row named; an existing code elsewhere in the ledger does not count."""
    from rectify.ledger import services

    admin = world.users["office_admin"]
    existing = Task.objects.filter(campaign=world.campaign).order_by("code").first()
    other = services.create_campaign(actor=admin, code="OTHER-1", name="另一批次", kind="city", feedback_date=None)

    def new(code: str) -> services.TaskWrite:
        return services.TaskWrite(data=services.TaskInput(
            code=code, title=f"任务{code}", problem="问题", category=Category.WATER,
            responsible_units=[world.county_a], lead_supervisor=world.dept_env,
            deadline_kind=DeadlineKind.LONG_TERM, measures=[services.MeasureInput(text="措施")]))

    before, events = Task.objects.count(), Event.objects.count()
    writes = [new("N-1"), new("N-2"), new(existing.code), new("N-3")]
    with pytest.raises(services.BulkWriteError) as refused:
        services.write_tasks(actor=admin, campaign=world.campaign, writes=writes)
    assert refused.value.write is writes[2]
    assert f"任务编号 {existing.code} 在批次" in " ".join(refused.value.cause.messages)
    assert (Task.objects.count(), Event.objects.count()) == (before, events)
    # the same code in another campaign is a new task there
    assert services.write_tasks(actor=admin, campaign=other, writes=[new(existing.code)]) == (1, 0)


def test_an_import_runs_as_many_queries_for_40_rows_as_for_10(world):
    """Checked and built before the transaction, written in bulk: the queries do not grow with the
    rows (but for the batches a database's limit on parameters cuts an INSERT into: 49 tasks on
    SQLite)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = world.users["office_admin"]
    units = ["零陵区", "祁阳市"]
    excel.commit_import(preview_of(world, office_workbook(generated_rows(200, units=units))), actor=admin)
    counts = []
    for first, n in ((1, 10), (101, 40)):  # n/2 rows changed, n/2 new
        rows = generated_rows(n // 2, units=units, start=first) + generated_rows(n // 2, units=units, start=first + 200)
        for row in rows[:n // 2]:
            row["整改进展"] = "第二次导入"
        preview = preview_of(world, office_workbook(rows))
        assert (preview.create_count, preview.update_count) == (n // 2, n // 2)
        with CaptureQueriesContext(connection) as queries:
            result = excel.commit_import(preview, actor=admin)
        assert result.ok and (result.created, result.updated) == (n // 2, n // 2)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert verify_chain().ok


# ------------------------------------------------------------------------------------------------
# Export


def test_export_has_the_office_layout(world):
    rows = read_sheet(export_bytes(world.users["office_admin"]))
    assert rows[0] == ["序号", "任务编号", "问题/任务名称", "问题描述", "整改目标", "整改措施", "责任单位", "牵头督导单位",
                       "配合单位", "责任领导", "整改时限", "整改进展", "完成情况", "问题类别", "督察问题编号", "状态", "整改批次",
                       "开始日期", "位置", "纬度", "经度"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["开始日期"] == "2021年7月16日" and first["位置"] == ""
    assert first["任务编号"] == "T-01" and first["整改措施"] == "1.制定整改方案\n2.完成管网建设"
    assert first["整改时限"] == "2026年12月31日" and first["责任单位"] == "零陵区" and first["牵头督导单位"] == "市生态环境局"
    assert first["问题类别"] == "水污染防治" and first["状态"] == "整改中"
    event = Event.objects.filter(action="ledger_exported").get()
    assert event.after["rows"] == 2 and event.actor_name == "admin1"


def test_export_runs_as_many_queries_for_50_tasks_as_for_5_and_labels_every_choice(world):
    """The export streams values_list rows with the units and measures of 2,000 tasks per query,
    and choice labels looked up once: its queries do not grow with the tasks, its cells say what
    the task page says."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rectify.ledger import services

    admin = world.users["office_admin"]
    categories = list(Category.values)

    def add(first: int, n: int) -> None:
        services.write_tasks(actor=admin, campaign=world.campaign, writes=[services.TaskWrite(data=services.TaskInput(
            code=f"Q-{i:03d}", title=f"第{i}号问题", problem="问题描述" if i % 4 else "",
            category=categories[i % len(categories)], responsible_units=[world.county_a, world.county_b][:1 + i % 2],
            lead_supervisor=world.dept_env, leader=world.users["leader_a"] if i % 3 == 0 else None,
            deadline_kind=DeadlineKind.BY_DATE, deadline=D(2026, 6, 30),
            measures=[services.MeasureInput(text=f"措施{k}") for k in range(1, 1 + i % 3)]))
            for i in range(first, first + n)])

    counts = []
    for first, n in ((1, 3), (4, 45)):  # the world's 2 tasks + 3 = 5, then 50
        add(first, n)
        with CaptureQueriesContext(connection) as queries:
            data = export_bytes(admin)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    rows = read_sheet(data)
    assert len(rows) == 51 and [r[0] for r in rows[1:]] == list(range(1, 51))
    tasks = {t.code: t for t in Task.objects.select_related("leader")}
    for row in rows[1:]:
        cells = dict(zip(rows[0], row, strict=True))
        task = tasks[cells["任务编号"]]
        assert cells["问题类别"] == task.get_category_display() and cells["状态"] == task.get_status_display()
        assert cells["责任领导"] == (task.leader.display_name if task.leader else "")
        assert cells["整改措施"] == "\n".join(f"{k}.{m.text}" for k, m in enumerate(task.measures.all(), start=1))
        assert cells["责任单位"] == "、".join(tu.unit.name for tu in task.task_units.filter(role=UnitRole.RESPONSIBLE)
                                           .order_by("ordinal"))
    assert {r[rows[0].index("状态")] for r in rows[1:]} >= {"草稿", "整改中"}
    assert {r[rows[0].index("问题类别")] for r in rows[1:]} == {str(label) for label in Category.labels}


def test_export_respects_scope_and_filters(world):
    codes = lambda rows: [r[1] for r in rows[1:]]  # noqa: E731
    assert codes(read_sheet(export_bytes(world.users["reporter_b"]))) == ["T-02"]
    assert codes(read_sheet(export_bytes(world.users["reporter_a"]))) == ["T-01"]
    assert codes(read_sheet(export_bytes(world.users["office_admin"], TaskFilter(county=world.county_b.pk)))) == ["T-02"]
    assert read_sheet(export_bytes(world.users["discipline"])) == [read_sheet(export_bytes(world.users["office_admin"]))[0]]
    # through the web, with the list page's own filter parameters
    response = world.client("reporter_b").get("/ledger/export.xlsx")
    assert response.status_code == 200
    assert "filename*=utf-8''%E6%95%B4%E6%94%B9%E5%8F%B0%E8%B4%A6-" in response["Content-Disposition"]
    assert codes(read_sheet(b"".join(response.streaming_content))) == ["T-02"]
    response = world.client("office_admin").get("/ledger/export.xlsx", {"q": "垃圾填埋场"})
    assert codes(read_sheet(b"".join(response.streaming_content))) == ["T-02"]
    assert Event.objects.filter(action="ledger_exported").last().after["filters"] == {"q": "垃圾填埋场"}


def test_check_20_export_then_import_round_trips_and_formulas_are_neutralised(world):
    from rectify.ledger import services

    evil = services.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=services.TaskInput(
        code="T-03", title="=HYPERLINK(\"http://evil.example\",\"点击查看\")", problem="+cmd|' /C calc'!A0",
        target="-1+1", progress_note="@SUM(1+1)", responsible_units=[world.county_a, world.county_b],
        co_supervisors=[world.dept_housing], leader=world.users["leader_a"], deadline_kind=DeadlineKind.LONG_TERM,
        deadline=D(2025, 12, 31), measures=[services.MeasureInput(text="=1+1"), services.MeasureInput(text="复核")]))
    data = export_bytes(world.users["office_admin"])
    rows = read_sheet(data)
    row = dict(zip(rows[0], rows[3], strict=True))
    assert row["问题/任务名称"].startswith("'=") and row["问题描述"].startswith("'+")
    assert row["整改目标"].startswith("'-") and row["整改进展"].startswith("'@")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()  # no formula anywhere

    preview = preview_of(world, data, filename="整改台账-导出.xlsx")
    assert preview.ok, [r.errors for r in preview.rows]
    assert [r.action for r in preview.rows] == ["unchanged", "unchanged", "unchanged"]
    assert "“状态”列不导入" in " ".join(preview.notes)
    parsed = preview.rows[2].data
    assert parsed.title == evil.title and parsed.problem == evil.problem and parsed.target == "-1+1"
    assert [m.text for m in parsed.measures] == ["=1+1", "复核"]
    result = excel.commit_import(preview, actor=world.users["office_admin"])
    assert result.ok and result.unchanged == 3
    assert Task.objects.get(pk=evil.pk).version == 1


# ------------------------------------------------------------------------------------------------
# The web flow and the command line


def test_web_upload_preview_confirm(world, upload_dir):
    client = world.client("office_admin")
    page = client.get("/ledger/")
    assert "/ledger/import/" in page.content.decode() and "/ledger/export.xlsx" in page.content.decode()
    form = client.get("/ledger/import/").content.decode()
    assert "上传并预览" in form and world.campaign.name in form
    data = office_workbook(generated_rows(3, units=["零陵区"]))
    upload = io.BytesIO(data)
    upload.name = "三条任务.xlsx"
    response = client.post("/ledger/import/", {"campaign": world.campaign.pk, "file": upload})
    assert response.status_code == 302 and response["Location"].endswith("/ledger/import/preview/")
    token = client.session["ledger_import"]["token"]
    stored = upload_dir / "imports" / f"{token}.xlsx"
    assert stored.read_bytes() == data

    tasks = Task.objects.count()
    page = client.get("/ledger/import/preview/").content.decode()
    assert "将新增 <strong>3</strong> 条" in page and "G-00001" in page and "确认导入" in page
    assert Task.objects.count() == tasks  # a preview writes nothing

    response = client.post("/ledger/import/confirm/")  # starts the background job (rectify/jobs)
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    assert not stored.exists() and "ledger_import" not in client.session
    assert Task.objects.count() == tasks  # nothing yet: a worker writes it
    assert run_pending() == 1
    assert Task.objects.count() == tasks + 3
    assert "导入完成：新增 3 条" in client.get(response["Location"]).content.decode()
    assert client.post("/ledger/import/confirm/").status_code == 302  # nothing pending any more
    assert Task.objects.count() == tasks + 3


def test_web_preview_with_errors_cannot_be_confirmed(world, upload_dir):
    client = world.client("office_staff")
    rows = generated_rows(3, units=["零陵区"])
    rows[1]["责任单位"] = "火星县"
    upload = io.BytesIO(office_workbook(rows))
    upload.name = "有错.xlsx"
    client.post("/ledger/import/", {"campaign": world.campaign.pk, "file": upload})
    page = client.get("/ledger/import/preview/").content.decode()
    assert "责任单位「火星县」不存在" in page and "请按下表修改文件后重新上传" in page
    assert "disabled" in page
    tasks = Task.objects.count()
    client.post("/ledger/import/confirm/")
    assert Task.objects.count() == tasks
    client.post("/ledger/import/cancel/")
    assert "ledger_import" not in client.session
    assert not list((upload_dir / "imports").glob("*.xlsx"))


def test_web_upload_of_a_non_excel_file_says_so(world):
    client = world.client("office_admin")
    upload = io.BytesIO("不是表格".encode())
    upload.name = "假的.xlsx"
    client.post("/ledger/import/", {"campaign": world.campaign.pk, "file": upload})
    page = client.get("/ledger/import/preview/").content.decode()
    assert "文件不是有效的 Excel（.xlsx）文件" in page and "disabled" in page


def test_non_office_users_cannot_import(world):
    for persona in ["reporter_a", "lead_env", "leader_a", "discipline"]:
        client = world.client(persona)
        assert client.get("/ledger/import/").status_code == 403
        upload = io.BytesIO(office_workbook(generated_rows(1, units=["零陵区"])))
        upload.name = "x.xlsx"
        assert client.post("/ledger/import/", {"campaign": world.campaign.pk, "file": upload}).status_code == 403
        assert client.post("/ledger/import/confirm/").status_code == 403
    assert "/ledger/import/" not in world.client("reporter_a").get("/ledger/").content.decode()


def test_an_office_cannot_import_into_another_offices_campaign(world):
    from rectify.ledger import services
    from rectify.orgs.models import UnitKind
    from rectify.orgs.services import create_unit

    other = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE)
    other_admin = create_user(actor=None, username="other_admin", password=PASSWORD, role=Role.OFFICE_ADMIN,
                              unit=other, display_name="外市管理员", must_change_password=False)
    foreign = services.create_campaign(actor=other_admin, code="O-1", name="外市批次", kind="central")
    upload = io.BytesIO(office_workbook(generated_rows(1, units=["零陵区"])))
    upload.name = "x.xlsx"
    response = world.client("office_admin").post("/ledger/import/", {"campaign": foreign.pk, "file": upload})
    assert response.status_code == 200 and "campaign" in response.context["form"].errors


def test_command_line_import_and_export(world, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    rows = generated_rows(5, units=["零陵区"])
    rows[2]["整改时限"] = "尽快"
    path.write_bytes(office_workbook(rows))
    args = SimpleNamespace(file=str(path), campaign="T-2021", user="admin1", commit=True)
    assert run_import(args) == 1
    out = capsys.readouterr().out
    assert "第 6 行（G-00003）：整改时限「尽快」无法识别" in out and "未写入任何数据" in out
    assert not Task.objects.filter(code__startswith="G-").exists()

    rows[2]["整改时限"] = "2023年6月"
    path.write_bytes(office_workbook(rows))
    assert run_import(SimpleNamespace(file=str(path), campaign="T-2021", user="admin1", commit=False)) == 0
    assert "仅预览" in capsys.readouterr().out and not Task.objects.filter(code__startswith="G-").exists()
    assert run_import(args) == 0
    assert "导入完成：新增 5 条" in capsys.readouterr().out
    assert Task.objects.filter(code__startswith="G-").count() == 5
    assert run_import(SimpleNamespace(file=str(path), campaign="NOPE", user="admin1", commit=False)) == 2

    out_path = tmp_path / "out.xlsx"
    assert run_export(SimpleNamespace(output=str(out_path), user="rep_b", campaign=world.campaign.pk)) == 0
    assert [r[1] for r in read_sheet(out_path.read_bytes())[1:]] == ["T-02"]


def test_the_import_write_lock_is_released_before_statuses_are_computed(world):
    """The import writes its tasks, units, measures and events in one transaction and commits. New
    tasks go in with their first status (no UPDATE at all); updated tasks' statuses follow in their
    own short transactions, so other writers do not wait for them (at 25,000 tasks they were 2.6 s
    of a 9 s write lock; docs/performance.md)."""
    from django.db import connection

    rows = generated_rows(30, units=["零陵区"])

    def commit(rows) -> dict[str, object]:
        seen: dict[str, object] = {}

        def watch(execute, sql, params, many, context):
            if "core_chainhead" in sql:
                # the import's events take the chain lock inside its transaction (the first savepoint
                # it opened, in tests; its rows go in by COPY on PostgreSQL, past this wrapper)
                seen.setdefault("import", connection.savepoint_ids[base])
            if sql.startswith("UPDATE") and "ledger_task" in sql and "progress_status" in sql and "status" not in seen:
                seen["status"] = list(connection.savepoint_ids)
            return execute(sql, params, many, context)

        preview = preview_of(world, office_workbook(rows))
        base = len(connection.savepoint_ids)
        with connection.execute_wrapper(watch):
            result = excel.commit_import(preview, actor=world.users["office_admin"])
        assert result.ok, result.summary()
        return seen

    seen = commit(rows)
    assert "import" in seen and "status" not in seen, seen  # stored with the new rows
    assert not Task.objects.filter(code__startswith="G-", progress_status="").exists()
    for row in rows[:10]:
        row["整改时限"] = "2027年6月30日"  # a date in place of 长期坚持 and others: a change of status, written later
    seen = commit(rows)
    assert "import" in seen and "status" in seen, seen
    assert seen["import"] not in seen["status"], seen


def test_the_collector_is_paused_while_a_bulk_job_runs_and_back_after_it_even_on_failure():
    """An import's rows stay alive until they are written; the cyclic collector walking them again
    and again cost a fifth of the import, so it is paused for the job and resumed after it, also
    when the job fails, and only when the last of overlapping jobs is done."""
    import gc

    from rectify.core.bulk import collection_paused

    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():  # another thread's job in the same process
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first job is still building its rows
    assert gc.isenabled()
    with pytest.raises(ValueError), collection_paused():
        raise ValueError("a refused row")
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # off before, left off
    finally:
        gc.enable()


def test_an_import_builds_and_writes_with_the_collector_paused(world):
    import gc

    from rectify.ledger import services

    admin = world.users["office_admin"]
    seen = []
    services.write_tasks(actor=admin, campaign=world.campaign, then=lambda c, u: seen.append(gc.isenabled()),
                         writes=[services.TaskWrite(data=services.TaskInput(
                             code="GC-1", title="回收", category=Category.WATER, responsible_units=[world.county_a],
                             lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.LONG_TERM))])
    assert seen == [False] and gc.isenabled()
    with pytest.raises(services.BulkWriteError):  # the same code twice: refused, nothing written
        services.write_tasks(actor=admin, campaign=world.campaign, writes=[services.TaskWrite(data=services.TaskInput(
            code="GC-2", title="回收", category=Category.WATER, responsible_units=[world.county_a],
            lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.LONG_TERM))] * 2)
    assert gc.isenabled() and not Task.objects.filter(code="GC-2").exists()


@pytest.mark.django_db
def test_work_done_meanwhile_runs_beside_the_writer_on_postgresql_and_before_it_on_sqlite():
    """An import's events and keyword rows are built while PostgreSQL takes in its COPYs (a thread
    of the writer's process), before the transaction on SQLite (whose write lock shuts out every
    other writer). Either way the work sees the request's context, hands back what it raised, and
    may not query: a query from the thread would run outside the writer's transaction."""
    import os
    import threading

    from django.db import connection

    from rectify.core.audit import current_ip
    from rectify.core.bulk import meanwhile
    from rectify.orgs.models import Unit

    token = current_ip.set("10.1.2.3")
    try:
        work = meanwhile(lambda: (threading.current_thread().name, current_ip.get()))
        name, ip = work.result()
    finally:
        current_ip.reset(token)
    beside = connection.vendor == "postgresql" and (os.cpu_count() or 1) > 1
    assert name == ("rectify-meanwhile" if beside else threading.current_thread().name)
    assert ip == "10.1.2.3"

    def refused():
        raise ValueError("第 3 行：单位不存在")

    with pytest.raises(ValueError, match="第 3 行"):
        meanwhile(refused).result()
    with pytest.raises(RuntimeError, match="ran a query"):
        meanwhile(lambda: Unit.objects.count()).result()


def test_an_import_records_the_request_address_on_every_new_task_event(world):
    """The events built meanwhile (a thread on PostgreSQL) carry the address of the request that
    imported, as record_event would."""
    from rectify.core.audit import current_ip

    rows = generated_rows(5, units=["零陵区", "祁阳市", "零陵区人民政府"], leader="包零陵市领导")
    preview = preview_of(world, office_workbook(rows))
    token = current_ip.set("192.0.2.17")
    try:
        result = excel.commit_import(preview, actor=world.users["office_admin"])
    finally:
        current_ip.reset(token)
    assert result.ok and result.created == 5, result.summary()
    events = Event.objects.filter(action="task_created", object_id__in=[
        str(pk) for pk in Task.objects.filter(campaign=world.campaign, code__startswith="G-").values_list("pk", flat=True)])
    assert list(events.values_list("ip", flat=True)) == ["192.0.2.17"] * 5
    assert verify_chain().ok


def test_a_leader_cell_read_once_per_file_still_marks_every_row_that_has_it(world):
    """resolve_leader reads the same cell text once per file: each row still gets its own warning
    or error, and a row's messages are not another row's."""
    rows = generated_rows(4, units=["零陵区"], leader="包零陵市领导、王五")
    rows[2]["责任领导"] = "王五"
    rows[3]["责任领导"] = "王五"
    preview = preview_of(world, office_workbook(rows))
    by_number = {r.number: r for r in preview.rows}
    first, second, third, fourth = (by_number[n] for n in sorted(by_number))
    for row in (first, second):
        assert row.data.leader == world.users["leader_a"] and not row.errors
        assert row.warnings.count("责任领导写了 2 位，任务只能指定一位，取第一位「包零陵市领导」") == 1
    for row in (third, fourth):
        assert row.errors == ["责任领导「王五」不存在或不是市领导账户"]
