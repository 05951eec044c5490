"""Crafted workbooks are refused before they are read (SECURITY.md checks 19 and 21): a cell at
ZZ200000 beside A1 (a dense grid of 140 million cells), a cell longer than Excel allows, a zip of
thousands of entries. Each gets a Chinese message saying what is wrong; nothing is written."""

from __future__ import annotations

import io
import resource
import zipfile

import pytest
import xlsxwriter

from rectify.ledger import excel
from rectify.ledger.models import Task
from tests.excel_helpers import office_workbook, plain_workbook


def far_cell_workbook() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("台账")
    sheet.write_string(0, 0, "序号")
    sheet.write_string(199_999, 701, "x")  # ZZ200000
    book.close()
    return out.getvalue()


def with_entry(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, content if item.filename == name else source.read(item))
        if name not in source.namelist():
            target.writestr(name, content)
    return out.getvalue()


def preview(world, data: bytes):
    return excel.parse_workbook(data, campaign=world.campaign, actor=world.users["office_admin"], filename="x.xlsx")


def test_a_cell_far_away_is_refused_without_building_the_sheet(world):
    data = far_cell_workbook()
    assert len(data) < 10_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = preview(world, data)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.file_errors and "工作表范围过大" in result.file_errors[0] and "ZZ200000" in result.file_errors[0]
    assert grown_mb < 200  # without the check calamine asks for gigabytes here


def test_a_cell_longer_than_excel_allows_is_refused(world):
    base = plain_workbook(["序号", "问题"], [[1, "短"]])
    strings = with_entry(base, "xl/sharedStrings.xml",
                         b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                         b"<si><t>" + "长".encode() * 200_000 + b"</t></si></sst>")
    result = preview(world, strings)
    assert result.file_errors and "超过 Excel 的上限" in result.file_errors[0]


def test_a_zip_of_thousands_of_entries_is_refused(world):
    data = plain_workbook(["序号"], [[1]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        for n in range(2_100):
            target.writestr(f"xl/media/pad{n}.bin", b"")
    result = preview(world, out.getvalue())
    assert result.file_errors and "条目过多" in result.file_errors[0]


def test_the_web_import_says_why_and_writes_nothing(world, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path
    client = world.client("office_admin")
    tasks = Task.objects.count()
    upload = io.BytesIO(far_cell_workbook())
    upload.name = "台账.xlsx"
    response = client.post("/ledger/import/", {"campaign": world.campaign.pk, "file": upload}, follow=True)
    assert "工作表范围过大" in response.content.decode()
    assert Task.objects.count() == tasks


def test_an_ordinary_ledger_still_reads(world):
    from tests.excel_helpers import generated_rows

    result = preview(world, office_workbook(generated_rows(5, units=["零陵区"])))
    assert not result.file_errors and len(result.rows) == 5


SHEET_HEAD = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\xba\x8f\xe5\x8f\xb7</t></is></c></row>')


@pytest.mark.parametrize("body, where", [
    (b"<row r='300000'><c r='B300000'><v>1</v></c></row>", "B300000"),  # single quotes, as XML allows
    (b'<row r="150000" spans="1:1"></row>', "A150000"),  # an empty row far down still sizes the grid
    (b'<row r="2"><c s="0"\n r="ZZ2"><v>1</v></c></row>', "ZZ2"),  # r= after a line break
])
def test_a_far_position_written_any_way_xml_allows_is_refused(world, body, where):
    base = plain_workbook(["序号", "问题"], [[1, "短"]])
    result = preview(world, with_entry(base, "xl/worksheets/sheet1.xml", SHEET_HEAD + body + b"</sheetData></worksheet>"))
    assert result.file_errors and "工作表范围过大" in result.file_errors[0] and where in result.file_errors[0]


@pytest.mark.parametrize("offset", [0, (1 << 20) - 40_000, (1 << 20) - 3])
def test_a_long_text_is_found_wherever_it_falls_against_the_reading_chunks(world, offset):
    """The text is read in 1 MB chunks: a stretch across a chunk's edge counts whole."""
    base = plain_workbook(["序号", "问题"], [[1, "短"]])
    filler = b"<t>x</t>" * (offset // 8)
    strings = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si>'
               + filler + b"<t>" + b"a" * (32_767 * 4 + 10) + b"</t></si></sst>")
    result = preview(world, with_entry(base, "xl/sharedStrings.xml", strings))
    assert result.file_errors and "超过 Excel 的上限" in result.file_errors[0]
    just_fits = strings.replace(b"a" * (32_767 * 4 + 10), b"a" * 1000)
    assert "超过 Excel 的上限" not in " ".join(preview(world, with_entry(base, "xl/sharedStrings.xml", just_fits)).file_errors)
