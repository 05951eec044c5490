"""Per-user hourly throttles on uploads, exports, document generation, plan parsing and imports
(SECURITY.md check 4), in the cache every server process shares."""

from __future__ import annotations

import io

import pytest

from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from tests.conftest import round_due


@pytest.fixture
def low_limits(settings):
    settings.THROTTLES_PER_HOUR = {"upload": 2, "export": 2, "document": 2, "plan": 2, "import": 2}


def test_check_04_exports_are_limited_per_user_with_a_chinese_page_and_a_retry_time(world, low_limits):
    admin, other = world.client("office_admin"), world.client("office_staff")
    assert [admin.get("/ledger/export.xlsx").status_code for _ in range(2)] == [200, 200]
    refused = admin.get("/ledger/export.xlsx")
    html = refused.content.decode()
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "操作过于频繁" in html and "每人每小时最多 2 次" in html and "导出" in html
    assert other.get("/ledger/export.xlsx").status_code == 200  # per user, not per address


def test_uploads_count_posts_only(world, low_limits):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-10",
                                 due_date=round_due("2026-10"), require_unit_review=False)
    report = ProgressReport.objects.filter(round=rnd, unit=world.county_a).first()
    client = world.client("reporter_a")
    url = f"/dispatch/reports/{report.pk}/evidence/"
    statuses = [client.post(url, {"file": io.BytesIO(b"")}).status_code for _ in range(3)]
    assert statuses[:2] != [429, 429] and statuses[2] == 429


def test_an_upload_form_is_free_to_open_and_a_parse_is_counted(world, low_limits):
    client = world.client("office_admin")
    assert all(client.get("/plans/").status_code == 200 for _ in range(4))  # opening the form is free
    assert all(client.post("/plans/", {}).status_code != 429 for _ in range(2))
    assert client.post("/plans/", {}).status_code == 429
    assert client.post("/ledger/import/", {}).status_code != 429  # another bucket has its own count
