"""Close-out (销号) in five verified steps and the look-back (回头看) that reopens what rebounds.

Personas from tests/conftest.py: 零陵区 (reporter_a, reviewer_a) is responsible for T-01, 市生态环境局
(lead_env) supervises it and, with no acceptance unit named, verifies it.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from rectify.closeout import services
from rectify.closeout.models import (
    CheckResult,
    Closeout,
    CloseoutStatus,
    LookBackCheck,
    ObjectionStatus,
    Standard,
)
from rectify.core.audit import verify_chain
from rectify.core.models import Event, Notification
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from rectify.ledger import services as ledger
from rectify.ledger.models import DeadlineKind, Task, TaskStatus
from rectify.orgs.models import Role
from tests.conftest import round_due

C = CloseoutStatus
ALL_MET = {s: ("met", f"{label}：已达到") for s, label in Standard.choices}
def today() -> dt.date:
    """The date now, read per call: a date fixed at import goes stale when a run crosses midnight."""
    return timezone.localdate()


def make_eligible(world, task, *, period="2026-10", units=None):
    """Every measure done and the round's reports accepted (the precondition of 初审)."""
    admin = world.users["office_admin"]
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period=period, due_date=round_due(period),
                                 require_unit_review=False)
    task.refresh_from_db()
    measures = list(task.measures.all())
    for report in ProgressReport.objects.filter(round=rnd, task=task).select_related("unit"):
        writer = units[report.unit_id] if units else world.users["reporter_a"]
        report = dispatch.transition(actor=writer, report=report, action="submit", changes={
            "progress_text": "全部措施已完成。", "percent": 100, "measures_completed": measures})
        dispatch.transition(actor=admin, report=report, action="accept")
    task.refresh_from_db()
    return task


def assessed(world, task=None):
    task = task or make_eligible(world, world.task_a)
    services.submit_self_assessment(actor=world.users["reviewer_a"], task=task, items=ALL_MET,
                                    completion_summary="截污管网已全部建成投用。")
    return Closeout.objects.get(task=task, status=C.SELF_ASSESSING)


def step(world, persona, closeout, action, **kwargs):
    closeout.refresh_from_db()
    return services.transition(actor=world.users[persona] if persona else None, closeout=closeout, action=action,
                               **kwargs)


def checks(world, closeout, *, passed=True, onsite=True):
    for standard in Standard.values:
        services.record_check(actor=world.users["lead_env"], closeout=closeout, standard=standard,
                              finding="现场核查，管网运行正常。", onsite=onsite, checked_on=today(),
                              checkers="王某、李某", passed=passed)


def through_notice(world, closeout):
    step(world, "reviewer_a", closeout, "apply")
    step(world, "office_admin", closeout, "publish_notice")
    closeout.refresh_from_db()
    return closeout


def test_the_whole_path_from_self_assessment_to_filing(world, django_capture_on_commit_callbacks):
    closeout = assessed(world)
    task = Task.objects.get(pk=world.task_a.pk)
    assert task.status == TaskStatus.CLOSING and task.closeout_stage == "self_assessing"
    closeout = through_notice(world, closeout)
    assert closeout.status == C.IN_NOTICE and closeout.notice_end > today() and closeout.notice_number
    with pytest.raises(ValidationError, match="期满后方可受理"):
        step(world, "office_admin", closeout, "accept_application")
    after_notice = closeout.notice_end + dt.timedelta(days=1)
    step(world, "office_admin", closeout, "accept_application", today=after_notice)
    with pytest.raises(ValidationError, match="核查记录"):
        step(world, "lead_env", closeout, "verify_pass", opinion="符合")
    checks(world, closeout)
    step(world, "lead_env", closeout, "verify_pass", opinion="三项标准均符合，同意销号。")
    with django_capture_on_commit_callbacks(execute=True):
        done = step(world, "office_admin", closeout, "file")
    task.refresh_from_db()
    assert done.status == C.FILED and "销备〔" in done.filing_number
    assert task.status == TaskStatus.CLOSED and task.closeout_stage == "filed" and task.progress_status == "closed"
    actions = list(Event.objects.filter(object_type="ledger.task", object_id=str(task.pk)).values_list("action", flat=True))
    for expected in ["closeout_started", "closeout_self_assessed", "closeout_applied", "closeout_notice_published",
                     "closeout_accepted", "closeout_check_recorded", "closeout_verified", "closeout_filed"]:
        assert expected in actions
    assert verify_chain().ok
    # filed: the next round expects no report from it
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-12",
                                 due_date=round_due("2026-12"))
    assert not ProgressReport.objects.filter(round=rnd, task=task).exists()
    assert Notification.objects.filter(user=world.users["reporter_a"], kind="closeout_filed").exists()


