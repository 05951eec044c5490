"""Every list the product shows, web and API, with a factory of its rows — one declarative table
that tests/test_query_counts.py (queries equal at 5 and 50 rows, pinned in query_counts.json) and
tests/test_get_writes_nothing.py (a GET writes nothing) both walk.

A factory adds ``count`` rows to what the list shows and returns the URL's parameters; rows are
written in bulk (lists read them, they need no audit events), except where the list reads what a
service writes (timeline events).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.test import Client
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.models import CalendarDay, CalendarYear, Notification
from rectify.dispatch.models import DispatchRound, Evidence, ProgressReport, ReportStatus
from rectify.ledger.models import Campaign, Measure, Task, TaskUnit, UnitRole
from rectify.orgs.services import issue_api_token
from rectify.supervision.models import Escalation, EscalationStatus, Rung, StatusFlip

_serial = itertools.count(1)


@dataclass
class Scene:
    """The shared world plus what the factories made so far (one round, one report, …)."""

    world: object
    state: dict = field(default_factory=dict)

    @property
    def admin(self):
        return self.world.users["office_admin"]

    def client(self, persona: str, *, api: bool = False) -> Client:
        """A logged-in browser, or (``api``) a token client (also logged in, for the schema pages)."""
        key = ("client", persona, api)
        if key not in self.state:
            user = self.world.users[persona]
            client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='t')}") if api \
                else Client()
            client.force_login(user)
            self.state[key] = client
        return self.state[key]

    def round(self) -> DispatchRound:
        """One open round of the office (the dispatch table and the report list read it)."""
        if "round" not in self.state:
            self.state["round"] = DispatchRound.objects.create(
                office=self.world.office, period="2026-10", title="2026年10月调度", opened_at=timezone.now(),
                opened_by=self.admin, due_date=dt.date(2099, 12, 10))
        return self.state["round"]

    def report(self) -> ProgressReport:
        """零陵区's draft report on T-01 in that round (its evidence and history are lists)."""
        if "report" not in self.state:
            self.state["report"] = ProgressReport.objects.create(
                round=self.round(), task=self.world.task_a, unit=self.world.county_a, status=ReportStatus.DRAFT,
                progress_text="完成截污管网 3 公里。", percent=40, author=self.world.users["reporter_a"],
                submitted_at=timezone.now())
        return self.state["report"]


# --- the public portal (信息公开): rows the office disclosed ----------------------------------


def _disclose(subject: str, ids) -> None:
    from rectify.disclosure.models import Decision

    Decision.objects.bulk_create([Decision(subject=subject, object_id=i, disclosed=True, decided_at=timezone.now())
                                  for i in ids], ignore_conflicts=True)


def portal_tasks(scene: Scene, count: int) -> dict:
    rows = add_tasks(scene, count)
    _disclose("campaign", [scene.world.campaign.pk])
    _disclose("task", [t.pk for t in rows])
    return {"county": scene.world.county_a.pk}


def portal_closeouts(status: str):
    def factory(scene: Scene, count: int) -> dict:
        from rectify.closeout.models import Closeout

        rows = add_tasks(scene, count)
        _disclose("campaign", [scene.world.campaign.pk])
        _disclose("task", [t.pk for t in rows])
        today = timezone.localdate()
        Closeout.objects.bulk_create(Closeout(
            task=t, status=status, started_at=timezone.now(), notice_start=today, notice_end=today,
            notice_number=f"公-{next(_serial)}", filing_number=f"备-{next(_serial)}" if status == "filed" else "",
            filed_at=timezone.now() if status == "filed" else None, completion_summary="已完成")
            for t in rows)
        return {}
    return factory


def portal_lookbacks(scene: Scene, count: int) -> dict:
    from rectify.closeout.models import LookBack, LookBackCheck

    rows = add_tasks(scene, count)
    _disclose("campaign", [scene.world.campaign.pk])
    _disclose("task", [t.pk for t in rows])
    lookback = LookBack.objects.create(campaign=scene.world.campaign, title="回头看", seed="s", due_date=dt.date(2026, 12, 1),
                                       created_at=timezone.now())
    LookBackCheck.objects.bulk_create(LookBackCheck(lookback=lookback, task=t, picked_by="random",
                                                    assigned_unit=scene.world.dept_env, due_date=dt.date(2026, 12, 1),
                                                    result="holding", checked_at=timezone.now()) for t in rows)
    return {}


def portal_articles(scene: Scene, count: int) -> dict:
    from rectify.disclosure.models import Article

    Article.objects.bulk_create(Article(office=scene.world.office, kind="circular", title=f"通报{next(_serial)}",
                                        body="正文", status="published", created_at=timezone.now(),
                                        published_at=timezone.now()) for _ in range(count))
    return {}


def observations(scene: Scene, count: int) -> dict:
    from rectify.disclosure.models import Observation
    from rectify.orgs.models import Role, User

    w = scene.world
    author = User.objects.filter(username="npc-list").first() or User.objects.create(
        username="npc-list", role=Role.OBSERVER, unit=w.office, display_name="监督员")
    Observation.objects.bulk_create(Observation(task=w.task_a, author=author, observed_on=timezone.localdate(),
                                                content=f"监督{n}", created_at=timezone.now()) for n in range(count))
    return {}


def disclosure_campaign_tasks(scene: Scene, count: int) -> dict:
    add_tasks(scene, count)
    return {"campaign": scene.world.campaign.pk}


# --- row factories --------------------------------------------------------------------------------


