#!/usr/bin/env python3
"""Synthetic city or province for benchmarks (issue 8, item 1).

    .venv/bin/python bench/generate.py --tier S [--seed 8] [--today 2026-11-15]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_bench .venv/bin/python bench/generate.py --tier M
    .venv/bin/python bench/generate.py --tasks 2000 --data-dir /tmp/rectify-2k

Tiers: S = one city (永州, its real county-level units and GB/T 2260 codes), 500 tasks, ~12k
report slots, 200k audit events (the CI size); M = a province of 50 cities, 25k tasks, ~600k
reports, 5M events, ~12k users; L = 200 cities, 100k tasks, ~2.4M reports, 30M events.

The target is ``RECTIFY_DATA_DIR`` (``--data-dir``) and/or ``DATABASE_URL``; the database is
migrated first and must hold no units yet. Rows are written in bulk (executemany on SQLite, COPY on
PostgreSQL) with ids assigned here; audit events go through ``rectify.core.audit.append_events``,
so ``rectify verify`` passes afterwards. Derived statuses are computed at the end by the product's
own ``refresh_statuses``. The same ``--seed`` and ``--today`` give the same database, chain head
included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIERS = {
    "S": {"tasks": 500, "reports": 12_000, "events": 200_000, "users": None},
    "M": {"tasks": 25_000, "reports": 600_000, "events": 5_000_000, "users": 12_000},
    "L": {"tasks": 100_000, "reports": 2_400_000, "events": 30_000_000, "users": 48_000},
}
TASKS_PER_CITY = 500
BENCH_USER = "bench_admin"
BENCH_PASSWORD = "Bench@Passw0rd-2026"  # every generated account has it (one hash, computed once)
SALT = "rectifybenchsalt"


# ---------------------------------------------------------------------------------------------
# Setup


def configure(*, data_dir: str | None = None, database_url: str | None = None) -> None:
    """Point Django at the target and set it up (call before importing any rectify model)."""
    if data_dir:
        os.environ["RECTIFY_DATA_DIR"] = str(Path(data_dir).resolve())
    if database_url is not None:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
    # The benchmarks sign in with force_login and a token, not through the login form's code step.
    # The second factor is checked at login and kept as session flags (no query per page), so a
    # page costs the same with it; without this the generated office admin would be sent to enrol.
    os.environ.setdefault("RECTIFY_TOTP_REQUIRED_ROLES", "none")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# Bulk writing: explicit ids, executemany on SQLite, COPY on PostgreSQL


class Writer:
    """Insert plain tuples into a model's table as fast as the database takes them.

    Values are Python values (date, aware datetime, dict/list for JSON, bool, None); each column
    is converted once per type the way Django would store it. Nothing here is a product path:
    the product writes through its services.
    """

    def __init__(self, batch: int = 20_000):
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        self.batch = batch
        self.counts: dict[str, int] = {}

    def _converters(self, model, columns: list[str]) -> list[Callable | None]:
        from django.db import models

        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        ops = self.connection.ops
        out: list[Callable | None] = []
        for name in columns:
            f = by_attname[name]
            if isinstance(f, models.JSONField):
                out.append(lambda v: None if v is None else json.dumps(v, ensure_ascii=False))
            elif self.vendor == "sqlite" and isinstance(f, models.DateTimeField):
                out.append(lambda v, ops=ops: None if v is None else ops.adapt_datetimefield_value(v))
            elif self.vendor == "sqlite" and isinstance(f, models.DateField):
                out.append(lambda v: None if v is None else v.isoformat())
            else:
                out.append(None)
        return out

    def insert(self, model, columns: list[str], rows: Iterable[tuple]) -> int:
        from django.db import transaction

        table = model._meta.db_table
        # Columns the generator does not set get their model default, so that a field added to a
        # model later (with a default) does not break the bulk path.
        extra = [(f.attname, f.get_default()) for f in model._meta.concrete_fields
                 if f.attname not in columns and not f.primary_key and not f.generated
                 and (f.has_default() or not f.null)]
        if extra:
            columns = [*columns, *(name for name, _ in extra)]
            tail = tuple(value for _, value in extra)
            rows = (tuple(row) + tail for row in rows)
        by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
        cols = [by_attname[c] for c in columns]
        conv = self._converters(model, columns)
        idx = [(i, c) for i, c in enumerate(conv) if c is not None]
        n = 0
        with transaction.atomic(), self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                sql = f'COPY {table} ({", ".join(cols)}) FROM STDIN'
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        if idx:
                            row = list(row)
                            for i, c in idx:
                                row[i] = c(row[i])
                        copy.write_row(row)
                        n += 1
            else:
                sql = f'INSERT INTO {table} ({", ".join(cols)}) VALUES ({", ".join(["%s"] * len(cols))})'
                chunk: list = []
                for row in rows:
                    if idx:
                        row = list(row)
                        for i, c in idx:
                            row[i] = c(row[i])
                    chunk.append(row)
                    if len(chunk) >= self.batch:
                        cursor.executemany(sql, chunk)
                        n += len(chunk)
                        chunk = []
                if chunk:
                    cursor.executemany(sql, chunk)
                    n += len(chunk)
        self.counts[model._meta.label] = self.counts.get(model._meta.label, 0) + n
        return n

    def reset_sequences(self, models: list) -> None:
        if self.vendor != "postgresql":
            return
        from django.core.management.color import no_style

        with self.connection.cursor() as cursor:
            for sql in self.connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)


def next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


# ---------------------------------------------------------------------------------------------
# Words


CITY_A = "青白金石云龙凤安平长宁兴华清丰松桂梅柳溪嘉瑞泰和新"
CITY_B = "州阳江川山原城林湖岭"
COUNTY_SUFFIX = ["东区", "西区", "南区", "北区", "中区", "江县", "山县", "河县", "源县", "溪县", "湖县", "林县",
                 "新县", "宁县", "平县", "华县", "阳市", "川市", "经开区", "管理区"]
PLACES = ["工业园区", "城区", "某镇", "某乡", "河段", "水库", "矿区", "产业园", "集镇", "村"]

# category → (title patterns, problem pattern, target, lead department index in the demo list)
CATEGORY_TEXT = {
    "water": (["{p}污水管网建设滞后，雨污合流问题突出", "{p}黑臭水体治理后返黑返臭", "{p}入河排污口整治不彻底",
               "{p}饮用水水源保护区内存在违规建筑"],
              "督察发现，{c}{p}约{n}公里管网未完成改造，雨季污水溢流入河，断面氨氮浓度超标{k}倍。", "完成截污纳管，水体稳定达标", 1),
    "air": (["{p}建筑施工扬尘管控不力", "{p}工业炉窑废气超标排放", "{p}露天焚烧秸秆问题反复"],
            "督察组暗查{c}{p}{n}个点位，有{k}个未落实扬尘管控要求，月均降尘量高于全省平均水平。", "扬尘管控措施全部落实到位", 0),
    "soil": (["{p}受污染耕地安全利用不到位", "{p}历史遗留固体废物未处置"],
             "{c}{p}约{n}亩受污染耕地未落实安全利用措施，农产品镉超标{k}批次。", "受污染耕地安全利用率达到92%以上", 4),
    "heavy_metals": (["{p}涉重金属企业废水超标排放", "{p}历史遗留废渣污染治理滞后"],
                     "{c}{p}{n}家涉重企业废水总镉超标，周边{k}处农田土壤重金属超标。", "涉重金属废水稳定达标", 0),
    "mines": (["{p}非法采矿破坏生态问题突出", "{p}废弃矿山生态修复滞后"],
              "{c}{p}有{n}处废弃矿山未修复，破坏山体约{k}公顷。", "完成矿山生态修复并通过验收", 2),
    "rural_nonpoint": (["{p}畜禽养殖污染治理不到位", "{p}农村生活污水直排"],
                       "{c}{p}{n}家规模养殖场粪污处理设施不配套，{k}处养殖废水直排。", "畜禽粪污综合利用率达到80%以上", 4),
    "biodiversity_ecology": (["{p}自然保护区内违规开发", "{p}湿地保护不力"],
                             "{c}{p}自然保护区内有{n}处违规建设项目，侵占湿地约{k}公顷。", "违规项目全部清理，生态恢复", 5),
    "infrastructure": (["{p}生活垃圾填埋场渗滤液超标", "{p}乡镇污水处理设施长期不正常运行"],
                       "{c}{p}{n}座设施长期低负荷运行，渗滤液积存约{k}万吨。", "设施稳定运行，出水达标", 10),
    "industrial_parks": (["{p}污水集中处理设施建设滞后", "{p}企业未批先建、无证排污"],
                         "{c}{p}约{n}%企业废水未接入集中处理设施，{k}家企业无证排污。", "园区企业废水应接尽接", 6),
    "mechanisms_thinking": (["{p}生态环境保护责任落实不到位", "{p}督察整改信息公开不及时"],
                            "{c}对督察整改认识不到位，{n}个部门职责边界不清，{k}件问题相互推诿。", "责任清单修订完成并落实", 9),
    "other": (["{p}生态环境监测能力不足", "{p}生态环保项目储备不足"],
              "{c}{p}监测站点覆盖不足，{n}个县城未建自动站，{k}份报告数据修改未留痕。", "监测网络建成并联网", 0),
}
CATEGORIES = list(CATEGORY_TEXT)
CATEGORY_WEIGHTS = [22, 14, 8, 6, 8, 10, 7, 9, 6, 6, 4]
CAMPAIGNS = [  # code suffix, name, kind, start as a fraction of the history, share of tasks
    ("ZY2", "第二轮中央生态环境保护督察反馈问题", "central", 0.0, 0.40),
    ("HTK", "督察“回头看”发现问题", "lookback", 0.25, 0.20),
    ("JSP", "警示片披露问题", "warning_film", 0.45, 0.20),
    ("SDC", "省级生态环境保护督察反馈问题", "provincial", 0.65, 0.20),
]


# ---------------------------------------------------------------------------------------------
# The world in memory (ids assigned here)


@dataclass
class City:
    office: int
    name: str
    prefix: str
    counties: list[int] = field(default_factory=list)
    departments: list[int] = field(default_factory=list)
    discipline: int = 0
    admins: list[int] = field(default_factory=list)
    staff: list[int] = field(default_factory=list)
    leaders: list[int] = field(default_factory=list)
    reporters: dict[int, list[int]] = field(default_factory=dict)  # unit → users
    reviewers: dict[int, list[int]] = field(default_factory=dict)
    supervisors: dict[int, list[int]] = field(default_factory=dict)
    campaigns: list[tuple[int, dt.date]] = field(default_factory=list)


@dataclass
class TaskPlan:
    id: int
    city: City
    campaign: int
    code: str
    title: str
    category: str
    start: dt.date
    deadline_kind: str
    deadline: dt.date | None
    responsible: list[int]
    lead: int
    health: str  # good / lagging / bad
    first_month: int  # index of the first round it gets a slot in
    close_month: int | None  # index of the round after which it is closed (None: open)
    draft: bool


@dataclass
class Summary:
    counts: dict[str, int]
    seconds: float
    head: tuple[int, str]


def month_start(today: dt.date, back: int) -> dt.date:
    y, m = today.year, today.month - back
    while m <= 0:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def aware(day: dt.date, seconds: float) -> dt.datetime:
    from django.utils import timezone

    base = dt.datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())
    return base + dt.timedelta(seconds=seconds)


class Generator:
    def __init__(self, *, tasks: int, reports: int | None, events: int | None, users: int | None, seed: int,
                 today: dt.date, log: Callable[[str], None] = print):
        self.n_tasks = tasks
        self.reports_target = reports if reports is not None else tasks * 24
        self.events_target = events if events is not None else tasks * 400
        self.users_target = users
        self.seed = seed
        self.rng = random.Random(seed)
        self.today = today
        self.log = log
        self.w = Writer()
        self.n_cities = max(1, round(tasks / TASKS_PER_CITY))

    # -- helpers -----------------------------------------------------------------------------
    def step(self, label: str, started: float) -> None:
        self.log(f"  {label:<34} {time.perf_counter() - started:7.1f} s")

    # -- units and users ---------------------------------------------------------------------
    def build_units(self) -> None:
        from rectify import demo
        from rectify.orgs.models import Unit

        if Unit.objects.exists():
            raise SystemExit("the target database already holds units: generate into an empty database")
        uid = next_id(Unit)
        rows = []
        self.units: dict[int, tuple[str, str]] = {}  # id → (name, kind)
        self.cities: list[City] = []

        def add(name, kind, parent_path, *, short="", aliases="", county_kind="", code="", parent=None, order=0):
            nonlocal uid
            pk, uid = uid, uid + 1
            path = f"{parent_path}{pk:05d}."
            # county: the nearest county-level unit at or above (only counties themselves here)
            rows.append((pk, name, short, aliases, kind, county_kind, code, parent, path, order, True,
                         pk if kind == "county" else None))
            self.units[pk] = (name, kind)
            return pk, path

        root_path = ""
        root = None
        if self.n_cities > 1:
            root, root_path = add("XX省生态环境保护督察整改工作领导小组办公室", "office", "", short="省整改办")
        self.root = root
        for c in range(self.n_cities):
            if c == 0:
                name, prefix = "永州市", "yz"
                office, opath = add(demo.OFFICE_NAME, "office", root_path, short="市整改办", parent=root, order=c,
                                    aliases="市整改办,永州市整改办")
                city = City(office=office, name=name, prefix=prefix)
                for i, (cname, ckind, code, short, aliases) in enumerate(demo.COUNTIES, start=1):
                    pk, _ = add(cname, "county", opath, short=short, aliases=aliases, county_kind=ckind, code=code,
                                parent=office, order=100 + i * 10)
                    city.counties.append(pk)
                for i, (dname, short, aliases) in enumerate(demo.DEPARTMENTS, start=1):
                    pk, _ = add(dname, "department", opath, short=short, aliases=aliases, parent=office,
                                order=300 + i * 10)
                    city.departments.append(pk)
                dname, short, aliases = demo.DISCIPLINE
                city.discipline, _ = add(dname, "discipline", opath, short=short, aliases=aliases, parent=office,
                                         order=900)
            else:
                k = c - 1
                name = CITY_A[k // len(CITY_B) % len(CITY_A)] + CITY_B[k % len(CITY_B)] + "市"
                if k >= len(CITY_A) * len(CITY_B):
                    name = f"{name[:-1]}{k // (len(CITY_A) * len(CITY_B)) + 1}市"
                prefix = f"c{c:03d}"
                office, opath = add(f"{name}生态环境保护督察整改工作领导小组办公室", "office", root_path,
                                    short=f"{name}整改办", parent=root, order=c)
                city = City(office=office, name=name, prefix=prefix)
                n_counties = 8 + self.rng.randrange(7)
                province = 99 - c // 100
                for i in range(n_counties):
                    suffix = COUNTY_SUFFIX[i]
                    ckind = "区" if suffix.endswith("区") and "管理" not in suffix and "经开" not in suffix else (
                        "县级市" if suffix.endswith("市") else ("管理区" if "管理" in suffix else
                                                               ("经开区" if "经开" in suffix else "县")))
                    code = f"{province:02d}{c % 100:02d}{i + 1:02d}" if ckind not in {"管理区", "经开区"} else ""
                    pk, _ = add(f"{name[:-1]}{suffix}", "county", opath, county_kind=ckind, code=code, parent=office,
                                order=100 + i * 10)
                    city.counties.append(pk)
                for i, (dname, short, _aliases) in enumerate(demo.DEPARTMENTS, start=1):
                    pk, _ = add(f"{name}{dname[1:]}", "department", opath, short=short, parent=office,
                                order=300 + i * 10)
                    city.departments.append(pk)
                city.discipline, _ = add(f"{name}纪委监委", "discipline", opath, parent=office, order=900)
            self.cities.append(city)
        from rectify.orgs.models import Unit as U

        self.w.insert(U, ["id", "name", "short_name", "aliases", "kind", "county_kind", "region_code", "parent_id",
                          "path", "sort_order", "is_active", "county_id"], rows)

    def build_users(self) -> None:
        from django.contrib.auth.hashers import make_password

        from rectify.orgs.models import LeaderAssignment, User

        password = make_password(BENCH_PASSWORD, salt=SALT)
        now = aware(self.today, 8 * 3600)
        self.joined = aware(month_start(self.today, self.history + 1), 9 * 3600)
        uid = next_id(User)
        rows = []
        self.user_rows: dict[int, tuple[str, int | None, str]] = {}  # id → (username, unit, display)
        fixed = 2 + 6 + 1 + 2 + 1 + 2 + 6  # admins, staff, auditor, system and security admins, observer, discipline, leaders
        per_city = (self.users_target / self.n_cities) if self.users_target else 176
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
        given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏建国志文斌辉宇浩凯婷雪琳晨"

        def add(username, role, unit, title=""):
            nonlocal uid
            pk, uid = uid, uid + 1
            display = self.rng.choice(surnames) + self.rng.choice(given) + (self.rng.choice(given) if pk % 3 else "")
            rows.append((pk, password, None, False, username, "", "", "", False, True, self.joined, display, title,
                         unit, role, False, now, 0, None, False))
            self.user_rows[pk] = (username, unit, display)
            return pk

        if self.root is not None:
            self.bench_admin = add(BENCH_USER, "office_admin", self.root, "省整改办基准测试管理员")
        leader_rows = []
        for city in self.cities:
            p = city.prefix
            n_units = len(city.counties) + len(city.departments)
            # counties: reporters and reviewers; departments: supervisors, a reporter and a reviewer
            per_county = max(2, round((per_city - fixed - 4 * len(city.departments)) / max(len(city.counties), 1)))
            city.admins = [add(f"{p}_admin{i}", "office_admin", city.office, "整改办副主任") for i in (1, 2)]
            if self.root is None and city is self.cities[0]:
                self.bench_admin = add(BENCH_USER, "office_admin", city.office, "基准测试管理员")
            city.staff = [add(f"{p}_staff{i}", "office_staff", city.office, "综合调度组干部") for i in range(1, 7)]
            add(f"{p}_auditor", "auditor", city.office, "信息安全审计员")
            add(f"{p}_sysadmin", "system_admin", city.office, "系统管理员")  # 三员分立 (issue 14)
            add(f"{p}_secadmin", "security_admin", city.office, "安全管理员")
            add(f"{p}_observer", "observer", city.office, "市人大代表")  # 监督员 (issue 10)
            for i in (1, 2):
                add(f"{p}_jiwei{i}", "discipline", city.discipline, "监督检查室干部")
            city.leaders = [add(f"{p}_leader{i}", "leader", None, "副市长") for i in range(1, 7)]
            for k, county in enumerate(city.counties):
                reviewers = max(1, per_county // 3)
                city.reporters[county] = [add(f"{p}_k{k:02d}_rep{i}", "reporter", county, "整改办联络员")
                                          for i in range(1, per_county - reviewers + 1)]
                city.reviewers[county] = [add(f"{p}_k{k:02d}_rev{i}", "reviewer", county, "整改办主任")
                                          for i in range(1, reviewers + 1)]
            for k, dept in enumerate(city.departments):
                city.supervisors[dept] = [add(f"{p}_d{k:02d}_sup{i}", "supervisor", dept, "督察整改科科长")
                                          for i in (1, 2)]
                city.reporters[dept] = [add(f"{p}_d{k:02d}_rep1", "reporter", dept, "联络员")]
                city.reviewers[dept] = [add(f"{p}_d{k:02d}_rev1", "reviewer", dept, "科长")]
            for i, leader in enumerate(city.leaders):
                for county in city.counties[i::len(city.leaders)]:
                    leader_rows.append((leader, county, ""))
                for cat in CATEGORIES[i::len(city.leaders)]:
                    leader_rows.append((leader, None, cat))
            del n_units
        self.w.insert(User, ["id", "password", "last_login", "is_superuser", "username", "first_name", "last_name",
                             "email", "is_staff", "is_active", "date_joined", "display_name", "title", "unit_id",
                             "role", "must_change_password", "password_changed_at", "failed_logins", "locked_until",
                             "is_demo"], rows)
        aid = next_id(LeaderAssignment)
        self.w.insert(LeaderAssignment, ["id", "leader_id", "county_id", "sector"],
                      ((aid + i, *r) for i, r in enumerate(leader_rows)))

    # -- the ledger --------------------------------------------------------------------------
    def plan_history(self) -> None:
        """Months of history so that the report slots come near the target (same draws for any length)."""
        r = random.Random(self.seed + 1)
        self.draws = [(r.random(), r.random(), r.random(), r.random()) for _ in range(self.n_tasks)]
        self.n_resp = [1 + (d[0] > 0.70) + (d[0] > 0.92) for d in self.draws]
        best = None
        for h in range(3, 121):
            slots = sum(n * self._open_months(i, h)[2] for i, n in enumerate(self.n_resp))
            if best is None or abs(slots - self.reports_target) < abs(best[1] - self.reports_target):
                best = (h, slots)
        self.history = best[0]

    def _campaign_of(self, i: int) -> int:
        share = self.draws[i][1]
        acc = 0.0
        for k, c in enumerate(CAMPAIGNS):
            acc += c[4]
            if share < acc:
                return k
        return len(CAMPAIGNS) - 1

    def _open_months(self, i: int, history: int) -> tuple[int, int | None, int]:
        """(first round index, close round index or None, rounds with a slot) over ``history`` closed months
        and the current one (index ``history``)."""
        k = self._campaign_of(i)
        first = int(CAMPAIGNS[k][3] * history) + 1  # the month after feedback
        close = None
        if self.draws[i][2] < 0.30:  # closed some time after it started
            span = history - first
            close = first + int(span * (0.3 + 0.6 * self.draws[i][3])) if span > 1 else None
        last = close if close is not None else history
        return first, close, max(0, last - first + 1)

    def build_ledger(self) -> None:
        from rectify.ledger.models import Campaign, Measure, Task, TaskUnit

        rng = self.rng
        cid = next_id(Campaign)
        campaign_rows = []
        for city in self.cities:
            for code, name, kind, frac, _share in CAMPAIGNS:
                feedback = month_start(self.today, self.history - int(frac * self.history)) - dt.timedelta(days=10)
                campaign_rows.append((cid, f"{city.prefix.upper()}-{code}", f"{city.name}{name}", kind, city.office,
                                      feedback, f"{city.name}{name}（基准测试生成数据）", aware(feedback, 10 * 3600)))
                city.campaigns.append((cid, feedback))
                cid += 1
        self.w.insert(Campaign, ["id", "code", "name", "kind", "office_id", "feedback_date", "description",
                                 "created_at"], campaign_rows)
        self.campaign_rows = campaign_rows

        tid, tuid, mid = next_id(Task), next_id(TaskUnit), next_id(Measure)
        self.tasks: list[TaskPlan] = []
        task_rows, unit_rows, measure_rows = [], [], []
        counters: dict[int, int] = {}
        for i in range(self.n_tasks):
            city = self.cities[i % self.n_cities]
            k = self._campaign_of(i)
            campaign, feedback = city.campaigns[k]
            first, close, _n = self._open_months(i, self.history)
            counters[campaign] = counters.get(campaign, 0) + 1
            code = f"{CAMPAIGNS[k][0]}-{counters[campaign]:04d}"
            category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
            patterns, problem_pattern, target, lead_index = CATEGORY_TEXT[category]
            n_resp = self.n_resp[i]
            pool = city.counties if rng.random() < 0.82 else city.departments
            responsible = rng.sample(pool, min(n_resp, len(pool)))
            county_name = self.units[responsible[0]][0]
            place = rng.choice(PLACES)
            title = rng.choice(patterns).format(p=county_name + place)
            problem = problem_pattern.format(c=county_name, p=place, n=rng.randint(2, 90), k=rng.randint(2, 12))
            problem += "（基准测试生成数据）"
            lead = city.departments[(lead_index + (rng.random() < 0.3)) % len(city.departments)]
            co = [d for d in rng.sample(city.departments, rng.randint(0, 2)) if d != lead and d not in responsible]
            roll = rng.random()
            start = feedback
            if roll < 0.10:
                kind, deadline = "immediate", start + dt.timedelta(days=rng.randint(30, 90))
            elif roll < 0.25:
                kind, deadline = "long_term", None
            else:
                kind, deadline = "by_date", start + dt.timedelta(days=rng.randint(180, 1500))
            health = rng.choices(["good", "lagging", "bad"], [62, 25, 13])[0]
            draft = close is None and rng.random() < 0.02
            if draft:
                kind, deadline = "", None
            status = "closed" if close is not None else ("draft" if draft else "active")
            leader = rng.choice(city.leaders)
            progress = f"截至{self.today:%Y年%m月}，已完成阶段性整改任务，累计完成投资约{rng.randint(1, 90)}%。"
            completion = "已完成整改，通过市级核查。" if status == "closed" else ""
            created = aware(feedback, 9 * 3600 + rng.randint(0, 30 * 86400))
            lat = round(24.5 + rng.random() * 2.5, 6) if rng.random() < 0.6 else None
            lon = round(110.8 + rng.random() * 1.8, 6) if lat is not None else None
            task_rows.append((tid, campaign, code, f"{CAMPAIGNS[k][0]}-{i % 97 + 1:02d}" if k != 1 else "", title,
                              problem, target, category, leader, kind, deadline, start, place if lat else "", lat,
                              lon, progress, completion, status, 1 + rng.randrange(4), "", "", None, None, [], None,
                              created, created))
            for o, u in enumerate(responsible):
                unit_rows.append((tuid, tid, u, "responsible", o == 0, o))
                tuid += 1
            unit_rows.append((tuid, tid, lead, "lead_supervisor", True, 0))
            tuid += 1
            for o, u in enumerate(co):
                unit_rows.append((tuid, tid, u, "co_supervisor", False, o))
                tuid += 1
            unit_rows.append((tuid, tid, lead, "acceptance", True, 0))
            tuid += 1
            if not (draft and rng.random() < 0.5):
                for o in range(1, rng.randint(2, 5) + 1):
                    due = (start + dt.timedelta(days=60 * o + rng.randint(0, 60)))
                    if deadline:
                        due = min(due, deadline)
                    done = status == "closed" or (due < self.today and rng.random() < {"good": 0.9, "lagging": 0.5,
                                                                                        "bad": 0.2}[health])
                    owner = responsible[o % len(responsible)] if o % 3 else lead
                    measure_rows.append((mid, tid, o, f"措施{o}：{rng.choice(['制定专项整改方案', '完成排查建立台账', '完成工程建设', '开展专项执法检查', '建立长效监管机制', '组织第三方评估验收'])}，明确责任人和时间节点。",
                                         owner, due, done, min(due, self.today) if done else None))
                    mid += 1
            self.tasks.append(TaskPlan(tid, city, campaign, code, title, category, start, kind, deadline,
                                       responsible, lead, health, first, close, draft))
            tid += 1
        self.w.insert(Task, ["id", "campaign_id", "code", "inspection_number", "title", "problem", "target",
                             "category", "leader_id", "deadline_kind", "deadline", "start_date", "location_name",
                             "latitude", "longitude", "progress_note", "completion_note", "status", "version",
                             "progress_status", "warning_colour", "expected_percent", "actual_percent",
                             "status_reasons", "status_computed_on", "created_at", "updated_at"], task_rows)
        self.w.insert(TaskUnit, ["id", "task_id", "unit_id", "role", "is_primary", "ordinal"], unit_rows)
        self.w.insert(Measure, ["id", "task_id", "ordinal", "text", "owner_unit_id", "due_date", "done", "done_at"],
                      measure_rows)

    # -- dispatch, supervision and the record, month by month --------------------------------
    def evidence_files(self) -> list[tuple[str, int]]:
        """A few small real photos in the evidence store, shared by all generated evidence rows."""
        import io

        from PIL import Image

        from rectify.core.sm3 import sm3_hex
        from rectify.evidence.store import EvidenceStore

        store = EvidenceStore()
        out = []
        for i in range(6):
            buf = io.BytesIO()
            Image.new("RGB", (64, 48), (40 * i, 120, 200 - 30 * i)).save(buf, "JPEG", quality=70)
            data = buf.getvalue()
            digest = sm3_hex(data)
            path = store.path(digest, "jpg")
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(data)
            out.append((digest, len(data)))
        return out

    def build_months(self) -> None:
        """Rounds, reports, evidence, snapshots, escalations and the audit events, one month at a time."""
        from rectify.core.audit import append_events
        from rectify.dispatch.models import DispatchRound, Evidence, ProgressReport
        from rectify.supervision.models import Escalation, StatusSnapshot

        rng = random.Random(self.seed + 2)
        files = self.evidence_files()
        rid, pid, eid = next_id(DispatchRound), next_id(ProgressReport), next_id(Evidence)
        sid, xid = next_id(StatusSnapshot), next_id(Escalation)
        doc_counters: dict[tuple[str, int], int] = {}
        self.report_count = 0
        self.event_count = 0
        months = self.history + 1  # closed months and the current one
        base_events = self.estimate_base_events()
        fill_total = max(0, self.events_target - base_events)
        all_users = list(self.user_rows)
        tasks_by_first: dict[int, list[TaskPlan]] = {}
        for t in self.tasks:
            tasks_by_first.setdefault(t.first_month, []).append(t)
        open_tasks: list[TaskPlan] = []
        escalated: dict[int, int] = {}  # task → highest manual rung index
        word = {"warning": "预", "circular": "通", "supervision": "督", "listed": "挂督", "interview": "约"}
        ladder = ["warning", "circular", "supervision", "listed", "interview"]
        fill_done = 0
        for m in range(months + 1):  # month 0: units, users, campaigns and tasks set up
            first_day = month_start(self.today, months - m)
            ev: list[tuple[dt.datetime, dict]] = []
            if m == 0:
                t0 = self.joined - dt.timedelta(hours=1)
                ev.append((t0, {"action": "bench_units_created", "actor_name": "rectify bench", "object_type":
                                "orgs.unit", "summary": f"生成基准测试单位 {len(self.units)} 个",
                                "after": {"units": len(self.units), "cities": len(self.cities)}}))
                for n, (pk, (username, unit, _display)) in enumerate(self.user_rows.items()):
                    unit_name = self.units[unit][0] if unit else ""
                    ev.append((self.joined + dt.timedelta(seconds=n), {
                        "action": "user_created", "actor_name": "rectify bench", "object_type": "orgs.user",
                        "object_id": pk, "object_label": username, "unit_id": unit, "unit_name": unit_name,
                        "summary": f"创建用户 {username}", "after": {"username": username, "unit": unit_name or None}}))
                for c in self.campaign_rows:
                    ev.append((c[7], {"action": "campaign_created", "actor_name": "rectify bench",
                                      "object_type": "ledger.campaign", "object_id": c[0], "object_label": c[2],
                                      "unit_id": c[4], "unit_name": self.units[c[4]][0], "summary": f"新建整改批次 {c[2]}"}))
            else:
                round_index = m - 1  # 0 … history; the last is the current month's, still open
                is_current = round_index == self.history
                for t in tasks_by_first.get(round_index, []):
                    admin = t.city.admins[0]
                    when = aware(t.start, 9 * 3600 + rng.randint(0, 20 * 86400))
                    ev.append((when, {"action": "task_created", "actor_id": admin,
                                      "actor_name": self.user_rows[admin][0], "unit_id": t.city.office,
                                      "unit_name": self.units[t.city.office][0], "object_type": "ledger.task",
                                      "object_id": t.id, "object_label": f"{t.code} {t.title}"[:300],
                                      "summary": f"新增任务 {t.code}（来源：基准测试生成）",
                                      "after": {"code": t.code, "title": t.title, "category": t.category,
                                                "deadline_kind": t.deadline_kind, "deadline": t.deadline,
                                                "units": [self.units[u][0] for u in t.responsible]}}))
                open_tasks += [t for t in tasks_by_first.get(round_index, []) if not t.draft]
                rounds, reports, evidence, snapshots, escalations = [], [], [], [], []
                open_day = first_day + dt.timedelta(days=(7 - first_day.weekday()) % 7 if first_day.weekday() > 4 else 0)
                due = open_day + dt.timedelta(days=7)
                round_of: dict[int, int] = {}
                period = f"{first_day:%Y-%m}"
                for city in self.cities:
                    admin = city.admins[0]
                    opened = aware(open_day, 9 * 3600)
                    closed_at = None if is_current else aware(month_start(self.today, months - m - 1), 9 * 3600)
                    rounds.append((rid, city.office, period, f"{first_day.year}年{first_day.month}月调度", opened,
                                   None, due, True, "open" if is_current else "closed", closed_at))
                    round_of[city.office] = rid
                    slots = sum(len(t.responsible) for t in open_tasks if t.city is city)
                    ev.append((opened, {"action": "round_opened", "actor_name": "系统（定时任务）",
                                        "unit_id": city.office, "unit_name": self.units[city.office][0],
                                        "object_type": "dispatch.dispatchround", "object_id": rid,
                                        "object_label": f"{first_day.year}年{first_day.month}月调度",
                                        "summary": f"开启{first_day.year}年{first_day.month}月调度，共 {slots} 个报送任务",
                                        "after": {"period": period, "due_date": due, "slots": slots}}))
                    if closed_at:
                        ev.append((closed_at - dt.timedelta(seconds=5), {
                            "action": "round_closed", "actor_name": "系统（定时任务）", "unit_id": city.office,
                            "unit_name": self.units[city.office][0], "object_type": "dispatch.dispatchround",
                            "object_id": rid, "summary": f"结束{first_day.year}年{first_day.month}月调度"}))
                    del admin
                    rid += 1
                elapsed_frac = {}
                for t in open_tasks:
                    r = round_of[t.city.office]
                    if t.deadline:
                        total = max((t.deadline - t.start).days, 1)
                        exp = min(100, max(0, round(100 * (first_day - t.start).days / total)))
                    else:
                        exp = min(100, 10 + 4 * (round_index - t.first_month))
                    factor = {"good": 1.05, "lagging": 0.6, "bad": 0.3}[t.health]
                    pct = min(100, int(exp * factor + rng.randint(0, 8)))
                    if t.close_month is not None and round_index >= t.close_month:
                        pct = 100
                    elapsed_frac[t.id] = (exp, pct)
                    lead_sups = t.city.supervisors[t.lead]
                    for u in t.responsible:
                        x = rng.random()
                        if is_current:
                            status = ("pending" if x < 0.32 else "draft" if x < 0.45 else "awaiting_review" if x < 0.58
                                      else "submitted" if x < 0.72 else "returned" if x < 0.77 else "accepted")
                        else:
                            status = ("accepted" if x < 0.84 else "pending" if x < 0.90 else "draft" if x < 0.92
                                      else "returned" if x < 0.95 else "submitted" if x < 0.98 else "awaiting_review")
                        rep = rng.choice(t.city.reporters[u])
                        rev = rng.choice(t.city.reviewers[u])
                        sup = rng.choice(lead_sups)
                        late = status != "pending" and rng.random() < (0.08 if t.health == "good" else 0.25)
                        day0 = open_day + dt.timedelta(days=rng.randint(0, 6) + (rng.randint(3, 12) if late else 0))
                        t_save = aware(day0, 8.5 * 3600 + rng.randint(0, 9 * 3600))
                        t_sub = t_save + dt.timedelta(minutes=rng.randint(5, 600))
                        t_rev = t_sub + dt.timedelta(minutes=rng.randint(30, 1440))
                        t_dec = t_rev + dt.timedelta(minutes=rng.randint(60, 4320))
                        reported = status in {"awaiting_review", "submitted", "returned", "accepted"}
                        written = status != "pending"
                        reports.append((
                            pid, r, t.id, u, status,
                            f"{t.title}：本月推进{rng.choice(['管网建设', '执法检查', '生态修复', '设施改造', '排查整治'])}，完成阶段性工作。" if written else "",
                            pct if written else None,
                            "资金、用地等要素保障存在困难。" if written and t.health != "good" else "",
                            "继续推进剩余措施，按月报送进展。" if written else "",
                            "整改按计划推进。" if written else "",
                            rep if written else None, t_sub if reported else None,
                            rev if status in {"submitted", "returned", "accepted"} else None,
                            sup if status in {"returned", "accepted"} else None,
                            t_dec if status in {"returned", "accepted"} else None,
                            "佐证材料不充分，请补充现场照片。" if status == "returned" else "",
                            status == "accepted" and t.health == "bad" and rng.random() < 0.3,
                            late and reported, 1 + written + reported + (status in {"submitted", "returned", "accepted"})
                            + (status in {"returned", "accepted"}),
                            t_dec if status in {"returned", "accepted"} else (t_sub if reported else opened)))
                        task_label = f"{t.code} {t.title}"[:300]

                        def event(when, action, actor, unit, summary, after, _t=t, _label=task_label, _ev=ev):
                            _ev.append((when, {"action": action, "actor_id": actor, "actor_name": self.user_rows[actor][0],
                                              "unit_id": unit, "unit_name": self.units[unit][0],
                                              "object_type": "ledger.task", "object_id": _t.id,
                                              "object_label": _label, "summary": summary, "after": after}))

                        uname = self.units[u][0]
                        title = f"{first_day.year}年{first_day.month}月调度·{uname}"
                        if written:
                            event(t_save, "report_save", rep, u, f"{title}：保存草稿进展报送",
                                  {"status": "draft", "report": pid, "round": period})
                        if reported:
                            event(t_sub, "report_submit", rep, u, f"{title}：报送进展报送（进度 {pct}%）"
                                  + ("，逾期报送" if late else ""), {"status": "awaiting_review", "report": pid,
                                                                     "round": period})
                            if rng.random() < 0.35:
                                digest, size = rng.choice(files)
                                evidence.append((eid, pid, digest, "jpg", size, "image/jpeg", "photo",
                                                 f"现场照片{eid % 1000}.jpg", None, None, None, [], rep,
                                                 t_sub - dt.timedelta(minutes=2)))
                                event(t_sub - dt.timedelta(minutes=2), "evidence_attached", rep, u,
                                      f"{title}：上传佐证材料「现场照片{eid % 1000}.jpg」",
                                      {"report": pid, "evidence": eid, "sm3": digest, "size": size, "mime": "image/jpeg"})
                                eid += 1
                        if status in {"submitted", "returned", "accepted"}:
                            event(t_rev, "report_approve", rev, u, f"{title}：审核通过并上报进展报送",
                                  {"status": "submitted", "report": pid, "round": period})
                        if status in {"returned", "accepted"}:
                            action = "report_accept" if status == "accepted" else "report_return"
                            event(t_dec, action, sup, t.lead, f"{title}：{'采纳' if status == 'accepted' else '退回'}进展报送",
                                  {"status": status, "report": pid, "round": period})
                        pid += 1
                # end of a closed round: snapshots; escalations of the laggards
                if not is_current:
                    for t in open_tasks:
                        exp, pct = elapsed_frac[t.id]
                        overdue = t.deadline is not None and t.deadline < first_day and pct < 100
                        status = ("closed" if pct >= 100 and t.close_month is not None and round_index >= t.close_month
                                  else "long_term" if t.deadline_kind == "long_term" else "overdue" if overdue
                                  else "lagging" if pct < exp - 10 else "on_schedule")
                        colour = {"overdue": "red", "lagging": "yellow"}.get(status, "")
                        snapshots.append((sid, round_of[t.city.office], t.id, status, colour, exp, pct))
                        sid += 1
                for t in open_tasks:
                    if t.health == "good" or rng.random() > (0.10 if t.health == "lagging" else 0.22):
                        continue
                    level = escalated.get(t.id, -1) + 1
                    if level >= len(ladder):
                        continue
                    escalated[t.id] = level
                    rung = ladder[level]
                    issued = aware(open_day + dt.timedelta(days=rng.randint(8, 20)), 10 * 3600)
                    year = issued.year
                    doc_counters[(rung, year)] = doc_counters.get((rung, year), 0) + 1
                    doc = f"整改办{word[rung]}〔{year}〕{doc_counters[(rung, year)]}号"
                    target = t.responsible[0]
                    reply_due = issued.date() + dt.timedelta(days=14)
                    age = self.history - round_index
                    status = "open" if age < 1 else ("replied" if age < 2 else "closed")
                    if status == "open" and rng.random() < 0.4:
                        reply_due = self.today - dt.timedelta(days=rng.randint(1, 10))  # overdue reply
                    issuer = None if rung == "warning" else t.city.admins[0]
                    trigger = rng.choice(["lagging_twice", "deadline_near", "report_missing"]) if rung == "warning" else "manual"
                    replier = rng.choice(t.city.reporters[target])
                    replied_at = issued + dt.timedelta(days=rng.randint(2, 12)) if status != "open" else None
                    key = f"bench:{trigger}:{t.id}:{period}" if rung == "warning" else None
                    escalations.append((xid, t.id, rung, trigger,
                                         f"{t.code}整改进度滞后于序时进度，{'连续两轮调度滞后' if rung == 'warning' else '督促加快推进'}。",
                                         target, reply_due, "", doc, issuer, t.city.office if issuer else None, issued,
                                         status, "已落实整改措施，加快推进。" if replied_at else "",
                                         replier if replied_at else None, replied_at, round_of[t.city.office], key))
                    who = {"actor_id": issuer, "actor_name": self.user_rows[issuer][0]} if issuer else {
                        "actor_name": "系统（定时任务）"}
                    ev.append((issued, {"action": "warning_raised" if rung == "warning" else "escalation_issued", **who,
                                        "unit_id": t.city.office, "unit_name": self.units[t.city.office][0],
                                        "object_type": "ledger.task", "object_id": t.id,
                                        "object_label": f"{t.code} {t.title}"[:300],
                                        "summary": f"对{self.units[target][0]}发出{doc}",
                                        "after": {"escalation": xid, "rung": rung, "reply_due": reply_due}}))
                    if replied_at:
                        ev.append((replied_at, {"action": "escalation_replied", "actor_id": replier,
                                                "actor_name": self.user_rows[replier][0], "unit_id": target,
                                                "unit_name": self.units[target][0], "object_type": "ledger.task",
                                                "object_id": t.id, "summary": f"{self.units[target][0]}回复（{doc}）",
                                                "after": {"escalation": xid}}))
                    xid += 1
                # tasks closed at the end of this round leave the next rounds
                closing = [t for t in open_tasks if t.close_month == round_index]
                for t in closing:
                    admin = t.city.admins[0]
                    ev.append((aware(due, 16 * 3600), {"action": "task_closed", "actor_id": admin,
                                                       "actor_name": self.user_rows[admin][0],
                                                       "unit_id": t.city.office,
                                                       "unit_name": self.units[t.city.office][0],
                                                       "object_type": "ledger.task", "object_id": t.id,
                                                       "summary": f"任务 {t.code} 销号（基准测试生成）"}))
                open_tasks = [t for t in open_tasks if t.close_month != round_index]
                self.w.insert(DispatchRound, ["id", "office_id", "period", "title", "opened_at", "opened_by_id",
                                              "due_date", "require_unit_review", "status", "closed_at"], rounds)
                self.w.insert(ProgressReport, [
                    "id", "round_id", "task_id", "unit_id", "status", "progress_text", "percent", "difficulties",
                    "next_steps", "public_summary", "author_id", "submitted_at", "reviewed_by_id", "decided_by_id",
                    "decided_at", "return_reason", "judged_unable", "late", "version", "updated_at"], reports)
                self.w.insert(Evidence, ["id", "report_id", "digest", "extension", "size", "mime", "kind",
                                         "original_name", "taken_at", "latitude", "longitude", "warnings",
                                         "uploaded_by_id", "uploaded_at"], evidence)
                self.w.insert(StatusSnapshot, ["id", "round_id", "task_id", "status", "colour", "expected_percent",
                                               "actual_percent"], snapshots)
                self.w.insert(Escalation, ["id", "task_id", "rung", "trigger", "reason", "target_unit_id",
                                           "reply_due", "skip_reason", "doc_number", "issued_by_id",
                                           "issuing_unit_id", "issued_at", "status", "reply_text", "replied_by_id",
                                           "replied_at", "round_id", "dedupe_key"], escalations)
                self.report_count += len(reports)
            # activity that fills the record up to the target: logins and logouts, downloads, exports
            share = fill_total * (m + 1) // (months + 1) - fill_done
            fill_done += share
            span = (month_start(self.today, months - m - 1) - first_day).days if m < months else max(
                (self.today - first_day).days, 1)
            for _ in range(share):
                user = all_users[rng.randrange(len(all_users))]
                username, unit, _display = self.user_rows[user]
                when = aware(first_day, rng.randint(0, span * 86400 - 1))
                x = rng.random()
                action, summary, after = (("login", "登录成功", None) if x < 0.55 else ("logout", "退出登录", None)
                                          if x < 0.85 else ("session_timeout", "会话超时自动退出", None) if x < 0.95
                                          else ("ledger_exported", "导出整改台账 Excel", {"rows": rng.randint(10, 900)}))
                ev.append((when, {"action": action, "actor_id": user, "actor_name": username, "unit_id": unit,
                                  "unit_name": self.units[unit][0] if unit else "", "object_type": "orgs.user",
                                  "object_id": user, "object_label": username, "summary": summary, "after": after,
                                  "ip": f"10.{user % 200}.{user // 200 % 250}.{user % 250 + 1}"}))
            ev.sort(key=lambda item: item[0])
            self.event_count += len(ev)
            append_events({**row, "created_at": when} for when, row in ev)
            if m % 6 == 0 or m == months:
                self.log(f"    month {m:>3}/{months}: {self.report_count:>9} reports, {self.event_count:>10} events")
        self.w.reset_sequences(self.models())

    def estimate_base_events(self) -> int:
        """Domain events expected before the fill (reports × ~3.9, tasks, rounds, users, escalations)."""
        slots = sum(n * self._open_months(i, self.history)[2] for i, n in enumerate(self.n_resp))
        # a little under the mean (~3.9 a slot): the fill then reaches the target rather than falling short
        return int(slots * 3.6 + self.n_tasks * 1.6 + len(self.user_rows) + len(self.cities) * self.history * 2)

    def models(self) -> list:
        from django.apps import apps

        names = ["orgs.Unit", "orgs.User", "orgs.LeaderAssignment", "ledger.Campaign", "ledger.Task",
                 "ledger.TaskUnit", "ledger.Measure", "dispatch.DispatchRound", "dispatch.ProgressReport",
                 "dispatch.Evidence", "supervision.StatusSnapshot", "supervision.Escalation", "core.Event"]
        return [apps.get_model(n) for n in names]

    def run(self) -> Summary:
        from rectify.core.audit import chain_head

        started = time.perf_counter()
        self.plan_history()
        self.log(f"generating {self.n_cities} cit{'y' if self.n_cities == 1 else 'ies'}, {self.n_tasks} tasks, "
                 f"{self.history} closed months + the current one (seed {self.seed}, today {self.today})")
        t = time.perf_counter()
        self.build_units()
        self.build_users()
        self.step(f"units {len(self.units)}, users {len(self.user_rows)}", t)
        t = time.perf_counter()
        self.build_ledger()
        self.step(f"tasks {self.n_tasks} with units and measures", t)
        t = time.perf_counter()
        from rectify.ledger import search

        search.rebuild()  # the tasks went in around the services, which keep the index
        self.step("keyword index (rectify reindex)", t)
        t = time.perf_counter()
        self.build_months()
        self.step(f"rounds, {self.report_count} reports, {self.event_count} events", t)
        t = time.perf_counter()
        analyse()  # freshly loaded tables have no statistics: plan the status queries on real ones
        self.step("ANALYZE", t)
        t = time.perf_counter()
        from rectify.supervision.services import refresh_statuses

        refresh_statuses(today=self.today, batch=2000)
        self.step("derived statuses (refresh_statuses)", t)
        t = time.perf_counter()
        # again, after the statuses rewrote every task: statistics taken before them said no task was
        # 滞后, and PostgreSQL planned the 进度状态 filter's page for one row (140 ms at 25,000 tasks
        # against 20 once analysed); what autovacuum does after a bulk change, which a benchmark
        # cannot wait for (and which may be off)
        analyse(vacuum=True)
        self.step("ANALYZE after the statuses", t)
        return Summary(dict(self.w.counts), time.perf_counter() - started, chain_head())


def analyse(*, vacuum: bool = False) -> None:
    """ANALYZE every table; ``vacuum``: on PostgreSQL also VACUUM (the visibility map: a fresh
    table's index-only scans otherwise read every row's heap page). SQLite's VACUUM would rewrite
    the whole file, so there it is ANALYZE alone, as it is inside a transaction (a test's), where
    PostgreSQL refuses VACUUM."""
    from django.db import connection

    vacuum = vacuum and connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")


def generate(*, tier: str | None = None, tasks: int | None = None, reports: int | None = None,
             events: int | None = None, users: int | None = None, seed: int = 8, today: dt.date | None = None,
             log: Callable[[str], None] = print) -> Summary:
    """Generate into the configured (migrated, unit-less) database. Tier figures unless overridden."""
    from django.utils import timezone

    spec = dict(TIERS[tier]) if tier else {"tasks": 500, "reports": None, "events": None, "users": None}
    if tasks is not None and tier is None:
        spec = {"tasks": tasks, "reports": None, "events": None, "users": None}
    elif tasks is not None:
        spec["tasks"] = tasks
    for name, value in (("reports", reports), ("events", events), ("users", users)):
        if value is not None:
            spec[name] = value
    gen = Generator(tasks=spec["tasks"], reports=spec["reports"], events=spec["events"], users=spec["users"],
                    seed=seed, today=today or timezone.localdate(), log=log)
    return gen.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a synthetic city or province (bench tiers S/M/L).")
    parser.add_argument("--tier", choices=sorted(TIERS), help="S (CI size), M (a national round), L")
    parser.add_argument("--tasks", type=int, help="explicit number of tasks (other figures scale with it)")
    parser.add_argument("--reports", type=int, help="target number of report slots (default 24 per task)")
    parser.add_argument("--events", type=int, help="target number of audit events (default 400 per task)")
    parser.add_argument("--users", type=int, help="target number of users (default ~176 per city)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--today", help="the world's today, YYYY-MM-DD (default: the real today)")
    parser.add_argument("--data-dir", help="RECTIFY_DATA_DIR (SQLite file, evidence files)")
    parser.add_argument("--database-url", help="DATABASE_URL (default: the environment's, else SQLite in the data dir)")
    parser.add_argument("--no-verify", action="store_true", help="skip the closing verify_chain()")
    args = parser.parse_args(argv)
    if not args.tier and not args.tasks:
        parser.error("give --tier or --tasks")
    configure(data_dir=args.data_dir, database_url=args.database_url)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"target: {connection.vendor} {settings.DATABASES['default']['NAME']} (data dir {settings.DATA_DIR}); "
          f"migrate {time.perf_counter() - t:.1f} s")
    summary = generate(tier=args.tier, tasks=args.tasks, reports=args.reports, events=args.events, users=args.users,
                       seed=args.seed, today=dt.date.fromisoformat(args.today) if args.today else None)
    for label, n in summary.counts.items():
        print(f"  {label:<28} {n:>10}")
    print(f"generated in {summary.seconds:.1f} s; chain head {summary.head[0]}:{summary.head[1]}")
    if not args.no_verify:
        from rectify.core.audit import verify_chain

        t = time.perf_counter()
        result = verify_chain()
        elapsed = time.perf_counter() - t
        print(f"verify_chain: {result.message} in {elapsed:.1f} s ({result.count / max(elapsed, 1e-9):,.0f} events/s)")
        if not result.ok:
            return 1
    print(f"log in as {BENCH_USER} / {BENCH_PASSWORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