def test_a_task_must_be_finished_before_its_close_out_starts(world):
    with pytest.raises(ValidationError) as raised:
        services.submit_self_assessment(actor=world.users["reviewer_a"], task=world.task_a, items=ALL_MET)
    assert any("措施未完成" in m for m in raised.value.messages)
    assert any("尚无进展报送" in m for m in raised.value.messages)
    assert not Closeout.objects.exists()


def test_only_a_responsible_reviewer_self_assesses_and_all_three_standards_are_needed(world):
    task = make_eligible(world, world.task_a)
    for persona in ("reporter_a", "lead_env", "office_admin"):
        with pytest.raises(PermissionDenied):
            services.submit_self_assessment(actor=world.users[persona], task=task, items=ALL_MET)
    with pytest.raises((Http404, PermissionDenied)):
        services.submit_self_assessment(actor=world.users["reporter_b"], task=task, items=ALL_MET)
    with pytest.raises(ValidationError):
        services.submit_self_assessment(actor=world.users["reviewer_a"], task=task,
                                        items={"ecology": ("met", "x"), "pollution": ("met", "y")})
    with pytest.raises(ValidationError, match="不能都"):
        services.submit_self_assessment(actor=world.users["reviewer_a"], task=task,
                                        items={s: ("na", "不涉及") for s in Standard.values})


def test_a_task_shared_by_two_counties_needs_both_self_assessments(world):
    from rectify.orgs.services import create_user
    from tests.conftest import PASSWORD

    reviewer_b = create_user(actor=None, username="rev_b", password=PASSWORD, role=Role.REVIEWER,
                             unit=world.county_b, display_name="祁阳审核员", must_change_password=False)
    shared = ledger.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=ledger.TaskInput(
        code="T-09", title="两县共担", problem="p", responsible_units=[world.county_a, world.county_b],
        lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.LONG_TERM,
        measures=[ledger.MeasureInput(text="共建设施")]))
    make_eligible(world, shared, units={world.county_a.pk: world.users["reporter_a"],
                                        world.county_b.pk: world.users["reporter_b"]})
    closeout = assessed(world, shared)
    with pytest.raises(ValidationError, match="祁阳市"):
        step(world, "reviewer_a", closeout, "apply")
    services.submit_self_assessment(actor=reviewer_b, task=shared, items=ALL_MET)
    assert step(world, "reviewer_a", closeout, "apply").status == C.APPLIED


def test_an_unanswered_objection_blocks_the_application_and_an_upheld_one_returns_the_task(world):
    closeout = through_notice(world, assessed(world))
    objection = services.file_objection(closeout=closeout, content="管网末端仍有污水直排入河。", name="张三丰",
                                        phone="13812345678")
    assert objection.receipt.startswith("YY") and objection.status == ObjectionStatus.OPEN
    with connection.cursor() as cursor:  # what someone reading the database sees
        cursor.execute("SELECT contact_name, contact_phone FROM closeout_objection WHERE id = %s", [objection.pk])
        raw = cursor.fetchone()
    assert raw[0].startswith("sm4gcm:") and "张三丰" not in raw[0] and "13812345678" not in raw[1]
    event = Event.objects.get(action="objection_filed")
    assert "张三丰" not in str(event.after) + event.summary and "1381234" not in str(event.after)
    assert "138****" not in str(event.after)  # not even masked (a bare "138" may occur in a hash)
    with pytest.raises(ValidationError, match="异议未答复"):
        step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.answer_objection(actor=world.users["lead_env"], objection=objection, action="uphold", answer="x")
    services.answer_objection(actor=world.users["office_admin"], objection=objection, action="uphold",
                              answer="经现场核实，末端仍有直排，退回整改。")
    closeout.refresh_from_db()
    task = Task.objects.get(pk=world.task_a.pk)
    assert closeout.status == C.RETURNED and "异议成立" in closeout.return_reason
    assert task.status == TaskStatus.ACTIVE and task.closeout_stage == ""
    found = services.objection_by_receipt(objection.receipt.lower())
    assert found.status == ObjectionStatus.UPHELD and "退回整改" in found.answer


