"""Bulk appends to the audit chain (``append_events``) keep the chain verifiable, and the bench
generator's output verifies. Timings stay out of here: benchmarks print figures, tests assert."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from rectify.core.audit import append_events, chain_head, record_event, verify_chain
from rectify.core.models import Event
from tests.test_audit_chain import tamper


def test_append_events_chains_on_from_record_event_and_back(world):
    before = Event.objects.count()
    admin = world.users["office_admin"]
    when = timezone.now() - dt.timedelta(days=30)
    rows = [{"action": "login", "actor": admin, "obj": admin, "summary": "登录成功"},
            {"action": "report_submit", "actor_id": admin.pk, "actor_name": admin.username,
             "unit_id": world.county_a.pk, "unit_name": world.county_a.name, "object_type": "ledger.task",
             "object_id": world.task_a.pk, "summary": "报送", "after": {"report": 7, "at": when, "percent": 42.5},
             "created_at": when, "ip": "10.0.0.9"},
            *({"action": "bulk", "summary": f"第 {i} 条", "before": {"n": i}} for i in range(12))]
    head = append_events(iter(rows), batch_size=5)
    assert head == chain_head() == (before + 14, Event.objects.order_by("-seq").first().hash)
    record_event(action="after_bulk", summary="普通写入接在批量写入之后")
    assert verify_chain().ok and Event.objects.count() == before + 15

    first, second = Event.objects.filter(seq__in=[before + 1, before + 2]).order_by("seq")
    # objects are treated as record_event treats them: name from the user, unit from the user's unit
    assert (first.actor_id, first.actor_name, first.unit_id, first.object_type, first.object_id) == (
        admin.pk, admin.username, world.office.pk, "orgs.user", str(admin.pk))
    assert second.created_at == when and second.ip == "10.0.0.9" and second.after["percent"] == "42.5"


def test_append_events_with_no_rows_returns_the_head(world):
    assert append_events([]) == chain_head()


def test_an_unknown_field_refuses_the_whole_batch(world):
    count = Event.objects.count()
    with pytest.raises(TypeError):
        append_events([{"action": "ok"}, {"action": "bad", "colour": "red"}], batch_size=1)
    assert Event.objects.count() == count


def test_a_tampered_bulk_event_is_detected(world):
    start, _ = chain_head()
    append_events({"action": "bulk", "summary": f"第 {i} 条", "after": {"i": i}} for i in range(30))
    target = Event.objects.get(seq=start + 17)
    tamper("UPDATE core_event SET summary = %s WHERE id = %s", ["改过的摘要", target.pk])
    result = verify_chain()
    assert not result.ok and result.broken_seq == target.seq


def test_the_generated_world_verifies(db):
    from bench.generate import generate
    from rectify.dispatch.models import DispatchRound, ProgressReport
    from rectify.ledger.models import Task
    from rectify.orgs.models import Role, User
    from rectify.supervision.models import Escalation

    summary = generate(tasks=40, events=4000, seed=3, today=dt.date(2026, 11, 16), log=lambda _line: None)
    result = verify_chain()
    assert result.ok, result.message
    assert result.count == summary.head[0] >= 4000
    assert Task.objects.count() == 40 and ProgressReport.objects.count() > 40 * 10
    assert DispatchRound.objects.filter(status="open").count() == 1 and Escalation.objects.exists()
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    # statuses are derived by the product, not typed in by the generator
    assert not Task.objects.exclude(status="draft").filter(progress_status="").exists()
    # the task units went in by the bulk path (COPY on PostgreSQL): the triggers kept the board facts
    from tests.test_board_facts import assert_consistent, counted_tallies, stored_tallies

    assert assert_consistent()
    assert stored_tallies() == counted_tallies() != {}  # and the snapshots' round tallies
    # the tasks went in around the services: the keyword index was built for them
    from rectify.ledger.selectors import TaskFilter, task_queryset

    admin = User.objects.get(username="bench_admin")
    task = Task.objects.order_by("-pk").first()
    word = task.title[:2]
    from rectify.ledger import search

    assert search.query_terms(word), word  # a word the index narrows
    found = set(task_queryset(admin, TaskFilter(q=word)).values_list("pk", flat=True))
    assert task.pk in found and found == set(Task.objects.filter(title__icontains=word).values_list("pk", flat=True)
                                             | Task.objects.filter(problem__icontains=word).values_list("pk", flat=True)
                                             | Task.objects.filter(target__icontains=word).values_list("pk", flat=True)
                                             | Task.objects.filter(code__icontains=word).values_list("pk", flat=True))
    if connection.vendor == "postgresql":  # explicit ids: the sequences were moved past them
        record_event(action="after_generate")
        assert verify_chain().ok
