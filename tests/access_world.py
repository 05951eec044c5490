"""The world the generated access matrix (tests/test_access_roles.py) runs in: tests/conftest.py's
city plus, for every kind of object a URL names, one object inside 零陵区's side of the city (A)
and, where the kind is split by unit, its mirror on 祁阳市's side (B).

A: 零陵区's task T-01 (lead supervisor 市生态环境局, leader 包零陵区), its report, evidence,
escalation, close-out, case, help request, visit, reserve project, instruction.
B: 祁阳市's task T-02 (lead supervisor 市住房和城乡建设局, leader 包祁阳市) and the same around it.

Objects of one person (reminders, background jobs, observations) are "own": A is the visitor's own,
B someone else's.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from django.test import Client
from django.utils import timezone
from PIL import Image

from rectify.orgs.models import Role
from rectify.orgs.services import assign_leader_area, create_user
from tests.conftest import PASSWORD, World, make_world
from tests.listing import Scene, _cases, _handler, _scheme, plan_measures

# persona -> the role it holds (the declaration table speaks of roles; the world has personas)
PERSONAS = {
    "office_admin": "office_admin",
    "office_staff": "office_staff",
    "lead_env": "supervisor",
    "reporter_a": "reporter",
    "reviewer_a": "reviewer",
    "leader_a": "leader",
    "discipline": "discipline",
    "auditor": "auditor",
    "observer": "observer",
    "system_admin": "system_admin",
    "security_admin": "security_admin",
    "anonymous": "anonymous",
}
# Personas whose scope is 零陵区's side only: B objects are out of their scope.
A_SIDE = ("lead_env", "reporter_a", "reviewer_a", "leader_a")
# Their mirrors on 祁阳市's side: A objects are out of their scope.
MIRRORS = {"reporter_b": "reporter", "lead_housing": "supervisor", "leader_b": "leader"}


@dataclass
class Kind:
    """What fills a route's id(s): the in-scope object A (a value, a tuple for several converters, or
    per persona for own objects) and the out-of-scope one B (None: the kind is not split)."""

    a: object
    b: object = None
    own: bool = False  # A is the visitor's own, B another person's: B is out of scope for everyone
    public: bool = False  # B is out of scope for everyone (on the portal: what the office has not disclosed)
    out: tuple[str, ...] = A_SIDE  # who must be refused B (own and public kinds: everyone)

    def out_of_scope(self, persona: str) -> bool:
        return self.b is not None and (self.own or self.public or persona in self.out)

    @property
    def split(self) -> bool:
        """Split by unit: 祁阳市's people have A out of their scope."""
        return self.b is not None and not (self.own or self.public) and self.out == A_SIDE

    def value(self, which: str, persona: str):
        value = self.a if which == "a" else self.b
        if isinstance(value, dict):
            return value.get(persona, value["anonymous"])
        return value


@dataclass
class MatrixWorld:
    world: World
    kinds: dict[str, Kind] = field(default_factory=dict)
    clients: dict[tuple[str, bool], Client] = field(default_factory=dict)  # (persona, api) -> client


def _jpeg() -> io.BytesIO:
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 60)).save(photo, "JPEG")
    photo.seek(0)
    return photo


def _stored(evidence, n: int) -> dict:
    """A stored file's fields: the same content as a stored photo (files are kept by digest, and a
    download re-checks the digest), under its own name."""
    return {"digest": evidence.digest, "extension": evidence.extension, "size": evidence.size, "mime": evidence.mime,
            "kind": evidence.kind, "original_name": f"材料{n}.jpg"}


