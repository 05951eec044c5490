"""The wall screen (大屏): opened with a read-only display token the office issues and revokes,
both in the record; it shows the issuing office's board, and nothing once revoked."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from rectify.core.models import Event
from rectify.dashboard.models import DisplayToken
from rectify.dashboard.services import issue_display_token, revoke_display_token


def test_the_office_issues_a_token_and_the_wall_shows_without_login(world):
    token, key = issue_display_token(actor=world.users["office_staff"], name="二楼会议室大屏")
    assert Event.objects.filter(action="display_token_issued", object_id=str(token.pk)).exists()
    assert key not in str(DisplayToken.objects.values_list("digest", flat=True)[0])  # only the digest is kept
    wall = Client()
    page = wall.get(f"/board/wall/{key}/")
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    html = page.content.decode()
    assert 'class="wall"' in html and 'data-refresh="60"' in html and "督察整改挂图作战" in html
    data = wall.get(f"/board/wall/{key}/data.json").json()
    assert data["total"] == 2 and {c["name"] for c in data["counties"]} == {"零陵区", "祁阳市"}
    # the page carries the same figures for its first paint (dashboard.views.figures_script)
    embedded = re.search(r'<script id="board-data" type="application/json">(.*?)</script>', html).group(1)
    assert json.loads(embedded) == data
    assert wall.get(f"/board/wall/{key}/geo/431100.json").status_code == 200
    assert wall.post(f"/board/wall/{key}/").status_code == 405  # read-only
    assert "_auth_user_id" not in wall.session  # no session was opened
    revoke_display_token(actor=world.users["office_admin"], token=token)
    assert Event.objects.filter(action="display_token_revoked").exists()
    for url in (f"/board/wall/{key}/", f"/board/wall/{key}/data.json", f"/board/wall/{key}/geo/431100.json"):
        assert wall.get(url).status_code == 404


def test_guessed_or_foreign_keys_show_nothing(world):
    client = Client()
    assert client.get("/board/wall/wall_guess/").status_code == 404
    assert client.get("/board/wall/" + "x" * 300 + "/").status_code == 404


@pytest.mark.parametrize("persona", ["leader_a", "reporter_a", "auditor", "lead_env"])
def test_only_the_office_issues_tokens(world, persona):
    with pytest.raises(PermissionDenied):
        issue_display_token(actor=world.users[persona], name="大屏")
    assert world.client(persona).get("/board/displays/").status_code == 404


def test_the_token_page_shows_the_link_once_and_revokes(world):
    client = world.client("office_admin")
    page = client.post("/board/displays/", {"name": "指挥中心大屏"}).content.decode()
    link = re.search(r"(http://testserver/board/wall/wall_[\w-]+/)", page).group(1)
    assert Client().get(link).status_code == 200
    listing = client.get("/board/displays/").content.decode()
    assert "指挥中心大屏" in listing and link not in listing  # never shown again
    token = DisplayToken.objects.get()
    assert client.post("/board/displays/", {"revoke": str(token.pk)}).status_code == 302
    assert Client().get(link).status_code == 404
    again = client.post("/board/displays/", {"revoke": str(token.pk)})
    assert "已吊销" in again.content.decode()


def test_a_deactivated_issuer_ends_the_wall(world):
    from rectify.orgs.services import set_user_active

    _token, key = issue_display_token(actor=world.users["office_staff"], name="大屏")
    set_user_active(actor=world.users["office_admin"], user=world.users["office_staff"], active=False)
    assert Client().get(f"/board/wall/{key}/").status_code == 404
