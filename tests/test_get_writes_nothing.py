"""A GET writes nothing: every list and detail page, web and API, for an office administrator and a
county reporter. On SQLite every write takes the one write lock, so a read that writes queues behind
an import; on any database it is a write nobody asked for.

Each page is requested twice: the first request may refresh what is refreshed at most once a minute
(the session's idle timer, the API token's last use) or mark a reminder read; the second must run no
INSERT/UPDATE/DELETE, no SELECT … FOR UPDATE and open no write transaction (SQLite's BEGIN
IMMEDIATE; SAVEPOINT would be a nested one). The test runs with real transactions
(``transaction=True``) so that BEGIN IMMEDIATE is what SQLite would really see.

A few GETs write on purpose: downloading evidence and generating an official document are recorded
in the audit chain (who took which file, which notice was issued). They are listed below with the
reason, and every URL pattern must be either tested here or listed.
"""

from __future__ import annotations

import io
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from rectify.core.models import Notification
from rectify.dispatch import services as dispatch
from rectify.supervision.models import Escalation
from tests.listing import LISTS, NOT_LISTS, Scene, report_history, tasks
from tests.test_query_counts import _patterns

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|BEGIN\s+IMMEDIATE|BEGIN\s+EXCLUSIVE|SAVEPOINT)\b"
                   r"|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.I)

PERSONAS = ("office_admin", "reporter_a")

# What a first request may write, at most once a minute: the session (its idle timer), an API
# token's last use, a reminder marked read when opened. Anything else written by a GET — say a row
# created on first view — fails even on the first request.
WARM_UP_WRITES = re.compile(r'^\s*(BEGIN|SAVEPOINT|RELEASE)\b|"django_session"|"orgs_apitoken"|"core_notification"', re.I)

# Detail pages (and the forms a GET shows), filled from the scene below.
DETAILS = [
    "/ledger/tasks/{task}/", "/ledger/tasks/{task}/edit/", "/supervision/tasks/{task}/escalate/",
    "/supervision/escalations/{escalation}/", "/dispatch/rounds/{round}/", "/dispatch/reports/{report}/",
    "/dispatch/evidence/{photo}/thumb/", "/calendar/{year}/", "/inbox/{notification}/", "/plans/{token}/",
    "/api/v1/tasks/{task}", "/api/v1/tasks/{task}/measures", "/api/v1/measures/{measure}",
    "/api/v1/rounds/{round}", "/api/v1/reports/{report}", "/api/v1/escalations/{escalation}",
    "/closeout/tasks/{task}/assess/", "/closeout/policy/{campaign}/", "/api/v1/campaigns/{campaign}/closeout-policy",
    "/accountability/cases/{case}/edit/", "/assessment/help/{help}/", "/assessment/reports/{help_report}/help/",
    "/assessment/visits/{visit}/", "/assessment/results/{result}/units/{unit}/", "/assessment/schemes/{scheme}/",
    "/api/v1/help-requests/{help}", "/api/v1/visits/{visit}",
    "/gongkai/tasks/{task}/", "/gongkai/tasks/{task}/history.json", "/gongkai/notices/{notice}/",
    "/gongkai/articles/{article}/", "/gongkai/files/{article_file}/", "/gongkai/data/{dataset}.{fmt}", "/disclosure/tasks/{task}/", "/disclosure/articles/{article}/",
    "/disclosure/observations/{observation}/", "/disclosure/observations/photos/{observation_photo}/",
    "/indicators/{indicator}/edit/", "/indicators/{indicator}/import/", "/board/geo/{region}.json",
    "/audit/events/{event}/", "/accounts/admin/users/{account}/", "/accounts/users/{user}/security/", "/accounts/admin/units/{unit}/",
    "/accounts/admin/units/{unit}/move/", "/board/instructions/{instruction}/", "/board/wall/{wall}/", "/board/wall/{wall}/data.json", "/board/wall/{wall}/geo/{region}.json",
]

