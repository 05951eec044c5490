"""Reserve projects report their progress through the monthly dispatch round (调度轮次), with evidence
files checked and stored by the evidence app; the round's page lists the projects awaiting progress,
the project's page shows each round's progress and its files. Through the pages."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from rectify.core.models import Event
from rectify.core.sm3 import sm3_hex
from rectify.dispatch import services as dispatch
from rectify.reserve import services as reserve
from rectify.reserve.models import ProjectEvidence, ProjectProgress
from tests.conftest import round_due
from tests.test_reserve import _make


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.UPLOAD_DIR = tmp_path / "uploads"


def _photo(name="现场.jpg") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 60)).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def _building(world, code="P-01", county=None):
    project = _make(world, code, county=county)
    admin = world.users["office_admin"]
    reserve.transition(actor=admin, project=project, action="prepare")
    return reserve.transition(actor=admin, project=project, action="build")


def _section(page: str) -> str:
    m = re.search(r'<section class="card" id="reserve-progress">(.*?)</section>', page, re.S)
    assert m, "no reserve section on the round page"
    return m.group(1)


def test_a_project_reports_in_the_round_with_evidence_and_the_round_page_follows(world):
    admin = world.users["office_admin"]
    project = _building(world)
    _make(world, "P-09")  # 储备: no progress is asked of it
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period="2026-11", due_date=round_due("2026-11"))
    reporter = world.client("reporter_a")
    section = _section(reporter.get(f"/dispatch/rounds/{rnd.pk}/").content.decode())
    assert "P-01" in section and "待报送" in section and "P-09" not in section
    assert "待报送 1 个" in section

    page = reporter.get(f"/reserve/{project.pk}/").content.decode()
    assert f'<option value="{rnd.pk}"' in page and 'name="evidence_files"' in page  # the open round is offered

    photo, pdf = _photo(), io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    pdf.name = "验收报告.pdf"
    response = reporter.post(f"/reserve/{project.pk}/progress/", {
        "round": rnd.pk, "percent": 45, "invested": "540", "text": "湿地主体工程完成45%。", "evidence_files": [photo, pdf]})
    assert response.status_code == 302
    row = ProjectProgress.objects.get(project=project)
    assert row.round == rnd and row.period == "2026-11" and row.percent == 45
    files = list(ProjectEvidence.objects.filter(progress=row).order_by("id"))
    assert [f.kind for f in files] == ["photo", "pdf"]
    event = Event.objects.filter(action="project_progress_reported").latest("seq")
    assert [e["sm3"] for e in event.after["evidence"]] == [f.digest for f in files]
    assert event.after["round"] == rnd.pk

    # the round page now counts it as reported; the project page lists the round and the files
    assert "已报送 1 个" in _section(world.client("office_admin").get(f"/dispatch/rounds/{rnd.pk}/").content.decode())
    page = world.client("office_admin").get(f"/reserve/{project.pk}/").content.decode()
    assert rnd.title in page and "现场.jpg" in page and "验收报告.pdf" in page
    # the file downloads intact to whoever sees the project, recorded; others get 404
    body = b"".join(world.client("office_admin").get(f"/reserve/evidence/{files[1].pk}/").streaming_content)
    assert sm3_hex(body) == files[1].digest
    assert Event.objects.filter(action="evidence_downloaded", object_type="reserve.projectevidence").exists()
    assert world.client("reporter_b").get(f"/reserve/evidence/{files[0].pk}/").status_code == 404


def test_a_rejected_file_leaves_nothing_written(world):
    admin = world.users["office_admin"]
    project = _building(world)
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period="2026-11", due_date=round_due("2026-11"))
    fake = io.BytesIO(b"MZ\x90\x00 not a photo at all" * 10)
    fake.name = "现场.jpg"
    client = world.client("reporter_a")
    before = Event.objects.count()  # after the login's own event
    response = client.post(f"/reserve/{project.pk}/progress/", {
        "round": rnd.pk, "percent": 45, "invested": "540", "text": "进展", "evidence_files": [_photo(), fake]}, follow=True)
    assert "进展未报送" in response.content.decode()
    assert not ProjectProgress.objects.exists() and not ProjectEvidence.objects.exists()
    assert Event.objects.count() == before


def test_a_closed_round_or_another_offices_round_takes_no_progress(world):
    admin = world.users["office_admin"]
    project = _building(world)
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period="2026-10", due_date=round_due("2026-10"))
    dispatch.close_round(actor=admin, rnd=rnd)
    # a closed round is no longer offered, and a forged post is refused
    page = world.client("reporter_a").get(f"/reserve/{project.pk}/").content.decode()
    assert f'<option value="{rnd.pk}"' not in page
    response = world.client("reporter_a").post(f"/reserve/{project.pk}/progress/", {
        "round": rnd.pk, "percent": 10, "invested": "0", "text": "x"}, follow=True)
    assert not ProjectProgress.objects.exists()
    with pytest.raises(Exception, match="已结束"):
        reserve.record_progress(actor=world.users["reporter_a"], project=project, percent=10,
                                invested=0, text="x", rnd=rnd)
    assert response.status_code == 200
    # without a round the office may still record a month by hand
    world.client("office_admin").post(f"/reserve/{project.pk}/progress/", {
        "period": "2026-09", "percent": 5, "invested": "0", "text": "前期手续办理中。"})
    assert ProjectProgress.objects.get().round is None
    # neither given: a clear message, nothing written
    response = world.client("office_admin").post(f"/reserve/{project.pk}/progress/", {
        "percent": 5, "invested": "0", "text": "x"}, follow=True)
    assert "请选择调度轮次，或填写月份" in response.content.decode() and ProjectProgress.objects.count() == 1


def test_the_per_report_file_cap_counts_a_projects_files_too(world, settings):
    settings.EVIDENCE_MAX_REPORT_FILES = 1
    admin = world.users["office_admin"]
    project = _building(world)
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period="2026-11", due_date=round_due("2026-11"))
    response = world.client("reporter_a").post(f"/reserve/{project.pk}/progress/", {
        "round": rnd.pk, "percent": 45, "invested": "540", "text": "进展", "evidence_files": [_photo(), _photo("二.jpg")]},
        follow=True)
    assert "最多上传 1 个附件" in response.content.decode()
    assert not ProjectProgress.objects.exists() and not ProjectEvidence.objects.exists()