def add_tasks(scene: Scene, count: int) -> list[Task]:
    """Tasks of 零陵区 (so its reporter sees them), each with four unit roles and three measures."""
    w = scene.world
    tasks = Task.objects.bulk_create(
        Task(campaign=w.campaign, code=f"L-{next(_serial):05d}", title=f"列表任务{i}", problem="问题描述", target="目标",
             category="water", leader=w.users["leader_a"], deadline_kind="by_date",
             deadline=dt.date(2026, 1, 1) + dt.timedelta(days=i), status="active", progress_status="lagging",
             warning_colour="yellow", expected_percent=60, actual_percent=30, status_reasons=["滞后"])
        for i in range(count))
    TaskUnit.objects.bulk_create(
        TaskUnit(task=t, unit=unit, role=role, is_primary=True) for t in tasks for unit, role in (
            (w.county_a, UnitRole.RESPONSIBLE), (w.dept_env, UnitRole.LEAD_SUPERVISOR),
            (w.dept_housing, UnitRole.CO_SUPERVISOR), (w.dept_env, UnitRole.ACCEPTANCE)))
    Measure.objects.bulk_create(Measure(task=t, ordinal=n, text=f"措施{n}", owner_unit=w.county_a, done=n == 1)
                                for t in tasks for n in (1, 2, 3))
    return tasks


def tasks(scene: Scene, count: int) -> dict:
    add_tasks(scene, count)
    return {}


def measures_of_task(scene: Scene, count: int) -> dict:
    task = scene.world.task_a
    start = task.measures.count()
    Measure.objects.bulk_create(Measure(task=task, ordinal=start + n + 1, text=f"补充措施{n}",
                                        owner_unit=scene.world.county_a) for n in range(count))
    return {"task": task.pk}


def campaigns(scene: Scene, count: int) -> dict:
    Campaign.objects.bulk_create(Campaign(code=f"C-{next(_serial):05d}", name=f"批次{next(_serial)}",
                                          office=scene.world.office) for _ in range(count))
    return {}


def reports(scene: Scene, count: int) -> dict:
    """Report slots of new tasks in one round, in every state, each with evidence."""
    rnd, w = scene.round(), scene.world
    states = [ReportStatus.PENDING, ReportStatus.DRAFT, ReportStatus.AWAITING_REVIEW, ReportStatus.SUBMITTED,
              ReportStatus.RETURNED, ReportStatus.ACCEPTED]
    rows = ProgressReport.objects.bulk_create(
        ProgressReport(round=rnd, task=t, unit=w.county_a, status=states[i % len(states)], percent=10 * (i % 10),
                       late=i % 2 == 0, author=w.users["reporter_a"], submitted_at=timezone.now())
        for i, t in enumerate(add_tasks(scene, count)))
    _evidence(scene, rows)
    return {"round": rnd.pk}


def _evidence(scene: Scene, reports_: list[ProgressReport], per_report: int = 1) -> None:
    Evidence.objects.bulk_create(
        Evidence(report=r, digest=f"{next(_serial):064x}", extension="pdf", size=1000, mime="application/pdf",
                 kind="document", original_name=f"材料{n}.pdf", uploaded_by=scene.world.users["reporter_a"])
        for r in reports_ for n in range(per_report))


def rounds(scene: Scene, count: int) -> dict:
    """Open rounds of the office, each with a pending report of 零陵区 (the reporter's to-do list)."""
    w = scene.world
    made = DispatchRound.objects.bulk_create(
        DispatchRound(office=w.office, period=f"{1000 + n // 12:04d}-{n % 12 + 1:02d}", title=f"第{n}轮",
                      opened_at=timezone.now(), opened_by=scene.admin, due_date=dt.date(2099, 12, 10))
        for n in (next(_serial) for _ in range(count)))
    ProgressReport.objects.bulk_create(ProgressReport(round=r, task=w.task_a, unit=w.county_a) for r in made)
    return {}


def escalations(scene: Scene, count: int) -> dict:
    """Escalations aimed at 零陵区, open, replied and closed, some overdue."""
    w = scene.world
    statuses = [EscalationStatus.OPEN, EscalationStatus.REPLIED, EscalationStatus.CLOSED]
    Escalation.objects.bulk_create(
        Escalation(task=t, rung=Rung.CIRCULAR, reason="进展滞后", target_unit=w.county_a,
                   reply_due=dt.date(2020, 1, 1) + dt.timedelta(days=400 * (i % 2)) + dt.timedelta(days=i),
                   doc_number=f"整改办通〔2026〕{next(_serial)}号", issued_by=scene.admin, issuing_unit=w.office,
                   issued_at=timezone.now(), status=statuses[i % 3], reply_text="已整改" if i % 3 else "",
                   replied_by=w.users["reporter_a"] if i % 3 else None)
        for i, t in enumerate(add_tasks(scene, count)))
    return {}


def notifications(scene: Scene, count: int) -> dict:
    Notification.objects.bulk_create(
        Notification(user=user, kind="round_opened", title=f"提醒{n}", body="请按时报送。", url="/dispatch/",
                     key=f"k{n}", read_at=timezone.now() if n % 2 else None)
        for user in scene.world.users.values() for n in (next(_serial) for _ in range(count)))
    return {}


def jobs(scene: Scene, count: int) -> dict:
    from rectify.jobs.models import Job

    for persona in ("office_admin", "reporter_a"):
        Job.objects.bulk_create(Job(kind="ledger_import", title=f"导入{next(_serial)}", owner=scene.world.users[persona],
                                    status="succeeded", attempt=1) for _ in range(count))
    return {}


def job_page(scene: Scene, count: int) -> dict:
    from rectify.jobs.models import Job

    jobs(scene, count)
    return {"job": Job.objects.filter(owner=scene.world.users["office_admin"]).values_list("pk", flat=True).first()}


def report_campaigns(scene: Scene, count: int) -> dict:
    from rectify.reports.models import CampaignReport

    made = Campaign.objects.bulk_create(Campaign(code=f"RC-{next(_serial)}", name=f"批次{n}", kind="central",
                                                 office=scene.world.office) for n in range(count))
    CampaignReport.objects.bulk_create(CampaignReport(campaign=c, received_date=dt.date(2026, 8, 1)) for c in made)
    return {}


def report_page_jobs(scene: Scene, count: int) -> dict:
    from rectify.jobs.models import Job

    campaign = scene.world.campaign.pk
    Job.objects.bulk_create(Job(kind="sixmonth_report", title=f"报告{next(_serial)}", owner=scene.admin,
                                params={"campaign": campaign, "as_of": "2026-11-30"}, status="succeeded", attempt=1)
                            for _ in range(count))
    return {"campaign": campaign}


