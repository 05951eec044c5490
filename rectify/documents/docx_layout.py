"""Official-document layout after GB/T 9704-2012 (党政机关公文格式), as far as Word's fonts allow.

One small builder, :class:`OfficialDocument`, lays out the elements a generated document needs
in the standard's order: 版头 (发文机关标志), 发文字号 and the red separator line, 标题, 主送机关,
正文 with 黑体/楷体 headings and tables, 落款 (署名 and 成文日期), page numbers "— 1 —".

Fonts are named as the standard names them (方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312); the
font table names a fallback for each (``w:altName``: 宋体, 仿宋, 黑体, 楷体) so that a machine without
the government fonts still shows Chinese text in the right family. See docs/documents.md.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

# Font names as GB/T 9704 names them, with the family a machine without them should use.
XIAOBIAOSONG = "方正小标宋简体"
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
FALLBACKS = {XIAOBIAOSONG: "宋体", FANGSONG: "仿宋", KAITI: "楷体", HEITI: "SimHei", SONGTI: "SimSun"}

# Chinese font sizes (字号) in points.
SIZE = {"初号": 42, "小初": 36, "一号": 26, "小一": 24, "二号": 22, "小二": 18, "三号": 16, "小三": 15,
        "四号": 14, "小四": 12, "五号": 10.5, "小五": 9}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
RED = RGBColor(0xFF, 0x00, 0x00)
BODY_PT = SIZE["三号"]
LINE_PT = 28  # 22 lines of 28 characters on a 225 mm type area: "固定值 28 磅" as offices set it
TYPE_AREA_PT = 156 / 25.4 * 72  # 版心宽 156 mm


def cn_date(day: dt.date) -> str:
    """成文日期 as GB/T 9704-2012 §7.3.5.1 writes it: Arabic numerals, no leading zeros."""
    return f"{day.year}年{day.month}月{day.day}日"


def clean_text(text: str) -> str:
    """Drop control characters XML cannot carry (pasted text sometimes has them)."""
    return _CONTROL.sub("", text)


def _text_width(text: str) -> float:
    """Width in body characters: ASCII digits and letters are half-width."""
    return sum(0.5 if ord(ch) < 0x2000 else 1 for ch in text)


def set_run_font(run, name: str, size: float | None = None, *, bold: bool | None = None,
                 colour: RGBColor | None = None) -> None:
    """Name the font for Latin and East Asian text alike (Word picks East Asian glyphs by w:eastAsia)."""
    r_pr = run._r.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    fonts.set(qn("w:hint"), "eastAsia")  # quotes and dashes take the Chinese font too
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if colour is not None:
        run.font.color.rgb = colour


def _exact(paragraph_format, points: float = LINE_PT) -> None:
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph_format.line_spacing = Pt(points)
    paragraph_format.space_before = Pt(0)
    paragraph_format.space_after = Pt(0)


def _style_fonts(style, name: str, size: float, *, bold: bool = False) -> None:
    style.font.size = Pt(size)
    style.font.bold = bold
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]  # drop theme fonts: they would override the named ones
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _add_style(styles, name: str, style_id: str):
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.style_id = style_id  # ASCII ids: raw XML below refers to them
    return style


def _add_font_fallbacks(document) -> None:
    """Declare each government font in the font table with ``w:altName`` naming its fallback."""
    part = next(p for p in document.part.package.parts if str(p.partname) == "/word/fontTable.xml")
    root = parse_xml(part.blob)
    for name, alt in FALLBACKS.items():
        font = parse_xml(
            f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
            f'<w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>')
        root.append(font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _east_asian_defaults(document) -> None:
    """Chinese language and fonts in docDefaults, without the template's theme fonts."""
    styles = document.styles.element
    r_pr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = r_pr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FANGSONG)
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


# The layout's paragraph styles by name, with their ids (``_setup_styles``). python-docx resolves a
# style name by scanning every style and then the default style for each paragraph (about 10 ms a
# paragraph on a loaded machine: most of a form's time, and a 2,000-task dossier renders thousands of
# forms); these are set by id directly, which writes the same XML (tests/test_docx_styles.py compares).
STYLE_IDS: dict[str, str | None] = {
    "Normal": None, "公文正文": "GBBody", "公文一级标题": "GBHeading1", "公文二级标题": "GBHeading2",
    "公文表格": "GBTableText", "公文表头": "GBTableHead", "公文注释": "GBNote",
}


