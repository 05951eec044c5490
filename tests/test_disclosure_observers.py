"""监督员 (人大代表、政协委员、环保志愿者): accounts that see the portal and their own observations,
file on-site observations with photos on public tasks, and read the office's reply; nothing else."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from rectify.disclosure import services as disclosure
from rectify.disclosure.models import Observation
from rectify.orgs.models import Role
from rectify.orgs.services import create_user
from tests.conftest import PASSWORD
from tests.disclosure_helpers import public_world


@pytest.fixture
def observers(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    admin = world.users["office_admin"]

    def observer(username, name, title):
        return create_user(actor=admin, username=username, password=PASSWORD, role=Role.OBSERVER, unit=world.office,
                           display_name=name, title=title, must_change_password=False)

    return observer("npc1", "人大代表甲", "市人大代表"), observer("vol1", "志愿者乙", "环保志愿者")


def photo(name="现场.jpg") -> tuple[str, io.BytesIO]:
    data = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 200)).save(data, "JPEG")
    data.seek(0)
    return name, data


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_observer_files_with_photos_and_reads_the_reply(world, observers):
    public_world(world)
    npc, volunteer = observers
    client = client_of(npc)
    assert client.get("/").url == "/disclosure/observations/"
    name, data = photo()
    response = client.post("/disclosure/observations/new/", {
        "task": world.task_a.code, "observed_on": timezone.localdate().isoformat(), "place": "零陵区河西排口",
        "content": "排口仍有少量污水流出，气味明显。",
        "photos": [SimpleUploadedFile(name, data.getvalue(), content_type="image/jpeg")]})
    assert response.status_code == 302, response.content
    notes = [str(m) for m in response.wsgi_request._messages]
    observation = Observation.objects.filter(author=npc).first()
    assert observation is not None, notes
    assert response.url == f"/disclosure/observations/{observation.pk}/"
    assert observation.photos.count() == 1 and observation.task_id == world.task_a.pk
    page = client.get(response.url).content.decode()
    assert "排口仍有少量污水流出" in page and "待回复" in page
    photo_pk = observation.photos.get().pk
    assert client.get(f"/disclosure/observations/photos/{photo_pk}/").status_code == 200
    # another observer sees none of it; the office sees and replies; the county concerned does not
    other = client_of(volunteer)
    assert other.get(response.url).status_code == 404
    assert other.get(f"/disclosure/observations/photos/{photo_pk}/").status_code == 404
    assert "排口" not in other.get("/disclosure/observations/").content.decode()
    assert client_of(world.users["reporter_a"]).get(response.url).status_code == 404
    office = world.client("office_admin")
    assert "人大代表甲" in office.get("/disclosure/observations/").content.decode()
    office.post(response.url, {"reply": "已转零陵区核查，限期一周内整改到位。"})
    assert "限期一周内整改到位" in client.get(response.url).content.decode()
    # an observer reaches nothing internal
    for url in (f"/ledger/tasks/{world.task_a.pk}/", "/ledger/", "/closeout/", "/disclosure/",
                f"/disclosure/tasks/{world.task_a.pk}/", "/accountability/"):
        r = client.get(url)
        assert r.status_code != 200 or world.task_a.title not in r.content.decode(), url

def test_an_observation_needs_a_public_task_and_an_observer(world, observers):
    npc, _volunteer = observers
    today = timezone.localdate()
    with pytest.raises(ValidationError):  # nothing disclosed yet
        disclosure.file_observation(actor=npc, task_id=world.task_a.pk, observed_on=today, place="",
                                    content="看到的情况如下。")
    public_world(world)
    with pytest.raises(PermissionDenied):
        disclosure.file_observation(actor=world.users["reporter_a"], task_id=world.task_a.pk, observed_on=today,
                                    place="", content="看到的情况如下。")
    with pytest.raises(ValidationError):
        disclosure.file_observation(actor=npc, task_id=world.task_a.pk, observed_on=today + dt.timedelta(days=1),
                                    place="", content="明天的监督。")
    with pytest.raises(ValidationError):
        disclosure.file_observation(actor=npc, task_id=world.task_a.pk, observed_on=today, place="",
                                    content="照片太多。", photos=[photo() for _ in range(10)])
    bad = io.BytesIO(b"MZ\x90\x00 not a photo")
    with pytest.raises(Exception, match="."):
        disclosure.file_observation(actor=npc, task_id=world.task_a.pk, observed_on=today, place="",
                                    content="附件不是照片。", photos=[("x.jpg", bad)])
    assert not Observation.objects.exists()
    observation = disclosure.file_observation(actor=npc, task_id=world.task_a.pk, observed_on=today, place="",
                                              content="整改现场已完工。")
    with pytest.raises(Exception):  # noqa: B017  (404 for the unit concerned: it may not reply)
        disclosure.reply_observation(actor=world.users["reporter_a"], observation=observation, reply="好")