def projects(scene: Scene, count: int) -> dict:
    from rectify.reserve.models import Project

    world = scene.world
    Project.objects.bulk_create(Project(office=world.office, code=f"P-{next(_serial)}", name="项目",
                                        county=world.county_a, responsible_unit=world.county_a) for _ in range(count))
    return {}


def project_page(scene: Scene, count: int) -> dict:
    from rectify.reserve.models import Project, ProjectFunding, ProjectProgress

    world = scene.world
    project = Project.objects.create(office=world.office, code=f"P-{next(_serial)}", name="项目",
                                     county=world.county_a, responsible_unit=world.county_a)
    ProjectProgress.objects.bulk_create(ProjectProgress(project=project, period=f"{2000 + n}-01", percent=10, text="进展")
                                        for n in range(count))
    ProjectFunding.objects.bulk_create(ProjectFunding(project=project, source=s, amount=1)
                                       for s in ("central", "local"))
    project.tasks.set([world.task_a])
    return {"project": project.pk}


def calendar_years(scene: Scene, count: int) -> dict:
    # after the seeded years (a transactional test before this one may have flushed them)
    start = (CalendarYear.objects.order_by("-year").values_list("year", flat=True).first() or 2026) + 1
    CalendarYear.objects.bulk_create(CalendarYear(year=y, source="office", entered_by=scene.admin,
                                                  entered_at=timezone.now()) for y in range(start, start + count))
    CalendarDay.objects.bulk_create(CalendarDay(date=dt.date(y, 1, 1), kind="holiday", name="元旦")
                                    for y in range(start, start + count))
    return {}


def calendar_days(scene: Scene, count: int) -> dict:
    year = 2150
    CalendarYear.objects.get_or_create(year=year, defaults={"source": "office", "entered_by": scene.admin,
                                                            "entered_at": timezone.now()})
    first = CalendarDay.objects.filter(date__year=year).count()
    CalendarDay.objects.bulk_create(CalendarDay(date=dt.date(year, 1, 1) + dt.timedelta(days=first + n),
                                                kind="holiday", name="假日") for n in range(count))
    return {"year": year}


def task_history(scene: Scene, count: int) -> dict:
    """T-01 with more of everything its page lists: measures, reports, escalations, flips, events."""
    w = scene.world
    task = w.task_a
    measures_of_task(scene, count)
    rounds(scene, count)
    Escalation.objects.bulk_create(
        Escalation(task=task, rung=Rung.SUPERVISION, reason="滞后", target_unit=w.county_a, reply_due=None,
                   doc_number=f"整改办督〔2026〕{next(_serial)}号", issued_by=scene.admin, issuing_unit=w.office,
                   issued_at=timezone.now()) for _ in range(count))
    StatusFlip.objects.bulk_create(StatusFlip(task=task, at=timezone.now(), computed_on=dt.date(2026, 11, 1),
                                              old_status="on_schedule", new_status="lagging", new_colour="yellow")
                                   for _ in range(count))
    for n in range(count):
        record_event(actor=scene.admin, action="task_updated", obj=task, summary=f"第{n}次修改")
    return {"task": task.pk}


def report_history(scene: Scene, count: int) -> dict:
    """One report with more evidence and more earlier reports of the same task and unit."""
    report = scene.report()
    _evidence(scene, [report], per_report=count)
    rounds(scene, count)
    return {"report": report.pk}


def round_table(scene: Scene, count: int) -> dict:
    """The dispatch table of one round: more report slots (grouped by unit and lead unit)."""
    return reports(scene, count)


def plan_measures(scene: Scene, count: int) -> dict:
    """A pasted plan with more measures: the preview lists each with its matched units."""
    total = scene.state.get("plan_measures", 0) + count
    scene.state["plan_measures"] = total
    text = "\n".join(["某市贯彻落实中央生态环境保护督察反馈意见整改方案", "一、主要任务", "（一）打好污染防治攻坚战"]
                     + [f"{i + 1}.推进第{i + 1}项整改工作。加强城镇污水管网建设，市住房和城乡建设局牵头，2026年12月底前完成。"
                        for i in range(total)])
    response = scene.client("office_admin").post("/plans/", {"campaign": scene.world.campaign.pk, "text": text})
    assert response.status_code == 302, response.content.decode()[:500]
    return {"token": response["Location"].rstrip("/").rsplit("/", 1)[1]}


def closeouts(scene: Scene, count: int) -> dict:
    """Close-outs of new tasks at every open stage, each with an unanswered objection."""
    from rectify.closeout.models import OPEN_STATUSES, Closeout, Objection

    now = timezone.now()
    rows = Closeout.objects.bulk_create(
        Closeout(task=t, status=OPEN_STATUSES[i % len(OPEN_STATUSES)], started_by=scene.admin, started_at=now,
                 notice_start=dt.date(2026, 11, 2), notice_end=dt.date(2026, 11, 9) + dt.timedelta(days=i),
                 notice_number=f"公示〔2026〕{next(_serial)}号", completion_summary="已完成。")
        for i, t in enumerate(add_tasks(scene, count)))
    Objection.objects.bulk_create(Objection(closeout=c, receipt=f"R{next(_serial):09d}", content="仍有异味，请核实。",
                                            contact_name="张三", contact_phone="13812345678", submitted_at=now)
                                  for c in rows)
    return {}


