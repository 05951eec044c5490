"""The confidentiality matrix of accountability cases: every persona × every page, export, download and
API route of the product (generated from the URLconf and the API's routes, so a route added later is
covered or the coverage test fails), against cases with planted marker values.

Who may know of a case (rectify/accountability/scope.py):
- the office's case handler (office_staff here, designated by office_admin, who is not one) — all three;
- the investigating lead unit while it investigates — 市生态环境局 (lead_env) case 甲 only;
- the commission once the case is referred to it — 市纪委监委 (discipline) case 乙 only;
- nobody else: not office_admin, not the units concerned (零陵区 reporter_a and reviewer_a, 祁阳市
  reporter_b), not 住建局 (lead_housing, which investigated 乙 but has handed in its report), not the
  leader, not the auditor, not the public.

Outside the case workspace and its API no case appears for anyone (ledger, dispatch, supervision,
close-out, documents and exports, the public routes); a reminder in one's own inbox may name a case
one may see. Persons concerned appear in full only on a case's own page, its API detail and its
documents; every list masks them. A write to a case one may not see is answered 404, like a missing one.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from rectify.accountability import services
from rectify.accountability.models import AccountabilityCase, CaseFile, PersonConcerned
from rectify.closeout import services as closeout
from rectify.closeout.models import Closeout, LookBack, LookBackCheck
from rectify.core.crypto import mask_name
from rectify.core.models import Notification
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import DispatchRound, Evidence, ProgressReport
from rectify.orgs.services import issue_api_token
from rectify.supervision import services as supervision
from rectify.supervision.models import Escalation, Rung
from tests.accountability_helpers import LATER, designate, fresh, step
from tests.conftest import make_world

PERSONAS = ["office_admin", "office_staff", "lead_env", "lead_housing", "reporter_a", "reviewer_a", "reporter_b",
            "leader_a", "discipline", "auditor"]
SEES = {"office_staff": {"甲", "乙", "丙"}, "lead_env": {"甲"}, "discipline": {"乙"}}
PEOPLE = {"甲": ("诸葛明亮", "甲副局长密标"), "乙": ("司马青云", "乙科长密标"), "丙": ("欧阳晓丽", "丙站长密标")}


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (90, 140, 90)).save(out, "PNG")
    return out.getvalue()


class Scene:
    """One world with three cases and something on every other page: a closed-out, look-back-rebounded,
    escalated task; a dispatch round with a report, its difficulties and a photo; a closed round whose
    bulletin can be drawn."""

    def __init__(self):
        world = self.world = make_world()
        designate(world)
        admin, staff = world.users["office_admin"], fresh(world, "office_staff")
        from tests.test_closeout import closed_task

        closed_task(world)  # T-01 through 销号 (round 2026-10, closeout filed)
        self.closeout = Closeout.objects.get(task=world.task_a)
        self.lookback = closeout.start_lookback(actor=admin, campaign=world.campaign, title="2026 年回头看",
                                                share_percent=100, due_date=LATER)
        self.check = self.lookback.checks.get(task=world.task_a)
        closeout.record_lookback_result(actor=world.users["lead_env"], check=self.check, action="rebound",
                                        statement="管网再次破损。", new_deadline=LATER)
        self.escalation = supervision.issue_escalation(actor=admin, task=world.task_a, rung=Rung.LISTED,
                                                       reason="反弹后仍滞后", target_unit=world.county_a, skip_reason="反弹",
                                                       reply_due=LATER)
        # 丙: proposed by the software (rebound, then 挂牌督办 on the same task), a person added by the handler
        c = AccountabilityCase.objects.get()
        services.add_person(actor=staff, case=c, name=PEOPLE["丙"][0], post=PEOPLE["丙"][1], unit=world.county_a)
        # 甲: under investigation by 市生态环境局
        a = services.open_case(actor=staff, task_ids=[world.task_a.pk], kind="false_report", title="甲案由密标",
                               facts="甲线索密标", lead_unit=world.dept_env, investigation_due=LATER)
        a = step(world, "lead_env", a, "start")
        lead = fresh(world, "lead_env")
        services.add_person(actor=lead, case=a, name=PEOPLE["甲"][0], post=PEOPLE["甲"][1], unit=world.county_a)
        services.add_note(actor=lead, case=a, text="甲调查记录密标")
        services.attach_file(actor=lead, case=a, name="jia-mibiao.png", fileobj=io.BytesIO(_png()), note="甲证据密标")
        a.refresh_from_db()
        services.save_findings(actor=lead, case=a, expected_version=a.version, findings="甲认定密标",
                               recommendation="甲建议密标")
        # 乙: investigated by 住建局 on 祁阳市's task, referred and accepted by the commission
        b = services.open_case(actor=staff, task_ids=[world.task_b.pk], kind="superficial", title="乙案由密标",
                               facts="乙线索密标", lead_unit=world.dept_housing, investigation_due=LATER)
        b = step(world, "lead_housing", b, "start")
        housing = fresh(world, "lead_housing")
        services.add_person(actor=housing, case=b, name=PEOPLE["乙"][0], post=PEOPLE["乙"][1], unit=world.county_b)
        b.refresh_from_db()
        services.save_findings(actor=housing, case=b, expected_version=b.version, findings="乙认定密标",
                               recommendation="乙建议密标")
        b = step(world, "lead_housing", b, "submit_report")
        b = step(world, "office_staff", b, "approve_report", opinion="乙审核意见密标")
        b = step(world, "office_staff", b, "refer", commission=world.discipline, note="乙移交说明密标")
        b = step(world, "discipline", b, "accept", commission_ref="乙受理编号密标", handling_due=LATER)
        services.add_note(actor=fresh(world, "discipline"), case=b, text="乙办理情况密标")
        self.cases = {"甲": a, "乙": b, "丙": c}
        for case in self.cases.values():
            case.refresh_from_db()
        # dispatch: last round closed (bulletin), this month's with a report, its difficulties and a photo
        self.closed_round = DispatchRound.objects.get(period="2026-10")
        dispatch.close_round(actor=admin, rnd=self.closed_round)
        self.round, _ = dispatch.open_round(actor=admin, office=world.office, period="2026-11", due_date=LATER)
        self.report = ProgressReport.objects.get(round=self.round, task=world.task_a)
        dispatch.transition(actor=world.users["reporter_a"], report=self.report, action="save", changes={
            "progress_text": "管网修复中。", "percent": 60, "difficulties": "资金不足。"})
        self.evidence = dispatch.attach_evidence(actor=world.users["reporter_a"], report=self.report,
                                                 name="site.png", fileobj=io.BytesIO(_png()))
        self.case_file = CaseFile.objects.get(case=a)
        self.report_file = CaseFile.objects.get(case=b, file_kind="report")
        # help, a visit and a published assessment: pages that count or list units, never cases
        from rectify.assessment import scoring
        from rectify.assessment import services as assessment

        self.help = assessment.request_help(actor=world.users["reporter_a"], report=self.report, needs="协调资金。")
        self.visit = assessment.plan_visit(actor=admin, county=world.county_a,
                                           quarter=assessment.quarter_of(dt.date.today()), planned_on=dt.date.today(),
                                           team="督导组")
        self.scheme = assessment.save_scheme(actor=admin, campaign=world.campaign, name="考核办法",
                                             items=scoring.DEFAULT_ITEMS)
        self.result = assessment.compute_result(actor=admin, scheme=self.scheme, title="考核",
                                                period_start=dt.date.today() - dt.timedelta(days=90),
                                                period_end=dt.date.today())
        assessment.result_transition(actor=admin, result=self.result, action="publish")

    def markers(self, key: str) -> set[str]:
        """Every value of a case that would betray it."""
        case = self.cases[key]
        name, post = PEOPLE[key]
        values = {case.number, name, mask_name(name), post}
        if key != "丙":
            values |= {f"{key}案由密标", f"{key}线索密标", f"{key}认定密标", f"{key}建议密标"}
        if key == "甲":
            values |= {"甲调查记录密标", "jia-mibiao", "甲证据密标"}
        if key == "乙":
            values |= {case.referral_number, "乙审核意见密标", "乙移交说明密标", "乙受理编号密标", "乙办理情况密标"}
        return values


# --- the routes ---------------------------------------------------------------------------------

# URL pattern name → how to fill its parameters from the scene (each yields one or more paths).
FILL = {
    "ledger:task_detail": lambda s: [{"pk": s.world.task_a.pk}, {"pk": s.world.task_b.pk}],
    "ledger:task_edit": lambda s: [{"pk": s.world.task_a.pk}],
    "calendar:year": lambda s: [{"year": 2026}],
    "inbox:open": lambda s: [{"pk": n} for n in Notification.objects.values_list("pk", flat=True)],
    "dispatch:round_detail": lambda s: [{"pk": s.round.pk}, {"pk": s.closed_round.pk}],
    "dispatch:round_close": lambda s: [{"pk": s.round.pk}],
    "dispatch:report_detail": lambda s: [{"pk": s.report.pk}],
    "dispatch:evidence_upload": lambda s: [{"pk": s.report.pk}],
    "dispatch:evidence_file": lambda s: [{"pk": s.evidence.pk}],
    "dispatch:evidence_thumb": lambda s: [{"pk": s.evidence.pk}],
    "dispatch:evidence_delete": lambda s: [{"pk": s.evidence.pk}],
    "supervision:issue": lambda s: [{"task_id": s.world.task_a.pk}],
    "supervision:detail": lambda s: [{"pk": e} for e in Escalation.objects.values_list("pk", flat=True)],
    "supervision:close": lambda s: [{"pk": s.escalation.pk}],
    "closeout:detail": lambda s: [{"pk": s.closeout.pk}],
    "closeout:step": lambda s: [{"pk": s.closeout.pk}],
    "closeout:record_check": lambda s: [{"pk": s.closeout.pk}],
    "closeout:upload": lambda s: [{"pk": s.closeout.pk}],
    "closeout:file": lambda s: [{"pk": 0}],  # a stored file's bytes; no close-out file in the scene
    "closeout:lookback_upload": lambda s: [{"pk": s.check.pk}],
    "closeout:lookback_file": lambda s: [{"pk": 0}],
    "closeout:answer": lambda s: [{"pk": 0}],
    "closeout:assess": lambda s: [{"task_id": s.world.task_a.pk}],
    "closeout:policy": lambda s: [{"campaign_id": s.world.campaign.pk}],
    "closeout:lookback": lambda s: [{"pk": s.lookback.pk}],
    "closeout:lookback_result": lambda s: [{"pk": s.check.pk}],
    "documents:escalation_docx": lambda s: [{"pk": s.escalation.pk}],
    "documents:bulletin_docx": lambda s: [{"pk": s.closed_round.pk}],
    "documents:bulletin_xlsx": lambda s: [{"pk": s.closed_round.pk}],
    "documents:closeout_application": lambda s: [{"pk": s.closeout.pk}],
    "documents:closeout_notice": lambda s: [{"pk": s.closeout.pk}],
    "documents:closeout_verification": lambda s: [{"pk": s.closeout.pk}],
    "documents:closeout_filing": lambda s: [{"pk": s.closeout.pk}],
    "documents:lookback_docx": lambda s: [{"pk": s.lookback.pk}],
    "documents:lookback_xlsx": lambda s: [{"pk": s.lookback.pk}],
    "planparse:preview": lambda s: [{"token": "x"}],
    "assessment:help": lambda s: [{"pk": s.help.pk}],
    "assessment:help_step": lambda s: [{"pk": s.help.pk}],
    "assessment:help_new": lambda s: [{"report_id": s.report.pk}],
    "assessment:visit": lambda s: [{"pk": s.visit.pk}],
    "assessment:visit_step": lambda s: [{"pk": s.visit.pk}],
    "assessment:follow_up": lambda s: [{"pk": 0}],
    "assessment:result": lambda s: [{"pk": s.result.pk}],
    "assessment:result_step": lambda s: [{"pk": s.result.pk}],
    "assessment:result_xlsx": lambda s: [{"pk": s.result.pk}],
    "assessment:result_docx": lambda s: [{"pk": s.result.pk}],
    "assessment:result_unit": lambda s: [{"pk": s.result.pk, "unit_id": u} for u in
                                         s.result.rows.values_list("unit_id", flat=True)],
    "assessment:scheme": lambda s: [{"pk": s.scheme.pk}],
    "accountability:handler_revoke": lambda s: [{"user_id": s.world.users["office_staff"].pk}],
    "accountability:person_remove": lambda s: [{"pk": p} for p in PersonConcerned.objects.values_list("pk", flat=True)],
    "accountability:file": lambda s: [{"pk": s.case_file.pk}, {"pk": s.report_file.pk}],
    # disclosure: the office's pages and the public portal (whose open data is scanned like any page)
    "disclosure:campaign": lambda s: [{"pk": s.world.campaign.pk}],
    "disclosure:task": lambda s: [{"pk": s.world.task_a.pk}, {"pk": s.world.task_b.pk}],
    "disclosure:article": lambda s: [{"pk": 0}],
    "disclosure:observation": lambda s: [{"pk": 0}],
    "disclosure:observation_photo": lambda s: [{"pk": 0}],
    "portal:task_detail": lambda s: [{"pk": s.world.task_a.pk}, {"pk": s.world.task_b.pk}],
    "portal:task_history": lambda s: [{"pk": s.world.task_a.pk}],
    "portal:notice_detail": lambda s: [{"pk": s.closeout.pk}],
    "portal:article_detail": lambda s: [{"pk": 0}],
    "portal:article_file": lambda s: [{"pk": 0}],
    "portal:data_file": lambda s: [{"name": n, "fmt": f} for n in ("tasks", "summaries", "notices", "articles")
                                   for f in ("csv", "json")],
    # targets, the board, 批示 and the audit record (rectify/indicators, rectify/dashboard, core.audit_views)
    "indicators:detail": lambda s: [{"pk": 0}], "indicators:edit": lambda s: [{"pk": 0}],
    "indicators:measurement_add": lambda s: [{"pk": 0}], "indicators:import": lambda s: [{"pk": 0}],
    "dashboard:geo": lambda s: [{"code": "431100"}],
    "dashboard:instruction": lambda s: [{"pk": 0}],
    "dashboard:wall": lambda s: [{"key": "x"}], "dashboard:wall_data": lambda s: [{"key": "x"}],
    "dashboard:wall_geo": lambda s: [{"key": "x", "code": "431100"}],
    "audit:event": lambda s: [{"seq": seq} for seq in _case_event_seqs()],
    # background jobs, the 整改落实情况报告 and 一案一档, the project reserve (rectify/jobs, reports, reserve)
    "jobs:detail": lambda s: [{"pk": 0}], "jobs:progress": lambda s: [{"pk": 0}],
    "jobs:download": lambda s: [{"pk": 0}], "jobs:rerun": lambda s: [{"pk": 0}],
    "reports:campaign": lambda s: [{"pk": s.world.campaign.pk}],
    "reports:received": lambda s: [{"pk": s.world.campaign.pk}],
    "reports:narrative": lambda s: [{"pk": s.world.campaign.pk}],
    "reports:generate": lambda s: [{"pk": s.world.campaign.pk}],
    "reports:dossier": lambda s: [{"pk": s.world.campaign.pk}],
    "reports:task_dossier": lambda s: [{"pk": s.world.task_a.pk}, {"pk": s.world.task_b.pk}],
    "reserve:detail": lambda s: [{"pk": 0}], "reserve:edit": lambda s: [{"pk": 0}],
    "reserve:progress": lambda s: [{"pk": 0}], "reserve:performance": lambda s: [{"pk": 0}],
    "reserve:transition": lambda s: [{"pk": 0, "action": "start"}],
    # the account's security pages (rectify/orgs/security_views.py): sessions, second factor, own tokens
    "orgs:user_security": lambda s: [{"pk": s.world.users["reporter_a"].pk}],
    "orgs:session_end": lambda s: [{"pk": 0}], "orgs:user_totp_reset": lambda s: [{"pk": 0}],
    "orgs:token_revoke": lambda s: [{"pk": 0}],
}


def _case_event_seqs() -> list[int]:
    from rectify.core.models import Event

    return list(Event.objects.filter(object_type__startswith="accountability.").values_list("seq", flat=True)[:5])
CASE_PAGES = {"accountability:case", "accountability:case_edit", "accountability:case_step", "accountability:findings",
              "accountability:person_add", "accountability:note_add", "accountability:file_upload",
              "accountability:report_preview", "accountability:referral_letter"}
API_FILL = {
    "task_id": lambda s: [s.world.task_a.pk, s.world.task_b.pk],
    "measure_id": lambda s: [s.world.task_a.measures.first().pk],
    "round_id": lambda s: [s.round.pk, s.closed_round.pk],
    "report_id": lambda s: [s.report.pk],
    "evidence_id": lambda s: [s.evidence.pk],
    "escalation_id": lambda s: [s.escalation.pk],
    "closeout_id": lambda s: [s.closeout.pk],
    "campaign_id": lambda s: [s.world.campaign.pk],
    "lookback_id": lambda s: [s.lookback.pk],
    "check_id": lambda s: [s.check.pk],
    "objection_id": lambda s: [0],
    "case_id": lambda s: [c.pk for c in s.cases.values()],
    "receipt": lambda s: ["YY0000AAAAAAAA"],
    "help_id": lambda s: [s.help.pk],
    "visit_id": lambda s: [s.visit.pk],
    "scheme_id": lambda s: [s.scheme.pk],
    "result_id": lambda s: [s.result.pk],
    "action": lambda s: ["open"],
}
# Not pages of the product: the admin stays closed, static files, the login and logout forms, the API's
# own root and Swagger page (the schema itself is checked).
SKIP = re.compile(r"^/(admin/|static/)|^/accounts/(login|logout)/$|^/api/v1/(docs)?$")


def _walk(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, pattern, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}:{entry.name}", "/" + pattern


def routes(scene: Scene) -> list[tuple[str, str]]:
    """(pattern name, path) for every route, parameters filled from the scene."""
    found = []
    for name, pattern in _walk():
        if SKIP.search(pattern) or "(?" in pattern:
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        if not params:
            found.append((name, pattern))
            continue
        if name.startswith("api:"):
            values = [{p: v for p, v in zip(params, combo, strict=True)}
                      for combo in _product([API_FILL[p](scene) for p in params])]
        elif name in CASE_PAGES:
            values = [{"pk": c.pk} for c in scene.cases.values()]
        else:
            values = FILL[name](scene)
        for kwargs in values:
            path = pattern
            for key, value in kwargs.items():
                path = re.sub(rf"<(?:\w+:)?{key}>", str(value), path)
            found.append((name, path))
    return found


def _product(lists):
    import itertools

    return list(itertools.product(*lists))


def test_every_route_is_in_the_matrix():
    """A new URL pattern with parameters must say here how to fill them (or the matrix would skip it)."""
    missing = []
    for name, pattern in _walk():
        if SKIP.search(pattern) or "(?" in pattern:
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        if not params:
            continue
        if name.startswith("api:"):
            missing += [f"{name} <{p}>" for p in params if p not in API_FILL]
        elif name not in FILL and name not in CASE_PAGES:
            missing.append(name)
    assert missing == []


# --- reading a response ---------------------------------------------------------------------------


def body_text(response) -> str:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if "wordprocessingml" in kind:
        from docx import Document

        document = Document(io.BytesIO(data))
        cells = [cell.text for t in document.tables for row in t.rows for cell in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if "spreadsheetml" in kind:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return "\n".join(str(v) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
                         for v in row)
    if kind.startswith(("image/", "application/pdf")):
        return ""
    if "json" in kind:  # JSON escapes Chinese (\\uXXXX): compare what it says, not how it is spelt
        import json

        return json.dumps(json.loads(data or b"null"), ensure_ascii=False)
    return data.decode("utf-8", errors="replace")


def _in_workspace(path: str) -> bool:
    return path.startswith(("/accountability/", "/api/v1/cases"))


LISTS = ("/accountability/", "/api/v1/cases")  # where persons must be masked even for those who see the case


@pytest.fixture(scope="module")
def _module_db():
    yield


@pytest.mark.parametrize("persona", PERSONAS)
def test_check_11_confidentiality_matrix(db, settings, tmp_path, persona):
    settings.MEDIA_ROOT = tmp_path / "media"
    scene = Scene()
    user = scene.world.users[persona]
    web = Client()
    web.force_login(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='matrix')}")
    sees = SEES.get(persona, set())
    hidden = set().union(*(scene.markers(k) for k in scene.cases if k not in sees))
    every = set().union(*(scene.markers(k) for k in scene.cases))
    full_names = {PEOPLE[k][0] for k in scene.cases} | {PEOPLE[k][1] for k in scene.cases}
    problems, checked, seen_lists = [], 0, {}
    for name, path in routes(scene):
        client = api if path.startswith("/api/") else web
        query = "?limit=200" if path.startswith("/api/v1/") and "{" not in path else ""
        if path.startswith("/api/v1/public/"):
            client = Client()
        for tab in (["all", *[t for t in ("proposed", "investigating", "reported", "reviewed", "referred",
                                          "handling", "finished")]] if path == "/accountability/" else [None]):
            url = path + (f"?tab={tab}" if tab else query)
            response = client.get(url)
            checked += 1
            if response.status_code >= 500:
                problems.append(f"{url}: HTTP {response.status_code}")
                continue
            text = body_text(response)
            forbidden = hidden if (_in_workspace(path) or path.startswith("/inbox/")) else every
            if path.startswith(LISTS) and (path == "/accountability/" or path == "/api/v1/cases"):
                forbidden = forbidden | full_names
            leaked = sorted(m for m in forbidden if m and m in text)
            if leaked:
                problems.append(f"{url} ({name}) shows {leaked}")
            if url in ("/accountability/?tab=all", "/api/v1/cases?limit=200"):
                seen_lists[url] = text
    assert checked > 150, checked
    # the control: what the persona may see is there (numbers, masked names), so the checks above can fail
    for key in sees:
        case = scene.cases[key]
        for url, text in seen_lists.items():
            assert case.number in text and mask_name(PEOPLE[key][0]) in text, (url, key)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_sees_which_case_and_writes_outside_scope_are_404(db, settings, tmp_path, persona):
    settings.MEDIA_ROOT = tmp_path / "media"
    scene = Scene()
    user = scene.world.users[persona]
    web = Client()
    web.force_login(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='matrix')}")
    sees = SEES.get(persona, set())
    for key, case in scene.cases.items():
        page = web.get(f"/accountability/cases/{case.pk}/")
        detail = api.get(f"/api/v1/cases/{case.pk}")
        if key in sees:
            assert page.status_code == 200 and detail.status_code == 200, key
            text = page.content.decode()
            assert PEOPLE[key][0] in text and case.number in text  # in full on the case's own page
            assert PEOPLE[key][0] in body_text(detail)
        else:
            assert page.status_code == 404 and detail.status_code == 404, key
            version = case.version
            for url, data in ((f"/accountability/cases/{case.pk}/step/", {"action": "decline", "version": version,
                                                                            "reason": "x"}),
                              (f"/accountability/cases/{case.pk}/persons/", {"name": "某人", "unit": scene.world.county_a.pk}),
                              (f"/accountability/cases/{case.pk}/notes/", {"text": "记录"}),
                              (f"/accountability/cases/{case.pk}/findings/", {"version": version, "findings": "x"}),
                              (f"/accountability/cases/{case.pk}/edit/", {})):
                assert web.post(url, data).status_code == 404, url
            assert api.post(f"/api/v1/cases/{case.pk}/actions/decline", {"version": version, "reason": "x"},
                            content_type="application/json").status_code == 404
            case.refresh_from_db()
            assert case.version == version
    listed = {row["number"] for row in api.get("/api/v1/cases?limit=100").json()["items"]}
    assert listed == {scene.cases[k].number for k in sees}
    for row in api.get("/api/v1/cases?limit=100").json()["items"]:
        assert all(p["name"].endswith("*") for p in row["persons"])  # masked in the list
    files = {f.pk for f in CaseFile.objects.all()}
    reachable = {pk for pk in files if web.get(f"/accountability/files/{pk}/").status_code == 200}
    assert reachable == {f.pk for f in CaseFile.objects.filter(case__in=[scene.cases[k] for k in sees])}


def test_a_public_visitor_and_an_anonymous_client_see_nothing(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    scene = Scene()
    anonymous = Client()
    case = scene.cases["甲"]
    assert anonymous.get(f"/accountability/cases/{case.pk}/").status_code == 302
    assert anonymous.get(f"/api/v1/cases/{case.pk}").status_code == 401
    assert anonymous.get("/api/v1/cases").status_code == 401
    assert LookBack.objects.exists() and LookBackCheck.objects.exists() and Evidence.objects.exists()
    assert dt.date.today() < LATER
