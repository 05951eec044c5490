"""Crafted .docx plans (SECURITY.md check 19): the package is measured before python-docx opens it,
so a few hundred kilobytes cannot take gigabytes and minutes. Each file below took 1.4-2.2 GB or
over two minutes before the bounds (issue: a 290 KB docx took 2.7 GB and 75 s)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile

import pytest

from rectify.planparse import PlanParseError, parse_plan
from rectify.planparse.reader import MAX_DOCX_BLOCKS

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>')


def package(body: bytes, *, prefix: str = "w", extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        namespace = W.replace("xmlns:w", f"xmlns:{prefix}").encode()
        zf.writestr("word/document.xml", b'<?xml version="1.0" encoding="UTF-8"?><' + prefix.encode()
                    + b":document " + namespace + b"><" + prefix.encode() + b":body>" + body
                    + b"</" + prefix.encode() + b":body></" + prefix.encode() + b":document>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


CELL = b"<w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc>"
CRAFTED = {
    # 2,000 rows x 1,000 cells in 283 KB
    "two million cells": lambda: package(b"<w:tbl>" + (b"<w:tr>" + CELL * 1000 + b"</w:tr>") * 2000 + b"</w:tbl>"),
    # 15 million empty paragraphs in 132 KB (90 MB of XML)
    "fifteen million paragraphs": lambda: package(b"<w:p/>" * 15_000_000),
    # the same, under another namespace prefix, just under the unzipped cap
    "one million paragraphs, other prefix": lambda: package(b"<x:p/>" * 1_000_000, prefix="x"),
    # entries
    "1,500 entries": lambda: package(b"<w:p/>", extra={f"m/{i}.xml": b"<a/>" for i in range(1500)}),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_check_19_crafted_docx_is_refused_before_it_is_opened(name):
    data = CRAFTED[name]()
    assert len(data) < 400_000
    with pytest.raises(PlanParseError, match="Word 文档"):
        parse_plan(data, filename="方案.docx")


def test_merged_cells_spanning_a_huge_grid_are_read_once():
    """python-docx's row.cells repeats a merged cell once per grid column it spans: a gridSpan of
    50,000 in 20 cells x 100 rows ran for over two minutes. Cells are now read as written."""
    span = b'<w:tc><w:tcPr><w:gridSpan w:val="50000"/></w:tcPr><w:p><w:r><w:t>\xe5\x90\x88\xe5\xb9\xb6</w:t></w:r></w:p></w:tc>'
    data = package(b"<w:tbl>" + (b"<w:tr>" + span * 20 + b"</w:tr>") * 100 + b"</w:tbl>")
    from rectify.planparse.reader import read_source

    blocks, _ = read_source(data, "方案.docx")
    assert len(blocks) == 1 and len(blocks[0].rows) == 100
    assert blocks[0].rows[0] == ["合并"] * 20


def test_too_many_paragraphs_under_the_tag_cap_is_refused():
    data = package(b"<w:p/>" * (MAX_DOCX_BLOCKS + 1))
    with pytest.raises(PlanParseError, match=str(MAX_DOCX_BLOCKS)):
        parse_plan(data, filename="方案.docx")


def test_worst_file_under_the_caps_stays_small_and_quick():
    """The largest body the caps let through (just under the tag cap: one paragraph of 99,000
    runs) is parsed in a fresh process under 200 MB of peak memory."""
    body = b"<w:p>" + b"<w:r><w:t>\xe4\xb8\xad\xe6\x96\x87</w:t></w:r>" * 99_000 + b"</w:p>"
    script = textwrap.dedent("""
        import json, re, sys
        from rectify.planparse import PlanParseError, parse_plan
        data = sys.stdin.buffer.read()
        try:
            parse_plan(data, filename="plan.docx")
            outcome = "parsed"
        except PlanParseError as exc:
            outcome = str(exc)
        # VmHWM belongs to this process's own memory map (ru_maxrss would carry the forking
        # parent's high-water mark across exec).
        status = open("/proc/self/status").read()
        print(json.dumps({"outcome": outcome, "peak_kb": int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1))}))
    """)
    result = subprocess.run([sys.executable, "-c", script], input=package(body), capture_output=True,
                            timeout=120, check=True)
    figures = json.loads(result.stdout)
    assert "结构" in figures["outcome"]  # read in full, then found to hold no plan
    assert figures["peak_kb"] < 200 * 1024, figures