def closeout_history(scene: Scene, count: int) -> dict:
    """One close-out with its check records and more objections (its page and API detail list them)."""
    from rectify.closeout.models import CheckRecord, Closeout, CloseoutStatus, Objection

    if "closeout" not in scene.state:
        scene.state["closeout"] = Closeout.objects.create(
            task=add_tasks(scene, 1)[0], status=CloseoutStatus.ACCEPTED, started_by=scene.admin,
            started_at=timezone.now(), notice_start=dt.date(2026, 11, 2), notice_end=dt.date(2026, 11, 9))
        CheckRecord.objects.bulk_create(  # one record per standard (the most there can be)
            CheckRecord(closeout=scene.state["closeout"], standard=standard, finding="已修复", checked_on=dt.date(2026, 11, 20),
                        checkers="李四", passed=True, recorded_by=scene.admin, recorded_at=timezone.now())
            for standard in ("ecology", "pollution", "public"))
    closeout, now = scene.state["closeout"], timezone.now()
    Objection.objects.bulk_create(Objection(closeout=closeout, receipt=f"R{next(_serial):09d}", content="请核实。",
                                            contact_name="王五", contact_phone="13900000000", submitted_at=now,
                                            answered_by=scene.admin if n % 2 else None, answer="已核实" if n % 2 else "",
                                            status="answered" if n % 2 else "open")
                                  for n in range(count))
    return {"closeout": closeout.pk}


def lookbacks(scene: Scene, count: int) -> dict:
    """Look-backs of the campaign, each with a pending check assigned to 零陵区."""
    from rectify.closeout.models import LookBack, LookBackCheck

    w, now = scene.world, timezone.now()
    made = LookBack.objects.bulk_create(
        LookBack(campaign=w.campaign, title=f"回头看{next(_serial)}", seed="s", due_date=dt.date(2026, 12, 31),
                 created_by=scene.admin, created_at=now) for _ in range(count))
    LookBackCheck.objects.bulk_create(LookBackCheck(lookback=lb, task=w.task_a, picked_by="random",
                                                    assigned_unit=w.county_a, due_date=dt.date(2026, 12, 31))
                                      for lb in made)
    return {}


def lookback_checks(scene: Scene, count: int) -> dict:
    """One look-back with more checks (its page and API detail list them)."""
    from rectify.closeout.models import LookBack, LookBackCheck

    w = scene.world
    if "lookback" not in scene.state:
        scene.state["lookback"] = LookBack.objects.create(
            campaign=w.campaign, title="回头看", seed="s", due_date=dt.date(2026, 12, 31), created_by=scene.admin,
            created_at=timezone.now())
    lookback = scene.state["lookback"]
    LookBackCheck.objects.bulk_create(
        LookBackCheck(lookback=lookback, task=t, picked_by="random", assigned_unit=w.county_a,
                      due_date=dt.date(2026, 12, 31), result=["pending", "holding", "rebound"][i % 3],
                      checked_by=w.users["reporter_a"] if i % 3 else None)
        for i, t in enumerate(add_tasks(scene, count)))
    return {"lookback": lookback.pk}


# --- accountability, help, visits, assessment -------------------------------------------------------


def _handler(scene: Scene) -> None:
    """office_staff, designated as the office's case handler (once)."""
    from rectify.accountability.models import CaseHandler

    if "handler" not in scene.state:
        CaseHandler.objects.create(user=scene.world.users["office_staff"], granted_by=scene.admin,
                                   granted_at=timezone.now())
        scene.state["handler"] = True


def _cases(scene: Scene, tasks_: list[Task], *, status: str | None = None) -> list:
    from rectify.accountability.models import (
        AccountabilityCase,
        CaseStatus,
        CaseTask,
        CaseUnit,
        PersonConcerned,
    )

    w, now = scene.world, timezone.now()
    # the commission's and the lead unit's states first, so that five rows already fill every list
    first = [CaseStatus.REFERRED, CaseStatus.ACCEPTED, CaseStatus.DECIDED, CaseStatus.INVESTIGATING, CaseStatus.OPENED]
    states = first + [s for s in CaseStatus if s not in first]
    made = AccountabilityCase.objects.bulk_create(
        AccountabilityCase(number=f"ZZ-L-{next(_serial):06d}", office=w.office, kind="other", source="office",
                           title=f"案件{i}", facts="线索", status=status or states[i % len(states)], lead_unit=w.dept_env,
                           investigation_due=dt.date(2026, 1, 1) + dt.timedelta(days=i), commission=w.discipline,
                           referred_at=now, handling_due=dt.date(2026, 6, 1) + dt.timedelta(days=i), created_at=now)
        for i, _t in enumerate(tasks_))
    CaseTask.objects.bulk_create(CaseTask(case=c, task=t) for c, t in zip(made, tasks_, strict=True))
    CaseUnit.objects.bulk_create(CaseUnit(case=c, unit=w.county_a) for c in made)
    PersonConcerned.objects.bulk_create(
        PersonConcerned(case=c, name=f"张{n}三", post="科长", unit=w.county_a, name_hash=f"h{n}", added_at=now)
        for c in made for n in (1, 2))
    return made


def cases(scene: Scene, count: int) -> dict:
    """Cases at every stage on new tasks, each with two persons concerned (encrypted, masked in the list)."""
    _handler(scene)
    _cases(scene, add_tasks(scene, count))
    return {}


def case_history(scene: Scene, count: int) -> dict:
    """One case with more linked tasks (their timelines), persons, records, files and events."""
    from rectify.accountability.models import CaseFile, CaseNote, CaseTask, PersonConcerned

    _handler(scene)
    w, now = scene.world, timezone.now()
    if "case" not in scene.state:
        scene.state["case"] = _cases(scene, [w.task_a], status="investigating")[0]
    case = scene.state["case"]
    more = add_tasks(scene, count)
    CaseTask.objects.bulk_create(CaseTask(case=case, task=t) for t in more)
    PersonConcerned.objects.bulk_create(PersonConcerned(case=case, name=f"李{n}", unit=w.county_a, name_hash="h",
                                                        added_at=now) for n in range(count))
    CaseNote.objects.bulk_create(CaseNote(case=case, kind="investigation", text=f"调查{n}", author=scene.admin,
                                          author_unit=w.dept_env, created_at=now) for n in range(count))
    CaseFile.objects.bulk_create(
        CaseFile(case=case, file_kind="evidence", digest=f"{next(_serial):064x}", extension="pdf", size=10,
                 mime="application/pdf", kind="pdf", original_name=f"证据{n}.pdf", uploaded_by=scene.admin)
        for n in range(count))
    for t in more[:3]:
        record_event(actor=scene.admin, action="task_updated", obj=t, summary="修改")
    for n in range(count):
        record_event(actor=scene.admin, action="case_note_added", obj=case, summary=f"记录{n}")
    return {"case": case.pk}


