"""The escalation ladder (督办): order, skipping with a reason, replies, the board."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from rectify.core.models import Event, Notification
from rectify.supervision import services
from rectify.supervision.models import LADDER, Escalation, Rung

REPLY = timezone.localdate() + dt.timedelta(days=10)


def issue(world, rung, persona="office_admin", task=None, **kwargs):
    task = task or world.task_a
    return services.issue_escalation(actor=world.users[persona], task=task, rung=rung, reason="进度滞后",
                                     target_unit=kwargs.pop("target", world.county_a), reply_due=REPLY, **kwargs)


def test_rungs_go_in_order(world):
    for rung in LADDER[1:]:
        esc = issue(world, rung)
        assert esc.rung == rung and esc.doc_number
    assert [e.rung for e in Escalation.objects.order_by("pk")] == LADDER[1:]


@pytest.mark.parametrize("current,wanted,skipped", [
    (None, Rung.SUPERVISION, "通报"),
    (Rung.CIRCULAR, Rung.INTERVIEW, "督办、挂牌督办"),
    (Rung.SUPERVISION, Rung.SUSPENSION, "挂牌督办、约谈"),
])
def test_skipping_a_rung_needs_a_reason_and_is_recorded(world, current, wanted, skipped):
    if current:
        issue(world, current, skip_reason="前期已约谈提醒")
    with pytest.raises(ValidationError) as exc:
        issue(world, wanted)
    assert skipped in str(exc.value)
    esc = issue(world, wanted, skip_reason="问题性质严重，群众反映强烈")
    assert esc.skip_reason == "问题性质严重，群众反映强烈"
    event = Event.objects.filter(action="escalation_issued").last()
    assert f"跳过{skipped}" in event.summary and event.after["skipped"] == skipped.split("、")


def test_going_back_down_or_repeating_a_rung_is_allowed(world):
    issue(world, Rung.CIRCULAR)
    issue(world, Rung.SUPERVISION)
    assert issue(world, Rung.CIRCULAR).rung == Rung.CIRCULAR


def test_who_may_issue(world):
    issue(world, Rung.CIRCULAR, persona="lead_env")  # lead unit, its own task
    for persona in ["lead_housing", "reporter_a", "leader_a", "discipline"]:
        with pytest.raises(PermissionDenied):
            issue(world, Rung.CIRCULAR, persona=persona)


def test_bad_input_is_refused(world):
    with pytest.raises(ValidationError):
        issue(world, Rung.CIRCULAR, target=world.county_b)  # not a unit of this task
    with pytest.raises(ValidationError):
        services.issue_escalation(actor=world.users["office_admin"], task=world.task_a, rung=Rung.CIRCULAR,
                                  reason="x", target_unit=world.county_a, reply_due=None)
    assert not Escalation.objects.exists()


def test_target_replies_and_office_closes(world):
    esc = issue(world, Rung.SUPERVISION, skip_reason="紧急")
    assert Notification.objects.filter(user=world.users["reporter_a"], kind="escalation_received").exists()
    with pytest.raises(Http404):  # not its escalation: missing and not allowed look the same
        services.reply_escalation(actor=world.users["reporter_b"], escalation=esc, text="x")
    services.reply_escalation(actor=world.users["reporter_a"], escalation=esc, text="已完成管网铺设 2 公里")
    with pytest.raises(ValidationError):
        services.reply_escalation(actor=world.users["reporter_a"], escalation=esc, text="再次回复")
    services.close_escalation(actor=world.users["office_admin"], escalation=esc)
    esc.refresh_from_db()
    assert esc.status == "closed" and esc.reply_text.startswith("已完成")


def test_board_lists_overdue_replies_first_and_respects_scope(world):
    late = issue(world, Rung.CIRCULAR)
    Escalation.objects.filter(pk=late.pk).update(reply_due=timezone.localdate() - dt.timedelta(days=1))
    issue(world, Rung.CIRCULAR, task=world.task_b, target=world.county_b)
    page = world.client("office_admin").get("/supervision/").content.decode()
    assert page.index("T-01") < page.index("T-02") and "回复逾期" in page
    county_b = world.client("reporter_b").get("/supervision/").content.decode()
    assert "T-02" in county_b and "T-01" not in county_b
    assert world.client("reporter_b").get(f"/supervision/escalations/{late.pk}/").status_code == 404


def test_issue_and_reply_through_the_web(world):
    office = world.client("office_admin")
    response = office.post(f"/supervision/tasks/{world.task_a.pk}/escalate/", {
        "rung": "circular", "target_unit": world.county_a.pk, "reason": "连续两月滞后", "reply_due": REPLY.isoformat()})
    assert response.status_code == 302
    esc = Escalation.objects.get()
    reply = world.client("reporter_a").post(f"/supervision/escalations/{esc.pk}/", {"reply_text": "已整改"})
    assert reply.status_code == 302
    esc.refresh_from_db()
    assert esc.status == "replied"
    assert world.client("reporter_a").get(f"/supervision/tasks/{world.task_a.pk}/escalate/").status_code == 404


def test_warnings_are_raised_by_the_system_not_by_hand(world):
    with pytest.raises(ValidationError, match="自动发出"):
        issue(world, Rung.WARNING)


def test_two_yellow_rounds_in_a_row_make_a_red_but_one_does_not(world):
    from rectify.dispatch.services import close_round as end_round
    from rectify.dispatch.services import open_round
    from rectify.ledger.models import Task
    from rectify.supervision.services import refresh_statuses

    # T-01 lags throughout (started 2025, nothing reported); T-02 is long-term, out of the way.
    Task.objects.filter(pk=world.task_a.pk).update(start_date=dt.date(2025, 1, 1))
    Task.objects.filter(pk=world.task_b.pk).update(deadline_kind="long_term")
    admin = world.users["office_admin"]
    september, _ = open_round(actor=admin, office=world.office, period="2026-09", due_date=dt.date(2026, 9, 10))
    end_round(actor=admin, rnd=september, today=dt.date(2026, 9, 30))
    world.task_a.refresh_from_db()
    assert world.task_a.warning_colour == "yellow"
    october, _ = open_round(actor=admin, office=world.office, period="2026-10", due_date=dt.date(2026, 10, 16))
    refresh_statuses(today=dt.date(2026, 10, 12))  # mid-round: one yellow round so far
    world.task_a.refresh_from_db()
    assert world.task_a.warning_colour == "yellow"
    end_round(actor=admin, rnd=october, today=dt.date(2026, 10, 31))
    world.task_a.refresh_from_db()
    assert world.task_a.warning_colour == "red" and "连续两轮" in "".join(world.task_a.status_reasons)
    refresh_statuses(today=dt.date(2026, 11, 5))  # the red carries into the next round
    world.task_a.refresh_from_db()
    assert world.task_a.warning_colour == "red"


def _png(colour) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_reply_carries_the_evidence_the_document_asks_for(world, settings, tmp_path):
    """Issue 14 point 6: the reply form accepts evidence; files are checked by content, stored by
    digest, listed on the escalation and served only to those who may see it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rectify.core.sm3 import sm3_hex
    from rectify.supervision.models import ReplyFile

    settings.MEDIA_ROOT = tmp_path / "files"
    esc = issue(world, Rung.CIRCULAR)
    reporter = world.client("reporter_a")
    page = reporter.get(f"/supervision/escalations/{esc.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="files"' in page
    # a bad file refuses the whole reply: nothing recorded, nothing stored
    bad = reporter.post(f"/supervision/escalations/{esc.pk}/", {
        "reply_text": "已整改", "files": [SimpleUploadedFile("现场.png", _png("red")),
                                         SimpleUploadedFile("shell.jpg", b"<?php system($_GET['c']); ?>")]}, follow=True)
    assert "shell.jpg" in bad.content.decode()
    esc.refresh_from_db()
    assert esc.status == "open" and not ReplyFile.objects.exists()
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    reply = reporter.post(f"/supervision/escalations/{esc.pk}/", {
        "reply_text": "排污口已封堵，见现场照片。", "files": [SimpleUploadedFile("封堵前.png", _png("red")),
                                                       SimpleUploadedFile("封堵后.png", _png("green"))]})
    assert reply.status_code == 302
    esc.refresh_from_db()
    assert esc.status == "replied"
    files = list(esc.reply_files.all())
    assert [f.original_name for f in files] == ["封堵前.png", "封堵后.png"]
    assert files[1].digest == sm3_hex(_png("green"))
    event = Event.objects.filter(action__startswith="escalation_").order_by("-seq").first()
    assert "附材料 2 个" in event.summary and event.after["files"][1]["sm3"] == files[1].digest
    url = f"/supervision/escalations/{esc.pk}/files/{files[1].pk}/"
    office = world.client("office_admin")
    assert url in office.get(f"/supervision/escalations/{esc.pk}/").content.decode()
    got = office.get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == _png("green")
    assert world.client("reporter_b").get(url).status_code == 404
    assert world.client("reporter_a").get(f"/supervision/escalations/{esc.pk}/files/{files[1].pk + 99}/").status_code == 404


@pytest.mark.parametrize("status", ["", "open", "replied", "closed"])
def test_the_board_order_is_the_same_on_every_database_and_page(world, status):
    """The board's order, written out: open with an overdue reply (earliest first), open with a
    later reply date, open without one (an automatic warning), then replied and closed ones, each
    with a date before those without; newest first among equals. The same through the API and the
    web page, and from the end (a deep page is read in the reversed order)."""
    from rectify.core.paging import page_rows
    from rectify.supervision.selectors import escalation_board

    today = timezone.localdate()
    at = timezone.now()
    rows = [  # (status, reply_due, issued days ago), in the expected order
        ("open", today - dt.timedelta(days=9), 1), ("open", today - dt.timedelta(days=2), 1),
        ("open", today - dt.timedelta(days=2), 3), ("open", today, 1), ("open", today + dt.timedelta(days=5), 1),
        ("open", None, 1), ("open", None, 2),
        ("replied", today - dt.timedelta(days=4), 1), ("replied", today + dt.timedelta(days=1), 1), ("replied", None, 1),
        ("closed", today - dt.timedelta(days=30), 1), ("closed", None, 1),
    ]
    made = []
    for state, due, days_ago in reversed(rows):  # created in the opposite order: ids don't decide it
        made.append(Escalation.objects.create(task=world.task_a, rung=Rung.CIRCULAR, reason="滞后", target_unit=world.county_a,
                                              reply_due=due, issued_at=at - dt.timedelta(days=days_ago), status=state))
    expected = [e.pk for e, row in zip(reversed(made), rows, strict=True) if not status or row[0] == status]
    user = world.users["office_admin"]
    board = escalation_board(user, status=status)
    assert [e.pk for e in board] == expected
    tail = max(len(expected) - 3, len(expected) // 2 + 1)  # past the middle: read from the end
    assert [e.pk for e in page_rows(board, tail, len(expected), total=len(expected))] == expected[tail:]
    assert [e.overdue for e in board] == [bool(r[0] == "open" and r[1] and r[1] < today)
                                          for r in rows if not status or r[0] == status]
    from django.test import Client

    from rectify.orgs.services import issue_api_token

    token = issue_api_token(actor=user, user=user, name="board")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"/api/v1/escalations?limit=50&status={status}").json()
    assert [item["id"] for item in api["items"]] == expected
    # a reply moves it (the database keeps the rank): the first open one is now among the replied
    Escalation.objects.filter(pk=expected[0]).update(status="replied")
    if status in ("", "open"):
        assert expected[0] not in [e.pk for e in escalation_board(user, status="open")]
        assert [e.pk for e in escalation_board(user, status="replied")][0] == expected[0]


@pytest.mark.parametrize("per_row", [False, True])
def test_the_battle_maps_open_escalations_follow_the_boards_order(world, per_row):
    """The battle map's panel (挂图作战, 督办) lists the open ones as the 督办台账 does: overdue replies
    first, then by reply date, automatic warnings without one last, newest first among equals, on
    both databases (it had its own order, which put undated ones first on SQLite and last on
    PostgreSQL); past the panel's 12 rows the totals are counted."""
    from rectify.dashboard.selectors import LIST_LIMIT, board_tasks, open_escalations
    from rectify.supervision.selectors import escalation_board

    today = timezone.localdate()
    at = timezone.now()
    rows = [(today - dt.timedelta(days=d), 1) for d in (9, 2, 2)] + [(today + dt.timedelta(days=d), 1) for d in range(7)]
    rows += [(None, 1), (None, 2), (None, 3), (None, 4)]  # 14 open: the panel shows 12
    for due, days_ago in reversed(rows):
        Escalation.objects.create(task=world.task_a, rung=Rung.CIRCULAR, reason="滞后", target_unit=world.county_a,
                                  reply_due=due, issued_at=at - dt.timedelta(days=days_ago))
    Escalation.objects.create(task=world.task_a, rung=Rung.CIRCULAR, reason="已回复", target_unit=world.county_a,
                              reply_due=today - dt.timedelta(days=20), issued_at=at, status="replied")
    user = world.users["office_admin"]
    board = [e.pk for e in escalation_board(user, status="open")]
    assert len(board) == len(rows) > LIST_LIMIT
    panel = open_escalations(user, today, board_tasks(user), per_row=per_row)
    assert [r["id"] for r in panel["rows"]] == board[:LIST_LIMIT]
    assert [r["reply_due"] for r in panel["rows"]][-2:] == ["", ""]  # undated last, as on the board
    assert [r["overdue"] for r in panel["rows"]] == [True] * 3 + [False] * (LIST_LIMIT - 3)
    assert (panel["count"], panel["overdue"]) == (len(rows), 3)