def set_style(paragraph, name: str) -> None:
    """``paragraph.style = name`` for the layout's own styles, without python-docx's lookups."""
    if name not in STYLE_IDS:
        paragraph.style = name
        return
    paragraph._p.style = STYLE_IDS[name]  # what python-docx writes (None: the default style, no pStyle)


class OfficialDocument:
    """A document in GB/T 9704 layout. Call the element methods in the standard's order."""

    def __init__(self, *, title_for_properties: str = "", author: str = ""):
        self.doc = Document()
        self._setup_page()
        self._setup_styles()
        _east_asian_defaults(self.doc)
        _add_font_fallbacks(self.doc)
        self._page_numbers()
        props = self.doc.core_properties
        props.title, props.author, props.language = title_for_properties, author, "zh-CN"
        props.comments = "按 GB/T 9704-2012《党政机关公文格式》版式生成"
        # The template starts with one empty paragraph; keep the body exactly what we write.
        body = self.doc.element.body
        for p in body.findall(qn("w:p")):
            body.remove(p)

    # ---- page and styles ---------------------------------------------------------------

    def _setup_page(self) -> None:
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        # 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm (GB/T 9704-2012 §5.2.2)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance = Mm(15)
        section.footer_distance = Mm(22)  # page number about 7 mm below the type area

    def _setup_styles(self) -> None:
        styles = self.doc.styles
        normal = styles["Normal"]
        _style_fonts(normal, FANGSONG, BODY_PT)
        _exact(normal.paragraph_format)
        normal.paragraph_format.widow_control = False
        body = _add_style(styles, "公文正文", "GBBody")
        body.base_style = normal
        _style_fonts(body, FANGSONG, BODY_PT)
        body.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
        body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        # firstLineChars keeps the 2-character indent right if someone changes the font size.
        body.element.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")
        h1 = _add_style(styles, "公文一级标题", "GBHeading1")
        h1.base_style = body
        _style_fonts(h1, HEITI, BODY_PT)
        h1.paragraph_format.keep_with_next = True
        h2 = _add_style(styles, "公文二级标题", "GBHeading2")
        h2.base_style = body
        _style_fonts(h2, KAITI, BODY_PT)
        h2.paragraph_format.keep_with_next = True
        cell = _add_style(styles, "公文表格", "GBTableText")
        cell.base_style = normal
        _style_fonts(cell, FANGSONG, SIZE["五号"])
        cell_pf = cell.paragraph_format
        cell_pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        cell_pf.first_line_indent = Pt(0)
        head = _add_style(styles, "公文表头", "GBTableHead")
        head.base_style = cell
        _style_fonts(head, HEITI, SIZE["五号"])
        head.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        note = _add_style(styles, "公文注释", "GBNote")
        note.base_style = normal
        _style_fonts(note, FANGSONG, SIZE["小五"])
        note.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE

    def _page_numbers(self) -> None:
        """"— 1 —" in 4号半角宋体: odd pages right, even pages left, one character in (§7.5)."""
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                              (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.alignment = align
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                p.paragraph_format.right_indent = Pt(SIZE["四号"])
            else:
                p.paragraph_format.left_indent = Pt(SIZE["四号"])
            p.paragraph_format.first_line_indent = Pt(0)
            self._run(p, "— ", SONGTI, SIZE["四号"])
            self._page_field(p)
            self._run(p, " —", SONGTI, SIZE["四号"])

    def _page_field(self, paragraph) -> None:
        # A complex field (begin / instr / separate / result / end): Word, WPS and LibreOffice
        # all update it; "1" is the cached result shown before an update.
        for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"),
                           ("end", None)):
            run = paragraph.add_run()
            set_run_font(run, SONGTI, SIZE["四号"])
            if kind == "instr":
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = text
                run._r.append(instr)
            elif kind == "text":
                run.text = text
            else:
                fld = OxmlElement("w:fldChar")
                fld.set(qn("w:fldCharType"), kind)
                run._r.append(fld)

    @staticmethod
    def _run(paragraph, text: str, font: str, size: float, **kw):
        run = paragraph.add_run(clean_text(text))
        set_run_font(run, font, size, **kw)
        return run

    def _paragraph(self, text: str = "", *, style: str = "Normal", align=None):
        p = self.doc.add_paragraph()
        set_style(p, style)
        if align is not None:
            p.alignment = align
        if text:
            p.add_run(clean_text(text))
        return p

    def blank(self, lines: int = 1) -> None:
        for _ in range(lines):
            self._paragraph()

    # ---- 版头 ------------------------------------------------------------------------

    def masthead(self, issuer: str) -> None:
        """发文机关标志: red, 小标宋, centred, as large as fits one line of the type area."""
        size = SIZE["小初"]
        # A long name keeps its height and is narrowed (字符缩放), as offices set their 红头.
        scale = max(33, min(100, int(100 * TYPE_AREA_PT / (_text_width(issuer) * size))))
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        _exact(p.paragraph_format, size * 1.25)
        p.paragraph_format.space_before = Pt(LINE_PT)
        run = self._run(p, issuer, XIAOBIAOSONG, size, colour=RED)
        if scale < 100:
            w = OxmlElement("w:w")
            w.set(qn("w:val"), str(scale))
            run._r.get_or_add_rPr().insert_element_before(
                w, "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd",
                "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                "w:specVanish", "w:oMath")

    def doc_number(self, number: str) -> None:
        """发文字号, two lines below the 标志, with the red separator line 4 mm beneath it."""
        self.blank(1)
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        p.paragraph_format.first_line_indent = Pt(0)
        self._run(p, number, FANGSONG, BODY_PT)
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        # sz is in eighths of a point; space in points (4 mm ≈ 11 pt)
        for attr, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "11"), ("w:color", "FF0000")):
            bottom.set(qn(attr), value)
        borders.append(bottom)
        p_pr = p._p.get_or_add_pPr()
        # CT_PPr expects pBdr before spacing/ind/jc: insert it where the schema wants it.
        p_pr.insert_element_before(borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku",
                                   "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE",
                                   "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing",
                                   "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap",
                                   "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                                   "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                                   "w:pPrChange")

    # ---- 主体 ------------------------------------------------------------------------

    def title(self, text: str) -> None:
        """标题: 2号小标宋, centred, two lines below the red line."""
        self.blank(2)
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        _exact(p.paragraph_format, 36)
        self._run(p, text, XIAOBIAOSONG, SIZE["二号"])
        self.blank(1)

    def addressee(self, name: str) -> None:
        """主送机关: flush left, ending with a full-width colon."""
        p = self._paragraph(style="Normal")
        p.add_run(clean_text(name).rstrip("：:") + "：")

    def paragraph(self, text: str) -> None:
        self._paragraph(text, style="公文正文")

    def heading(self, text: str, level: int = 1) -> None:
        """结构层次: 一、 in 黑体, （一） in 楷体."""
        self._paragraph(text, style="公文一级标题" if level == 1 else "公文二级标题")

    def table(self, headers: Sequence[str], rows: Iterable[Sequence], widths_mm: Sequence[float] | None = None,
              numeric_from: int | None = None) -> None:
        """A ruled table in 五号 type. Built on the XML directly: thousands of rows stay fast."""
        rows = [["" if v is None else str(v) for v in row] for row in rows]
        n = len(headers)
        widths = list(widths_mm) if widths_mm else [156 / n] * n
        scale = 156 / sum(widths)
        widths = [w * scale for w in widths]
        table = self.doc.add_table(rows=1, cols=n)
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl = table._tbl
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        tbl.tblPr.insert_element_before(layout, "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
                                        "w:tblPrChange")
        # Narrow cell margins (1 mm): eight figure columns must fit the 156 mm type area.
        tbl.tblPr.insert_element_before(parse_xml(
            f'<w:tblCellMar {nsdecls("w")}><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/>'
            '</w:tblCellMar>'), "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
        for grid_col, width in zip(tbl.tblGrid.gridCol_lst, widths, strict=True):
            grid_col.w = Mm(width)
        header_tr = tbl.tr_lst[0]
        header_tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeat on each page
        for tc, text, width in zip(header_tr.tc_lst, headers, widths, strict=True):
            tc.width = Mm(width)
            tc.get_or_add_tcPr().vAlign_val = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = tc.p_lst[0]
            p.style = "GBTableHead"
            for n, line in enumerate(text.split("\n")):  # "\n" breaks a long header where it reads well
                r = p.add_r()
                if n:
                    r.add_br()
                r.add_t(line)
        template = copy.deepcopy(header_tr)
        template.remove(template.find(qn("w:trPr")))
        for i, tc in enumerate(template.tc_lst):
            p = tc.p_lst[0]
            for r in p.r_lst:
                p.remove(r)
            p.style = "GBTableText"
            if numeric_from is not None and i >= numeric_from:
                p.get_or_add_pPr().jc_val = WD_ALIGN_PARAGRAPH.CENTER
        # Plain lxml below (not add_run): python-docx's per-character text handling dominated
        # the time of a 7,000-row list.
        r_tag, t_tag, space = qn("w:r"), qn("w:t"), qn("xml:space")
        tc_tag, p_tag = qn("w:tc"), qn("w:p")
        for row in rows:
            tr = copy.deepcopy(template)
            for tc, text in zip(tr.iterchildren(tc_tag), row, strict=True):
                text = clean_text(text)
                if text:
                    t = etree.SubElement(etree.SubElement(tc.find(p_tag), r_tag), t_tag)
                    t.text = " ".join(text.split()) if ("\n" in text or "\t" in text) else text
                    if t.text != t.text.strip():
                        t.set(space, "preserve")
            tbl.append(tr)
        self._paragraph()  # a table must not be the last element before the next block

    def field_table(self, pairs: Sequence[tuple[str, str]], widths_mm: Sequence[float] = (34, 122)) -> None:
        """A form's label/value table (申请表、备案表): labels in 黑体, values in 仿宋, no header row.
        A value's "\n" starts a new paragraph in its cell (one measure per line). A form has a few
        rows, so python-docx's cell API is fine here (unlike :meth:`table`'s long lists)."""
        widths = [w * 156 / sum(widths_mm) for w in widths_mm]
        table = self.doc.add_table(rows=len(pairs), cols=2)
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
            grid_col.w = Mm(width)
        for row, (label, value) in zip(table.rows, pairs, strict=True):
            label_cell, value_cell = row.cells
            label_cell.width, value_cell.width = Mm(widths[0]), Mm(widths[1])
            label_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = label_cell.paragraphs[0]
            set_style(p, "公文表头")
            p.add_run(clean_text(label))
            lines = (clean_text(value or "").strip() or "—").split("\n")
            first = value_cell.paragraphs[0]
            set_style(first, "公文表格")
            first.add_run(lines[0])
            for line in lines[1:]:
                set_style(value_cell.add_paragraph(line), "公文表格")
        self._paragraph()

    def attachment_note(self, names: Sequence[str]) -> None:
        """附件说明 (§7.3.4): one line below the text, indented two characters, 「附件：」 and the names."""
        self.blank(1)
        if len(names) == 1:
            self._paragraph(f"附件：{names[0]}", style="公文正文")
            return
        for i, name in enumerate(names, 1):
            p = self._paragraph(("附件：" if i == 1 else "") + f"{i}．{name}", style="公文正文")
            if i > 1:  # aligned under the first name
                p.paragraph_format.first_line_indent = Pt(5 * BODY_PT)

    def annex(self, title: str, number: int | None = None) -> None:
        """附件 (§8): on a new page, 「附件」 (and its number) in 3号黑体 top left, the title centred
        on the third line in 2号小标宋."""
        p = self._paragraph(style="Normal")
        p.paragraph_format.page_break_before = True
        self._run(p, "附件" + (str(number) if number else ""), HEITI, BODY_PT)
        self.blank(1)
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        _exact(p.paragraph_format, 36)
        self._run(p, title, XIAOBIAOSONG, SIZE["二号"])
        self.blank(1)

    def centred(self, text: str) -> None:
        """A centred line in body type (a form's subtitle, e.g. 「（第2次申请）」)."""
        self._paragraph(text, align=WD_ALIGN_PARAGRAPH.CENTER)

    def note(self, text: str) -> None:
        """A small line (小五) for notes such as the published audit-chain head."""
        self._paragraph(text, style="公文注释")

    # ---- 落款 ------------------------------------------------------------------------

    def signature(self, issuer: str, day: dt.date) -> None:
        """署名 and 成文日期 without a seal (§7.3.5.2): one line below the text, the issuer
        right-indented two characters, the date below it starting two characters further right;
        when the date is the longer one, the date keeps the two-character indent instead."""
        date_text = cn_date(day)
        ws, wd = _text_width(issuer), _text_width(date_text)
        sig_indent = max(2.0, 4 + wd - ws)
        date_indent = sig_indent + ws - 2 - wd
        self.blank(1)
        for text, indent in ((issuer, sig_indent), (date_text, date_indent)):
            p = self._paragraph(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
            p.paragraph_format.right_indent = Pt(indent * BODY_PT)
            # No extra space between Chinese and digits, or the two-character offset drifts.
            p_pr = p._p.get_or_add_pPr()
            for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
                off = OxmlElement(tag)
                off.set(qn("w:val"), "0")
                p_pr.insert_element_before(off, "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                                           "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                                           "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                                           "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                                           "w:pPrChange")

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()
