"""The audit record viewer: the auditor and the office administrator browse and filter events,
see before/after, verify the chain from the page in steps (same verdict as `rectify verify`) and
read the head to publish. Read-only; everyone else gets 404."""

from __future__ import annotations

import re

import pytest

from rectify.core.audit import VerifyProgress, chain_head, record_event, verify_chain, verify_step
from rectify.core.models import Event
from tests.test_audit_chain import tamper


def run_verification(client, head: str = "") -> str:
    """Follow the page's htmx polling: each fragment names the next step until the walk ends."""
    html = client.get("/audit/verify/run/", {"head": head}).content.decode()
    for _ in range(1000):
        cursor = re.search(r'cursor=([^"&]+)"', html)
        if not cursor:
            return html
        html = client.get("/audit/verify/run/?cursor=" + cursor.group(1)).content.decode()
    raise AssertionError("verification never finished")


@pytest.fixture
def events(world):
    for n in range(30):
        record_event(actor=world.users["office_staff"], action="demo_step", object_type="ledger.task",
                     object_id=str(world.task_a.pk), summary=f"第{n}步", before={"n": n}, after={"n": n + 1})
    return world


@pytest.mark.parametrize("persona", ["auditor", "office_admin"])
def test_readers_browse_filter_and_open_events(events, persona):
    client = events.client(persona)
    page = client.get("/audit/")
    assert page.status_code == 200 and "demo_step" in page.content.decode()
    filtered = client.get("/audit/", {"action": "demo_step", "actor": "staff1"})
    assert filtered.context["page"].paginator.count == 30
    none = client.get("/audit/", {"action": "demo_step", "success": "0"})
    assert none.context["page"].paginator.count == 0
    by_object = client.get("/audit/", {"object_type": "ledger.task", "object_id": str(events.task_a.pk)})
    assert by_object.context["page"].paginator.count >= 31  # its creation too
    seq = Event.objects.filter(action="demo_step").order_by("seq").first().seq
    detail = client.get(f"/audit/events/{seq}/").content.decode()
    assert "{&#x27;n&#x27;: 0}" in detail and "{&#x27;n&#x27;: 1}" in detail  # before and after
    verify = client.get("/audit/verify/").content.decode()
    count, head = chain_head()
    assert f"{count}:{head}" in verify


@pytest.mark.parametrize("persona", ["office_staff", "reporter_a", "leader_a", "discipline", "lead_env"])
def test_check_12_others_cannot_read_the_record(events, persona):
    client = events.client(persona)
    for url in ("/audit/", "/audit/events/1/", "/audit/verify/", "/audit/verify/run/"):
        assert client.get(url).status_code == 404, url


def test_stepwise_verification_agrees_with_the_command(events, monkeypatch):
    monkeypatch.setattr("rectify.core.audit_views.STEP", 7)  # several steps over the small chain
    client = events.client("auditor")
    html = run_verification(client)
    total = Event.objects.count()
    assert "校验通过" in html and f"已校验 {total} / {total} 条" in html
    count, head = chain_head()
    assert "校验通过" in run_verification(client, f"{count}:{head}")
    wrong = run_verification(client, f"{count}:{'0' * 64}")
    assert "校验未通过" in wrong and "链头哈希不符" in wrong
    assert "格式" in run_verification(client, "not-a-head")
    assert Event.objects.count() == total  # verifying wrote nothing


def test_stepwise_verification_finds_an_edit_and_a_cut_tail(events, monkeypatch):
    monkeypatch.setattr("rectify.core.audit_views.STEP", 5)
    count, head = chain_head()
    target = Event.objects.filter(action="demo_step").order_by("seq")[10]
    tamper("UPDATE core_event SET summary = %s WHERE id = %s", ["改过", target.pk])
    html = run_verification(events.client("auditor"))
    assert "校验未通过" in html and f"事件 #{target.seq} 内容被改动" in html
    assert verify_chain().broken_seq == target.seq
    step = VerifyProgress()
    while step.result is None:
        step = verify_step(step, limit=4)
    assert step.result.broken_seq == target.seq
    # a head recorded past today's end: the tail was cut
    cut = verify_step(VerifyProgress(head=(count + 5, head), head_seen=False), limit=10_000)
    assert not cut.result.ok


def test_a_forged_cursor_is_refused(events):
    assert events.client("auditor").get("/audit/verify/run/?cursor=abc").status_code == 404