def case_handlers(scene: Scene, count: int) -> dict:
    from rectify.accountability.models import CaseHandler
    from rectify.orgs.models import User

    users = User.objects.bulk_create(User(username=f"h{next(_serial)}", role="office_staff", unit=scene.world.office)
                                     for _ in range(count))
    CaseHandler.objects.bulk_create(CaseHandler(user=u, granted_by=scene.admin, granted_at=timezone.now())
                                    for u in users)
    return {}


def help_requests(scene: Scene, count: int) -> dict:
    """Help requests of 零陵区 on reports of new tasks, open and arranged."""
    from rectify.assessment.models import HelpRequest

    w, now = scene.world, timezone.now()
    reports(scene, count)
    slots = (ProgressReport.objects.filter(round=scene.round()).exclude(pk__in=HelpRequest.objects.values("report_id"))
             .select_related("task")[:count])
    made = HelpRequest.objects.bulk_create(
        HelpRequest(report=r, task=r.task, unit=w.county_a, difficulty="资金不足", needs="协调资金",
                    asked_unit=w.dept_housing, status=["open", "assigned"][i % 2],
                    helper_unit=w.dept_housing if i % 2 else None, created_by=w.users["reporter_a"], created_at=now)
        for i, r in enumerate(slots))
    return {"help": made[0].pk, "help_report": made[0].report_id}


def visits(scene: Scene, count: int) -> dict:
    from rectify.assessment.models import SupervisionVisit, VisitFollowUp

    w, now = scene.world, timezone.now()
    made = SupervisionVisit.objects.bulk_create(
        SupervisionVisit(office=w.office, county=w.county_a, quarter=f"2026-Q{n % 4 + 1}", planned_on=dt.date(2026, 3 * (n % 4) + 1, 5),
                         team="督导组", status=["planned", "done"][n % 2], created_by=scene.admin, created_at=now)
        for n in range(count))
    VisitFollowUp.objects.bulk_create(VisitFollowUp(visit=v, text="整改要求", task=w.task_a) for v in made)
    return {"visit": made[0].pk}


def _scheme(scene: Scene):
    from rectify.assessment.models import AssessmentScheme
    from rectify.assessment.scoring import DEFAULT_ITEMS

    if "scheme" not in scene.state:
        now = timezone.now()
        scene.state["scheme"] = AssessmentScheme.objects.create(
            campaign=scene.world.campaign, name="考核办法", items=DEFAULT_ITEMS, created_at=now, updated_at=now,
            updated_by=scene.admin)
    return scene.state["scheme"]


def results(scene: Scene, count: int) -> dict:
    from rectify.assessment.models import AssessmentResult

    scheme, now = _scheme(scene), timezone.now()
    AssessmentResult.objects.bulk_create(
        AssessmentResult(scheme=scheme, campaign=scheme.campaign, title=f"考核{n}", period_start=dt.date(2026, 1, 1),
                         period_end=dt.date(2026, 3, 31), items=scheme.items, status="published", computed_by=scene.admin,
                         computed_at=now, published_at=now) for n in range(count))
    return {"scheme": scheme.pk}


def schemes(scene: Scene, count: int) -> dict:
    from rectify.assessment.models import AssessmentScheme
    from rectify.assessment.scoring import DEFAULT_ITEMS

    now = timezone.now()
    AssessmentScheme.objects.bulk_create(
        AssessmentScheme(campaign=scene.world.campaign, name=f"办法{next(_serial)}", items=DEFAULT_ITEMS,
                         created_at=now, updated_at=now) for _ in range(count))
    return {}


def result_rows(scene: Scene, count: int) -> dict:
    """One published result with more units' rows (each unit a new county)."""
    from rectify.assessment import scoring
    from rectify.assessment.models import AssessmentResult, AssessmentRow
    from rectify.orgs.models import Unit

    scheme, now = _scheme(scene), timezone.now()
    if "result" not in scene.state:
        scene.state["result"] = AssessmentResult.objects.create(
            scheme=scheme, campaign=scheme.campaign, title="考核", period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 3, 31), items=scheme.items, status="published", computed_by=scene.admin,
            computed_at=now, published_at=now)
        AssessmentRow.objects.create(result=scene.state["result"], unit=scene.world.county_a, group="county",
                                     total=80, rank=1, breakdown=scoring.score_unit(
                                         scoring.parse_items(scheme.items), {})[1])
    result = scene.state["result"]
    units = [Unit.objects.create(name=f"县{next(_serial)}", kind="county", parent=scene.world.office)
             for _ in range(count)]
    total, breakdown = scoring.score_unit(scoring.parse_items(scheme.items), {})
    AssessmentRow.objects.bulk_create(AssessmentRow(result=result, unit=u, group="county", total=total, rank=1,
                                                    breakdown=breakdown) for u in units)
    return {"result": result.pk, "unit": scene.world.county_a.pk}


def _indicator(scene: Scene, *, scope: str = "each_county"):
    from decimal import Decimal

    from rectify.indicators.models import Indicator

    if "indicator" not in scene.state:
        scene.state["indicator"] = Indicator.objects.create(office=scene.world.office, name="空气质量优良率",
                                                            comparator="≥", value=Decimal(90), unit="%", scope=scope)
    return scene.state["indicator"]


def indicators(scene: Scene, count: int) -> dict:
    """Targets of the office, each with a value of the city (the list shows each one's standing)."""
    from decimal import Decimal

    from rectify.indicators.models import Indicator, Measurement

    made = Indicator.objects.bulk_create(Indicator(office=scene.world.office, name=f"指标{next(_serial)}",
                                                   comparator="≥", value=Decimal(90), unit="%") for _ in range(count))
    Measurement.objects.bulk_create(Measurement(indicator=i, region=scene.world.office, period="2024",
                                                value=Decimal(91), recorded_at=timezone.now()) for i in made)
    return {"indicator": _indicator(scene).pk}