# GETs that write on purpose, with why.
DELIBERATE_WRITES = {
    "/dispatch/evidence/{}/": "a download of evidence is recorded in the audit chain (who took which file)",
    "/api/v1/evidence/{}": "the same download through the API",
    "/documents/escalations/{}/notice.docx": "generating an official notice is recorded (document_generated)",
    "/documents/rounds/{}/bulletin.docx": "generating the monthly bulletin is recorded (document_generated)",
    "/documents/rounds/{}/bulletin.xlsx": "the same bulletin as a workbook",
    "/ledger/export.xlsx": "an export of the ledger is recorded (what left the system, for whom)",
    "/closeout/files/{}/": "a download of a close-out's evidence is recorded, like a report's",
    "/supervision/escalations/{}/files/{}/": "a download of a reply's evidence is recorded, like a report's",
    "/closeout/lookbacks/files/{}/": "a download of a look-back check's evidence is recorded",
    "/documents/closeouts/{}/application.docx": "generating a close-out document is recorded (document_generated)",
    "/documents/closeouts/{}/notice.docx": "the same, the public notice (整改情况公示)",
    "/documents/closeouts/{}/verification.docx": "the same, the verification opinion (核查意见)",
    "/documents/closeouts/{}/filing.docx": "the same, the filing form (备案表)",
    "/documents/lookbacks/{}/report.docx": "generating the look-back report is recorded",
    "/documents/lookbacks/{}/report.xlsx": "the same report as a workbook",
    "/accountability/files/{}/": "a download of a case's material is recorded (who took which file)",
    "/accountability/cases/{}/report-draft.docx": "generating the draft 追责建议报告 is recorded (document_generated)",
    "/accountability/cases/{}/referral.docx": "generating the 问题线索移交函 is recorded (document_generated)",
    "/assessment/results/{}/result.xlsx": "an export of an assessment result is recorded (document_generated)",
    "/assessment/results/{}/result.docx": "the same result as the 考核结果通报 (document_generated)",
    "/jobs/{}/download/": "a download of a background job's result (report, dossier) is recorded",
    "/api/v1/public/objections/{}": "a public lookup without login counts against a per-address rate limit, "
                                     "kept in the shared cache (the database unless Redis is configured)",
}

# Routes without a GET of their own: django-ninja's root (404), and POST-only paths that a GET
# resolves to a detail route with a non-numeric id (422).
NO_PAGE = {"/api/v1/", "/api/v1/closeouts/bulk"}

# Pages that are neither lists nor details but answer a GET (forms, the schema), tested as they are.
OTHER_GETS = [p for p in NOT_LISTS if p != "/accounts/logout/" and p not in DELIBERATE_WRITES]


def _normal(url: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", url.split("?")[0])


def writes_in(queries: list[dict]) -> list[str]:
    return [q["sql"][:200] for q in queries if WRITE.search(q["sql"])]


def _scene(world, settings, tmp_path) -> tuple[Scene, dict]:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.UPLOAD_DIR = tmp_path / "uploads"
    scene = Scene(world)
    params = {"task": world.task_a.pk, "year": 2026, "campaign": world.campaign.pk, "region": "431100",
              "event": 1, "account": world.users["reporter_a"].pk, "unit": world.county_a.pk,
              "user": world.users["reporter_a"].pk}
    tasks(scene, 3)
    params.update(report_history(scene, 2))
    params["round"] = scene.round().pk
    params["measure"] = world.task_a.measures.first().pk
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 60)).save(photo, "JPEG")
    photo.seek(0)
    report = scene.report()  # a draft: its reporter may attach a photo
    params["photo"] = dispatch.attach_evidence(actor=world.users["reporter_a"], report=report, name="现场.jpg",
                                               fileobj=photo).pk
    params["escalation"] = Escalation.objects.create(
        task=world.task_a, rung="circular", reason="滞后", target_unit=world.county_a, issued_by=world.users["office_admin"],
        issuing_unit=world.office, issued_at=timezone.now(), doc_number="整改办通〔2026〕1号").pk
    params["notification"] = Notification.objects.create(user=world.users["reporter_a"], kind="x", title="提醒",
                                                         key="k-writes", url="/inbox/").pk
    from rectify.dashboard.services import issue_display_token
    from tests.listing import plan_measures

    params.update(_portal(world, scene))
    params["wall"] = issue_display_token(actor=world.users["office_admin"], name="大屏")[1]
    from rectify.dashboard.services import issue_instruction

    params["instruction"] = issue_instruction(actor=world.users["leader_a"], task=world.task_a, text="批示").pk

    params.update(plan_measures(scene, 2))
    return scene, params


