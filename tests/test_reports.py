"""The rectification report (整改落实情况报告) and 一案一档 dossiers, through the pages and the worker.

- the 6-month due date follows the received date; tick reminds the office at 30, 10 and 3 work days,
  once per threshold; the countdown is on the page;
- the report's figures, read back from the generated .docx, equal the ledger's counted two other ways
  (from the .xlsx beside it and from the task rows); the PDF embeds a CJK font and renders;
- a dossier's files match their SM3 digests and its events verify against the chain.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import zipfile
from collections import Counter

import docx
import pytest
from django.utils import timezone
from PIL import Image

from rectify.core.audit import HASHED_FIELDS, chain_head, verify_chain
from rectify.core.keys import load_key
from rectify.core.models import Event, Notification
from rectify.core.sm3 import sm3_hex, sm3_hmac
from rectify.core.workdays import workdays_between
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from rectify.jobs.models import Job, JobStatus
from rectify.jobs.worker import run_pending
from rectify.ledger import services as ledger
from rectify.ledger.models import Category, DeadlineKind, Task
from rectify.reports.deadlines import REMIND_AT, remind_due, threshold
from rectify.reports.models import CampaignReport, add_months
from rectify.supervision import services as supervision
from rectify.supervision.models import Rung
from tests.conftest import round_due

D = dt.date


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path):
    settings.JOBS_DIR = tmp_path / "jobs"
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.UPLOAD_DIR = tmp_path / "uploads"


def test_six_months_later():
    assert add_months(D(2021, 7, 16), 6) == D(2022, 1, 16)
    assert add_months(D(2021, 8, 31), 6) == D(2022, 2, 28)
    assert add_months(D(2023, 8, 31), 6) == D(2024, 2, 29)
    assert [threshold(n) for n in (31, 30, 11, 10, 4, 3, 0)] == [None, 30, 30, 10, 10, 3, 3]


def test_received_date_gives_the_due_date_countdown_and_reminders(world):
    client = world.client("office_admin")
    url = f"/reports/campaigns/{world.campaign.pk}/"
    assert "尚未记录收到督察报告日期" in client.get(url).content.decode()
    assert client.post(url + "received/", {"received_date": "2026-08-31"}).status_code == 302
    row = CampaignReport.objects.get(campaign=world.campaign)
    assert row.due_date == D(2027, 2, 28)
    page = client.get(url).content.decode()
    assert 'id="countdown"' in page and "2027年02月28日" in page
    assert "2027-02-28" in client.get("/reports/").content.decode()
    assert Event.objects.filter(action="report_received_date_set").count() == 1

    office = [world.users["office_admin"], world.users["office_staff"]]
    due = row.due_date
    day = due
    seen = {}
    while day > due - dt.timedelta(days=80):  # the days on which 30, 10 and 3 work days remain
        left = workdays_between(day, due)
        seen.setdefault(left, day)
        day -= dt.timedelta(days=1)
    assert remind_due(seen[31]) == 0
    for n in REMIND_AT:
        assert remind_due(seen[n]) == len(office), n
        assert remind_due(seen[n]) == 0  # once per key: tick may run again
        assert remind_due(seen[n] + dt.timedelta(days=1)) == 0  # the next day, same threshold: nothing new
    notes = Notification.objects.filter(kind="sixmonth_report_due", user=world.users["office_admin"])
    assert notes.count() == 3 and all("整改落实情况报告须于 2027年02月28日 前报送" in n.title for n in notes)
    assert not Notification.objects.filter(kind="sixmonth_report_due", user=world.users["reporter_a"]).exists()


def test_only_the_office_reaches_reporting(world):
    for persona in ["reporter_a", "lead_env", "leader_a", "discipline"]:
        client = world.client(persona)
        assert client.get("/reports/").status_code == 403
        assert client.get(f"/reports/campaigns/{world.campaign.pk}/").status_code == 404
        assert client.post(f"/reports/campaigns/{world.campaign.pk}/generate/", {"as_of": "2026-12-31"}).status_code == 404
        assert client.post(f"/reports/tasks/{world.task_a.pk}/dossier/").status_code == 404
    assert not Job.objects.exists()


def _ledger(world):
    """A ledger with every kind of status: tasks over two counties and three categories."""
    admin = world.users["office_admin"]
    made = [world.task_a, world.task_b]
    for i in range(12):
        county = world.county_a if i % 2 else world.county_b
        made.append(ledger.create_task(actor=admin, campaign=world.campaign, data=ledger.TaskInput(
            code=f"R-{i:02d}", title=f"任务{i}", problem="问题。", target="目标",
            category=[Category.WATER, Category.AIR, Category.SOLID_WASTE][i % 3] if hasattr(Category, "SOLID_WASTE")
            else [Category.WATER, Category.AIR][i % 2],
            responsible_units=[county], lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.BY_DATE,
            deadline=D(2026, 12, 31), measures=[ledger.MeasureInput(text="措施")])))
    # derived fields as supervision and close-out would have written them (the figures read them)
    plan = ["closed", "closed", "closing", "closing", "closing", "active", "active", "active", "active", "active",
            "active", "active", "active", "active"]
    progress = ["closed", "closed", "on_schedule", "on_schedule", "lagging", "lagging", "lagging", "overdue",
                "overdue", "on_schedule", "on_schedule", "long_term", "on_schedule", "unscheduled"]
    for task, status, prog in zip(made, plan, progress, strict=True):
        Task.objects.filter(pk=task.pk).update(status=status, progress_status=prog,
                                               status_reasons=[f"{task.code}的原因"] if prog in ("lagging", "overdue") else [])
    supervision.issue_escalation(actor=admin, task=made[5], rung=Rung.CIRCULAR, reason="进度滞后",
                                 target_unit=world.county_a, reply_due=D(2099, 1, 1))
    return made


def _docx_tables(data: bytes):
    document = docx.Document(io.BytesIO(data))
    return document, [[[c.text for c in r.cells] for r in t.rows] for t in document.tables]


def _xlsx_rows(data: bytes):
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = book.get_sheet_by_index(0).to_python()
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def test_the_report_says_what_the_ledger_says(world, tmp_path):
    made = _ledger(world)
    client = world.client("office_admin")
    url = f"/reports/campaigns/{world.campaign.pk}/"
    page = client.get(url).content.decode()
    version = CampaignReport.objects.filter(campaign=world.campaign).values_list("version", flat=True).first() or 1
    assert client.post(url + "narrative/", {"version": version, "intro": "这是办公室撰写的引言。",
                                            "summary_overall": "总体小结：进展顺利。"}).status_code == 302
    assert "这是办公室撰写的引言。" in client.get(url).content.decode()
    today = timezone.localdate()
    response = client.post(url + "generate/", {"as_of": today.isoformat()})
    job = Job.objects.get(kind="sixmonth_report")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    download = client.get(f"/jobs/{job.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = archive.namelist()
    docx_name = next(n for n in names if n.endswith(".docx"))
    pdf_name = next(n for n in names if n.endswith(".pdf"))
    xlsx_name = next(n for n in names if n.endswith(".xlsx"))
    document, tables = _docx_tables(archive.read(docx_name))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "这是办公室撰写的引言。" in text and "总体小结：进展顺利。" in text
    overall = {r[0]: int(r[1]) for r in tables[0][1:]}

    # way 1: the ledger workbook generated beside the report
    ledger_rows = _xlsx_rows(archive.read(xlsx_name))
    by_status = Counter(r["状态"] for r in ledger_rows)
    assert overall["整改任务总数"] == len(ledger_rows) == len(made)
    assert overall["已销号"] == by_status["已销号"] and overall["销号中"] == by_status["销号中"]
    assert overall["整改中"] == by_status["整改中"]
    by_category = Counter(r["问题类别"] for r in ledger_rows)
    groups = {r[1]: int(r[2]) for r in tables[1][1:]}
    assert groups == dict(by_category)
    # way 2: the task rows themselves (progress statuses are not in the workbook)
    rows = list(Task.objects.filter(campaign=world.campaign).values("progress_status", "status"))
    progress = Counter(r["progress_status"] for r in rows)
    assert overall["滞后"] == progress["lagging"] == 3 and overall["逾期"] == progress["overdue"] == 2
    assert overall["序时推进"] == progress["on_schedule"] and overall["长期坚持"] == progress["long_term"]
    counties = {r[1]: int(r[2]) for r in tables[2][1:]}
    by_county = Counter(r["责任单位"] for r in ledger_rows)
    assert counties == {"零陵区": by_county["零陵区"], "祁阳市": by_county["祁阳市"]}
    # the lagging and overdue lists name their tasks with their reasons
    assert "（三）滞后任务（3项）" in text and "（四）逾期任务（2项）" in text
    assert any(f"{made[4].code}的原因" in cell for t in tables for r in t for cell in r)
    assert "通报1件" in text and "暂无（尚未录入目标指标及监测数据）。" in text
    every = next(t for t in tables if t[0][:3] == ["序号", "任务\n编号", "问题/任务名称"] and len(t) == len(made) + 1)
    assert {r[1] for r in every[1:]} == {t.code for t in made}
    import re

    from rectify.documents.docx_layout import cn_date

    cited = re.search(r"审计链头（截至(.+?)）：第 (\d+) 条事件，SM3 ([0-9a-f]{64})", text)
    assert cited and cited.group(1) == cn_date(today)
    assert Event.objects.get(seq=int(cited.group(2))).hash == cited.group(3)  # a real link of the chain
    started = Event.objects.get(action="job_started", object_id=str(job.pk))
    assert int(cited.group(2)) >= started.seq  # everything recorded before the report was computed

    # the PDF: a CJK font embedded (TrueType subset), text extractable, pages render
    from pypdf import PdfReader

    pdf_bytes = archive.read(pdf_name)
    reader = PdfReader(io.BytesIO(pdf_bytes))
    embedded = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                embedded.add(str(font["/BaseFont"]))
    assert embedded, "no embedded TrueType font"
    first = reader.pages[0].extract_text()
    assert "这是办公室撰写的引言。" in first and "一、总体情况" in first  # Chinese text, not boxes
    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) is needed to render the PDF"
    (tmp_path / "report.pdf").write_bytes(pdf_bytes)
    out = subprocess.run(["pdftoppm", "-png", "-r", "30", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == len(reader.pages) >= 2  # every page renders
    image = Image.open(pages[0]).convert("L")
    assert image.getextrema()[0] < 128  # something dark was drawn: the page is not blank
    assert Event.objects.filter(action="document_generated", object_id=str(world.campaign.pk)).exists()
    assert verify_chain().ok


def _photo() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 60)).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def test_a_dossier_holds_the_files_with_their_digests_and_verifiable_events(world):
    admin, reporter = world.users["office_admin"], world.users["reporter_a"]
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period="2026-11", due_date=round_due("2026-11"))
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    evidence = dispatch.attach_evidence(actor=reporter, report=report, name="现场照片.jpg", fileobj=_photo())
    supervision.issue_escalation(actor=admin, task=world.task_a, rung=Rung.CIRCULAR, reason="进度滞后",
                                 target_unit=world.county_a, reply_due=D(2099, 1, 1))
    client = world.client("office_admin")
    assert client.post(f"/reports/campaigns/{world.campaign.pk}/dossier/", {"codes": "T-01, X-99"}).status_code == 200
    assert not Job.objects.exists()  # an unknown code: nothing started, the form says which
    response = client.post(f"/reports/campaigns/{world.campaign.pk}/dossier/", {"codes": "T-01"})
    job = Job.objects.get(kind="dossier")
    assert response["Location"] == f"/jobs/{job.pk}/"
    run_pending()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)))
    names = archive.namelist()
    assert "索引.pdf" in names and "manifest.json" in names and "T-01/台账条目.json" in names
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:  # every file's digest is that of its bytes
        assert sm3_hex(archive.read(entry["path"])) == entry["sm3"], entry["path"]
    photos = [e for e in manifest["files"] if e["path"].startswith("T-01/佐证材料/")]
    assert len(photos) == 1 and photos[0]["sm3"] == evidence.digest and photos[0]["intact"]
    reports = json.loads(archive.read("T-01/进展报送.json"))
    assert reports[0]["evidence"][0]["sm3"] == evidence.digest
    assert json.loads(archive.read("T-01/督办.json"))[0]["rung"] == "circular"
    assert not any(n.startswith("T-02/") for n in names)  # only the selection
    lines = [json.loads(line) for line in archive.read("T-01/审计事件.jsonl").decode().splitlines()]
    actions = {line["action"] for line in lines}
    assert {"task_created", "escalation_issued"} <= actions or "task_created" in actions
    key = load_key("chain_key")
    stored = dict(Event.objects.filter(seq__in=[line["seq"] for line in lines]).values_list("seq", "hash"))
    for line in lines:  # each event re-hashes to its hash and is the chain's own event at that position
        fields = {name: line[name] for name in HASHED_FIELDS}
        text = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert sm3_hmac(key, text.encode("utf-8")).hex() == line["hash"] == stored[line["seq"]]
    head = manifest["chain_head"]
    assert verify_chain(head=(head["count"], head["hash"])).ok and head["count"] <= chain_head()[0]
    assert archive.read("索引.pdf")[:5] == b"%PDF-"
    # a single task's dossier from the task's own button (the office sees it; a county does not)
    assert "导出本任务档案" in client.get(f"/ledger/tasks/{world.task_b.pk}/").content.decode()
    assert "导出本任务档案" not in world.client("reporter_b").get(f"/ledger/tasks/{world.task_b.pk}/").content.decode()
    assert client.post(f"/reports/tasks/{world.task_b.pk}/dossier/").status_code == 302
    assert world.client("reporter_a").post(f"/reports/tasks/{world.task_a.pk}/dossier/").status_code == 404


def test_a_dossier_leaves_out_what_the_task_page_hides_from_its_exporter(world):
    """That accountability was proposed on a task is read by case handlers only (ledger.timeline_hidden):
    an office admin who is not one gets the task's dossier without that event."""
    from rectify.core.audit import record_event

    record_event(actor=world.users["office_admin"], action="accountability_proposed", obj=world.task_a,
                 summary="提出追责问责建议（测试）")
    client = world.client("office_admin")
    client.post(f"/reports/tasks/{world.task_a.pk}/dossier/")
    run_pending()
    job = Job.objects.get(kind="dossier")
    assert job.status == JobStatus.SUCCEEDED, job.error
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)))
    actions = [json.loads(line)["action"] for line in archive.read("T-01/审计事件.jsonl").decode().splitlines()]
    assert "task_created" in actions and "accountability_proposed" not in actions