def indicator_values(scene: Scene, count: int) -> dict:
    """Values of one per-county target: each county, one period per row."""
    from decimal import Decimal

    from rectify.indicators.models import Measurement

    ind, w = _indicator(scene), scene.world
    Measurement.objects.bulk_create(
        Measurement(indicator=ind, region=(w.county_a, w.county_b)[n % 2], period=f"{1000 + next(_serial) % 9000}",
                    value=Decimal(80 + n % 20), recorded_at=timezone.now(), recorded_by=scene.admin)
        for n in range(count))
    return {"indicator": ind.pk}


def audit_events(scene: Scene, count: int) -> dict:
    """Events of the record (the auditor's list), written by the one writer of the chain."""
    for n in range(count):
        record_event(actor=scene.admin, action="list_probe", object_type="ledger.task", object_id=str(n),
                     summary=f"第{n}条", before={"n": n}, after={"n": n + 1})
    return {}


def display_tokens(scene: Scene, count: int) -> dict:
    from rectify.dashboard.models import DisplayToken

    DisplayToken.objects.bulk_create(
        DisplayToken(office=scene.world.office, name=f"大屏{n}", prefix=f"{n:08d}", digest=f"{next(_serial):064x}",
                     issued_by=scene.admin, issued_at=timezone.now()) for n in range(count))
    return {}


def own_sessions(scene: Scene, count: int) -> dict:
    """Signed-in sessions of the two personas (each a live session in the store)."""
    from importlib import import_module

    from django.conf import settings

    from rectify.orgs.models import UserSession

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    rows = []
    for persona in ("office_admin", "reporter_a"):
        for n in range(count):
            store = store_class()
            store["last_activity"] = timezone.now().timestamp()
            store.create()
            rows.append(UserSession(user=scene.world.users[persona], session_key=store.session_key,
                                    user_agent=f"浏览器 {n}", ip=f"10.0.{n % 250}.1"))
    UserSession.objects.bulk_create(rows)
    return {}


def own_tokens(scene: Scene, count: int) -> dict:
    """API tokens of the two personas."""
    from rectify.orgs.models import ApiToken

    ApiToken.objects.bulk_create(
        ApiToken(user=scene.world.users[persona], name=f"令牌{n}", prefix=f"{n:08d}", digest=f"{next(_serial):064x}",
                 expires_at=timezone.now() + dt.timedelta(days=30))
        for persona in ("office_admin", "reporter_a") for n in range(count))
    return {}


def instructions(scene: Scene, count: int) -> dict:
    """Instructions of 包零陵区's leader on 零陵区's tasks, each with its receipt."""
    from rectify.dashboard.models import Instruction, InstructionReceipt

    w = scene.world
    made = Instruction.objects.bulk_create(Instruction(leader=w.users["leader_a"], task=t, text=f"批示{n}",
                                                       created_at=timezone.now())
                                           for n, t in enumerate(add_tasks(scene, count)))
    InstructionReceipt.objects.bulk_create(InstructionReceipt(instruction=i, unit=w.county_a) for i in made)
    return {}


# --- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListPage:
    name: str
    url: str  # formatted with what the factory returns
    persona: str
    factory: Callable[[Scene, int], dict]
    api: bool = False


# --- administration (账号与单位管理) -------------------------------------------------------------


def admin_users(scene: Scene, count: int) -> dict:
    """Accounts of 零陵区 (the administrator's list; also what the unit filter offers)."""
    from rectify.orgs.models import Role, User

    User.objects.bulk_create(User(username=f"list-u{next(_serial)}", password="!", role=Role.REPORTER,
                                  unit=scene.world.county_a, display_name="列表账户", must_change_password=False)
                             for _ in range(count))
    return {}


def admin_units(scene: Scene, count: int) -> dict:
    """Departments under the office (the tree page); saved one by one: a new row's path needs its id."""
    from rectify.orgs.models import Unit, UnitKind

    for _ in range(count):
        Unit(name=f"列表单位{next(_serial)}", kind=UnitKind.DEPARTMENT, parent=scene.world.office).save()
    return {}


def admin_leaders(scene: Scene, count: int) -> dict:
    """City leaders, each with a county and a sector (the leader list)."""
    from rectify.orgs.models import LeaderAssignment, Role, User

    leaders = User.objects.bulk_create(User(username=f"list-l{next(_serial)}", password="!", role=Role.LEADER,
                                            display_name="市领导", must_change_password=False) for _ in range(count))
    LeaderAssignment.objects.bulk_create(LeaderAssignment(leader=x, county=scene.world.county_a) for x in leaders)
    LeaderAssignment.objects.bulk_create(LeaderAssignment(leader=x, sector="water") for x in leaders)
    return {}


def admin_leader_areas(scene: Scene, count: int) -> dict:
    """More counties for 包零陵市领导 (one leader's page)."""
    from rectify.orgs.models import LeaderAssignment, Unit, UnitKind

    for _ in range(count):
        county = Unit(name=f"列表县{next(_serial)}", kind=UnitKind.COUNTY, parent=scene.world.office)
        county.save()
        LeaderAssignment.objects.create(leader=scene.world.users["leader_a"], county=county)
    return {"leader": scene.world.users["leader_a"].pk}


def admin_tokens(scene: Scene, count: int) -> dict:
    from rectify.orgs.models import ApiToken

    ApiToken.objects.bulk_create(ApiToken(user=scene.world.users["reporter_a"], name=f"对接{n}", prefix=f"{n:08d}",
                                          digest=f"{next(_serial):064x}") for n in range(count))
    return {}


def _both(name: str, url: str, factory, *, api: bool = False, personas=("office_admin", "reporter_a")):
    return [ListPage(f"{name} [{p}]", url, p, factory, api) for p in personas]


OFFICE = ("office_admin",)

