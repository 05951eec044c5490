"""A month's dispatch at city scale: open a round, close it, derive statuses, write the bulletin.

    .venv/bin/python bench/dispatch_scale.py [TASKS]

One office, 11 counties, 5 departments, TASKS open tasks (default 10,000) with a responsible and a
lead unit and two measures each, on a throwaway SQLite database (set DATABASE_URL to bench
PostgreSQL instead). About 60% of the reports are accepted in bulk, as if units had reported.
"""

import datetime as dt
import os
import random
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
from django.db import connection, reset_queries  # noqa: E402
from django.utils import timezone  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
call_command("migrate", verbosity=0)

from rectify.dispatch.models import ProgressReport  # noqa: E402
from rectify.dispatch.services import close_round, open_round  # noqa: E402
from rectify.documents.bulletin import bulletin_data, bulletin_docx, bulletin_xlsx  # noqa: E402
from rectify.ledger.models import Campaign, Measure, Task, TaskUnit  # noqa: E402
from rectify.orgs.models import Role, Unit, UnitKind  # noqa: E402
from rectify.orgs.services import create_user  # noqa: E402
from rectify.supervision.models import Escalation, Rung  # noqa: E402
from rectify.supervision.services import refresh_statuses, snapshot_round  # noqa: E402

COUNTIES = [("零陵区", "431102"), ("冷水滩区", "431103"), ("东安县", "431122"), ("双牌县", "431123"),
            ("道县", "431124"), ("江永县", "431125"), ("宁远县", "431126"), ("蓝山县", "431127"),
            ("新田县", "431128"), ("江华瑶族自治县", "431129"), ("祁阳市", "431181")]
DEPARTMENTS = ["市生态环境局", "市住房和城乡建设局", "市水利局", "市农业农村局", "市自然资源和规划局"]

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
rng = random.Random(20261128)
today = timezone.localdate()


def timed(label: str, fn, *args, **kwargs):
    reset_queries()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    elapsed = time.perf_counter() - start
    print(f"  {label:<28} {elapsed:8.2f} s")
    return result


start = time.perf_counter()
office = Unit.objects.create(name="永州市生态环境保护督察整改工作领导小组办公室", short_name="市整改办",
                             kind=UnitKind.OFFICE)
counties = [Unit.objects.create(name=n, kind=UnitKind.COUNTY, region_code=c, parent=office, sort_order=i)
            for i, (n, c) in enumerate(COUNTIES)]
departments = [Unit.objects.create(name=n, kind=UnitKind.DEPARTMENT, parent=office, sort_order=100 + i)
               for i, n in enumerate(DEPARTMENTS)]
admin = create_user(actor=None, username="bench_admin", password="Bench@Passw0rd-2026", role=Role.OFFICE_ADMIN,
                    unit=office, must_change_password=False)
campaign = Campaign.objects.create(code="BENCH", name="第二轮中央生态环境保护督察反馈问题", office=office,
                                   feedback_date=dt.date(2021, 7, 16))


def deadline_of(i: int) -> tuple[str, dt.date | None]:
    roll = i % 20
    if roll == 0:
        return "long_term", None
    if roll == 1:
        return "by_date", today - dt.timedelta(days=rng.randint(1, 200))  # overdue
    return "by_date", today + dt.timedelta(days=rng.randint(30, 900))


tasks = []
for i in range(count):
    kind, deadline = deadline_of(i)
    tasks.append(Task(campaign=campaign, code=f"YZ-{i + 1:05d}", title=f"生成整改任务{i + 1}", problem="问题描述",
                      target="整改目标", status="active", deadline_kind=kind, deadline=deadline,
                      category="water"))
tasks = Task.objects.bulk_create(tasks, batch_size=2000)
TaskUnit.objects.bulk_create(
    [TaskUnit(task=t, unit=counties[n % len(counties)], role="responsible", is_primary=True)
     for n, t in enumerate(tasks)]
    + [TaskUnit(task=t, unit=departments[n % len(departments)], role="lead_supervisor") for n, t in enumerate(tasks)],
    batch_size=2000)
Measure.objects.bulk_create([Measure(task=t, ordinal=k, text=f"措施{k}") for t in tasks for k in (1, 2)],
                            batch_size=2000)
print(f"setup: {count} tasks, {len(counties)} counties, {len(departments)} departments on {connection.vendor} "
      f"({time.perf_counter() - start:.1f} s)")

print("timings:")
rnd, _ = timed("open_round", open_round, actor=admin, office=office, period=f"{today:%Y-%m}",
               due_date=today + dt.timedelta(days=5))
slots = list(ProgressReport.objects.filter(round=rnd).values_list("pk", flat=True))
accepted = rng.sample(slots, int(len(slots) * 0.6))
now = timezone.now()
for chunk in range(0, len(accepted), 900):
    ids = accepted[chunk:chunk + 900]
    ProgressReport.objects.filter(pk__in=ids).update(status="accepted", percent=rng.choice([30, 60, 90, 100]),
                                                     progress_text="按计划推进", submitted_at=now, decided_at=now,
                                                     decided_by=admin)
late = ProgressReport.objects.filter(status="accepted").values_list("pk", flat=True)[:500]
ProgressReport.objects.filter(pk__in=list(late)).update(late=True)
Escalation.objects.bulk_create([
    Escalation(task=tasks[i], rung=Rung.SUPERVISION, reason="进度滞后", target_unit=counties[i % len(counties)],
               reply_due=today + dt.timedelta(days=10), issued_by=admin, issuing_unit=office, issued_at=now,
               doc_number=f"整改办督〔{today.year}〕{n + 1}号")
    for n, i in enumerate(range(1, count, max(count // 150, 1)))])
timed("close_round", close_round, actor=admin, rnd=rnd)
timed("refresh_statuses (all tasks)", refresh_statuses)
timed("snapshot_round", snapshot_round, rnd=rnd)
data = timed("bulletin_data", bulletin_data, rnd, admin)
docx_bytes = timed("bulletin_docx", bulletin_docx, rnd, admin)
xlsx_bytes = timed("bulletin_xlsx", bulletin_xlsx, rnd, admin)
rt, tt = data["report_totals"], data["task_totals"]
print(f"round: {rt['total']} report slots, on time {rt['on_time']}, late {rt['late']}, missing {rt['missing']}")
print(f"tasks: on schedule {tt['on_schedule']}, lagging {tt['lagging']}, overdue {tt['overdue']}, "
      f"long-term {tt['long_term']}; escalations this month {len(data['escalations'])}")
print(f"bulletin: docx {len(docx_bytes) / 1024:.0f} KiB, xlsx {len(xlsx_bytes) / 1024:.0f} KiB")
