"""The assessment result as a workbook (the score tables and every figure's breakdown) and as an
official document in GB/T 9704 layout (综合评估考核结果通报). Both render the stored rows, so they
cannot disagree with the page or with the digest in the record."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils import timezone

from rectify.assessment.models import AssessmentResult, ResultStatus, UnitGroup
from rectify.assessment.selectors import item_columns, result_rows
from rectify.assessment.services import RESULT_KIND
from rectify.core.numbers import issued_number
from rectify.documents.docx_layout import OfficialDocument, cn_date
from rectify.documents.escalation_doc import masthead_name
from rectify.ledger.excel import neutralise


def result_xlsx(result: AssessmentResult) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    head = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "align": "center", "valign": "vcenter",
                            "text_wrap": True})
    cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    num = book.add_format({"border": 1, "valign": "top", "num_format": "0.00"})
    title_fmt = book.add_format({"bold": True, "font_size": 14})
    columns = item_columns(result)
    grouped = result_rows(result)

    def write(sheet, r, c, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(r, c, value, num)
        else:
            sheet.write_string(r, c, neutralise(str(value)), cell)

    for group, label in UnitGroup.choices:
        sheet = book.add_worksheet(f"{label}得分")
        sheet.write_string(0, 0, neutralise(f"{result.title}·{label}"), title_fmt)
        headers = ["名次", "单位", *[f"{name}（{weight}分）" for _k, name, weight in columns], "总分"]
        for c, h in enumerate(headers):
            sheet.write_string(1, c, h, head)
        sheet.set_column(0, 0, 6)
        sheet.set_column(1, 1, 26)
        sheet.set_column(2, len(headers) - 1, 14)
        for r, row in enumerate(grouped.get(group, []), start=2):
            write(sheet, r, 0, row.rank)
            write(sheet, r, 1, row.unit.name)
            for c, (key, _name, _w) in enumerate(columns, start=2):
                write(sheet, r, c, float(row.breakdown[key]["score"]))
            write(sheet, r, len(headers) - 1, float(row.total))
        sheet.freeze_panes(2, 2)
    detail = book.add_worksheet("得分明细")
    headers = ["类别", "单位", "评分项目", "分值", "每项扣分", "分子/次数", "分母", "得分", "计算", "依据记录"]
    detail.write_string(0, 0, neutralise(f"{result.title}·得分明细"), title_fmt)
    for c, h in enumerate(headers):
        detail.write_string(1, c, h, head)
    detail.set_column(0, 1, 16)
    detail.set_column(2, 2, 16)
    detail.set_column(8, 9, 40)
    r = 2
    for group, label in UnitGroup.choices:
        for row in grouped.get(group, []):
            for key, name, _w in columns:
                b = row.breakdown[key]
                values = [label, row.unit.name, name, float(b["weight"]), float(b["per_item"]),
                          b["numerator"] if b["rate"] else b["count"], b["denominator"] if b["rate"] else "",
                          float(b["score"]), b["formula"], "；".join(rec["label"] for rec in b["records"])]
                for c, value in enumerate(values):
                    write(detail, r, c, value)
                r += 1
    about = book.add_worksheet("说明")
    lines = [("名称", result.title), ("考核期", f"{result.period_start:%Y-%m-%d} 至 {result.period_end:%Y-%m-%d}"),
             ("状态", result.get_status_display()), ("评分办法", result.scheme.name),
             ("结果摘要（SM3）", result.digest),
             ("计分方法", "比率项得分 = 分值 × 分子/分母（无应计事项按满分）；扣分项得分 = 分值 − 每项扣分 × 次数，扣完为止；"
                      "各项四舍五入到 0.01 后相加为总分；同分同名次。")]
    for n, (k, v) in enumerate(lines):
        about.write_string(n, 0, k, head)
        about.write_string(n, 1, neutralise(v), cell)
    about.set_column(1, 1, 90)
    book.close()
    return out.getvalue()


def result_docx(result: AssessmentResult) -> bytes:
    office = result.campaign.office
    issuer = masthead_name(office, office)
    title = f"关于{result.title}结果的通报"
    doc = OfficialDocument(title_for_properties=title, author=issuer)
    doc.masthead(issuer)
    number = issued_number(kind=RESULT_KIND, object_type=result._meta.label_lower, object_id=result.pk)
    doc.doc_number(number or "（草稿，发布时编号）")
    doc.title(title)
    doc.addressee("各县市区，市直有关单位")
    columns = item_columns(result)
    grouped = result_rows(result)
    doc.paragraph(f"按照建立综合评估考核制度的要求，{office.short_name or office.name}依据“{result.scheme.name}”，"
                  f"对{cn_date(result.period_start)}至{cn_date(result.period_end)}各县市区和市直部门的整改工作进行了综合评估考核。"
                  "各项得分均由督察整改调度平台依据调度报送、进度状态、督办、销号、回头看和追责问责记录计算。现将结果通报如下。")
    doc.heading("一、计分方法")
    parts = [f"{name}{weight}分" for _k, name, weight in columns]
    doc.paragraph("评分项目及分值：" + "，".join(parts) + "。比率项得分为分值乘以完成比率（无应计事项的按满分计），"
                  "扣分项按每次扣分计算、扣完为止；各项得分四舍五入到0.01分后相加为总分，同分同名次。")
    for n, (group, label) in enumerate(UnitGroup.choices, start=2):
        doc.heading(f"{'二三四'[n - 2]}、{label}得分排名")
        rows = grouped.get(group, [])
        if not rows:
            doc.paragraph("无。")
            continue
        headers = ["名次", "单位", *[name for _k, name, _w in columns], "总分"]
        widths = [10, 30, *[(156 - 10 - 30 - 16) / len(columns)] * len(columns), 16]
        doc.table(headers, [[row.rank, row.unit.name, *[row.breakdown[k]["score"] for k, _n, _w in columns],
                             f"{row.total}"] for row in rows], widths, numeric_from=2)
    doc.heading("四、有关要求")
    doc.paragraph("请各单位对照得分明细查找差距，对滞后、逾期任务倒排工期、加快整改；排名靠后的单位要深入分析原因，"
                  "于下一考核期前报送整改提升措施。")
    status = "" if result.status == ResultStatus.PUBLISHED else "（草稿，尚未发布）"
    day = timezone.localtime(result.published_at).date() if result.published_at else timezone.localdate()
    doc.signature(issuer, day)
    doc.note(f"本通报依据考核结果（SM3 {result.digest}）生成{status}。")
    return doc.to_bytes()
