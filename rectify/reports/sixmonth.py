"""The rectification report (整改落实情况报告: the 6-month report, or the same for any chosen date) as
.docx in the GB/T 9704 layout and as PDF with an embedded CJK font, plus the ledger .xlsx beside them.

The text is built once as a list of blocks (:func:`blocks`) from :class:`figures.ReportData`; the
Word and PDF renderings walk the same list, so they say the same thing. The office's narrative (an
introduction, a summary per section) is placed where it belongs; the figures are never typed.

PDF: reportlab (pure Python, on PyPI) with a TrueType CJK font, subset and embedded. Noto Sans CJK
is OpenType/CFF, which reportlab cannot embed; WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``) is
TrueType and is found by default; ``RECTIFY_PDF_FONT`` names another .ttf/.ttc. LibreOffice headless
would render the .docx itself, but it is a 300 MB install per machine and one process per
conversion; this way a PDF needs only the font.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rectify.documents.docx_layout import OfficialDocument, cn_date
from rectify.reports.figures import SECTIONS, ReportData, TaskRow

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "C:/Windows/Fonts/simsun.ttc",
]
NO_FONT = ("未找到可嵌入 PDF 的中文字体（TrueType）。请安装文泉驿微米黑（Debian/Ubuntu：apt-get install "
           "fonts-wqy-microhei），或以 RECTIFY_PDF_FONT 指定 .ttf/.ttc 字体文件；未生成任何文件。")


class FontMissing(Exception):
    pass


@dataclass
class Block:
    kind: str  # title | para | heading | subheading | table | note
    text: str = ""
    headers: list[str] | None = None
    rows: list[list[Any]] | None = None
    widths: Sequence[float] | None = None


def _rate(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "—"


def title_of(data: ReportData) -> str:
    return f"关于{data.campaign.name}整改落实情况的报告"


def _list_rows(rows: list[TaskRow], *, with_reason: bool) -> list[list[Any]]:
    return [[i, r.code, r.title, r.responsible, r.deadline, (r.reasons or r.progress_label) if with_reason
             else (r.closeout_stage or r.status_label)] for i, r in enumerate(rows, 1)]


def blocks(data: ReportData) -> list[Block]:
    t = data.totals
    out: list[Block] = [Block("title", title_of(data))]
    out.append(Block("para", f"（截至{cn_date(data.as_of)}）"))
    if data.intro:
        out += [Block("para", p) for p in data.intro.splitlines() if p.strip()]
    elif data.received_date:
        out.append(Block("para", f"{cn_date(data.received_date)}，我市收到督察报告。按照要求，现将截至"
                                 f"{cn_date(data.as_of)}的整改落实情况报告如下。"))
    else:
        out.append(Block("para", f"现将截至{cn_date(data.as_of)}的整改落实情况报告如下。"))

    def section(key: str) -> None:
        heading = dict(SECTIONS)[key]
        out.append(Block("heading", heading))
        summary = data.summaries.get(key, "").strip()
        if summary:
            out.extend(Block("para", p) for p in summary.splitlines() if p.strip())

    section("overall")
    out.append(Block("para", (
        f"{data.campaign.name}共有整改任务{t['tasks']}项。其中已销号{t['closed']}项，销号中{t['closing']}项，"
        f"整改中{t['active']}项，草稿{t['draft']}项，销号率{_rate(t['closed'], t['tasks'])}。从进度看，"
        f"序时推进{t['p_on_schedule']}项，滞后{t['p_lagging']}项，逾期{t['p_overdue']}项，已完成{t['p_closed']}项，"
        f"长期坚持{t['p_long_term']}项，未定时限{t['p_unscheduled']}项"
        + (f"，首轮报送尚未到期的未报送{t['p_not_reported']}项" if t["p_not_reported"] else "") + "。")))
    out.append(Block("table", headers=["指标", "任务数"], widths=[60, 30], rows=[
        ["整改任务总数", t["tasks"]], ["已销号", t["closed"]], ["销号中", t["closing"]], ["整改中", t["active"]],
        ["草稿", t["draft"]], ["序时推进", t["p_on_schedule"]], ["滞后", t["p_lagging"]], ["逾期", t["p_overdue"]],
        ["已完成", t["p_closed"]], ["长期坚持", t["p_long_term"]], ["未定时限", t["p_unscheduled"]],
        ["未报送", t["p_not_reported"]]]))

    headers = ["序号", "名称", "任务\n总数", "已销号", "销号中", "整改中", "序时\n推进", "滞后", "逾期", "长期\n坚持"]
    widths = [10, 40, 13, 13, 13, 13, 13, 13, 13, 13]

    def group_rows(groups: list[dict]) -> list[list[Any]]:
        return [[i, g["name"], g["tasks"], g["closed"], g["closing"], g["active"], g["p_on_schedule"], g["p_lagging"],
                 g["p_overdue"], g["p_long_term"]] for i, g in enumerate(groups, 1)]

    section("groups")
    out.append(Block("para", f"按问题类别（任务组）统计，共{len(data.by_group)}组，情况见下表。"))
    out.append(Block("table", headers=headers, rows=group_rows(data.by_group), widths=widths))
    section("counties")
    out.append(Block("para", f"按责任县市区统计（一项任务有多个责任县市区的，各计一次），共{len(data.by_county)}个，情况见下表。"
                     if data.by_county else "暂无以县市区为责任单位的任务。"))
    if data.by_county:
        out.append(Block("table", headers=headers, rows=group_rows(data.by_county), widths=widths))

    section("status")
    list_headers = ["序号", "任务\n编号", "问题/任务名称", "责任单位", "整改时限"]
    for sub, key, label, reason in (("（一）已销号任务", "closed", "销号情况", False),
                                    ("（二）销号中任务", "closing", "销号阶段", False),
                                    ("（三）滞后任务", "lagging", "滞后原因", True),
                                    ("（四）逾期任务", "overdue", "逾期原因", True)):
        rows = data.lists[key]
        out.append(Block("subheading", f"{sub}（{len(rows)}项）"))
        if rows:
            out.append(Block("table", headers=[*list_headers, label], widths=[10, 17, 45, 28, 22, 34],
                             rows=_list_rows(rows, with_reason=reason)))
        else:
            out.append(Block("para", "无。"))

    section("escalations")
    esc_total = sum(data.escalations.values())
    out.append(Block("para", f"截至{cn_date(data.as_of)}，对本批次任务共发出督办措施{esc_total}件：" + "，".join(
        f"{label}{n}件" for label, n in data.escalations.items()) + "。"))
    a = data.accountability
    out.append(Block("para", (f"追责问责（仅统计数量）：期间提出追责建议{a.get('proposed', 0)}件，立案{a.get('opened', 0)}件，"
                              f"移交纪委监委{a.get('referred', 0)}件，办结{a.get('closed', 0)}件，"
                              f"尚在办理{a.get('under_way', 0)}件。")))

    section("indicators")
    if data.indicators:
        out.append(Block("table", headers=["序号", "目标指标", "目标值", "目标年份", "完成情况"],
                         widths=[10, 50, 36, 20, 40],
                         rows=[[i, x["name"], x["target"], x["year"], x["attainment"]]
                               for i, x in enumerate(data.indicators, 1)]))
    else:
        out.append(Block("para", "暂无（尚未录入目标指标及监测数据）。"))

    section("tasks")
    out.append(Block("para", f"本批次全部{len(data.tasks)}项整改任务及其状态见下表（台账明细见同时生成的台账 Excel）。"))
    out.append(Block("table", headers=["序号", "任务\n编号", "问题/任务名称", "问题类别", "责任单位", "整改时限", "状态", "进度\n状态"],
                     widths=[10, 17, 44, 17, 25, 20, 13, 13],
                     rows=[[i, r.code, r.title, r.category, r.responsible, r.deadline, r.status_label, r.progress_label]
                           for i, r in enumerate(data.tasks, 1)]))
    n, digest = data.chain_head
    out.append(Block("note", f"审计链头（截至{cn_date(data.as_of)}）：第 {n} 条事件，SM3 {digest or '—'}。"
                             "可用 rectify verify --head N:HASH 核验本报告所依据的记录未被改动。"))
    return out


# ---- Word ----------------------------------------------------------------------------------


def render_docx(data: ReportData, path: Path) -> None:
    title = title_of(data)
    doc = OfficialDocument(title_for_properties=title, author=data.issuer)
    for b in blocks(data):
        if b.kind == "title":
            doc.title(b.text)
        elif b.kind == "heading":
            doc.heading(b.text, level=1)
        elif b.kind == "subheading":
            doc.heading(b.text, level=2)
        elif b.kind == "table":
            doc.table(b.headers or [], b.rows or [], b.widths, numeric_from=2 if (b.headers or [""])[0] == "序号" else 1)
        elif b.kind == "note":
            doc.note(b.text)
        else:
            doc.paragraph(b.text)
    doc.signature(data.issuer, data.as_of)
    doc.doc.save(str(path))


# ---- PDF -----------------------------------------------------------------------------------


def find_font() -> tuple[str, int]:
    chosen = os.environ.get("RECTIFY_PDF_FONT", "").strip()
    for path in ([chosen] if chosen else FONT_CANDIDATES):
        if path and Path(path).is_file():
            return path, 0
    raise FontMissing(NO_FONT)


def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = "RectifyCJK"
    if name not in pdfmetrics.getRegisteredFontNames():
        path, index = find_font()
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except Exception as exc:  # a CFF/OpenType font reportlab cannot embed
            raise FontMissing(NO_FONT + f"（{Path(path).name}：{exc}）") from exc
    return name


def render_pdf(data: ReportData, path: Path, progress: Callable[[float], None] | None = None) -> None:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    font = register_font()
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, firstLineIndent=24, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=28, alignment=TA_CENTER, firstLineIndent=0,
                           spaceAfter=12)
    head = ParagraphStyle("head", parent=body, fontSize=13, leading=22, firstLineIndent=0, spaceBefore=8)
    note = ParagraphStyle("note", parent=body, fontSize=9, leading=13, firstLineIndent=0, textColor=colors.grey)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    width = A4[0] - 50 * mm
    story: list[Any] = []
    items = blocks(data)
    for i, b in enumerate(items):
        if b.kind == "table":
            widths = b.widths or [1.0] * len(b.headers or [])
            scale = width / sum(widths)
            rows = [[Paragraph(escape(str(h)).replace("\n", "<br/>"), cell) for h in (b.headers or [])]]
            rows += [[Paragraph(escape("" if v is None else str(v)), cell) for v in row] for row in (b.rows or [])]
            table = LongTable(rows, colWidths=[w * scale for w in widths], repeatRows=1)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story += [table, Spacer(1, 6)]
        else:
            style = {"title": title, "heading": head, "subheading": head, "note": note}.get(b.kind, body)
            story.append(Paragraph(escape(b.text), style))
        if progress is not None and i % 5 == 0:
            progress(i / max(len(items), 1))
    story += [Spacer(1, 18), Paragraph(escape(data.issuer), ParagraphStyle("sig", parent=body, alignment=2)),
              Paragraph(escape(cn_date(data.as_of)), ParagraphStyle("date", parent=body, alignment=2))]

    def page_number(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 9)
        canvas.drawCentredString(A4[0] / 2, 15 * mm, f"— {doc.page} —")
        canvas.restoreState()

    pdf = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=28 * mm, rightMargin=22 * mm, topMargin=30 * mm,
                            bottomMargin=28 * mm, title=title_of(data), author=data.issuer)
    pdf.build(story, onFirstPage=page_number, onLaterPages=page_number)


def file_stem(data: ReportData) -> str:
    return f"{data.campaign.name}整改落实情况报告（截至{data.as_of:%Y-%m-%d}）"