LISTS: list[ListPage] = [
    # ledger
    *_both("ledger", "/ledger/", tasks),
    *_both("ledger sorted by deadline", "/ledger/?sort=-deadline", tasks, personas=OFFICE),
    *_both("ledger sorted by colour", "/ledger/?sort=colour&per_page=100", tasks, personas=OFFICE),
    *_both("ledger, lagging in my counties", "/ledger/?progress_status=lagging&my_counties=1", tasks,
           personas=("reporter_a", "leader_a")),
    *_both("ledger filtered by county", "/ledger/?county={county}&status=active", lambda s, n: {
        **tasks(s, n), "county": s.world.county_a.pk}, personas=OFFICE),
    *_both("task page", "/ledger/tasks/{task}/", task_history),
    *_both("task edit (measures)", "/ledger/tasks/{task}/edit/", measures_of_task, personas=OFFICE),
    *_both("api tasks", "/api/v1/tasks?limit=100", tasks, api=True),
    *_both("api task", "/api/v1/tasks/{task}", measures_of_task, api=True, personas=OFFICE),
    *_both("api task measures", "/api/v1/tasks/{task}/measures", measures_of_task, api=True),
    *_both("api campaigns", "/api/v1/campaigns", campaigns, api=True, personas=OFFICE),
    # dispatch
    *_both("rounds", "/dispatch/", rounds),
    *_both("round table", "/dispatch/rounds/{round}/", round_table),
    *_both("reports", "/dispatch/reports/", reports),
    *_both("reports of a round", "/dispatch/reports/?round={round}&bucket=reported", reports, personas=OFFICE),
    *_both("report page", "/dispatch/reports/{report}/", report_history),
    *_both("api rounds", "/api/v1/rounds", rounds, api=True),
    *_both("api round table", "/api/v1/rounds/{round}", round_table, api=True),
    *_both("api reports", "/api/v1/reports?limit=100", reports, api=True),
    *_both("api report", "/api/v1/reports/{report}", report_history, api=True),
    # supervision
    *_both("escalation board", "/supervision/?status=all", escalations),
    *_both("api escalations", "/api/v1/escalations?limit=100", escalations, api=True),
    # close-out and look-back
    *_both("close-outs", "/closeout/?status=", closeouts),
    *_both("close-out page", "/closeout/{closeout}/", closeout_history),
    *_both("look-backs", "/closeout/lookbacks/", lookbacks),
    *_both("look-back page", "/closeout/lookbacks/{lookback}/", lookback_checks),
    *_both("api close-outs", "/api/v1/closeouts?status=&limit=100", closeouts, api=True),
    *_both("api close-out", "/api/v1/closeouts/{closeout}", closeout_history, api=True),
    *_both("api look-backs", "/api/v1/lookbacks?limit=100", lookbacks, api=True),
    *_both("api look-back", "/api/v1/lookbacks/{lookback}", lookback_checks, api=True),
    # accountability: the case workspace (the commission's landing page), a case, case handlers
    *_both("case workspace", "/accountability/?tab=all", cases, personas=("office_staff", "lead_env")),
    *_both("commission workspace", "/accountability/", cases, personas=("discipline",)),
    *_both("case page", "/accountability/cases/{case}/", case_history, personas=("office_staff", "discipline")),
    *_both("case handlers", "/accountability/handlers/", case_handlers, personas=OFFICE),
    *_both("api cases", "/api/v1/cases?tab=all&limit=100", cases, api=True, personas=("office_staff", "discipline")),
    *_both("api case", "/api/v1/cases/{case}", case_history, api=True, personas=("office_staff",)),
    # help, visits, assessment
    *_both("help requests", "/assessment/help/?tab=", help_requests),
    *_both("api help requests", "/api/v1/help-requests?tab=&limit=100", help_requests, api=True),
    *_both("visits", "/assessment/visits/?year=2026", visits),
    *_both("api visits", "/api/v1/visits?year=2026&limit=100", visits, api=True),
    *_both("assessment results", "/assessment/results/", results),
    *_both("api assessment results", "/api/v1/assessment-results?limit=100", results, api=True),
    *_both("api assessment schemes", "/api/v1/assessment-schemes?limit=100", schemes, api=True, personas=OFFICE),
    *_both("assessment result", "/assessment/results/{result}/", result_rows),
    *_both("api assessment result", "/api/v1/assessment-results/{result}", result_rows, api=True),
    # background jobs: each user's own (the page of one job is the office admin's)
    *_both("my jobs", "/jobs/", jobs),
    *_both("job page", "/jobs/{job}/", job_page, personas=OFFICE),
    *_both("job progress", "/jobs/{job}/progress/", job_page, personas=OFFICE),
    # reports: the office's campaigns with their deadlines; one campaign's report page (its recent jobs)
    *_both("report campaigns", "/reports/", report_campaigns, personas=OFFICE),
    *_both("campaign report page", "/reports/campaigns/{campaign}/", report_page_jobs, personas=OFFICE),
    # reserve: projects in scope (the office's; a county's own), one project with its progress
    *_both("reserve projects", "/reserve/", projects),
    *_both("reserve project", "/reserve/{project}/", project_page),
    *_both("reserve project edit", "/reserve/{project}/edit/", project_page, personas=OFFICE),
    # core: reminders and the calendar
    *_both("inbox", "/inbox/", notifications),
    *_both("calendar", "/calendar/", calendar_years, personas=OFFICE),
    *_both("calendar year", "/calendar/{year}/", calendar_days, personas=OFFICE),
    # plans
    *_both("plan upload (campaigns)", "/plans/", campaigns, personas=OFFICE),
    *_both("plan preview", "/plans/{token}/", plan_measures, personas=OFFICE),
    # targets (目标指标)
    *_both("indicators", "/indicators/", indicators),
    *_both("indicator page", "/indicators/{indicator}/", indicator_values),
    # the battle map and board (挂图作战): grouped figures, the same queries at any ledger size
    *_both("board", "/board/", tasks, personas=("office_admin", "leader_a")),
    *_both("board data", "/board/data.json", tasks, personas=("office_admin", "leader_a")),
    *_both("my work", "/board/work/", reports, personas=("reporter_a", "lead_env")),
    *_both("display tokens", "/board/displays/", display_tokens, personas=OFFICE),
    *_both("instructions", "/board/instructions/", instructions, personas=("leader_a", "reporter_a")),
    # administration (账号与单位管理): the office administrator manages accounts by default
    *_both("admin users", "/accounts/admin/users/", admin_users, personas=OFFICE),
    *_both("admin users filtered", "/accounts/admin/users/?role=reporter&state=active&q=u", admin_users,
           personas=OFFICE),
    *_both("admin units", "/accounts/admin/units/", admin_units, personas=OFFICE),
    *_both("admin leaders", "/accounts/admin/leaders/", admin_leaders, personas=OFFICE),
    *_both("admin leader areas", "/accounts/admin/leaders/{leader}/", admin_leader_areas, personas=OFFICE),
    *_both("admin tokens", "/accounts/admin/tokens/", admin_tokens, personas=OFFICE),
    # the account's own sessions and API tokens (orgs/security_views.py)
    *_both("own sessions", "/accounts/sessions/", own_sessions),
    *_both("own api tokens", "/accounts/tokens/", own_tokens),
    *_both("user sessions (manager)", "/accounts/users/{user}/security/",
           lambda s, n: {**own_sessions(s, n), "user": s.world.users["reporter_a"].pk}, personas=OFFICE),
    # the audit record viewer
    *_both("audit events", "/audit/", audit_events, personas=("office_admin", "auditor")),
    *_both("audit events filtered", "/audit/?action=list_probe&object_type=ledger.task", audit_events,
           personas=("auditor",)),
]