def test_a_dismissed_objection_lets_the_application_through(world):
    closeout = through_notice(world, assessed(world))
    objection = services.file_objection(closeout=closeout, content="希望加强后期管护。")
    services.answer_objection(actor=world.users["office_admin"], objection=objection, action="dismiss",
                              answer="管护已纳入长效机制，异议不成立。")
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    closeout.refresh_from_db()
    assert closeout.status == C.ACCEPTED


def test_no_objection_outside_the_notice_period(world):
    closeout = assessed(world)
    with pytest.raises(ValidationError, match="不在公示期内"):
        services.file_objection(closeout=closeout, content="还没公示就提异议。")
    closeout = through_notice(world, closeout)
    with pytest.raises(ValidationError, match="不在公示期内"):
        services.file_objection(closeout=closeout, content="公示结束后才提出。",
                                today=closeout.notice_end + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        services.file_objection(closeout=closeout, content="短")


def test_the_notice_period_counts_official_work_days_across_spring_festival(world, settings):
    closeout = through_notice(world, assessed(world))
    Closeout.objects.filter(pk=closeout.pk).update(status=C.APPLIED)
    # Published on Friday 13 February 2026: Saturday 14th is a worked day (调休), then 15–23 are the holiday.
    step(world, "office_admin", closeout, "publish_notice", today=dt.date(2026, 2, 13))
    closeout.refresh_from_db()
    assert closeout.notice_start == dt.date(2026, 2, 13) and closeout.notice_end == dt.date(2026, 2, 27)


def test_the_person_who_applied_may_not_verify(world):
    closeout = through_notice(world, assessed(world))
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    applicant = world.users["reviewer_a"]
    # The applicant later moves to the verifying unit: still not the one to check their own application.
    applicant.role, applicant.unit = Role.SUPERVISOR, world.dept_env
    applicant.save()
    with pytest.raises(PermissionDenied, match="参与初审的人员不能核查"):
        services.record_check(actor=applicant, closeout=closeout, standard="ecology", finding="x", onsite=True,
                              checked_on=today(), checkers="本人", passed=True)
    checks(world, closeout)
    with pytest.raises(PermissionDenied, match="参与初审的人员不能核查"):
        step(world, "reviewer_a", closeout, "verify_pass", opinion="同意")


def test_on_site_checks_when_the_campaign_requires_them(world):
    services.set_policy(actor=world.users["office_admin"], campaign=world.campaign, notice_workdays=7,
                        onsite_required=True, verifier="lead")
    closeout = through_notice(world, assessed(world))
    assert closeout.notice_workdays == 7
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    checks(world, closeout, onsite=False)
    with pytest.raises(ValidationError, match="现场核查"):
        step(world, "lead_env", closeout, "verify_pass", opinion="同意")
    assert Event.objects.filter(action="closeout_policy_set").exists()


def test_a_failed_check_goes_back_to_rectification_and_a_new_attempt_follows(world):
    closeout = through_notice(world, assessed(world))
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="原因"):
        step(world, "lead_env", closeout, "verify_fail")
    step(world, "lead_env", closeout, "verify_fail", reason="现场仍有黑臭水体。")
    task = Task.objects.get(pk=world.task_a.pk)
    assert task.status == TaskStatus.ACTIVE
    second = assessed(world, task)
    assert second.attempt == 2 and Closeout.objects.filter(task=task).count() == 2


