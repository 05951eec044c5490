"""The close-out and look-back pages, through HTTP, for each persona."""

from __future__ import annotations

import datetime as dt

from rectify.closeout import services
from rectify.closeout.models import Closeout, CloseoutStatus, LookBackCheck
from rectify.ledger.models import Task, TaskStatus
from tests.test_closeout import ALL_MET, assessed, closed_task, make_eligible, step, through_notice

C = CloseoutStatus


def form_items():
    data = {"completion_summary": "全部完成。"}
    for standard, (verdict, statement) in ALL_MET.items():
        data[f"{standard}_verdict"], data[f"{standard}_statement"] = verdict, statement
    return data


def test_the_reviewer_self_assesses_through_the_page(world):
    task = make_eligible(world, world.task_a)
    page = world.client("reviewer_a").get(f"/ledger/tasks/{task.pk}/").content.decode()
    assert f"/closeout/tasks/{task.pk}/assess/" in page
    assert world.client("reporter_a").get(f"/closeout/tasks/{task.pk}/assess/").status_code == 404
    response = world.client("reviewer_a").post(f"/closeout/tasks/{task.pk}/assess/", form_items())
    closeout = Closeout.objects.get(task=task)
    assert response.status_code == 302 and response["Location"] == f"/closeout/{closeout.pk}/"
    detail = world.client("reviewer_a").get(f"/closeout/{closeout.pk}/").content.decode()
    assert "生态修复：已达到" in detail and 'value="apply"' in detail
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CLOSING


def test_an_unfinished_task_says_why_it_cannot_apply(world):
    page = world.client("reviewer_a").get(f"/closeout/tasks/{world.task_a.pk}/assess/").content.decode()
    assert "措施未完成" in page and 'id="assess-form"' not in page


def test_each_role_sees_the_steps_the_table_offers_it(world):
    closeout = assessed(world)
    step(world, "reviewer_a", closeout, "apply")
    offered = world.client("office_admin").get(f"/closeout/{closeout.pk}/").content.decode()
    assert 'value="publish_notice"' in offered and 'value="return"' in offered
    assert 'value="publish_notice"' not in world.client("lead_env").get(f"/closeout/{closeout.pk}/").content.decode()
    for outsider in ("reporter_b", "lead_housing", "discipline", "auditor"):
        assert world.client(outsider).get(f"/closeout/{closeout.pk}/").status_code == 404
    response = world.client("office_admin").post(f"/closeout/{closeout.pk}/step/", {
        "action": "publish_notice", "version": Closeout.objects.get(pk=closeout.pk).version})
    assert response.status_code == 302
    assert Closeout.objects.get(pk=closeout.pk).status == C.IN_NOTICE
    # the same form sent again (a double click) is refused with a clear message, nothing changes twice
    again = world.client("office_admin").post(f"/closeout/{closeout.pk}/step/", {
        "action": "publish_notice", "version": closeout.version + 1}, follow=True).content.decode()
    assert "已被他人处理" in again or "不能发布" in again


def test_objection_contacts_are_full_for_the_office_masked_for_others_and_hidden_from_the_unit(world):
    closeout = through_notice(world, assessed(world))
    services.file_objection(closeout=closeout, content="河道仍有异味，请核实。", name="张三丰", phone="13812345678")
    office = world.client("office_admin").get(f"/closeout/{closeout.pk}/").content.decode()
    assert "张三丰" in office and "13812345678" in office
    lead = world.client("lead_env").get(f"/closeout/{closeout.pk}/").content.decode()
    assert "张三丰" not in lead and "张**" in lead and "138****5678" in lead
    unit = world.client("reviewer_a").get(f"/closeout/{closeout.pk}/").content.decode()
    assert "河道仍有异味" in unit and "张" not in unit.split('id="objections"')[1].split("</section>")[0]
    assert "1381234" not in unit and "138****" not in unit  # a bare "138" may occur in a hash on the page