def _portal(world, scene) -> dict:
    """T-01 disclosed, in a close-out notice; a published article with an attachment."""
    from rectify.closeout.models import Closeout
    from rectify.disclosure import services as disclosure
    from rectify.disclosure.models import Decision

    Decision.objects.bulk_create([Decision(subject="campaign", object_id=world.campaign.pk, disclosed=True,
                                           decided_at=timezone.now()),
                                  Decision(subject="task", object_id=world.task_a.pk, disclosed=True,
                                           decided_at=timezone.now())])
    today = timezone.localdate()
    notice = Closeout.objects.create(task=world.task_a, status="in_notice", started_at=timezone.now(),
                                     notice_start=today, notice_end=today, notice_number="公-1")
    article = disclosure.create_article(actor=scene.admin, kind="circular", title="通报", body="正文")
    pdf = io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    attachment = disclosure.attach_article_file(actor=scene.admin, article=article, name="通报.pdf", fileobj=pdf)
    disclosure.article_transition(actor=scene.admin, article=article, action="publish")
    from rectify.orgs.models import Role
    from rectify.orgs.services import create_user

    observer = create_user(actor=scene.admin, username="npc-w", password="Test@Passw0rd-2026", role=Role.OBSERVER,
                           unit=world.office, display_name="监督员", must_change_password=False)
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 30)).save(picture, "JPEG")
    picture.seek(0)
    seen = disclosure.file_observation(actor=observer, task_id=world.task_a.pk, observed_on=today, place="",
                                       content="现场监督情况。", photos=[("现场.jpg", picture)])
    return {"observation": seen.pk, "observation_photo": seen.photos.get().pk,"notice": notice.pk, "article": article.pk, "article_file": attachment.pk, "dataset": "tasks", "fmt": "csv"}


@pytest.mark.django_db(transaction=True)
def test_no_get_writes(world, settings, tmp_path):
    scene, params = _scene(world, settings, tmp_path)
    urls = sorted({p.url for p in LISTS} | set(DETAILS) | set(OTHER_GETS))
    for list_page in LISTS:  # each list's own parameters (round, year, …)
        params.update({k: v for k, v in list_page.factory(scene, 1).items() if k not in params})
    failures = []
    for persona in PERSONAS:
        for template in urls:
            url = template.format(**params)
            client = scene.client(persona, api=url.startswith("/api/"))
            with CaptureQueriesContext(connection) as first:
                client.get(url)  # may refresh the session's idle timer, the token's last use, mark read
            unexpected = [q for q in writes_in(first.captured_queries) if not WARM_UP_WRITES.search(q)]
            if unexpected:
                failures.append(f"{persona} first GET {url}: " + " | ".join(unexpected))
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            found = writes_in(ctx.captured_queries)
            if found:
                failures.append(f"{persona} GET {url} ({response.status_code}): " + " | ".join(found))
    assert not failures, "GETs that wrote:\n" + "\n".join(failures)


@pytest.mark.django_db(transaction=True)
def test_the_detector_sees_a_write_transaction(world):
    with CaptureQueriesContext(connection) as ctx:
        with transaction.atomic():
            Notification.objects.filter(pk=0).update(read_at=None)
    assert writes_in(ctx.captured_queries)


def test_every_url_pattern_is_tested_or_its_write_explained(world):
    tested = {_normal(u) for u in [*(p.url for p in LISTS), *DETAILS, *OTHER_GETS]}
    missing = []
    for pattern in _patterns():
        if pattern.startswith(("/admin", "/static")) or "(?" in pattern:
            continue
        normal = re.sub(r"<[^>]+>", "{}", pattern)
        if normal in tested or normal in DELIBERATE_WRITES or normal in NO_PAGE:
            continue
        missing.append(pattern)
    # What is left must refuse a GET (POST-only endpoints write only on POST).
    client = Scene(world).client("office_admin", api=True)
    not_post_only = [p for p in missing if client.get(re.sub(r"<[^>]+>", "1", p)).status_code != 405]
    assert not not_post_only, f"URL patterns neither tested for GET writes nor explained: {not_post_only}"
