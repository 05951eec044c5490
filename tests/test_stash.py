"""The upload stash (core/stash.py): what the Excel import and the plan import keep between the
preview and the confirmation. Only the user who uploaded, in the session that uploaded, gets it
back; everything else is a 404, and nothing waits longer than a day."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import RequestFactory

from rectify.core.stash import MAX_AGE_SECONDS, Stash
from tests.excel_helpers import generated_rows, office_workbook

SEED_PLAN = Path(__file__).parent / "planparse" / "fixtures" / "seed_rectification_plan.txt"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def request_of(user, session=None):
    """A request of ``user``; pass another request's session to stay in it."""
    request = RequestFactory().get("/")
    if session is None:
        SessionMiddleware(lambda r: None).process_request(request)
    else:
        request.session = session
    request.user = user
    return request


def files_of(stash: Stash) -> list[str]:
    return sorted(p.name for p in stash.directory.iterdir())


def age(stash: Stash, token: str, seconds: float) -> None:
    """Make an entry look ``seconds`` old: its record and its files' times."""
    then = time.time() - seconds
    meta = stash.directory / f"{token}.meta"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "created": then}))
    for path in stash.directory.glob(f"{token}.*"):
        os.utime(path, (then, then))


def test_bytes_json_and_uploads_come_back_to_their_owner(world):
    admin = request_of(world.users["office_admin"])
    imports, plans = Stash("imports", suffix=".xlsx"), Stash("plans", suffix=".json", keep=5)
    data = office_workbook(generated_rows(2, units=["零陵区"]))

    token = imports.put(admin, SimpleUploadedFile("../../台账 (终稿).xlsx", data), {"filename": "台账.xlsx"})
    entry = imports.get(admin, token)
    assert entry.read_bytes() == data and entry.meta == {"filename": "台账.xlsx"}
    assert entry.owner == world.users["office_admin"].pk
    assert imports.get(admin, imports.put(admin, data)).read_bytes() == data

    draft = {"name": "方案.docx", "parse": {"measures": ["一、…"]}}
    assert plans.get(admin, plans.put(admin, draft)).read_json() == draft
    assert plans.get(admin, plans.put(admin, b"x")).read_bytes() == b"x"


def test_files_are_named_by_token_only_and_private(world, upload_dir):
    admin = request_of(world.users["office_admin"])
    imports = Stash("imports", suffix=".xlsx")
    token = imports.put(admin, SimpleUploadedFile("零陵区 台账.xlsx", b"PK\x03\x04 data"))
    assert files_of(imports) == [f"{token}.meta", f"{token}.xlsx"]  # nothing of the user's name
    assert stat.S_IMODE((upload_dir / "imports").stat().st_mode) == 0o700
    for path in (upload_dir / "imports").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_directory_made_before_the_stash_is_closed_to_others(world, upload_dir):
    (upload_dir / "plans").mkdir(parents=True, mode=0o755)
    os.chmod(upload_dir / "plans", 0o755)
    Stash("plans", suffix=".json").put(request_of(world.users["office_admin"]), {"a": 1})
    assert stat.S_IMODE((upload_dir / "plans").stat().st_mode) == 0o700


def test_another_user_cannot_use_a_token_even_when_they_learn_it(world):
    imports = Stash("imports", suffix=".xlsx")
    admin = request_of(world.users["office_admin"])
    token = imports.put(admin, b"PK\x03\x04 the admin's file")

    staff = request_of(world.users["office_staff"])
    with pytest.raises(Http404):
        imports.get(staff, token)  # not in their session
    staff.session[imports.session_key] = [token]  # learnt it, and planted it in their own session
    with pytest.raises(Http404):
        imports.get(staff, token)  # not their entry
    # the same session, another user signed in (a shared computer): still not theirs
    with pytest.raises(Http404):
        imports.get(request_of(world.users["office_staff"], session=admin.session), token)
    imports.discard(staff, token)  # cannot delete it either
    assert imports.get(admin, token).read_bytes() == b"PK\x03\x04 the admin's file"


