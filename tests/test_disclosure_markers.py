"""Nothing that is not disclosed ever reaches the portal, its feed or its open data.

A marker value is planted in every non-public field — internal notes of a disclosed task, a report's
internal text, a summary the office did not disclose, a withheld task, a task of an undisclosed
campaign, a draft, an objector's name, phone, content and the office's answer, close-out
opinions and check findings, a look-back statement, an accountability case (title, facts,
findings, the person concerned), draft and withdrawn articles, the names of the people who did the
work, a leader's 批示, a 监督员's observation — then every portal URL (each task id, disclosed or not; each notice, article and attachment;
every dataset as CSV and JSON; the data package; the feed; each task's history) is fetched
anonymously and scanned for every marker.
"""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from rectify.closeout import services as closeout
from rectify.closeout.models import AssessmentItem, CheckRecord, Closeout, LookBack, LookBackCheck, Objection
from rectify.disclosure import opendata
from rectify.disclosure import services as disclosure
from rectify.disclosure.models import Article, Decision, Subject
from rectify.dispatch.models import ProgressReport
from rectify.ledger import services as ledger
from rectify.ledger.models import Task
from rectify.orgs.models import Role, User
from rectify.orgs.services import create_user
from rectify.supervision.models import Escalation
from tests import accountability_helpers as acc
from tests.conftest import PASSWORD
from tests.disclosure_helpers import public_world, third_task

MARKERS = {
    "task progress_note": "MKRPROGNOTE",
    "task completion_note": "MKRCOMPNOTE",
    "task status_reasons": "MKRREASONS",
    "withheld task title": "MKRWITHHELD",
    "undisclosed campaign name": "MKRCAMPAIGN",
    "task of undisclosed campaign": "MKRCAMPTASK",
    "draft task title": "MKRDRAFTTASK",
    "report progress_text": "MKRPROGTEXT",
    "report difficulties": "MKRDIFFICULT",
    "report next_steps": "MKRNEXTSTEP",
    "summary not disclosed": "MKRSUMMARY",
    "objection content": "MKROBJCONTENT",
    "objector name": "MKR异议人",
    "objector phone": "13900001111",
    "objection answer": "MKRANSWER",
    "self-assessment statement": "MKRSELFASSESS",
    "check finding": "MKRFINDING",
    "checkers": "MKRCHECKERS",
    "return reason": "MKRRETURN",
    "look-back statement": "MKRLOOKBACK",
    "escalation reason": "MKRESCALATE",
    "case title": "MKRCASETITLE",
    "case facts": "MKRCASEFACTS",
    "case findings": "MKRCASEFIND",
    "person concerned": "MKR涉案人",
    "draft article": "MKRDRAFTART",
    "withdrawn article": "MKRWITHDRAWN",
    "user display name": "MKR填报人",
    "leader name": "MKR市领导",
    "observer name": "MKR监督员",
    "observation content": "MKROBSERVED",
    "observation reply": "MKROBSREPLY",
    "leader instruction": "MKR批示",
}