def test_the_office_answers_and_verifies_and_files_through_the_pages(world):
    closeout = through_notice(world, assessed(world))
    objection = services.file_objection(closeout=closeout, content="希望加强后期管护。")
    world.client("office_admin").post(f"/closeout/objections/{objection.pk}/answer/",
                                      {"action": "dismiss", "answer": "已纳入长效管护。"})
    Closeout.objects.filter(pk=closeout.pk).update(notice_end=dt.date.today() - dt.timedelta(days=1))
    world.client("office_admin").post(f"/closeout/{closeout.pk}/step/", {
        "action": "accept_application", "version": Closeout.objects.get(pk=closeout.pk).version})
    assert Closeout.objects.get(pk=closeout.pk).status == C.ACCEPTED
    page = world.client("lead_env").get(f"/closeout/{closeout.pk}/").content.decode()
    assert 'id="check-form"' in page
    for standard in ("ecology", "pollution", "public"):
        world.client("lead_env").post(f"/closeout/{closeout.pk}/checks/", {
            "check-standard": standard, "check-finding": "现场查看正常。", "check-onsite": "on",
            "check-checked_on": dt.date.today().isoformat(), "check-checkers": "王某", "check-passed": "1"})
    world.client("lead_env").post(f"/closeout/{closeout.pk}/step/", {
        "action": "verify_pass", "opinion": "同意销号。", "version": Closeout.objects.get(pk=closeout.pk).version})
    assert Closeout.objects.get(pk=closeout.pk).status == C.VERIFIED
    listing = world.client("office_admin").get("/closeout/?status=verified").content.decode()
    assert 'name="ids"' in listing and world.task_a.code in listing
    result = world.client("office_admin").post("/closeout/bulk/", {"action": "file", "ids": [closeout.pk]})
    assert "成功 1 项" in result.content.decode()
    assert Task.objects.get(pk=world.task_a.pk).status == TaskStatus.CLOSED


def test_policy_page_is_the_office_s(world):
    assert world.client("lead_env").get(f"/closeout/policy/{world.campaign.pk}/").status_code == 404
    response = world.client("office_admin").post(f"/closeout/policy/{world.campaign.pk}/", {
        "notice_workdays": "10", "verifier": "lead", "onsite_required": "on"})
    assert response.status_code == 302
    assert services.policy_for(world.campaign.__class__.objects.get(pk=world.campaign.pk)).notice_workdays == 10


def test_a_look_back_is_started_and_answered_through_the_pages(world):
    task = closed_task(world)
    assert world.client("lead_env").post("/closeout/lookbacks/", {}).status_code == 403
    response = world.client("office_admin").post("/closeout/lookbacks/", {
        "campaign": world.campaign.pk, "title": "2026 年回头看", "share_percent": "100", "seed": "abc",
        "due_date": (dt.date.today() + dt.timedelta(days=20)).isoformat()})
    assert response.status_code == 302
    check = LookBackCheck.objects.get(task=task)
    page = world.client("lead_env").get(f"/closeout/lookbacks/{check.lookback_id}/").content.decode()
    assert "随机种子 abc" in page and "提交复查结论" in page
    world.client("lead_env").post(f"/closeout/lookbacks/checks/{check.pk}/result/", {
        "action": "rebound", "statement": "反弹。", "new_deadline": (dt.date.today() + dt.timedelta(days=60)).isoformat()})
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACTIVE
    assert world.client("reporter_b").get(f"/closeout/lookbacks/{check.lookback_id}/").status_code == 404


def _png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "现场照片.png"
    return buffer


def test_evidence_per_standard_is_uploaded_and_served_in_scope(world):
    closeout = assessed(world)
    response = world.client("reviewer_a").post(f"/closeout/{closeout.pk}/files/", {
        "file-stage": "assessment", "file-standard": "ecology", "file-file": _png()})
    assert response.status_code == 302
    stored = closeout.files.get()
    assert stored.unit == world.county_a and stored.standard == "ecology"
    page = world.client("office_admin").get(f"/closeout/{closeout.pk}/").content.decode()
    assert "现场照片.png" in page
    assert world.client("lead_env").get(f"/closeout/files/{stored.pk}/").status_code == 200
    assert world.client("reporter_b").get(f"/closeout/files/{stored.pk}/").status_code == 404
    # not the verifier's turn yet: a check file is refused
    refused = world.client("lead_env").post(f"/closeout/{closeout.pk}/files/", {
        "file-stage": "check", "file-standard": "ecology", "file-file": _png()}, follow=True).content.decode()
    assert "当前不能上传核查佐证材料" in refused and closeout.files.count() == 1
    renamed = world.client("reviewer_a").post(f"/closeout/{closeout.pk}/files/", {
        "file-stage": "assessment", "file-standard": "public", "file-file": _fake_pdf()}, follow=True).content.decode()
    assert closeout.files.count() == 1 and "PDF" in renamed or "不支持" in renamed


def _fake_pdf():
    import io

    buffer = io.BytesIO(b"<?php echo 'x'; ?>")
    buffer.name = "说明.pdf"
    return buffer
