"""Disclosure decisions, the portal, objections through it, open data, the chain head page, caching.

Personas from tests/conftest.py; the disclosed world from tests/disclosure_helpers.py.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from rectify.closeout import services as closeout
from rectify.core.audit import chain_head
from rectify.core.models import Event
from rectify.disclosure import services as disclosure
from rectify.disclosure.models import Decision, Subject
from rectify.ledger import services as ledger
from rectify.ledger.models import Task
from tests.disclosure_helpers import answer_challenge, public_world, third_task

PORTAL_PAGES = ["/gongkai/", "/gongkai/tasks/", "/gongkai/tasks/?q=T-01&county={county}&status=closing",
                "/gongkai/tasks/{task}/", "/gongkai/notices/", "/gongkai/notices/{notice}/", "/gongkai/receipt/",
                "/gongkai/closed/", "/gongkai/lookbacks/", "/gongkai/articles/", "/gongkai/articles/{article}/",
                "/gongkai/plan/", "/gongkai/data/", "/gongkai/chain/"]


def portal_urls(world, scene) -> list[str]:
    params = {"county": world.county_a.pk, "task": world.task_a.pk, "notice": scene["closeout"].pk,
              "article": scene["article"].pk}
    return [u.format(**params) for u in PORTAL_PAGES]


def test_a_decision_is_recorded_and_only_the_office_or_a_publicist_decides(world):
    admin, reporter = world.users["office_admin"], world.users["reporter_a"]
    with pytest.raises(PermissionDenied):
        disclosure.decide(actor=reporter, subject=Subject.TASK, obj=world.task_a, disclosed=True)
    world.task_a.refresh_from_db()
    disclosure.decide(actor=admin, subject=Subject.TASK, obj=world.task_a, disclosed=True, reason="按方案公开")
    event = Event.objects.filter(action="disclosure_decided").last()
    assert event.object_type == "ledger.task" and event.object_id == str(world.task_a.pk)
    assert event.after == {"subject": "task", "object": world.task_a.pk, "disclosed": True}
    before = Event.objects.count()
    disclosure.decide(actor=admin, subject=Subject.TASK, obj=world.task_a, disclosed=True)  # nothing changes
    assert Event.objects.count() == before
    # 市委宣传部's account, designated by the office administrator, decides too
    lead = world.users["lead_housing"]
    with pytest.raises(PermissionDenied):
        disclosure.decide(actor=lead, subject=Subject.TASK, obj=world.task_b, disclosed=True)
    disclosure.grant_publicist(actor=admin, user=lead)
    lead = type(lead).objects.get(pk=lead.pk)
    disclosure.decide(actor=lead, subject=Subject.TASK, obj=world.task_b, disclosed=True)
    assert Decision.objects.get(subject="task", object_id=world.task_b.pk).disclosed
    with pytest.raises(PermissionDenied):
        disclosure.grant_publicist(actor=lead, user=world.users["reporter_b"])


def test_nothing_is_public_until_the_campaign_and_the_task_are_disclosed(world):
    admin = world.users["office_admin"]
    client = Client()
    url = f"/gongkai/tasks/{world.task_a.pk}/"
    assert client.get(url).status_code == 404
    disclosure.decide(actor=admin, subject=Subject.TASK, obj=world.task_a, disclosed=True)
    assert client.get(url).status_code == 404  # its campaign is not disclosed
    disclosure.decide(actor=admin, subject=Subject.CAMPAIGN, obj=world.campaign, disclosed=True)
    response = client.get(url)
    assert response.status_code == 200 and world.task_a.title in response.content.decode()
    assert client.get(f"/gongkai/tasks/{world.task_b.pk}/").status_code == 404
    listing = client.get("/gongkai/tasks/").content.decode()
    assert world.task_a.code in listing and world.task_b.title not in listing
    disclosure.decide(actor=admin, subject=Subject.TASK, obj=world.task_a, disclosed=False)
    assert client.get(url).status_code == 404


def test_every_portal_page_answers_without_login_and_shows_the_chain_head(world):
    scene = public_world(world)
    client = Client()
    seq, digest = chain_head()
    for url in portal_urls(world, scene):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f"{seq}:{digest}" in html, url
    task_page = client.get(f"/gongkai/tasks/{world.task_a.pk}/").content.decode()
    assert "城区截污管网已全部建成。" in task_page and "公示" in task_page and "关于整改滞后问题的通报" in task_page
    closed = client.get("/gongkai/closed/").content.decode()
    assert scene["t3"].code in closed and "销备" in closed or scene["t3"].code in closed


def test_an_objection_from_the_portal_to_its_answer(world, settings):
    scene = public_world(world)
    client = Client()
    url = f"/gongkai/notices/{scene['closeout'].pk}/"
    form = client.get(url).content.decode()
    response = client.post(url, {"content": "管网末端仍有污水直排入河。", "name": "张三丰", "phone": "13812345678",
                                 **answer_challenge(form)})
    assert response.status_code == 200
    receipt = response.context["receipt"]
    assert receipt.startswith("YY") and receipt in response.content.decode()
    lookup = client.post("/gongkai/receipt/", {"receipt": receipt}).content.decode()
    # neither the name nor any part of the phone number (a bare "138" can occur in the footer's chain hash)
    assert "待答复" in lookup and "张三丰" not in lookup and "1381234" not in lookup and "345678" not in lookup
    objection = closeout.objection_by_receipt(receipt)
    closeout.answer_objection(actor=world.users["office_admin"], objection=objection, action="dismiss",
                              answer="经核实，末端为雨水排口，异议不成立。")
    lookup = client.post("/gongkai/receipt/", {"receipt": receipt.lower()}).content.decode()
    assert "异议不成立" in lookup and "末端为雨水排口" in lookup
    assert client.post("/gongkai/receipt/", {"receipt": "YY0000NOPE"}).status_code == 404


def test_check_23_the_challenge_is_needed_once_and_the_rate_limit_holds(world, settings):
    settings.PUBLIC_OBJECTION_RATE = 3
    scene = public_world(world)
    client = Client()
    url = f"/gongkai/notices/{scene['closeout'].pk}/"
    answer = answer_challenge(client.get(url).content.decode())
    wrong = {**answer, "challenge_answer": str(int(answer["challenge_answer"]) + 1)}
    response = client.post(url, {"content": "第一次提交的异议内容。", **wrong})
    assert response.status_code == 400 and "验证题" in response.content.decode()
    assert client.post(url, {"content": "第二次提交的异议内容。", **answer}).status_code == 200
    replay = client.post(url, {"content": "重放同一验证题的提交。", **answer})  # the same question again
    assert replay.status_code == 400
    limited = client.post(url, {"content": "第四次提交的异议内容。", **answer_challenge(client.get(url).content.decode())})
    assert limited.status_code == 429 and "频繁" in limited.content.decode()
    # another address is not limited
    other = Client(REMOTE_ADDR="10.0.0.9")
    ok = other.post(url, {"content": "另一地址提交的异议。", **answer_challenge(other.get(url).content.decode())})
    assert ok.status_code == 200
    from rectify.closeout.models import Objection

    assert Objection.objects.filter(closeout=scene["closeout"]).count() == 2


def test_a_write_shows_at_the_next_request(world):
    public_world(world)
    client = Client()
    url = f"/gongkai/tasks/{world.task_b.pk}/"
    first = client.get(url)
    assert first["X-Portal-Cache"] == "miss"
    second = client.get(url)
    assert second["X-Portal-Cache"] == "hit" and second.content == first.content
    task = Task.objects.get(pk=world.task_b.pk)
    data = ledger.task_input_from(task)
    data.title = "祁阳市垃圾填埋场渗滤液处理扩容"
    ledger.update_task(actor=world.users["office_admin"], task=task, expected_version=task.version, data=data)
    third = client.get(url)
    assert third["X-Portal-Cache"] == "miss" and "渗滤液处理扩容" in third.content.decode()
    listing = client.get("/gongkai/tasks/").content.decode()
    assert "渗滤液处理扩容" in listing


def test_open_data_and_feed(world):
    scene = public_world(world)
    client = Client()
    package = client.get("/gongkai/data/datapackage.json").json()
    assert package["licenses"][0]["name"] and len(package["resources"]) == 16
    for resource in package["resources"]:
        response = client.get(resource["path"])
        assert response.status_code == 200, resource["path"]
        names = [f["name"] for f in resource["schema"]["fields"]]
        if resource["format"] == "json":
            body = json.loads(response.content)
            assert body["licence"]["name"] and [f["name"] for f in body["schema"]["fields"]] == names
            assert all(list(row) == names for row in body["rows"])
        else:
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
            assert rows[0] == names
    tasks = json.loads(client.get("/gongkai/data/tasks.json").content)["rows"]
    assert {t["code"] for t in tasks} == {"T-01", "T-02", scene["t3"].code}
    feed = ET.fromstring(client.get("/gongkai/feed.atom").content)
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in feed.iter("{http://www.w3.org/2005/Atom}entry")]
    assert any("销号公示" in t for t in titles) and any("通报" in t for t in titles)


def test_the_history_download_and_the_verification_page(world):
    public_world(world)
    client = Client()
    history = json.loads(client.get(f"/gongkai/tasks/{world.task_a.pk}/history.json").content)
    events = history["events"]
    assert events and all(len(e["hash"]) == 64 for e in events)
    stored = {e.seq: e.hash for e in Event.objects.filter(seq__in=[x["seq"] for x in events])}
    assert all(stored[e["seq"]] == e["hash"] for e in events)
    assert not any("summary" in e or "actor_name" in e for e in events)
    head = f"{history['chain_head']['seq']}:{history['chain_head']['hash']}"
    ok = client.post("/gongkai/chain/", {"head": head})
    assert ok.status_code == 200 and ok.context["verdict"]["ok"]
    bad = client.post("/gongkai/chain/", {"head": f"{history['chain_head']['seq']}:{'0' * 64}"})
    assert not bad.context["verdict"]["ok"]
    future = client.post("/gongkai/chain/", {"head": f"{history['chain_head']['seq'] + 1000}:{'a' * 64}"})
    assert not future.context["verdict"]["ok"]
    assert client.post("/gongkai/chain/", {"head": "nonsense"}).status_code == 400
    page = client.get("/gongkai/chain/").content.decode()
    assert "2026年10月调度通报" in page


def test_a_draft_task_cannot_be_disclosed(world):
    draft = third_task(world, code="T-09", title="草稿任务")
    Task.objects.filter(pk=draft.pk).update(status="draft")
    draft.refresh_from_db()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        disclosure.decide(actor=world.users["office_admin"], subject=Subject.TASK, obj=draft, disclosed=True)


def test_the_head_printed_in_a_monthly_bulletin_is_listed_and_verifies(world):
    from rectify.dispatch import services as dispatch
    from rectify.dispatch.models import DispatchRound
    from rectify.documents.bulletin import generate_bulletin

    public_world(world)
    admin = world.users["office_admin"]
    rnd = DispatchRound.objects.get(period="2026-10")
    dispatch.close_round(actor=admin, rnd=rnd)
    rnd.refresh_from_db()
    before = chain_head()
    generate_bulletin(actor=admin, rnd=rnd, fmt="docx")
    event = Event.objects.filter(action="document_generated").last()
    printed = event.after["chain_head"]
    assert printed.split(":")[0] == str(before[0] + 1)  # the number issued first, then the head printed
    client = Client()
    page = client.get("/gongkai/chain/").content.decode()
    assert printed.split(":")[1] in page and "月度调度通报" in page
    assert client.post("/gongkai/chain/", {"head": printed}).context["verdict"]["ok"]


PERSONAS = ["office_admin", "office_staff", "lead_env", "lead_housing", "reporter_a", "reviewer_a", "reporter_b",
            "leader_a", "discipline", "auditor"]
OFFICE = {"office_admin", "office_staff"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_reaches_the_disclosure_pages_and_decides(world, persona):
    """The office (and designated publicists, above) see and decide; every other role gets 404 and
    cannot decide by guessing ids; nobody's decision leaves a trace when refused."""
    article = disclosure.create_article(actor=world.users["office_admin"], kind="circular", title="通报",
                                        body="正文。")
    client = world.client(persona)
    allowed = persona in OFFICE
    for url in ("/disclosure/", f"/disclosure/campaigns/{world.campaign.pk}/", f"/disclosure/tasks/{world.task_a.pk}/",
                f"/disclosure/articles/{article.pk}/", "/disclosure/articles/new/"):
        assert client.get(url).status_code == (200 if allowed else 404), url
    client.post("/disclosure/decide/", {"subject": "task", "object_id": world.task_a.pk, "disclosed": "1",
                                        "next": "/disclosure/"})
    decided = Decision.objects.filter(subject="task", object_id=world.task_a.pk, disclosed=True).exists()
    assert decided == allowed
    client.post(f"/disclosure/articles/{article.pk}/", {"action": "publish"})
    article.refresh_from_db()
    assert (article.status == "published") == allowed


def test_the_task_page_tells_the_office_whether_the_task_is_public(world):
    office, county = world.client("office_admin"), world.client("reporter_a")
    url = f"/ledger/tasks/{world.task_a.pk}/"
    assert "本任务未公开" in office.get(url).content.decode()
    public_world(world)
    page = office.get(url).content.decode()
    assert "本任务已公开" in page and f"/gongkai/tasks/{world.task_a.pk}/" in page
    assert 'id="task-disclosure"' not in county.get(url).content.decode()
