#!/usr/bin/env python3
"""Rectify vs Redmine on the same generated tasks (issue 8, item 3). Not part of CI or the tests.

    sudo .venv/bin/python bench/redmine.py --data-dir /tmp/benchS            # Rectify data: tier S on SQLite
    .venv/bin/python bench/redmine.py --data-dir /tmp/benchS --skip-install --skip-load   # re-measure

1. installs Redmine from Debian's packages (``apt-get install redmine redmine-sqlite wrk passenger``)
   and adds ``gem "webrick"`` to ``/usr/share/redmine/Gemfile.local`` (Ruby 3's stdlib lacks it);
2. creates a Redmine instance ``bench`` (``REDMINE_INSTANCE=bench``: ``/var/lib/redmine/bench``,
   SQLite under ``--redmine-dir``), migrates it and loads the default data (zh);
3. loads Rectify's tasks as issues of one public project with ``Issue.insert_all`` through
   ``bin/rails runner``: subject = code + title, description = problem, due date = deadline,
   status (整改中/已销号/草稿 → In progress/Closed/New), done ratio = actual percent, and custom
   fields (list) for 整改批次, 问题类别, 主体责任单位 (multiple), 牵头督导单位, 县市区 (multiple),
   进度状态, 预警颜色, 时限类型;
4. serves it with webrick (one process) or Debian's passenger (``--server passenger``: builtin
   engine, ``--disable-security-update-check``, two processes), logs in as admin, and measures
   its issue list (50 per page, the same columns) with the same filters as Rectify's ledger under
   the same wrk settings, against ``rectify serve`` on the same data;
5. measures the task page of the task with the longest history against the same issue's page in
   Redmine (found by its subject);
6. prints req/s and p50 for each, and the Rectify/Redmine ratio (> 1: Rectify serves more).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_USER, configure  # noqa: E402
from bench.run import free_port, settle, wrk  # noqa: E402

REDMINE = Path("/usr/share/redmine")
INSTANCE = "bench"
ADMIN_PASSWORD = "Bench@Redmine-2026"

LOADER = r'''
require "json"
path = ARGV[0]
User.current = User.find_by_login("admin")
admin = User.find_by_login("admin")
admin.password = admin.password_confirmation = ENV.fetch("BENCH_ADMIN_PASSWORD")
admin.must_change_passwd = false
admin.save!
Setting.per_page_options = "25,50,100,200"
Setting.default_language = "zh"
Setting.login_required = "0"
data = JSON.parse(File.read(path))
tracker = Tracker.first
statuses = {"active" => IssueStatus.find_by(is_closed: false, position: 2) || IssueStatus.where(is_closed: false).second,
            "draft" => IssueStatus.order(:position).first,
            "closed" => IssueStatus.where(is_closed: true).first}
priority = IssuePriority.default || IssuePriority.first
project = Project.find_by(identifier: "rectify") || Project.create!(name: "整改台账", identifier: "rectify",
                                                                       is_public: true, tracker_ids: [tracker.id])
project.enabled_module_names = ["issue_tracking"]
fields = {}
data["fields"].each do |key, spec|
  cf = IssueCustomField.find_by(name: spec["name"]) || IssueCustomField.create!(
    name: spec["name"], field_format: "list", possible_values: spec["values"], multiple: spec["multiple"],
    is_filter: true, is_for_all: true, searchable: false, visible: true, tracker_ids: [tracker.id])
  fields[key] = cf
end
Issue.where(project_id: project.id).delete_all
CustomValue.where(customized_type: "Issue").delete_all
now = Time.now
next_id = (Issue.maximum(:id) || 0) + 1
data["tasks"].each_slice(5000) do |slice|
  rows = []
  values = []
  slice.each_with_index do |t, i|
    id = next_id + i
    rows << {id: id, project_id: project.id, tracker_id: tracker.id, subject: t["subject"][0, 255],
             description: t["description"], due_date: t["due_date"], start_date: t["start_date"],
             status_id: statuses[t["status"]].id, priority_id: priority.id, author_id: admin.id,
             done_ratio: t["done_ratio"] || 0, lock_version: 0, created_on: now, updated_on: now,
             closed_on: (t["status"] == "closed" ? now : nil), root_id: id, lft: 1, rgt: 2, is_private: false}
    t["cf"].each do |key, vals|
      Array(vals).each do |v|
        values << {customized_type: "Issue", customized_id: id, custom_field_id: fields[key].id, value: v}
      end
    end
  end
  Issue.insert_all(rows)
  CustomValue.insert_all(values) unless values.empty?
  next_id += slice.size
end
puts "FIELDS " + JSON.generate(fields.transform_values(&:id).merge("_active_status" => statuses["active"].id))
puts "LOADED #{Issue.where(project_id: project.id).count}"
'''


def sh(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def redmine_env(redmine_dir: Path) -> dict:
    # Rails would take Rectify's DATABASE_URL for its own (and refuse an empty one)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "REDMINE_INSTANCE": INSTANCE, "RAILS_ENV": "production",
            "BENCH_ADMIN_PASSWORD": ADMIN_PASSWORD, "REDMINE_DB": str(redmine_dir / "redmine.sqlite3")}


def install(redmine_dir: Path, *, packages: bool = True) -> None:
    """Debian's packages (unless ``packages`` is false) and the bench instance pointed at
    ``redmine_dir``; a new database is migrated and gets the default data. Idempotent."""
    if packages and (not (REDMINE / "Gemfile").exists() or not shutil.which("wrk") or not shutil.which("passenger")):
        sh(["apt-get", "install", "-y", "-q", "redmine", "redmine-sqlite", "wrk", "passenger"],
           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    local = REDMINE / "Gemfile.local"
    if "webrick" not in (local.read_text() if local.exists() else ""):
        with local.open("a") as f:
            f.write('gem "webrick"\n')  # `rails server` needs it; Ruby 3 no longer ships it
    inst = Path("/var/lib/redmine") / INSTANCE
    for sub in ("config", "files", "log", "tmp/cache", "public/plugin_assets"):
        (inst / sub).mkdir(parents=True, exist_ok=True)
    redmine_dir.mkdir(parents=True, exist_ok=True)
    database = redmine_dir / "redmine.sqlite3"
    (inst / "config" / "database.yml").write_text(
        f"production:\n  adapter: sqlite3\n  database: {database}\n  timeout: 30000\n  encoding: utf8\n")
    secret = inst / "config" / "secret_key.txt"
    if not secret.exists():
        secret.write_text(os.urandom(32).hex())
    if database.exists():
        return
    env = redmine_env(redmine_dir)
    sh(["bin/rake", "db:migrate"], cwd=REDMINE, env=env, stdout=subprocess.DEVNULL)
    sh(["bin/rake", "redmine:load_default_data"], cwd=REDMINE, env={**env, "REDMINE_LANG": "zh"},
       stdout=subprocess.DEVNULL)


def export_tasks(path: Path) -> dict:
    """Rectify's tasks as Redmine issues (JSON for the runner), and the filter values to use."""
    from rectify.ledger.models import Campaign, Task, TaskUnit
    from rectify.orgs.models import Category, Unit
    from rectify.supervision.status import COLOUR_LABELS, STATUS_LABELS

    units = dict(Unit.objects.values_list("id", "name"))
    county_of = {}
    for u in Unit.objects.filter(kind="county").values("id", "name"):
        county_of[u["id"]] = u["name"]
    campaigns = dict(Campaign.objects.values_list("id", "name"))
    kinds = {"immediate": "立行立改", "by_date": "限期整改", "long_term": "长期坚持", "": "未定"}
    roles: dict[int, dict[str, list[int]]] = {}
    for task_id, unit_id, role in TaskUnit.objects.order_by("task_id", "role", "ordinal").values_list(
            "task_id", "unit_id", "role").iterator(chunk_size=20000):
        roles.setdefault(task_id, {}).setdefault(role, []).append(unit_id)
    tasks = []
    for t in Task.objects.order_by("campaign_id", "code").values(
            "id", "campaign_id", "code", "title", "problem", "target", "deadline", "start_date", "status", "category",
            "progress_status", "warning_colour", "deadline_kind", "actual_percent").iterator(chunk_size=5000):
        r = roles.get(t["id"], {})
        resp = r.get("responsible", [])
        tasks.append({
            "subject": f"{t['code']} {t['title']}", "description": f"{t['problem']}\n\n整改目标：{t['target']}",
            "due_date": t["deadline"].isoformat() if t["deadline"] else None,
            "start_date": t["start_date"].isoformat() if t["start_date"] else None, "status": t["status"],
            "done_ratio": min(100, (t["actual_percent"] or 0) // 10 * 10),
            "cf": {"campaign": campaigns[t["campaign_id"]], "category": str(Category(t["category"]).label),
                   "responsible": [units[u] for u in resp], "lead": [units[u] for u in r.get("lead_supervisor", [])],
                   "county": [county_of[u] for u in resp if u in county_of],
                   "progress": STATUS_LABELS.get(t["progress_status"], "未计算"),
                   "colour": COLOUR_LABELS.get(t["warning_colour"], "无"), "kind": kinds[t["deadline_kind"]]}})
    fields = {
        "campaign": {"name": "整改批次", "values": sorted(set(campaigns.values())), "multiple": False},
        "category": {"name": "问题类别", "values": [str(c.label) for c in Category], "multiple": False},
        "responsible": {"name": "主体责任单位", "values": sorted(units.values()), "multiple": True},
        "lead": {"name": "牵头督导单位", "values": sorted(units.values()), "multiple": False},
        "county": {"name": "县市区", "values": sorted(county_of.values()), "multiple": True},
        "progress": {"name": "进度状态", "values": [*STATUS_LABELS.values(), "未计算"], "multiple": False},
        "colour": {"name": "预警颜色", "values": [*COLOUR_LABELS.values(), "无"], "multiple": False},
        "kind": {"name": "时限类型", "values": list(kinds.values()), "multiple": False},
    }
    path.write_text(json.dumps({"fields": fields, "tasks": tasks}, ensure_ascii=False))
    return {"tasks": len(tasks)}


def load(redmine_dir: Path) -> dict[str, int]:
    data = redmine_dir / "tasks.json"
    started = time.perf_counter()
    count = export_tasks(data)["tasks"]
    script = redmine_dir / "load.rb"
    script.write_text(LOADER)
    out = sh(["bin/rails", "runner", "-e", "production", str(script), str(data)], cwd=REDMINE,
             env=redmine_env(redmine_dir), capture_output=True, text=True).stdout
    fields = json.loads(re.search(r"FIELDS (.*)", out).group(1))
    loaded = int(re.search(r"LOADED (\d+)", out).group(1))
    print(f"loaded {loaded} of {count} tasks into Redmine in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    (redmine_dir / "fields.json").write_text(json.dumps(fields))
    return fields


def start_redmine(redmine_dir: Path, server: str, port: int) -> subprocess.Popen:
    env = redmine_env(redmine_dir)
    if server == "passenger":
        cmd = ["passenger", "start", "--engine", "builtin", "--disable-security-update-check", "--address",
               "127.0.0.1", "--port", str(port), "--environment", "production", "--min-instances", "2",
               "--max-pool-size", "2", "--log-file", str(redmine_dir / "passenger.log"),
               "--pid-file", str(redmine_dir / "passenger.pid")]
    else:
        cmd = ["bin/rails", "server", "-e", "production", "-b", "127.0.0.1", "-p", str(port),
               "-P", str(redmine_dir / "server.pid")]
    log = open(redmine_dir / f"{server}.out", "w")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(cmd, cwd=REDMINE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/login", 180)
    return proc


def wait_http(url: str, seconds: int) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(1)
    raise SystemExit(f"server at {url} did not come up in {seconds} s")


def redmine_cookie(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="authenticity_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"authenticity_token": token, "username": "admin", "password": ADMIN_PASSWORD,
                                   "login": "登录"}).encode()
    opener.open(f"{base}/login", data=body).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    check = opener.open(f"{base}/my/page").geturl()
    if "/login" in check:
        raise SystemExit("could not log in to Redmine as admin")
    return cookie


def stop(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def filters(fields: dict) -> list[tuple[str, str, str]]:
    """(label, Rectify ledger query, Redmine issue-list query) with the same meaning."""
    from django.db.models import Count

    from rectify.ledger.models import Campaign, TaskUnit
    from rectify.orgs.models import Unit

    campaign = Campaign.objects.order_by("id").first()
    county_id = (TaskUnit.objects.filter(role="responsible", unit__kind="county").values("unit_id")
                 .annotate(n=Count("id")).order_by("-n").first()["unit_id"])
    county = Unit.objects.get(pk=county_id)
    from rectify.ledger.models import Task

    pages = max(1, -(-Task.objects.count() // 50))
    cols = "&c[]=subject&c[]=status&c[]=due_date&c[]=done_ratio" + "".join(
        f"&c[]=cf_{fields[k]}" for k in ("responsible", "lead", "progress", "colour"))
    base = f"/projects/rectify/issues?set_filter=1&per_page=50&sort=subject{cols}&f[]=status_id&op[status_id]=*"

    def cf(key: str, value: str) -> str:
        q = urllib.parse.quote(value)
        return f"&f[]=cf_{fields[key]}&op[cf_{fields[key]}]==&v[cf_{fields[key]}][]={q}"

    return [
        ("default (page 1)", "/ledger/", base),
        ("last page", f"/ledger/?page={pages}", f"{base}&page={pages}"),
        ("filter campaign", f"/ledger/?campaign={campaign.pk}", base + cf("campaign", campaign.name)),
        ("filter category", "/ledger/?category=water", base + cf("category", "水污染防治")),
        ("filter unit (responsible)", f"/ledger/?unit={county.pk}", base + cf("responsible", county.name)),
        ("filter county", f"/ledger/?county={county.pk}", base + cf("county", county.name)),
        ("filter status active", "/ledger/?status=active",
         base.replace("op[status_id]=*", f"op[status_id]==&v[status_id][]={fields['_active_status']}")),
        ("filter progress lagging", "/ledger/?progress_status=lagging", base + cf("progress", "滞后")),
        ("filter colour red", "/ledger/?warning_colour=red", base + cf("colour", "红色预警")),
        ("filter deadline range", "/ledger/?deadline_from=2026-01-01&deadline_to=2026-12-31",
         base + "&f[]=due_date&op[due_date]=><&v[due_date][]=2026-01-01&v[due_date][]=2026-12-31"),
        ("keyword 污水", "/ledger/?q=" + urllib.parse.quote("污水"),
         # Redmine 5.0 ANDs filters and has no "any text" filter: description (problem + target) is the nearest
         base + "&f[]=description&op[description]=~&v[description][]=" + urllib.parse.quote("污水")),
        # the task with the longest history (the issue's "keep it so": Rectify's task page was 0.26-0.29x
        # Redmine's); Redmine's issue id is looked up by subject once its server runs (ISSUE_OF_TASK)
        ("task page (busiest task)", f"/ledger/tasks/{busiest_task()}/", ISSUE_OF_TASK),
    ]


ISSUE_OF_TASK = "issue-of-task"


def busiest_task() -> int:
    """The task with the most audit events: the longest timeline of its page (as bench/run's task page)."""
    from django.db.models import Count

    from rectify.core.models import Event

    return int(Event.objects.filter(object_type="ledger.task").values("object_id").annotate(n=Count("id"))
               .order_by("-n").first()["object_id"])


def redmine_issue_of(base: str, cookie: str, task_path: str) -> str:
    """Redmine's /issues/<id> for the task of ``task_path``: its subject is "code title" (export_tasks)."""
    from rectify.ledger.models import Task

    task_id = int(re.search(r"/tasks/(\d+)/", task_path).group(1))
    task = Task.objects.values("code", "title").get(pk=task_id)
    subject = f"{task['code']} {task['title']}"[:255]
    query = ("/projects/rectify/issues?set_filter=1&f[]=status_id&op[status_id]=*&f[]=subject&op[subject]=~"
             "&v[subject][]=" + urllib.parse.quote(subject))
    html = urllib.request.urlopen(urllib.request.Request(base + query, headers={"Cookie": cookie}),
                                  timeout=120).read().decode()
    found = re.search(r'<tr id="issue-(\d+)"', html)
    if not found:
        raise SystemExit(f"Redmine has no issue with the subject {subject!r}: load it again (drop --skip-load)")
    return f"/issues/{found.group(1)}"


def rectify_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([str(Path(sys.executable).parent / "rectify"), "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--no-tick"], env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/accounts/login/", 60)
    return proc


def rectify_cookie() -> str:
    from django.test import Client

    from rectify.orgs.models import User

    client = Client()
    client.force_login(User.objects.get(username=BENCH_USER))
    return f"sessionid={client.cookies['sessionid'].value}"


def main() -> int:
    parser = argparse.ArgumentParser(description="Rectify vs Redmine issue list under the same load.")
    parser.add_argument("--data-dir", help="Rectify data dir (RECTIFY_DATA_DIR) holding generated data")
    parser.add_argument("--database-url", help="Rectify DATABASE_URL (default: SQLite in the data dir)")
    parser.add_argument("--redmine-dir", default="/tmp/redmine-bench", help="Redmine's SQLite file and logs")
    parser.add_argument("--server", choices=["webrick", "passenger"], default="webrick")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-install", action="store_true", help="do not check Debian's packages")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--load-only", action="store_true", help="install and load, measure nothing (e.g. while the "
                        "machine is busy; measure later with --skip-load)")
    args = parser.parse_args()
    configure(data_dir=args.data_dir, database_url=args.database_url)
    redmine_dir = Path(args.redmine_dir)
    install(redmine_dir, packages=not args.skip_install)
    fields = json.loads((redmine_dir / "fields.json").read_text()) if args.skip_load else load(redmine_dir)
    if args.load_only:
        return 0
    rows = filters(fields)
    results = {}
    rport, mport = free_port(), free_port()
    from django.conf import settings
    from django.test import Client

    from rectify.orgs.models import User

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(User.objects.get(username=BENCH_USER))
    for label, path, _ in rows:  # how many tasks each filter finds, to compare with Redmine's count
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        found = re.search(r"共 (\d+) 条任务", response.content.decode())
        results.setdefault(label, {})["rectify_count"] = found.group(1) if found else "—"
    rectify_proc = rectify_server(rport)
    try:
        cookie = rectify_cookie()
        for label, path, _ in rows:
            settle(f"http://127.0.0.1:{rport}/accounts/login/")
            results.setdefault(label, {})["rectify"] = wrk(f"http://127.0.0.1:{rport}{path}", args.seconds,
                                                           args.connections, cookie)
            print(f"  rectify {label}: {results[label]['rectify']['rate']:.1f} req/s", file=sys.stderr, flush=True)
    finally:
        stop(rectify_proc)
    redmine_proc = start_redmine(redmine_dir, args.server, mport)
    try:
        base = f"http://127.0.0.1:{mport}"
        cookie = redmine_cookie(base)
        for label, ours, path in rows:
            if path == ISSUE_OF_TASK:
                path = redmine_issue_of(base, cookie, ours)
            probe = urllib.request.Request(base + path, headers={"Cookie": cookie})
            html = urllib.request.urlopen(probe, timeout=120).read().decode()
            shown = re.search(r'<span class="items">\((?:\d+-\d+/)?(\d+)\)</span>', html)
            results[label]["redmine_count"] = shown.group(1) if shown else "—"
            settle(f"{base}/login")
            results[label]["redmine"] = wrk(base + path, args.seconds, args.connections, cookie)
            print(f"  redmine {label}: {results[label]['redmine']['rate']:.1f} req/s", file=sys.stderr, flush=True)
    finally:
        stop(redmine_proc)
    from rectify.ledger.models import Task

    print(f"Rectify (rectify serve: gunicorn, {os.cpu_count()} workers) vs Redmine 5.0 ({args.server}, SQLite) on {Task.objects.count()} "
          f"tasks; wrk -t2 -c{args.connections} -d{args.seconds}s, logged in as an administrator on both")
    head = (f"{'issue list':<28} {'rows R/M':>13} {'Rectify req/s':>14} {'p50':>9} {'Redmine req/s':>14} {'p50':>9}"
            f" {'ratio':>7}")
    print(head)
    print("-" * len(head))
    for label, r in results.items():
        a, b = r["rectify"], r["redmine"]
        ratio = a["rate"] / b["rate"] if b["rate"] else float("nan")
        rows_found = f"{r['rectify_count']}/{r['redmine_count']}"
        print(f"{label:<28} {rows_found:>13} {a['rate']:>14.1f} {a['p50'] * 1000:>7.0f}ms {b['rate']:>14.1f} {b['p50'] * 1000:>7.0f}ms "
              f"{ratio:>6.2f}×")
    return 0


if __name__ == "__main__":
    tempfile.tempdir = None
    sys.exit(main())
