"""No lost typing (issue 14, point 2) through the HTTP client; tests/test_browser_keep_typing.py drives
the same in Chromium.

A photo uploaded before 保存草稿 saves what was typed with it; a form sent after the session ended
comes back with its fields kept and a password prompt, and is then carried out.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from rectify.core.models import Event
from rectify.dispatch import services
from rectify.dispatch.models import Evidence, ProgressReport, ReportStatus
from tests.conftest import PASSWORD, round_due

TEXT = "城区污水管网新建 3.2 公里，完成老城区雨污分流改造一期。"


@pytest.fixture
def report(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    rnd, _ = services.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=round_due("2026-11"))
    return ProgressReport.objects.get(round=rnd, task=world.task_a)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, "PNG")
    return buffer.getvalue()


def typed(report, **extra):
    return {"version": report.version, "progress_text": TEXT, "percent": "45", "difficulties": "资金缺口较大",
            "next_steps": "", "public_summary": "", **extra}


def test_uploading_a_photo_saves_what_was_typed_as_the_draft(world, report):
    client = world.client("reporter_a")
    response = client.post(f"/dispatch/reports/{report.pk}/evidence/",
                           typed(report, action="upload", file=SimpleUploadedFile("现场.png", png())))
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.progress_text, report.percent, report.difficulties) == (TEXT, 45, "资金缺口较大")
    assert report.status == ReportStatus.DRAFT
    assert Evidence.objects.get(report=report).original_name == "现场.png"
    page = client.get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert TEXT in page and 'value="45"' in page and "已上传「现场.png」" in page and "已保存草稿" in page


def test_an_unchanged_form_is_not_saved_again_and_bad_typing_is_shown_back(world, report):
    client = world.client("reporter_a")
    client.post(f"/dispatch/reports/{report.pk}/evidence/", typed(report, file=SimpleUploadedFile("a.png", png())))
    report.refresh_from_db()
    saves = Event.objects.filter(action="report_save").count()
    client.post(f"/dispatch/reports/{report.pk}/evidence/",
                typed(report, file=SimpleUploadedFile("b.png", png())))
    assert Event.objects.filter(action="report_save").count() == saves  # nothing changed, nothing re-saved
    # A percentage out of range cannot be saved: the page comes back with the typing, not the stored draft.
    response = client.post(f"/dispatch/reports/{report.pk}/evidence/",
                           typed(report, progress_text="改过的进展，尚未保存", percent="150"))
    assert response.status_code == 400
    assert "改过的进展，尚未保存" in response.content.decode()
    report.refresh_from_db()
    assert report.progress_text == TEXT


def test_a_file_chosen_before_save_is_attached_with_the_draft(world, report):
    client = world.client("reporter_a")
    response = client.post(f"/dispatch/reports/{report.pk}/",
                           typed(report, action="save", file=SimpleUploadedFile("现场.png", png())))
    assert response.status_code == 302
    assert Evidence.objects.filter(report=report, original_name="现场.png").exists()


def test_an_empty_file_is_called_empty(world, report):
    client = world.client("reporter_a")
    client.post(f"/dispatch/reports/{report.pk}/evidence/", {"file": SimpleUploadedFile("空白.jpg", b"")})
    page = client.get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert "文件为空（0 字节）" in page and "空白.jpg" in page
    assert not Evidence.objects.exists()


def logged_in(world, persona="reporter_a") -> Client:
    client = Client()
    assert client.login(username=world.users[persona].username, password=PASSWORD)
    client.get("/")  # the session's activity stamps are set
    return client


def idle_for_hours(client, hours=2):
    session = client.session
    session["last_activity"] = time.time() - hours * 3600
    session.save()


@pytest.mark.parametrize("how", ["idle", "session_gone"])
def test_a_form_sent_after_the_session_ended_is_kept_and_saved_after_the_password(world, report, how):
    client = logged_in(world)
    if how == "idle":
        idle_for_hours(client)
    else:
        Session.objects.all().delete()
    url = f"/dispatch/reports/{report.pk}/"
    page = client.post(url, typed(report, action="save"))
    assert page.status_code == 401
    html = page.content.decode()
    assert "您刚才填写的内容没有丢失" in html and TEXT in html and 'name="_reauth_password"' in html
    # The idle session knew who it was: only the password is asked.
    assert ('value="rep_a" readonly' in html) == (how == "idle")
    report.refresh_from_db()
    assert report.progress_text == ""
    kept = {"_reauth": "1", "_reauth_username": "rep_a", "_reauth_password": PASSWORD, **typed(report, action="save")}
    done = client.post(url, kept)
    assert done.status_code == 302 and done["Location"] == url
    report.refresh_from_db()
    assert (report.progress_text, report.percent, report.status) == (TEXT, 45, ReportStatus.DRAFT)
    assert "已保存草稿" in client.get(url).content.decode()
    assert Event.objects.filter(action="login", actor_id=world.users["reporter_a"].pk).count() == 2


def test_a_wrong_password_keeps_the_form_and_counts_as_a_failed_login(world, report):
    client = logged_in(world)
    idle_for_hours(client)
    url = f"/dispatch/reports/{report.pk}/"
    assert client.post(url, typed(report, action="save")).status_code == 401
    kept = {"_reauth": "1", "_reauth_username": "rep_a", "_reauth_password": "wrong", **typed(report, action="save")}
    again = client.post(url, kept)
    assert again.status_code == 401
    assert TEXT in again.content.decode() and "用户名或密码错误" in again.content.decode()
    report.refresh_from_db()
    assert report.progress_text == ""
    world.users["reporter_a"].refresh_from_db()
    assert world.users["reporter_a"].failed_logins == 1


def test_no_login_without_the_csrf_check(world, report):
    client = Client(enforce_csrf_checks=True)
    kept = {"_reauth": "1", "_reauth_username": "rep_a", "_reauth_password": PASSWORD, **typed(report, action="save")}
    assert client.post(f"/dispatch/reports/{report.pk}/", kept).status_code == 403
    assert "_auth_user_id" not in client.session


def test_an_empty_post_after_the_session_ended_still_goes_to_the_login_page(world, report):
    response = Client().post(f"/dispatch/reports/{report.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_deleting_a_file_keeps_what_was_typed(world, report):
    client = world.client("reporter_a")
    client.post(f"/dispatch/reports/{report.pk}/evidence/", {"file": SimpleUploadedFile("错传.png", png())})
    evidence = Evidence.objects.get(report=report)
    page = client.get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert f'form="report-form" formaction="/dispatch/evidence/{evidence.pk}/delete/"' in page
    report.refresh_from_db()
    response = client.post(f"/dispatch/evidence/{evidence.pk}/delete/", typed(report, action="delete_evidence"))
    assert response.status_code == 302
    assert not Evidence.objects.exists()
    report.refresh_from_db()
    assert (report.progress_text, report.percent) == (TEXT, 45)


def test_a_forged_form_is_not_kept_after_the_session_ended(world, report):
    """The timeout answers before Django's CSRF check: a cross-site form without our token must not
    come back as our page asking for the password (which would then carry it out)."""
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="rep_a", password=PASSWORD)
    client.get("/")
    idle_for_hours(client)
    forged = client.post(f"/dispatch/reports/{report.pk}/", typed(report, action="save"))
    assert forged.status_code == 302 and forged["Location"].startswith("/accounts/login/")
    # The same form from our own page (with its token) is kept.
    assert client.login(username="rep_a", password=PASSWORD)
    page = client.get(f"/dispatch/reports/{report.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    idle_for_hours(client)
    kept = client.post(f"/dispatch/reports/{report.pk}/", {**typed(report, action="save"),
                                                           "csrfmiddlewaretoken": token})
    assert kept.status_code == 401 and TEXT in kept.content.decode()
