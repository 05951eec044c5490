"""Queries and time per ledger page at several page sizes, on a generated ledger.

    .venv/bin/python bench/ledger_pages.py [TASKS]
"""

import os
import sys
import tempfile
import time

os.environ["RECTIFY_DATA_DIR"] = tempfile.mkdtemp(prefix="rectify-bench-")
os.environ.setdefault("DATABASE_URL", "")
os.environ["DJANGO_SETTINGS_MODULE"] = "rectify.settings"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

settings.ALLOWED_HOSTS = ["testserver"]
call_command("migrate", verbosity=0)
from rectify.ledger.models import Measure, Task, TaskUnit  # noqa: E402
from tests.conftest import make_world  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
world = make_world()
tasks = Task.objects.bulk_create(Task(campaign=world.campaign, code=f"B-{i:06d}", title=f"生成任务{i}", problem="问题",
                                      status="active", deadline_kind="long_term") for i in range(count))
TaskUnit.objects.bulk_create([TaskUnit(task=t, unit=world.county_a, role="responsible", is_primary=True) for t in tasks]
                             + [TaskUnit(task=t, unit=world.dept_env, role="lead_supervisor") for t in tasks])
Measure.objects.bulk_create(Measure(task=t, text="措施", ordinal=1) for t in tasks)
client = Client()
client.force_login(world.users["office_admin"])
print(f"ledger of {Task.objects.count()} tasks on {connection.vendor}")
for per_page in (20, 50, 100, 200):
    client.get(f"/ledger/?per_page={per_page}")
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        response = client.get(f"/ledger/?per_page={per_page}&page=3")
        elapsed = time.perf_counter() - start
    assert response.status_code == 200
    print(f"  per_page={per_page:>3}: {len(ctx.captured_queries):>2} queries, {elapsed * 1000:6.1f} ms")