def build() -> MatrixWorld:  # noqa: PLR0915 - one object of each kind, in one place
    from rectify.accountability.models import CaseFile, CaseUnit
    from rectify.assessment.models import AssessmentRow, HelpRequest, SupervisionVisit, VisitFollowUp
    from rectify.closeout.models import (
        Closeout,
        CloseoutFile,
        LookBack,
        LookBackCheck,
        LookBackFile,
        Objection,
    )
    from rectify.core.models import Notification
    from rectify.dashboard.services import issue_display_token, issue_instruction
    from rectify.disclosure import services as disclosure
    from rectify.disclosure.models import Decision
    from rectify.dispatch import services as dispatch
    from rectify.dispatch.models import ProgressReport, ReportStatus
    from rectify.indicators.models import Indicator
    from rectify.jobs.models import Job
    from rectify.reserve.models import Project
    from rectify.supervision.models import Escalation
    from tests.listing import result_rows

    w = make_world()
    scene = Scene(w)
    admin, users, now, today = w.users["office_admin"], w.users, timezone.now(), timezone.localdate()
    admin_client = Client()  # the matrix's own: a pasted plan is kept for the session that pasted it
    admin_client.force_login(admin)
    scene.state[("client", "office_admin", False)] = admin_client

    def person(username, role, unit, name):
        return create_user(actor=None, username=username, password=PASSWORD, role=role, unit=unit,
                           display_name=name, must_change_password=False)

    users["observer"] = person("obs1", Role.OBSERVER, w.office, "监督员甲")
    users["observer_b"] = person("obs2", Role.OBSERVER, w.office, "监督员乙")
    users["leader_b"] = person("leader_b", Role.LEADER, None, "包祁阳市领导")
    users["system_admin"] = person("sysadm", Role.SYSTEM_ADMIN, w.office, "系统管理员")
    users["security_admin"] = person("secadm", Role.SECURITY_ADMIN, w.office, "安全管理员")
    assign_leader_area(actor=None, leader=users["leader_b"], county=w.county_b)
    kinds: dict[str, Kind] = {}

    kinds["task"] = Kind(w.task_a.pk, w.task_b.pk)
    kinds["measure"] = Kind(w.task_a.measures.first().pk, w.task_b.measures.first().pk)
    kinds["campaign"] = Kind(w.campaign.pk)
    kinds["year"] = Kind(2026)
    kinds["region"] = Kind("431100", "430100", public=True)  # the city's map; another city's, nobody's here
    kinds["event"] = Kind(1)

    rnd = scene.round()
    kinds["round"] = Kind(rnd.pk)
    report_a = scene.report()
    report_b = ProgressReport.objects.create(
        round=rnd, task=w.task_b, unit=w.county_b, status=ReportStatus.DRAFT, progress_text="渗滤液处理站在建。",
        percent=30, author=users["reporter_b"], submitted_at=now)
    kinds["report"] = Kind(report_a.pk, report_b.pk)
    # reports waiting for the unit's reviewer (审核) and for the lead unit (采纳), each in a round of its own
    for n, (name, status) in enumerate((("report_awaiting", ReportStatus.AWAITING_REVIEW),
                                        ("report_submitted", ReportStatus.SUBMITTED)), 1):
        other = type(rnd).objects.create(office=w.office, period=f"2026-0{n}", title=f"2026年{n}月调度",
                                         opened_at=now, opened_by=admin, due_date=dt.date(2099, 12, 10))
        pair = [ProgressReport.objects.create(round=other, task=task, unit=unit, status=status, progress_text="进展",
                                              percent=50, author=users[author], submitted_at=now)
                for task, unit, author in ((w.task_a, w.county_a, "reporter_a"), (w.task_b, w.county_b, "reporter_b"))]
        kinds[name] = Kind(pair[0].pk, pair[1].pk)
    evidence_a = dispatch.attach_evidence(actor=users["reporter_a"], report=report_a, name="现场.jpg", fileobj=_jpeg())
    evidence_b = dispatch.attach_evidence(actor=users["reporter_b"], report=report_b, name="现场.jpg", fileobj=_jpeg())
    kinds["evidence"] = Kind(evidence_a.pk, evidence_b.pk)

    def escalation(task, county, number):
        return Escalation.objects.create(task=task, rung="circular", reason="滞后", target_unit=county, issued_by=admin,
                                         issuing_unit=w.office, issued_at=now, doc_number=f"整改办通〔2026〕{number}号").pk

    kinds["escalation"] = Kind(escalation(w.task_a, w.county_a, 1), escalation(w.task_b, w.county_b, 2))

    def closeout(task, n):
        return Closeout.objects.create(task=task, status="in_notice", started_at=now, notice_start=today,
                                       notice_end=today + dt.timedelta(days=5), notice_number=f"公-{n}")

    co_a, co_b = closeout(w.task_a, 1), closeout(w.task_b, 2)
    kinds["closeout"] = Kind(co_a.pk, co_b.pk)
    kinds["closeout_file"] = Kind(*(CloseoutFile.objects.create(
        closeout=co, stage="self", standard="done", unit=unit, uploaded_by=admin, **_stored(evidence_a, n)).pk
        for n, (co, unit) in enumerate(((co_a, w.county_a), (co_b, w.county_b)), 1)))
    objections = [Objection.objects.create(closeout=co, receipt=f"YY-{n}", content="异议", submitted_at=now)
                  for n, co in enumerate((co_a, co_b), 1)]
    kinds["objection"] = Kind(objections[0].pk, objections[1].pk)
    kinds["receipt"] = Kind(objections[0].receipt)
    kinds["closeout_action"] = Kind((co_a.pk, "accept_application"), (co_b.pk, "accept_application"))
    lookback = LookBack.objects.create(campaign=w.campaign, title="回头看", seed="s", due_date=dt.date(2026, 12, 1),
                                       created_at=now)
    kinds["lookback"] = Kind(lookback.pk)
    checks = [LookBackCheck.objects.create(lookback=lookback, task=task, picked_by="random", assigned_unit=unit,
                                           due_date=dt.date(2026, 12, 1))
              for task, unit in ((w.task_a, w.dept_env), (w.task_b, w.dept_housing))]
    kinds["lookback_check"] = Kind(checks[0].pk, checks[1].pk)
    kinds["lookback_file"] = Kind(*(LookBackFile.objects.create(lookback_check=c, uploaded_by=admin, **_stored(evidence_a, n)).pk
                                    for n, c in enumerate(checks, 10)))

    _handler(scene)
    case_a = _cases(scene, [w.task_a], status="investigating")[0]
    case_b = _cases(scene, [w.task_b], status="investigating")[0]
    type(case_b).objects.filter(pk=case_b.pk).update(lead_unit=w.dept_housing)
    CaseUnit.objects.filter(case=case_b).update(unit=w.county_b)
    case_b.persons.update(unit=w.county_b)
    kinds["case"] = Kind(case_a.pk, case_b.pk)
    # a case still open to changes (立案 stage) and one referred to the commission (移交函)
    for name, status in (("case_opened", "opened"), ("case_referred", "referred")):
        pair = [_cases(scene, [task], status=status)[0] for task in (w.task_a, w.task_b)]
        type(case_b).objects.filter(pk=pair[1].pk).update(lead_unit=w.dept_housing)
        CaseUnit.objects.filter(case=pair[1]).update(unit=w.county_b)
        kinds[name] = Kind(pair[0].pk, pair[1].pk)
    kinds["case_action"] = Kind((case_a.pk, "submit_report"), (case_b.pk, "submit_report"))
    kinds["person"] = Kind(case_a.persons.first().pk, case_b.persons.first().pk)
    kinds["case_file"] = Kind(*(CaseFile.objects.create(case=c, file_kind="evidence", uploaded_by=admin,
                                                        **_stored(evidence_a, n)).pk for n, c in enumerate((case_a, case_b), 20)))
    kinds["handler"] = Kind(users["office_staff"].pk)

    helps = [HelpRequest.objects.create(report=r, task=r.task, unit=r.unit, difficulty="资金不足", needs="协调资金",
                                        asked_unit=asked, status="open", created_by=r.author, created_at=now)
             for r, asked in ((report_a, w.dept_env), (report_b, w.dept_housing))]
    kinds["help"] = Kind(helps[0].pk, helps[1].pk)
    kinds["help_action"] = Kind((helps[0].pk, "withdraw"), (helps[1].pk, "withdraw"))
    visits = [SupervisionVisit.objects.create(office=w.office, county=county, quarter="2026-Q1",
                                              planned_on=dt.date(2026, 3, 5), team="督导组", status="planned",
                                              created_by=admin, created_at=now) for county in (w.county_a, w.county_b)]
    kinds["visit"] = Kind(visits[0].pk, visits[1].pk)
    kinds["follow_up"] = Kind(*(VisitFollowUp.objects.create(visit=v, text="整改要求", task=t).pk
                                for v, t in zip(visits, (w.task_a, w.task_b), strict=True)))
    kinds["scheme"] = Kind(_scheme(scene).pk)
    result = result_rows(scene, 0)["result"]
    first = AssessmentRow.objects.get(result_id=result)
    AssessmentRow.objects.create(result_id=result, unit=w.county_b, group="county", total=70, rank=2,
                                 breakdown=first.breakdown)
    kinds["result"] = Kind(result)
    kinds["result_action"] = Kind((result, "publish"))
    kinds["result_unit"] = Kind((result, w.county_a.pk), (result, w.county_b.pk))

    # the public side: T-01 disclosed (and its close-out in notice), T-02 not
    Decision.objects.bulk_create([Decision(subject=s, object_id=i, disclosed=True, decided_at=now)
                                  for s, i in (("campaign", w.campaign.pk), ("task", w.task_a.pk))])
    kinds["portal_task"] = Kind(w.task_a.pk, w.task_b.pk, public=True)
    kinds["portal_notice"] = Kind(co_a.pk, co_b.pk, public=True)
    article = disclosure.create_article(actor=admin, kind="circular", title="通报", body="正文")
    attachment = disclosure.attach_article_file(actor=admin, article=article, name="通报.pdf",
                                                fileobj=io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
    disclosure.article_transition(actor=admin, article=article, action="publish")
    draft = disclosure.create_article(actor=admin, kind="circular", title="草稿", body="未发布")
    kinds["article"] = Kind(article.pk)
    kinds["portal_article"] = Kind(article.pk, draft.pk, public=True)
    kinds["article_file"] = Kind(attachment.pk)
    seen = {p: disclosure.file_observation(actor=users[p], task_id=w.task_a.pk, observed_on=today, place="",
                                           content="现场监督情况。", photos=[("现场.jpg", _jpeg())])
            for p in ("observer", "observer_b")}
    kinds["observation"] = Kind({"anonymous": seen["observer"].pk}, seen["observer_b"].pk, out=("observer",))
    kinds["observation_photo"] = Kind({"anonymous": seen["observer"].photos.get().pk},
                                      seen["observer_b"].photos.get().pk, out=("observer",))
    kinds["dataset"] = Kind(("tasks", "csv"))

    kinds["indicator"] = Kind(Indicator.objects.create(office=w.office, name="空气质量优良率", comparator="≥", value=90,
                                                       unit="%", scope="each_county").pk)
    kinds["instruction"] = Kind(issue_instruction(actor=users["leader_a"], task=w.task_a, text="批示").pk,
                                issue_instruction(actor=users["leader_b"], task=w.task_b, text="批示").pk)
    kinds["wall"] = Kind(issue_display_token(actor=admin, name="大屏")[1])
    kinds["wall_region"] = Kind((kinds["wall"].a, "431100"))
    kinds["plan"] = Kind(plan_measures(scene, 2)["token"])
    projects = [Project.objects.create(office=w.office, code=f"P-{n}", name="项目", county=c, responsible_unit=c)
                for n, c in enumerate((w.county_a, w.county_b), 1)]
    kinds["project"] = Kind(projects[0].pk, projects[1].pk)
    kinds["project_evidence"] = Kind(999999)  # no reported progress with files in this world
    kinds["project_action"] = Kind((projects[0].pk, "prepare"), (projects[1].pk, "prepare"))

    # own objects: a reminder and a background job of every persona
    everyone = [*PERSONAS, *MIRRORS]
    notes, jobs = {}, {}
    for persona in everyone:
        user = users.get(persona) or users["office_admin"]
        notes[persona] = Notification.objects.create(user=user, kind="x", title="提醒", key=f"k-{persona}",
                                                     url="/inbox/").pk
        jobs[persona] = Job.objects.create(kind="ledger_import", title="导入", owner=user, status="succeeded",
                                           attempt=1).pk
    other_note = Notification.objects.create(user=users["observer_b"], kind="x", title="提醒", key="k-other", url="/inbox/")
    other_job = Job.objects.create(kind="ledger_import", title="导入", owner=users["observer_b"], status="succeeded",
                                   attempt=1)
    kinds["notification"] = Kind(notes, other_note.pk, own=True)

    # accounts: a county's reporter, the county, a leader and the county it is in charge of; each
    # persona's own login session and API token (B: another person's)
    from rectify.orgs.models import ApiToken, LeaderAssignment, UserSession
    from rectify.orgs.services import issue_api_token

    clients: dict[tuple[str, bool], Client] = {("office_admin", False): admin_client}
    for persona in everyone:
        if persona == "anonymous":
            continue
        user = users[persona]
        if persona != "office_admin":
            clients[(persona, False)] = Client()
            clients[(persona, False)].force_login(user)
        key = issue_api_token(actor=user, user=user, name="matrix")
        clients[(persona, True)] = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    kinds["account"] = Kind(users["reporter_a"].pk)
    kinds["unit"] = Kind(w.county_a.pk)
    kinds["leader_account"] = Kind(users["leader_a"].pk)
    kinds["area"] = Kind(LeaderAssignment.objects.filter(leader=users["leader_a"]).first().pk)
    kinds["any_token"] = Kind(ApiToken.objects.filter(user=users["reporter_a"]).first().pk)
    sessions = {p: UserSession.objects.filter(user=users[p]).values_list("pk", flat=True).first()
                for p in everyone if p != "anonymous"}
    sessions["anonymous"] = sessions["office_admin"]
    tokens = {p: ApiToken.objects.filter(user=users[p]).values_list("pk", flat=True).first()
              for p in everyone if p != "anonymous"}
    tokens["anonymous"] = tokens["office_admin"]
    other = users["observer_b"]
    issue_api_token(actor=other, user=other, name="matrix")
    other_client = Client()
    other_client.force_login(other)
    kinds["session"] = Kind(sessions, UserSession.objects.filter(user=other).first().pk, own=True)
    kinds["token"] = Kind(tokens, ApiToken.objects.filter(user=other).first().pk, own=True)
    kinds["reply_file"] = Kind((kinds["escalation"].a, 999999))  # no reply with files in this world
    kinds["job"] = Kind(jobs, other_job.pk, own=True)
    return MatrixWorld(w, kinds, clients)