def plant(world, scene) -> dict:
    admin = world.users["office_admin"]
    M = MARKERS
    # names of the people who did the work
    User.objects.filter(pk=world.users["reporter_a"].pk).update(display_name=M["user display name"])
    User.objects.filter(pk=world.users["leader_a"].pk).update(display_name=M["leader name"])
    # a disclosed task's internal fields
    Task.objects.filter(pk=world.task_a.pk).update(progress_note=M["task progress_note"],
                                                   completion_note=M["task completion_note"],
                                                   status_reasons=[M["task status_reasons"]],
                                                   leader=world.users["leader_a"])
    # withheld task, a draft (even with a stray decision row), a task of an undisclosed campaign
    withheld = third_task(world, code="T-04", title=M["withheld task title"])
    draft = third_task(world, code="T-05", title=M["draft task title"])
    Task.objects.filter(pk=draft.pk).update(status="draft")
    Decision.objects.create(subject=Subject.TASK, object_id=draft.pk, disclosed=True, decided_at=timezone.now())
    other = ledger.create_campaign(actor=admin, code="T-OTHER", name=M["undisclosed campaign name"], kind="city")
    hidden = ledger.create_task(actor=admin, campaign=other, data=ledger.TaskInput(
        code="O-01", title=M["task of undisclosed campaign"], responsible_units=[world.county_a],
        deadline_kind="long_term", measures=[ledger.MeasureInput(text="措施")]))
    Decision.objects.create(subject=Subject.TASK, object_id=hidden.pk, disclosed=True, decided_at=timezone.now())
    # reports: internal text of the disclosed one; an accepted summary the office did not disclose
    report = scene["report"]
    ProgressReport.objects.filter(pk=report.pk).update(progress_text=M["report progress_text"],
                                                       difficulties=M["report difficulties"],
                                                       next_steps=M["report next_steps"])
    ProgressReport.objects.filter(task=scene["t3"], status="accepted").update(public_summary=M["summary not disclosed"])
    # an objection with contact, answered
    objection = closeout.file_objection(closeout=scene["closeout"], content=M["objection content"] + "管网仍有直排。",
                                        name=M["objector name"], phone=M["objector phone"])
    closeout.answer_objection(actor=admin, objection=objection, action="dismiss", answer=M["objection answer"] + "不成立")
    # close-out records
    AssessmentItem.objects.filter(assessment__closeout__task=world.task_a).update(statement=M["self-assessment statement"])
    filed = Closeout.objects.get(task=scene["t3"], status="filed")
    CheckRecord.objects.filter(closeout=filed).update(finding=M["check finding"], checkers=M["checkers"])
    Closeout.objects.filter(pk=filed.pk).update(return_reason=M["return reason"])
    # a look-back result with an internal statement
    lookback = LookBack.objects.create(campaign=world.campaign, title="2026年回头看", seed="s", due_date=dt.date(2026, 12, 1),
                                       created_at=timezone.now())
    LookBackCheck.objects.create(lookback=lookback, task=scene["t3"], picked_by="random", assigned_unit=world.dept_env,
                                 due_date=dt.date(2026, 12, 1), result="holding", statement=M["look-back statement"],
                                 checked_at=timezone.now())
    Escalation.objects.create(task=world.task_a, rung="circular", reason=M["escalation reason"], target_unit=world.county_a,
                              issued_by=admin, issuing_unit=world.office, issued_at=timezone.now(), doc_number="通〔2026〕9号")
    # an accountability case on the disclosed task
    acc.designate(world)
    case = acc.open_case(world, title=M["case title"], facts=M["case facts"])
    acc.investigate(world, case, person=(M["person concerned"], "副局长"), findings=M["case findings"])
    # articles: a draft and a withdrawn one
    disclosure.create_article(actor=admin, kind="exposure", title=M["draft article"], body=M["draft article"])
    withdrawn = disclosure.create_article(actor=admin, kind="case", title=M["withdrawn article"], body="正文",
                                          task_ids=[withheld.pk])
    disclosure.article_transition(actor=admin, article=withdrawn, action="publish")
    disclosure.article_transition(actor=admin, article=withdrawn, action="withdraw")
    # a leader's instruction (批示) on the disclosed task
    from rectify.dashboard.services import issue_instruction

    issue_instruction(actor=world.users["leader_a"], task=world.task_a, text=M["leader instruction"] + "加快进度")
    # a 监督员's observation on a public task, answered
    observer = create_user(actor=admin, username="npc9", password=PASSWORD, role=Role.OBSERVER, unit=world.office,
                           display_name=M["observer name"], title="市人大代表", must_change_password=False)
    seen = disclosure.file_observation(actor=observer, task_id=world.task_a.pk, observed_on=timezone.localdate(),
                                       place="河西", content=M["observation content"] + "现场情况")
    disclosure.reply_observation(actor=admin, observation=seen, reply=M["observation reply"])
    return {"task_ids": list(Task.objects.values_list("pk", flat=True)),
            "article_ids": list(Article.objects.values_list("pk", flat=True)),
            "closeout_ids": list(Closeout.objects.values_list("pk", flat=True))}


def portal_urls(ids: dict) -> list[str]:
    urls = ["/gongkai/", "/gongkai/tasks/", "/gongkai/tasks/?q=MKR", "/gongkai/notices/", "/gongkai/receipt/",
            "/gongkai/closed/", "/gongkai/lookbacks/", "/gongkai/articles/", "/gongkai/plan/", "/gongkai/data/",
            "/gongkai/data/datapackage.json", "/gongkai/feed.atom", "/gongkai/chain/"]
    for kind in ("circular", "exposure", "case", "plan"):
        urls.append(f"/gongkai/articles/?kind={kind}")
    for pk in ids["task_ids"]:
        urls += [f"/gongkai/tasks/{pk}/", f"/gongkai/tasks/{pk}/history.json"]
    urls += [f"/gongkai/notices/{pk}/" for pk in ids["closeout_ids"]]
    urls += [f"/gongkai/articles/{pk}/" for pk in ids["article_ids"]]
    for name in opendata.DATASETS:
        urls += [f"/gongkai/data/{name}.csv", f"/gongkai/data/{name}.json"]
    return urls


def test_check_11_no_marker_reaches_any_portal_url(world):
    scene = public_world(world)
    ids = plant(world, scene)
    client = Client()
    found, seen_ok = [], 0
    for url in portal_urls(ids):
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        seen_ok += response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        for what, marker in MARKERS.items():
            if marker in text:
                found.append(f"{what} ({marker}) on {url}")
    assert not found, "non-public data on the portal:\n" + "\n".join(found)
    # the scan did read real pages: the disclosed task, its summary and the filed task are there
    assert seen_ok > 30
    page = client.get(f"/gongkai/tasks/{world.task_a.pk}/").content.decode()
    assert world.task_a.title in page and "城区截污管网已全部建成。" in page
    # the markers are really there: the office's own task page shows the internal note
    internal = world.client("office_admin").get(f"/ledger/tasks/{world.task_a.pk}/").content.decode()
    assert MARKERS["task progress_note"] in internal
    # and the receipt shows the answer to its holder only, never the contact
    receipt = Objection.objects.get(content__startswith=MARKERS["objection content"]).receipt
    lookup = client.post("/gongkai/receipt/", {"receipt": receipt}).content.decode()
    assert MARKERS["objection answer"] in lookup
    assert MARKERS["objector name"] not in lookup and MARKERS["objector phone"] not in lookup
    assert MARKERS["objection content"] not in lookup
