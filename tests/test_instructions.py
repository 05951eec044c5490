"""Leader instructions (领导批示): a city leader writes on a task or one of its counties; the
responsible units get a reminder, the task's timeline shows it, and each unit records what it did."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rectify.core.models import Event, Notification
from rectify.dashboard.models import Instruction, InstructionReceipt
from rectify.dashboard.services import issue_instruction, record_instruction_action


def test_an_instruction_on_a_task_reaches_its_units_and_the_timeline(world, django_capture_on_commit_callbacks):
    leader = world.users["leader_a"]
    with django_capture_on_commit_callbacks(execute=True):
        ins = issue_instruction(actor=leader, task=world.task_a, text="要加快管网建设，月底前拿出倒排工期计划。")
    receipt = InstructionReceipt.objects.get(instruction=ins)
    assert receipt.unit == world.county_a and receipt.status == "open"
    reminded = set(Notification.objects.filter(kind="instruction").values_list("user__username", flat=True))
    assert reminded == {"rep_a", "rev_a"}
    timeline = world.client("reporter_a").get(f"/ledger/tasks/{world.task_a.pk}/").content.decode()
    assert "倒排工期" in timeline and 'id="instructions"' in timeline
    assert Event.objects.filter(action="instruction_issued", object_type="ledger.task",
                                object_id=str(world.task_a.pk)).exists()
    # the unit records what it did, once
    record_instruction_action(actor=world.users["reporter_a"], receipt=receipt, text="已制定倒排工期计划并报市住建局。")
    receipt.refresh_from_db()
    assert receipt.status == "done" and receipt.acted_by == world.users["reporter_a"]
    assert Event.objects.filter(action="instruction_acted", object_id=str(world.task_a.pk)).exists()
    with pytest.raises(ValidationError):
        record_instruction_action(actor=world.users["reviewer_a"], receipt=receipt, text="再记一次")
    leader_page = world.client("leader_a").get(f"/board/instructions/{ins.pk}/").content.decode()
    assert "已制定倒排工期计划" in leader_page


def test_a_leader_writes_only_where_it_sees(world):
    leader = world.users["leader_a"]  # 包零陵区: sees T-01, not 祁阳市's T-02
    with pytest.raises(PermissionDenied):
        issue_instruction(actor=leader, task=world.task_b, text="x")
    with pytest.raises(PermissionDenied):
        issue_instruction(actor=leader, county=world.county_b, text="x")
    with pytest.raises(PermissionDenied):
        issue_instruction(actor=world.users["office_admin"], task=world.task_a, text="x")
    with pytest.raises(ValidationError):
        issue_instruction(actor=leader, task=world.task_a, text=" ")
    with pytest.raises(ValidationError):
        issue_instruction(actor=leader, task=world.task_a, county=world.county_a, text="x")
    ins = issue_instruction(actor=leader, county=world.county_a, text="零陵区要压实整改责任。")
    assert [r.unit for r in ins.receipts.all()] == [world.county_a]
    assert world.client("leader_a").get(f"/board/instructions/new/?task={world.task_b.pk}").status_code == 404
    assert world.client("reporter_a").get(f"/board/instructions/new/?task={world.task_a.pk}").status_code == 404


def test_who_sees_an_instruction(world):
    ins = issue_instruction(actor=world.users["leader_a"], task=world.task_a, text="抓紧推进。")
    for persona, sees in {"leader_a": True, "office_admin": True, "reporter_a": True, "reviewer_a": True,
                          "lead_env": True, "reporter_b": False, "lead_housing": False, "discipline": False,
                          "auditor": False}.items():
        assert (world.client(persona).get(f"/board/instructions/{ins.pk}/").status_code == 200) is sees, persona
        assert Instruction.objects.visible_to(world.users[persona]).filter(pk=ins.pk).exists() is sees, persona


def test_the_pages_write_and_record(world):
    leader = world.client("leader_a")
    assert leader.get(f"/board/instructions/new/?task={world.task_a.pk}").status_code == 200
    response = leader.post("/board/instructions/new/", {"task": world.task_a.pk, "text": "请于本周内上报进展。"})
    assert response.status_code == 302 and response["Location"] == f"/ledger/tasks/{world.task_a.pk}/"
    ins = Instruction.objects.get()
    work = world.client("reporter_a").get("/board/work/").content.decode()
    assert "待办理的领导批示（1）" in work
    receipt = ins.receipts.get()
    reporter = world.client("reporter_a")
    assert "记录办理情况" in reporter.get(f"/board/instructions/{ins.pk}/").content.decode()
    assert "记录办理情况" not in world.client("office_admin").get(f"/board/instructions/{ins.pk}/").content.decode()
    response = reporter.post(f"/board/instructions/{ins.pk}/", {"receipt": receipt.pk, "action_text": "已上报。"})
    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.status == "done"
    assert "待办理的领导批示（0）" in reporter.get("/board/work/").content.decode()
    listing = leader.get("/board/instructions/").content.decode()
    assert "请于本周内上报进展" in listing and "已办理" in listing
