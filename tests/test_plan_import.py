"""Plan document → preview → reviewed import into the ledger (draft tasks and indicators)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rectify.core.models import Event
from rectify.indicators.models import Indicator
from rectify.ledger.models import Task, TaskStatus

SEED = Path(__file__).parent / "planparse" / "fixtures" / "seed_rectification_plan.txt"


def upload(client, world, data: bytes, name="方案.txt"):
    return client.post("/plans/", {"campaign": world.campaign.pk, "file": SimpleUploadedFile(name, data)})


def preview_form(html: str) -> dict:
    """What the browser would post back: every checked box and every field's value."""
    data = {}
    for match in re.finditer(r'<input([^>]*)>', html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', match.group(1)))
        if "name" not in attrs:
            continue
        if attrs.get("type") == "checkbox":
            if "checked" in match.group(1):
                data[attrs["name"]] = attrs.get("value", "on")
        else:
            data[attrs["name"]] = attrs.get("value", "")
    for match in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.findall(r'<option value="([^"]*)" selected', match.group(2))
        if chosen:
            data[match.group(1)] = chosen if "multiple" in html[match.start():match.start() + 200] else chosen[0]
    return data


def test_seed_plan_preview_then_import(world):
    client = world.client("office_admin")
    response = upload(client, world, SEED.read_bytes(), "整改方案.txt")
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "识别出 23 项措施、5 项目标指标" in html and "尚未写入任何数据" in html
    assert "深学笃用习近平生态文明思想" in html
    assert Task.objects.count() == 2 and not Indicator.objects.exists()  # nothing written by the preview

    data = preview_form(html)
    data.pop("m1-keep")  # drop the second measure
    data["m0-title"] = "深学笃用习近平生态文明思想（改）"
    data["m3-merge"] = "1"  # merge the fourth into the third
    data["t4-keep"] = ""
    result = client.post(page.request["PATH_INFO"], data)
    assert result.status_code == 302
    imported = Task.objects.filter(code__startswith="T-2021-F").order_by("code")
    assert imported.count() == 23 - 1 - 1
    first = imported.first()
    assert first.title == "深学笃用习近平生态文明思想（改）" and first.status == TaskStatus.DRAFT
    assert first.category == "mechanisms_thinking"
    assert Indicator.objects.count() == 4
    rate = Indicator.objects.get(name="中心城区空气质量优良率")
    assert (rate.comparator, int(rate.value), rate.unit, rate.year) == (">", 92, "%", 2022)
    event = Event.objects.get(action="plan_imported")
    assert "整改方案.txt" in event.summary and len(event.after["sm3"]) == 64
    creation = Event.objects.filter(action="task_created", object_id=str(first.pk)).get()
    assert "整改方案：整改方案.txt" in creation.summary
    detail = client.get(f"/ledger/tasks/{first.pk}/").content.decode()
    assert "问题不清楚" in detail  # a plan states measures; the problem text is the office's to write


def test_a_failed_import_writes_nothing(world):
    client = world.client("office_admin")
    page = client.get(upload(client, world, SEED.read_bytes())["Location"])
    data = preview_form(page.content.decode())
    data["t0-value"] = "不是数字"
    before = (Task.objects.count(), Indicator.objects.count(), Event.objects.count())
    result = client.post(page.request["PATH_INFO"], data)
    assert result.status_code == 200 and "导入失败，未写入任何数据" in result.content.decode()
    assert (Task.objects.count(), Indicator.objects.count(), Event.objects.count()) == before


@pytest.mark.parametrize("name,data,message", [
    ("空.txt", b"", "空"),
    ("假的.docx", b"this is not a zip file at all", "docx"),
    ("噪声.txt", bytes(range(256)) * 400, ""),
])
def test_bad_documents_get_a_clear_error(world, name, data, message):
    client = world.client("office_admin")
    response = upload(client, world, data, name)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="alert"' in html and message in html


def test_pasted_text_and_docx_both_work(world):
    client = world.client("office_admin")
    pasted = client.post("/plans/", {"campaign": world.campaign.pk, "text": SEED.read_text(encoding="utf-8")})
    assert pasted.status_code == 302
    import docx

    document = docx.Document()
    for line in SEED.read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    response = upload(client, world, buffer.getvalue(), "方案.docx")
    assert response.status_code == 302
    assert "识别出 23 项措施" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("persona", ["lead_env", "reporter_a", "leader_a", "discipline"])
def test_only_the_office_imports_plans(world, persona):
    assert world.client(persona).get("/plans/").status_code == 403


def test_a_preview_belongs_to_its_session(world):
    client = world.client("office_admin")
    location = upload(client, world, SEED.read_bytes())["Location"]
    assert world.client("office_staff").get(location).status_code == 404


def test_preview_shows_the_outline(world):
    client = world.client("office_admin")
    html = client.get(upload(client, world, SEED.read_bytes())["Location"]).content.decode()
    outline = html[html.index('id="outline"'):html.index("</details>", html.index('id="outline"'))]
    assert "5 个部分" in outline
    for heading in ["指导思想", "基本原则", "整改目标", "整改措施", "保证措施"]:
        assert heading in outline