LISTS += [
    # the public portal (no login needed; a logged-in visitor sees the same), rendered uncached
    *_both("portal tasks", "/gongkai/tasks/", portal_tasks, personas=OFFICE),
    *_both("portal tasks filtered", "/gongkai/tasks/?county={county}&status=active&q=列表", portal_tasks,
           personas=OFFICE),
    *_both("portal notices", "/gongkai/notices/", portal_closeouts("in_notice"), personas=OFFICE),
    *_both("portal closed", "/gongkai/closed/", portal_closeouts("filed"), personas=OFFICE),
    *_both("portal lookbacks", "/gongkai/lookbacks/", portal_lookbacks, personas=OFFICE),
    *_both("portal articles", "/gongkai/articles/", portal_articles, personas=OFFICE),
    # the office's disclosure pages
    *_both("disclosure campaign", "/disclosure/campaigns/{campaign}/", disclosure_campaign_tasks, personas=OFFICE),
    *_both("observations", "/disclosure/observations/", observations, personas=OFFICE),
]

# URL patterns without an <int:…> converter that answer a GET with 200 but are not lists of rows.
NOT_LISTS = {
    "/": "redirects to the role's home (board, my work, the commission's workspace, the audit record)",
    "/accounts/login/": "the login form",
    "/accounts/logout/": "logs out (POST)",
    "/accounts/password/": "the password form",
    "/accounts/admin/users/new/": "the new-account form",
    "/accounts/admin/units/new/": "the new-unit form",
    "/accounts/admin/security/": "the security settings in force and two counts",
    "/accounts/2fa/": "the login's second step (back to the login without a pending password step)",
    "/accounts/2fa/setup/": "the authenticator set-up page",
    "/accounts/2fa/setup/confirm/": "POST only",
    "/ledger/tasks/new/": "an empty task form",
    "/ledger/import/": "the workbook upload form",
    "/ledger/import/preview/": "the import preview of a stashed upload (owned by the Excel module)",
    "/ledger/import/confirm/": "POST only",
    "/ledger/list/view/": "POST only (the list's column settings)",
    "/ledger/list/filters/": "POST only (save a filter)",
    "/ledger/list/filters/delete/": "POST only",
    "/ledger/import/cancel/": "POST only",
    "/ledger/export.xlsx": "a streamed workbook, not a page (owned by the Excel module)",
    "/calendar/enter/": "the calendar entry form",
    "/inbox/read-all/": "POST only",
    "/dispatch/rounds/open/": "POST only",
    "/accountability/cases/new/": "the 立案 form",
    "/assessment/schemes/new/": "the scheme form",
    "/reserve/new/": "the project form",
    "/reserve/import/": "the project workbook upload form",
    "/reserve/export.xlsx": "a streamed workbook, not a page",
    "/api/v1/openapi.json": "the schema",
    "/api/v1/docs": "Swagger UI",
    "/gongkai/": "the portal's overview: counts of the disclosed set, cached per chain head",
    "/gongkai/receipt/": "the receipt lookup form",
    "/gongkai/plan/": "the plan articles (at most 20)",
    "/gongkai/data/": "the open-data index (a fixed list of datasets)",
    "/gongkai/data/datapackage.json": "the open-data description",
    "/gongkai/data/x.x": "an open-data file: every disclosed row, cached per chain head",
    "/gongkai/feed.atom": "the Atom feed (at most 50 entries)",
    "/gongkai/chain/": "published chain heads (at most 100) and the verification form",
    "/disclosure/": "the office's disclosure index (campaigns and recent articles, bounded)",
    "/disclosure/articles/new/": "the article form",
    "/disclosure/decide/": "POST only",
    "/disclosure/head/": "POST only",
    "/disclosure/publicists/": "POST only",
    "/disclosure/observations/new/": "POST only",
    "/indicators/new/": "the target form",
    "/board/geo/x.json": "the map geometry of the user's region (a file, not rows)",
    "/audit/verify/": "the chain verification page (the head to publish)",
    "/board/instructions/new/": "a leader's 写批示 form",
    "/board/wall/x/": "the wall screen: the board's figures for a display token (tests/test_wall.py)",
    "/board/wall/x/data.json": "the wall screen's data: the board data endpoint for a display token",
    "/board/wall/x/geo/x.json": "the wall screen's map geometry",
    "/audit/verify/run/": "one step of the verification (a progress fragment)",
}