def test_a_stale_or_repeated_step_is_refused(world):
    closeout = assessed(world)
    version = closeout.version
    step(world, "reviewer_a", closeout, "apply", expected_version=version)
    with pytest.raises(services.StaleCloseoutError):
        step(world, "reviewer_a", closeout, "apply", expected_version=version)
    with pytest.raises(ValidationError):
        step(world, "reviewer_a", closeout, "apply")


@pytest.mark.django_db(transaction=True)
def test_two_offices_publishing_at_once_one_wins(world):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is shared by threads with table locks; "
                    "cross-process writers on SQLite are tested in test_sqlite_concurrency.py")
    closeout = assessed(world)
    step(world, "reviewer_a", closeout, "apply")
    closeout.refresh_from_db()
    results = []

    def publish(persona):
        try:
            services.transition(actor=world.users[persona], closeout=closeout, action="publish_notice",
                                expected_version=closeout.version)
            results.append("ok")
        except (ValidationError, services.StaleCloseoutError) as exc:
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(p,)) for p in ("office_admin", "office_staff")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[-1] == "ok" and results.count("ok") == 1
    assert Event.objects.filter(action="closeout_notice_published").count() == 1


def test_bulk_acceptance_and_filing_record_each_task(world):
    closeout = through_notice(world, assessed(world))
    Closeout.objects.filter(pk=closeout.pk).update(notice_end=today() - dt.timedelta(days=1))
    outcomes = services.bulk_transition(actor=world.users["office_admin"], closeout_ids=[closeout.pk, 999999],
                                        action="accept_application")
    assert [o.ok for o in outcomes] == [True, False]
    checks(world, closeout)
    step(world, "lead_env", closeout, "verify_pass", opinion="同意")
    outcomes = services.bulk_transition(actor=world.users["office_admin"], closeout_ids=[closeout.pk], action="file")
    assert outcomes[0].ok and Task.objects.get(pk=world.task_a.pk).status == TaskStatus.CLOSED
    with pytest.raises(ValidationError):
        services.bulk_transition(actor=world.users["office_admin"], closeout_ids=[closeout.pk], action="publish_notice")


# --- look-back ------------------------------------------------------------------------------------


def closed_task(world, task=None):
    closeout = through_notice(world, assessed(world, task))
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    checks(world, closeout)
    step(world, "lead_env", closeout, "verify_pass", opinion="同意")
    step(world, "office_admin", closeout, "file")
    return Task.objects.get(pk=closeout.task_id)


def test_the_random_draw_is_reproducible_from_its_seed():
    pool = list(range(1, 10_001))
    first = services.draw_sample(pool, share_percent=20, seed="2026-回头看")
    assert len(first) == 2000 and first == services.draw_sample(list(reversed(pool)), share_percent=20,
                                                                  seed="2026-回头看")
    assert first != services.draw_sample(pool, share_percent=20, seed="another")
    assert services.draw_sample(pool, share_percent=0, seed="x") == []


