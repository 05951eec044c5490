"""Shared steps of the accountability tests: the office's case handler (office_staff, designated by
office_admin), a case on 零陵区's task T-01 investigated by 市生态环境局 (lead_env), referred to 市纪委监委
(discipline)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from rectify.accountability import services
from rectify.accountability.models import AccountabilityCase, CaseKind

LATER = timezone.localdate() + dt.timedelta(days=30)
HANDLER = "office_staff"


def designate(world, persona: str = HANDLER) -> None:
    services.grant_case_handler(actor=world.users["office_admin"], user=world.users[persona])


def fresh(world, persona: str):
    """The persona's user object without the per-request cache of its handler designation."""
    user = world.users[persona]
    user.__dict__.pop("_is_case_handler", None)
    return user


def open_case(world, *, title="零陵区截污管网表面整改", facts="回头看发现管网未接通，报称已完成。") -> AccountabilityCase:
    return services.open_case(actor=fresh(world, HANDLER), task_ids=[world.task_a.pk], kind=CaseKind.SUPERFICIAL,
                              title=title, facts=facts, lead_unit=world.dept_env, investigation_due=LATER)


def step(world, persona: str, case: AccountabilityCase, action: str, **kwargs) -> AccountabilityCase:
    case.refresh_from_db()
    return services.transition(actor=fresh(world, persona), case=case, action=action, **kwargs)


def investigate(world, case: AccountabilityCase, *, person=("张三丰", "零陵区住建局副局长"), findings="管网未接通。",
                recommendation="建议对相关责任人予以通报批评。", note="3月5日现场核查。") -> AccountabilityCase:
    case = step(world, "lead_env", case, "start")
    lead = fresh(world, "lead_env")
    if person:
        services.add_person(actor=lead, case=case, name=person[0], post=person[1], unit=world.county_a)
    if note:
        services.add_note(actor=lead, case=case, text=note)
    case.refresh_from_db()
    services.save_findings(actor=lead, case=case, expected_version=case.version, findings=findings,
                           recommendation=recommendation)
    return step(world, "lead_env", case, "submit_report")


def refer(world, case: AccountabilityCase) -> AccountabilityCase:
    case = step(world, HANDLER, case, "approve_report", opinion="事实清楚，同意移交。")
    return step(world, HANDLER, case, "refer", commission=world.discipline, note="请依规处理。")


def conclude(world, case: AccountabilityCase, outcome: str = "criticism") -> AccountabilityCase:
    case = step(world, "discipline", case, "accept", commission_ref="纪受〔2026〕8号", handling_due=LATER)
    persons = {p.pk: (outcome, "予以通报批评") for p in case.persons.all()}
    case = step(world, "discipline", case, "record_outcome", outcome=outcome, detail="对责任人通报批评。",
                person_outcomes=persons)
    return step(world, "discipline", case, "close")