@pytest.mark.parametrize("token", [
    None, "", 12, "../../etc/passwd", "0" * 31, "0" * 33, "A" * 32, "g" * 32, "0" * 32 + "\n",
    "../imports/" + "0" * 32,
])
def test_bad_tokens_are_404(world, token):
    stash = Stash("imports", suffix=".xlsx")
    request = request_of(world.users["office_admin"])
    stash.put(request, b"data")
    if isinstance(token, str):
        request.session[stash.session_key] = [*stash.tokens(request), token]
    with pytest.raises(Http404):
        stash.get(request, token)


def test_a_token_of_one_kind_is_nothing_in_another(world):
    request = request_of(world.users["office_admin"])
    token = Stash("imports", suffix=".xlsx").put(request, b"data")
    with pytest.raises(Http404):
        Stash("plans", suffix=".json").get(request, token)


def test_discard_forgets_the_token_and_deletes_the_files(world):
    stash = Stash("imports", suffix=".xlsx")
    request = request_of(world.users["office_admin"])
    token = stash.put(request, b"data")
    stash.discard(request, token)
    assert files_of(stash) == [] and stash.tokens(request) == []
    with pytest.raises(Http404):
        stash.get(request, token)
    stash.discard(request, token)  # twice is fine
    stash.discard(request, "not a token")


def test_a_session_keeps_only_the_newest_entries(world):
    plans = Stash("plans", suffix=".json", keep=2)
    request = request_of(world.users["office_admin"])
    first, second, third = (plans.put(request, {"n": n}) for n in range(3))
    assert plans.tokens(request) == [second, third]
    with pytest.raises(Http404):
        plans.get(request, first)
    assert not any(name.startswith(first) for name in files_of(plans))  # its files went with it


def test_every_put_sweeps_what_waited_more_than_a_day(world, upload_dir):
    stash = Stash("imports", suffix=".xlsx")
    admin = request_of(world.users["office_admin"])
    staff = request_of(world.users["office_staff"])
    old = stash.put(admin, b"old")
    young = stash.put(staff, b"young")
    age(stash, old, MAX_AGE_SECONDS + 60)
    age(stash, young, MAX_AGE_SECONDS - 600)
    left_over = upload_dir / "imports" / "0123456789abcdef0123456789abcdef.xlsx"  # from an earlier version
    left_over.write_bytes(b"x")
    os.utime(left_over, (time.time() - 2 * MAX_AGE_SECONDS,) * 2)

    stash.put(request_of(world.users["office_admin"]), b"new")  # anyone's put sweeps for everyone
    names = files_of(stash)
    assert not any(n.startswith(old) for n in names) and left_over.name not in names
    assert stash.get(staff, young).read_bytes() == b"young"


def test_check_22_an_entry_past_its_day_is_gone_even_before_a_sweep(world):
    stash = Stash("plans", suffix=".json")
    request = request_of(world.users["office_admin"])
    token = stash.put(request, {"a": 1})
    age(stash, token, MAX_AGE_SECONDS + 1)
    with pytest.raises(Http404):
        stash.get(request, token)
    assert files_of(stash) == []


def test_sweep_removes_only_old_files(world):
    stash = Stash("imports", suffix=".xlsx")
    request = request_of(world.users["office_admin"])
    token = stash.put(request, b"data")
    assert stash.sweep() == 0
    age(stash, token, 3600)
    assert stash.sweep(older_than=1800) == 2 and files_of(stash) == []


def test_kind_and_suffix_are_checked():
    for kind, suffix in [("../x", ""), ("", ""), ("Plans", ""), ("plans", "/x"), ("plans", ".meta")]:
        with pytest.raises(ValueError):
            Stash(kind, suffix=suffix)


def test_a_plan_preview_is_404_for_another_office_user(world):
    owner = world.client("office_admin")
    response = owner.post("/plans/", {"campaign": world.campaign.pk, "text": SEED_PLAN.read_text(encoding="utf-8")})
    assert response.status_code == 302
    preview = response["Location"]
    assert owner.get(preview).status_code == 200
    assert world.client("office_staff").get(preview).status_code == 404