def test_a_rebound_reopens_the_task_into_the_next_round(world, django_capture_on_commit_callbacks):
    task = closed_task(world)
    lookback = services.start_lookback(actor=world.users["office_admin"], campaign=world.campaign,
                                       title="2026 年回头看", share_percent=100, due_date=today() + dt.timedelta(days=30),
                                       seed="fixed")
    check = LookBackCheck.objects.get(lookback=lookback, task=task)
    assert check.assigned_unit == world.dept_env and lookback.pool_size == 1 and check.picked_by == "random"
    with pytest.raises(PermissionDenied):
        services.record_lookback_result(actor=world.users["reporter_a"], check=check, action="hold", statement="x")
    with pytest.raises(ValidationError, match="重新整改时限"):
        services.record_lookback_result(actor=world.users["lead_env"], check=check, action="rebound",
                                        statement="河道再现黑臭。")
    with django_capture_on_commit_callbacks(execute=True):
        services.record_lookback_result(actor=world.users["lead_env"], check=check, action="rebound",
                                        statement="河道再现黑臭。", new_deadline=today() + dt.timedelta(days=90))
    task.refresh_from_db()
    check.refresh_from_db()
    assert check.result == CheckResult.REBOUND and check.reopened and check.accountability_proposed
    assert task.status == TaskStatus.ACTIVE and task.deadline == today() + dt.timedelta(days=90)
    assert task.closeout_stage == "" and task.progress_status not in ("", "closed")
    assert Event.objects.filter(action="accountability_proposed", object_id=str(task.pk)).exists()
    assert Notification.objects.filter(user=world.users["reporter_a"], kind="task_reopened").exists()
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2027-01",
                                 due_date=round_due("2027-01"))
    assert ProgressReport.objects.filter(round=rnd, task=task).exists()
    # its history stays: the filed close-out is still on record
    assert Closeout.objects.filter(task=task, status=C.FILED).exists()


def test_holding_keeps_the_task_closed_and_picks_by_rule_and_hand(world):
    task = closed_task(world)
    with pytest.raises(ValidationError, match="已销号"):
        services.start_lookback(actor=world.users["office_admin"], campaign=world.campaign, title="x",
                                share_percent=0, due_date=today(), manual_task_ids=[world.task_b.pk])
    lookback = services.start_lookback(actor=world.users["office_admin"], campaign=world.campaign, title="按类别",
                                       share_percent=0, due_date=today(), categories=["water"])
    check = lookback.checks.get()
    assert check.picked_by == "rule"
    services.record_lookback_result(actor=world.users["office_admin"], check=check, action="hold",
                                    statement="巩固良好。")
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED
    with pytest.raises(PermissionDenied):
        services.start_lookback(actor=world.users["lead_env"], campaign=world.campaign, title="x", share_percent=10,
                                due_date=today())


def test_from_publication_on_the_task_is_frozen(world):
    closeout = through_notice(world, assessed(world))
    task = Task.objects.get(pk=world.task_a.pk)
    data = ledger.task_input_from(task)
    data.target = "改过的目标"
    with pytest.raises(ValidationError, match="冻结"):
        ledger.update_task(actor=world.users["office_admin"], task=task, expected_version=task.version, data=data)
    step(world, "office_admin", closeout, "return", reason="补充材料")
    task.refresh_from_db()
    ledger.update_task(actor=world.users["office_admin"], task=task, expected_version=task.version, data=data)


def test_the_rules_in_force_when_an_attempt_starts_are_kept(world):
    closeout = through_notice(world, assessed(world))
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    services.set_policy(actor=world.users["office_admin"], campaign=world.campaign, notice_workdays=5,
                        onsite_required=True, verifier="office")
    closeout.refresh_from_db()
    assert closeout.verifier == "acceptance" and not closeout.onsite_required
    checks(world, closeout, onsite=False)  # the lead unit still verifies, off-site checks still do
    assert step(world, "lead_env", closeout, "verify_pass", opinion="同意").status == C.VERIFIED


def test_a_check_cannot_predate_the_acceptance(world):
    closeout = through_notice(world, assessed(world))
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="不能早于受理"):
        services.record_check(actor=world.users["lead_env"], closeout=closeout, standard="ecology", finding="x",
                              onsite=True, checked_on=today() - dt.timedelta(days=30), checkers="王某", passed=True)


def test_tick_tells_the_office_when_a_notice_period_has_ended(world):
    from rectify import tick

    closeout = through_notice(world, assessed(world))
    tick.tick(today=closeout.notice_end)
    assert not Notification.objects.filter(kind="notice_ended").exists()
    tick.tick(today=closeout.notice_end + dt.timedelta(days=1))
    tick.tick(today=closeout.notice_end + dt.timedelta(days=2))
    assert Notification.objects.filter(user=world.users["office_admin"], kind="notice_ended").count() == 1
