"""/api/v1 for dispatch and supervision: rounds, reports with evidence, escalations — the same
services and scope as the pages, driven through the API only."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from rectify.core.models import Event
from rectify.dispatch.models import Evidence, ProgressReport
from rectify.orgs.services import issue_api_token


def token_client(world, persona: str) -> Client:
    user = world.users[persona]
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='api-test')}")


@pytest.fixture
def clients(world):
    cache: dict[str, Client] = {}

    def get(persona: str) -> Client:
        if persona not in cache:
            cache[persona] = token_client(world, persona)
        return cache[persona]

    return get


def send(client: Client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def text(response) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 140, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def stored_files(root) -> list:
    base = root / "evidence"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def open_round(clients, *, review: bool = True) -> dict:
    today = timezone.localdate()
    response = send(clients("office_staff"), "post", "/api/v1/rounds",
                    {"period": f"{today:%Y-%m}", "due_date": (today + dt.timedelta(days=10)).isoformat(),
                     "require_unit_review": review})
    assert response.status_code == 201, response.content
    return response.json()


def report_of(clients, persona: str, round_id: int) -> dict:
    page = clients(persona).get(f"/api/v1/reports?round={round_id}").json()
    assert page["count"] == 1, page
    return page["items"][0]


def timeline(task) -> list[str]:
    return list(Event.objects.filter(object_type="ledger.task", object_id=str(task.pk)).order_by("seq")
                .values_list("action", flat=True))


# --- rounds ----------------------------------------------------------------------------------


def test_office_opens_a_round_once_and_reads_the_dispatch_table(world, clients):
    rnd = open_round(clients)
    assert rnd["created"] is True and rnd["slots"] == 2 and rnd["status"] == "open"
    today = timezone.localdate()
    again = send(clients("office_admin"), "post", "/api/v1/rounds",
                 {"period": f"{today:%Y-%m}", "due_date": today.isoformat()})
    assert again.status_code == 200 and again.json()["created"] is False and again.json()["id"] == rnd["id"]

    denied = send(clients("reporter_a"), "post", "/api/v1/rounds", {"period": "2030-01", "due_date": "2030-01-10"})
    assert denied.status_code == 403
    bad = send(clients("office_staff"), "post", "/api/v1/rounds", {"period": "2030-13", "due_date": "2030-01-10"})
    assert bad.status_code == 422

    table = clients("office_staff").get(f"/api/v1/rounds/{rnd['id']}").json()
    assert table["totals"]["total"] == 2 and table["totals"]["not_started"] == 2 and table["totals"]["reported"] == 0
    assert {row["unit"]: row["total"] for row in table["by_unit"]} == {"零陵区": 1, "祁阳市": 1}
    assert {row["lead"] for row in table["by_lead"]} == {"市生态环境局", "市住房和城乡建设局"}

    # a county sees the round, but its table holds only its own slot
    own = clients("reporter_a").get(f"/api/v1/rounds/{rnd['id']}").json()
    assert own["totals"]["total"] == 1 and [row["unit"] for row in own["by_unit"]] == ["零陵区"]
    assert clients("reporter_a").get("/api/v1/rounds").json()["count"] == 1
    assert clients("discipline").get("/api/v1/rounds").json()["count"] == 0
    assert clients("discipline").get(f"/api/v1/rounds/{rnd['id']}").status_code == 404

    slots = clients("office_staff").get(f"/api/v1/reports?round={rnd['id']}&bucket=not_started").json()
    assert slots["count"] == 2 and {r["status"] for r in slots["items"]} == {"pending"}
    assert clients("office_staff").get("/api/v1/reports?bucket=nonsense").status_code == 422

    assert send(clients("reporter_a"), "post", f"/api/v1/rounds/{rnd['id']}/close").status_code == 403
    closed = send(clients("office_admin"), "post", f"/api/v1/rounds/{rnd['id']}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    report = report_of(clients, "reporter_a", rnd["id"])
    late = send(clients("reporter_a"), "patch", f"/api/v1/reports/{report['id']}",
                {"version": report["version"], "progress_text": "太晚了"})
    assert late.status_code == 422 and "已结束" in text(late)


# --- the report flow -------------------------------------------------------------------------


def test_whole_report_flow_through_the_api(world, clients, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rnd = open_round(clients)
    report = report_of(clients, "reporter_a", rnd["id"])
    assert report["task_code"] == "T-01" and report["status"] == "pending"
    rid, task = report["id"], world.task_a
    measures = list(task.measures.order_by("ordinal").values_list("pk", flat=True))
    reporter, reviewer, lead = clients("reporter_a"), clients("reviewer_a"), clients("lead_env")

    saved = send(reporter, "patch", f"/api/v1/reports/{rid}",
                 {"version": report["version"], "progress_text": "完成管网设计招标", "percent": 30})
    assert saved.status_code == 200, saved.content
    assert saved.json()["status"] == "draft" and saved.json()["percent"] == 30
    assert set(saved.json()["actions"]) == {"save", "submit"}

    upload = reporter.post(f"/api/v1/reports/{rid}/evidence",
                           {"file": SimpleUploadedFile("现场照片.png", png_bytes(), content_type="image/png")})
    assert upload.status_code == 201, upload.content
    evidence = upload.json()
    assert evidence["original_name"] == "现场照片.png" and evidence["mime"] == "image/png"
    assert evidence["kind"] == "photo" and evidence["size"] == len(png_bytes())
    assert evidence["warnings"] and evidence["url"] == f"/api/v1/evidence/{evidence['id']}"
    assert len(stored_files(tmp_path)) == 1

    download = lead.get(evidence["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == png_bytes()
    assert download["X-Content-Type-Options"] == "nosniff" and "attachment" in download["Content-Disposition"]

    version = saved.json()["version"]
    submitted = send(reporter, "post", f"/api/v1/reports/{rid}/submit",
                     {"version": version, "progress_text": "完成管网设计招标，开工建设", "percent": 40,
                      "measures_completed": measures[:1]})
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["status"] == "awaiting_review" and body["measures_completed"] == measures[:1]
    assert [e["id"] for e in body["evidence"]] == [evidence["id"]] and body["evidence_count"] == 1

    # the reporter cannot approve; the reviewer can
    assert send(reporter, "post", f"/api/v1/reports/{rid}/approve", {"version": body["version"]}).status_code == 403
    approved = send(reviewer, "post", f"/api/v1/reports/{rid}/approve", {"version": body["version"]})
    assert approved.status_code == 200 and approved.json()["status"] == "submitted"

    no_reason = send(lead, "post", f"/api/v1/reports/{rid}/return", {"version": approved.json()["version"],
                                                                      "reason": "  "})
    assert no_reason.status_code == 422
    returned = send(lead, "post", f"/api/v1/reports/{rid}/return",
                    {"version": approved.json()["version"], "reason": "请补充管网建设现场照片"})
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assert returned.json()["return_reason"] == "请补充管网建设现场照片"

    resubmitted = send(reporter, "post", f"/api/v1/reports/{rid}/submit",
                       {"version": returned.json()["version"], "progress_text": "已补充现场照片，管网完成 40%"})
    assert resubmitted.status_code == 200 and resubmitted.json()["status"] == "awaiting_review"
    assert resubmitted.json()["percent"] == 40  # fields not sent are kept
    approved = send(reviewer, "post", f"/api/v1/reports/{rid}/approve", {"version": resubmitted.json()["version"]})
    assert approved.status_code == 200
    accepted = send(lead, "post", f"/api/v1/reports/{rid}/accept",
                    {"version": approved.json()["version"], "judged_unable": False})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted" and accepted.json()["actions"] == []
    assert ProgressReport.objects.get(pk=rid).status == "accepted"
    assert task.measures.get(pk=measures[0]).done is True

    # an accepted report is no longer editable, nor its evidence removable
    assert send(reporter, "patch", f"/api/v1/reports/{rid}",
                {"version": accepted.json()["version"], "progress_text": "改"}).status_code == 422
    assert reporter.delete(evidence["url"]).status_code == 403

    steps = timeline(task)
    flow = [a for a in steps if a.startswith("report_") or a == "evidence_attached"]
    assert flow == ["report_save", "evidence_attached", "report_submit", "report_approve", "report_return",
                    "report_submit", "report_approve", "report_accept"]
    page = world.client("office_admin").get(f"/ledger/tasks/{task.pk}/").content.decode()
    for text in ["请补充管网建设现场照片", "现场照片.png", "采纳进展报送", "审核通过并上报进展报送"]:
        assert text in page, text

    table = clients("office_staff").get(f"/api/v1/rounds/{rnd['id']}").json()
    assert table["totals"]["accepted"] == 1 and table["totals"]["missing"] == 1


def test_stale_version_is_refused_with_409(world, clients):
    rnd = open_round(clients)
    report = report_of(clients, "reporter_a", rnd["id"])
    url = f"/api/v1/reports/{report['id']}"
    first = send(clients("reporter_a"), "patch", url, {"version": report["version"], "progress_text": "第一次"})
    assert first.status_code == 200
    stale = send(clients("reporter_a"), "patch", url, {"version": report["version"], "progress_text": "覆盖"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == first.json()["version"] and "刷新" in stale.json()["detail"]
    assert ProgressReport.objects.get(pk=report["id"]).progress_text == "第一次"
    stale_submit = send(clients("reporter_a"), "post", f"{url}/submit",
                        {"version": report["version"], "progress_text": "x", "percent": 10})
    assert stale_submit.status_code == 409


def test_evidence_is_checked_by_content_and_nothing_bad_is_stored(world, clients, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rnd = open_round(clients)
    report = report_of(clients, "reporter_a", rnd["id"])
    php = SimpleUploadedFile("现场.jpg", b"<?php system($_GET['c']); ?>\n", content_type="image/jpeg")
    response = clients("reporter_a").post(f"/api/v1/reports/{report['id']}/evidence", {"file": php})
    assert response.status_code == 422
    assert "不支持的文件类型" in response.json()["detail"] and "现场.jpg" in response.json()["detail"]
    assert not Evidence.objects.exists() and stored_files(tmp_path) == []
    assert "evidence_attached" not in timeline(world.task_a)

    empty = clients("reporter_a").post(f"/api/v1/reports/{report['id']}/evidence",
                                       {"file": SimpleUploadedFile("空.png", b"", content_type="image/png")})
    assert empty.status_code == 422 and not Evidence.objects.exists()

    good = clients("reporter_a").post(f"/api/v1/reports/{report['id']}/evidence",
                                      {"file": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")})
    assert good.status_code == 201
    assert clients("reporter_a").delete(good.json()["url"]).status_code == 204
    assert not Evidence.objects.exists() and "evidence_removed" in timeline(world.task_a)


def test_altered_evidence_is_not_served(world, clients, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rnd = open_round(clients)
    report = report_of(clients, "reporter_a", rnd["id"])
    up = clients("reporter_a").post(f"/api/v1/reports/{report['id']}/evidence",
                                    {"file": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")})
    [path] = stored_files(tmp_path)
    path.chmod(0o644)
    path.write_bytes(png_bytes() + b"tampered")
    assert clients("reporter_a").get(up.json()["url"]).status_code == 404


def test_other_units_cannot_reach_a_report_or_its_evidence(world, clients, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rnd = open_round(clients)
    report = report_of(clients, "reporter_a", rnd["id"])
    rid = report["id"]
    evidence = clients("reporter_a").post(f"/api/v1/reports/{rid}/evidence",
                                          {"file": SimpleUploadedFile("a.png", png_bytes(),
                                                                      content_type="image/png")}).json()
    outsider = clients("reporter_b")
    assert outsider.get(f"/api/v1/reports/{rid}").status_code == 404
    assert send(outsider, "patch", f"/api/v1/reports/{rid}", {"version": report["version"],
                                                               "progress_text": "越权"}).status_code == 404
    assert send(outsider, "post", f"/api/v1/reports/{rid}/submit",
                {"version": report["version"], "progress_text": "越权", "percent": 99}).status_code == 404
    assert outsider.get(evidence["url"]).status_code == 404
    assert outsider.delete(evidence["url"]).status_code == 404
    upload = outsider.post(f"/api/v1/reports/{rid}/evidence",
                           {"file": SimpleUploadedFile("b.png", png_bytes(), content_type="image/png")})
    assert upload.status_code == 404
    assert rid not in [r["id"] for r in outsider.get("/api/v1/reports").json()["items"]]
    assert Evidence.objects.count() == 1 and ProgressReport.objects.get(pk=rid).progress_text == ""

    # get it up to the lead unit; 住建局 does not lead 零陵区's task (led by 市生态环境局)
    sub = send(clients("reporter_a"), "post", f"/api/v1/reports/{rid}/submit",
               {"version": report["version"], "progress_text": "进展", "percent": 50})
    ok = send(clients("reviewer_a"), "post", f"/api/v1/reports/{rid}/approve", {"version": sub.json()["version"]})
    version = ok.json()["version"]
    wrong_lead = send(clients("lead_housing"), "post", f"/api/v1/reports/{rid}/accept", {"version": version})
    assert wrong_lead.status_code in (403, 404)
    assert clients("lead_housing").get(evidence["url"]).status_code == 404
    # the leader of 零陵区 reads it but may not decide
    assert clients("leader_a").get(f"/api/v1/reports/{rid}").status_code == 200
    assert send(clients("leader_a"), "post", f"/api/v1/reports/{rid}/accept", {"version": version}).status_code == 403
    assert ProgressReport.objects.get(pk=rid).status == "submitted"


# --- escalations -----------------------------------------------------------------------------


def test_escalation_ladder_through_the_api(world, clients):
    lead = clients("lead_env")
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    base = {"task": world.task_a.pk, "target_unit": "零陵区", "reply_due": due}

    warning = send(lead, "post", "/api/v1/escalations", {**base, "rung": "warning", "reason": "管网建设进度滞后"})
    assert warning.status_code == 422  # 预警 comes from tick; the manual ladder starts at 通报
    circular = send(lead, "post", "/api/v1/escalations", {**base, "rung": "circular", "reason": "连续两月滞后，予以通报"})
    assert circular.status_code == 201, circular.content
    assert circular.json()["rung_label"] == "通报" and circular.json()["doc_number"]

    listed = {**base, "rung": "listed", "reason": "群众反映强烈"}
    skipped = send(lead, "post", "/api/v1/escalations", listed)
    assert skipped.status_code == 422 and "督办" in text(skipped)
    issued = send(lead, "post", "/api/v1/escalations", {**listed, "skip_reason": "省督察组交办，须挂牌督办"})
    assert issued.status_code == 201, issued.content
    esc = issued.json()
    assert esc["rung"] == "listed" and esc["skip_reason"] == "省督察组交办，须挂牌督办" and esc["status"] == "open"

    # a lead unit issues only on tasks it leads; a county never issues
    assert send(clients("lead_housing"), "post", "/api/v1/escalations",
                {**base, "rung": "supervision", "reason": "x"}).status_code == 404
    assert send(clients("reporter_a"), "post", "/api/v1/escalations",
                {**base, "rung": "supervision", "reason": "x"}).status_code == 403
    assert send(lead, "post", "/api/v1/escalations",
                {**base, "target_unit": "不存在的单位", "rung": "interview", "reason": "x"}).status_code == 422

    url = f"/api/v1/escalations/{esc['id']}"
    outsider = clients("reporter_b")
    assert outsider.get(url).status_code == 404
    assert outsider.get("/api/v1/escalations").json()["count"] == 0
    assert send(outsider, "post", f"{url}/reply", {"text": "越权回复"}).status_code == 404

    board = clients("reporter_a").get("/api/v1/escalations?status=open").json()
    assert board["count"] == 2
    assert clients("reporter_a").get("/api/v1/escalations?rung=listed").json()["items"][0]["id"] == esc["id"]
    assert send(lead, "post", f"{url}/reply", {"text": "督导单位不能回复"}).status_code == 403
    replied = send(clients("reporter_a"), "post", f"{url}/reply", {"text": "已制定整改计划，月底前完成"})
    assert replied.status_code == 200 and replied.json()["status"] == "replied"
    assert replied.json()["replied_by"] == "零陵填报员"
    assert send(clients("reporter_a"), "post", f"{url}/reply", {"text": "再次回复"}).status_code == 422

    assert send(clients("reporter_a"), "post", f"{url}/close").status_code == 403
    closed = send(lead, "post", f"{url}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    steps = timeline(world.task_a)
    assert steps.count("escalation_issued") == 2 and "escalation_replied" in steps and "escalation_closed" in steps


def test_open_escalations_with_overdue_reply_come_first(world, clients):
    from rectify.supervision.models import Escalation

    lead = clients("lead_env")
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    ids = []
    for rung, reason in [("circular", "一"), ("supervision", "二"), ("listed", "三")]:
        response = send(lead, "post", "/api/v1/escalations", {"task": world.task_a.pk, "target_unit": "零陵区",
                                                              "reply_due": due, "rung": rung, "reason": reason})
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    Escalation.objects.filter(pk=ids[0]).update(reply_due=timezone.localdate() - dt.timedelta(days=1))
    items = clients("office_staff").get("/api/v1/escalations").json()["items"]
    assert items[0]["id"] == ids[0] and items[0]["overdue"] is True
    assert clients("office_staff").get("/api/v1/escalations?status=bogus").status_code == 422


def test_openapi_schema_lists_dispatch_and_supervision(world):
    schema = world.client("office_admin").get("/api/v1/openapi.json").json()
    for path in ["/api/v1/rounds", "/api/v1/rounds/{round_id}", "/api/v1/rounds/{round_id}/close",
                 "/api/v1/reports", "/api/v1/reports/{report_id}", "/api/v1/reports/{report_id}/submit",
                 "/api/v1/reports/{report_id}/evidence", "/api/v1/evidence/{evidence_id}",
                 "/api/v1/escalations", "/api/v1/escalations/{escalation_id}/reply"]:
        assert path in schema["paths"], path
    assert "multipart/form-data" in schema["paths"]["/api/v1/reports/{report_id}/evidence"]["post"]["requestBody"][
        "content"]
    assert "409" in schema["paths"]["/api/v1/reports/{report_id}"]["patch"]["responses"]
