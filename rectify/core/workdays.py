"""Work days (工作日) by the Chinese official calendar: holidays and adjusted working days (调休上班日).

The calendar is data (:class:`~rectify.core.models.CalendarYear`, :class:`~rectify.core.models.CalendarDay`):
seeded from ``chinese-calendar`` for the years it knows (2004–2026 in 1.11) and extended by the
office each autumn when the State Council publishes the next year. A year with no ``CalendarYear``
row is *unknown*: there Monday–Friday are work days and Saturday/Sunday are not, and every place
that shows a work-day date in such a year must say so (:func:`unknown_years_in`, :func:`warning_text`,
the ``workday_warning`` template filter).

Conventions (all dates are ``datetime.date``; an aware ``datetime`` is taken in local time):

- ``add_workdays(start, n)``: n > 0 → the n-th work day *after* start (start itself never counts);
  n < 0 → the |n|-th work day *before* start; n == 0 → start if it is a work day, else the next one.
- ``workdays_between(a, b)``: the work days in the half-open interval (a, b]; negative if b < a.
  So ``workdays_between(start, add_workdays(start, n)) == n`` for n > 0; going back (n < 0) the
  |n| work days counted are [result, start), which equals that identity only when start is a work day.

The whole table (a few dozen rows a year) is cached per process. A write here invalidates the
cache at once; other processes notice within ``CHECK_SECONDS`` by comparing a cheap stamp.
"""

from __future__ import annotations

import bisect
import calendar as _calendar
import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from rectify.core.audit import lock_chain, record_event
from rectify.core.models import CalendarDay, CalendarDayKind, CalendarSource, CalendarYear
from rectify.core.roles import OFFICE_ROLES, Role  # noqa: F401 — kept importable for callers

HOLIDAY = CalendarDayKind.HOLIDAY.value
WORKDAY = CalendarDayKind.WORKDAY.value
WEEKDAY_NAMES = "一二三四五六日"
CHECK_SECONDS = 30.0  # how stale another process's entry may look here

# chinese-calendar names its holidays in English; the office reads Chinese.
PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


# --- the per-process cache ------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    stamp: tuple
    years: frozenset[int]
    special: dict[dt.date, str]  # only days of known years
    # Sorted dates whose kind changes the plain week count, with a running sum of the change,
    # so that counting work days over any span is two bisections.
    delta_dates: list[dt.date] = field(default_factory=list)
    delta_prefix: list[int] = field(default_factory=list)


_lock = threading.Lock()
_cache: _Snapshot | None = None
_checked_at = 0.0
_generation = 0


def invalidate() -> None:
    """Forget the cached calendar (called after every write; tests call it between cases)."""
    global _cache, _generation
    with _lock:
        _cache = None
        _generation += 1


def _db_stamp() -> tuple:
    agg = CalendarYear.objects.aggregate(n=Count("id"), last=Max("entered_at"))
    return (agg["n"], agg["last"])


def _load(stamp: tuple) -> _Snapshot:
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    special: dict[dt.date, str] = {}
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        if day.year in years:  # a stray day of an unknown year must not half-apply
            special[day] = kind
    delta_dates, delta_prefix, running = [], [0], 0
    for day in sorted(special):
        weekday = day.weekday() < 5
        delta = -1 if (special[day] == HOLIDAY and weekday) else 1 if (special[day] == WORKDAY and not weekday) else 0
        if delta:
            running += delta
            delta_dates.append(day)
            delta_prefix.append(running)
    return _Snapshot(stamp, years, special, delta_dates, delta_prefix)


def _snapshot() -> _Snapshot:
    global _cache, _checked_at
    snap, now = _cache, time.monotonic()
    if snap is not None and now - _checked_at < CHECK_SECONDS:
        return snap
    generation = _generation
    stamp = _db_stamp()
    if stamp[0] == 0:
        # An empty table is a fresh or flushed database (the seed migration's rows are gone):
        # restore the package years rather than silently counting weekends only everywhere.
        ensure_seeded()
        generation = _generation
        stamp = _db_stamp()
    if snap is None or snap.stamp != stamp:
        snap = _load(stamp)
    with _lock:
        if generation == _generation:  # not invalidated while loading
            _cache, _checked_at = snap, now
    return snap


# --- seeding from chinese-calendar ----------------------------------------------------------


def package_days() -> dict[int, list[tuple[dt.date, str, str]]]:
    """The package's data as {year: [(date, kind, Chinese name), ...]}."""
    from chinese_calendar import constants

    by_year: dict[int, list[tuple[dt.date, str, str]]] = {}
    for source, kind in ((constants.holidays, HOLIDAY), (constants.workdays, WORKDAY)):
        for day, name in source.items():
            by_year.setdefault(day.year, []).append((day, kind, PACKAGE_NAMES.get(name, name)))
    for days in by_year.values():
        days.sort()
    return by_year


SEED_ACTOR = "系统（chinese-calendar 程序包）"


def seed_from_package(year_model=CalendarYear, day_model=CalendarDay) -> int:
    """Add every package year that has no row yet; return how many years were added.

    Idempotent and safe to race: existing years are never touched (an office correction of a
    package year stays), and a concurrent seeder's rows are skipped rather than duplicated.
    The data migration passes its historical models and records nothing (the chain's code may be
    newer than that migration); with the real models the seed is recorded (``calendar_seeded``),
    and :func:`record_migration_seed` records the migration's seed once after ``migrate``.
    """
    data = package_days()
    live = year_model is CalendarYear
    try:
        with transaction.atomic():
            if live:
                lock_chain()  # seeders queue, so the years are added, and recorded, once
            have = set(year_model.objects.values_list("year", flat=True))
            missing = sorted(set(data) - have)
            if not missing:
                return 0
            now = timezone.now()
            year_model.objects.bulk_create(
                [year_model(year=y, source=CalendarSource.PACKAGE.value, entered_at=now,
                            note="chinese-calendar 程序包自带数据") for y in missing],
                ignore_conflicts=True)
            day_model.objects.bulk_create(
                [day_model(date=d, kind=k, name=n) for y in missing for d, k, n in data[y]],
                ignore_conflicts=True, batch_size=500)
            if live:
                _record_seed(missing, {y: data[y] for y in missing}, how="载入")
    except IntegrityError:  # pragma: no cover - another process seeded at the same moment
        return 0
    return len(missing)


def _record_seed(years: list[int], days: dict[int, list], *, how: str) -> None:
    holidays = sum(1 for y in years for _, kind, _ in days.get(y, []) if kind == HOLIDAY)
    workdays = sum(1 for y in years for _, kind, _ in days.get(y, []) if kind == WORKDAY)
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    record_event(action="calendar_seeded", actor_name=SEED_ACTOR, object_type="core.calendaryear",
                 object_label=f"{span} 年",
                 summary=f"{how} chinese-calendar 程序包自带的 {span} 年法定节假日（{len(years)} 个年度）："
                         f"放假 {holidays} 天，调休上班 {workdays} 天",
                 after={"years": years, "holidays": holidays, "workdays": workdays})


def record_migration_seed(**kwargs) -> None:
    """After ``migrate`` (post_migrate): make sure the package seed is on the record, once.

    The seed migration writes the years with historical models and cannot append to the chain; this
    records them (system actor) the first time migrate finishes with package years on file and no
    ``calendar_seeded`` event, and re-seeds a flushed table (recording that too).
    """
    from rectify.core.models import Event

    if ensure_seeded():
        return
    with transaction.atomic():
        lock_chain()
        if Event.objects.filter(action="calendar_seeded").exists():
            return
        years = sorted(CalendarYear.objects.filter(source=CalendarSource.PACKAGE).values_list("year", flat=True))
        if not years:
            return
        data = package_days()
        on_file = {y: [(d, k, n) for d, k, n in data.get(y, [])] for y in years}
        _record_seed(years, on_file, how="数据库迁移时载入")


def ensure_seeded() -> int:
    added = seed_from_package()
    if added:
        invalidate()
    return added


# --- the public arithmetic ------------------------------------------------------------------


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _is_workday(snap: _Snapshot, day: dt.date) -> bool:
    if day.year in snap.years:
        kind = snap.special.get(day)
        if kind == HOLIDAY:
            return False
        if kind == WORKDAY:
            return True
    return day.weekday() < 5


def is_workday(day: dt.date) -> bool:
    return _is_workday(_snapshot(), _as_date(day))


def year_known(year: int) -> bool:
    return year in _snapshot().years


def known_years() -> list[int]:
    return sorted(_snapshot().years)


def unknown_years_in(a: dt.date, b: dt.date | None = None) -> list[int]:
    """Years between a and b (either order, inclusive) whose holidays are not on record."""
    a = _as_date(a)
    b = a if b is None else _as_date(b)
    years = _snapshot().years
    lo, hi = sorted((a.year, b.year))
    return [y for y in range(lo, hi + 1) if y not in years]


def warning_text(years: list[int]) -> str:
    """The sentence to show next to a work-day date that relies on the weekends-only fallback."""
    if not years:
        return ""
    return f"{'、'.join(str(y) for y in years)} 年法定节假日尚未录入，按仅周末休息计算"


def next_workday_on_or_after(day: dt.date) -> dt.date:
    snap, day = _snapshot(), _as_date(day)
    while not _is_workday(snap, day):
        day += dt.timedelta(days=1)
    return day


def add_workdays(start: dt.date, n: int) -> dt.date:
    """See the module docstring for the convention (start never counts; n == 0 rolls forward)."""
    snap, day = _snapshot(), _as_date(start)
    if n == 0:
        while not _is_workday(snap, day):
            day += dt.timedelta(days=1)
        return day
    step = dt.timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if _is_workday(snap, day):
            remaining -= 1
    return day


def _plain_weekdays_through(day: dt.date) -> int:
    # Mon–Fri from 0001-01-01 (a Monday) through day inclusive.
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def workdays_between(a: dt.date, b: dt.date) -> int:
    """Work days in (a, b]; negative (-(work days in (b, a])) when b < a."""
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -workdays_between(b, a)
    snap = _snapshot()
    plain = _plain_weekdays_through(b) - _plain_weekdays_through(a)
    hi = snap.delta_prefix[bisect.bisect_right(snap.delta_dates, b)]
    lo = snap.delta_prefix[bisect.bisect_right(snap.delta_dates, a)]
    return plain + hi - lo


def nth_workday_of_month(year: int, month: int, n: int) -> dt.date:
    """The n-th work day of the month (n >= 1), or counting from the end (n = -1 is the last)."""
    if n == 0:
        raise ValueError("n must be 1, 2, … or -1, -2, …")
    snap = _snapshot()
    last = _calendar.monthrange(year, month)[1]
    days = [d for d in (dt.date(year, month, i) for i in range(1, last + 1)) if _is_workday(snap, d)]
    if abs(n) > len(days):
        raise ValueError(f"{year} 年 {month} 月只有 {len(days)} 个工作日")
    return days[n - 1] if n > 0 else days[n]


@dataclass(frozen=True)
class WorkdayResult:
    """A computed work-day date together with the unknown years it relied on."""

    date: dt.date
    unknown_years: tuple[int, ...] = ()

    @property
    def warning(self) -> str:
        return warning_text(list(self.unknown_years))


def add_workdays_result(start: dt.date, n: int) -> WorkdayResult:
    result = add_workdays(start, n)
    return WorkdayResult(result, tuple(unknown_years_in(_as_date(start), result)))


# --- entering a year (the office's write path) ----------------------------------------------


def can_view_calendar(user) -> bool:
    from rectify.core.scope import views_calendar

    return views_calendar(user)


def can_change_calendar(user) -> bool:
    from rectify.core.scope import changes_calendar

    return changes_calendar(user)


HOLIDAY_WORDS = {"休", "假", "放假", "休息", "休假", "节假日", "holiday"}
WORKDAY_WORDS = {"班", "上班", "补班", "调休上班", "工作日", "workday"}
_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
_END = r"(?:(\d{4})\s*[-/.年]\s*)?(?:(\d{1,2})\s*[-/.月]\s*)?(\d{1,2})(?!\d)\s*日?"
_LINE = re.compile(rf"^\s*{_DATE}(?:\s*(?:至|到|~|～|—|–)\s*{_END})?(?P<rest>.*)$")


@dataclass(frozen=True)
class ParsedDay:
    date: dt.date
    kind: str
    name: str
    line: int

    @property
    def weekday_name(self) -> str:
        return "星期" + WEEKDAY_NAMES[self.date.weekday()]

    @property
    def kind_label(self) -> str:
        return str(CalendarDayKind(self.kind).label)

    @property
    def is_weekend(self) -> bool:
        return self.date.weekday() >= 5


@dataclass
class ParseResult:
    days: list[ParsedDay]
    errors: list[str]  # one Chinese message per bad line, starting with its line number

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.days)


def _make_date(y: str, m: str, d: str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def parse_calendar_text(text: str, year: int) -> ParseResult:
    """Read lines like ``2027-01-01 元旦 休``, ``2027年2月7日 春节调休 班`` or
    ``2027-02-11至2027-02-17 春节 休`` (commas or tabs may separate the columns, as in a CSV).

    Every error is collected so the office fixes the whole paste in one go; the caller saves
    nothing unless there are none.
    """
    days: list[ParsedDay] = []
    errors: list[str] = []
    seen: dict[dt.date, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.replace("\ufeff", "").replace('"', " ").strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            if "日期" in line and not re.search(r"\d", line):
                continue  # a CSV header row such as 日期,名称,类型
            errors.append(f"第 {number} 行：开头不是日期（应为 2027-01-01 或 2027年1月1日，区间用“至”连接）：{raw.strip()}")
            continue
        g = match.groups()
        start = _make_date(g[0], g[1], g[2])
        if start is None:
            errors.append(f"第 {number} 行：日期 {g[0]}-{g[1]}-{g[2]} 不存在")
            continue
        end = start
        if g[5] is not None:
            given = _make_date(g[3] or str(start.year), g[4] or str(start.month), g[5])
            if given is None:
                errors.append(f"第 {number} 行：区间结束日期不存在")
                continue
            end = given
            if end < start:
                errors.append(f"第 {number} 行：区间结束日期 {end} 早于开始日期 {start}")
                continue
            if (end - start).days > 31:
                errors.append(f"第 {number} 行：区间 {start} 至 {end} 超过 31 天，请检查")
                continue
        tokens = [t for t in re.split(r"[\s,，、;；\t]+", match.group("rest")) if t]
        word = tokens[-1].lower() if tokens else ""
        if word in HOLIDAY_WORDS:
            kind = HOLIDAY
        elif word in WORKDAY_WORDS:
            kind = WORKDAY
        else:
            errors.append(f"第 {number} 行：行末须写类型“休”（放假）或“班”（调休上班）：{raw.strip()}")
            continue
        name = " ".join(tokens[:-1])[:50]
        line_errors = []
        day = start
        while day <= end:
            if day.year != year:
                line_errors.append(f"第 {number} 行：{day} 不在 {year} 年内（每个年份分别录入；跨年的日期请在其所属年份录入）")
            elif kind == WORKDAY and day.weekday() < 5:
                line_errors.append(f"第 {number} 行：{day} 是星期{WEEKDAY_NAMES[day.weekday()]}，本就是工作日，"
                                   f"“班”只用于周末调休上班")
            elif day in seen:
                line_errors.append(f"第 {number} 行：{day} 与第 {seen[day]} 行重复")
            else:
                seen[day] = number
                days.append(ParsedDay(day, kind, name, number))
            day += dt.timedelta(days=1)
        errors.extend(line_errors)
    days.sort(key=lambda d: d.date)
    return ParseResult(days, errors)


def format_days(days) -> str:
    """Days (ParsedDay or CalendarDay) back to the entry format, consecutive runs as ranges."""
    lines: list[str] = []
    run: list = []

    def flush():
        if run:
            first, last = run[0], run[-1]
            span = str(first.date) if first.date == last.date else f"{first.date}至{last.date}"
            kind = str(CalendarDayKind(first.kind).label)
            lines.append(f"{span} {first.name} {kind}" if first.name else f"{span} {kind}")

    for day in sorted(days, key=lambda d: d.date):
        if run and (day.date - run[-1].date).days == 1 and day.kind == run[-1].kind and day.name == run[-1].name:
            run.append(day)
        else:
            flush()
            run = [day]
    flush()
    return "\n".join(lines)


def year_stamp(year: int) -> str:
    """What the preview saw of a year, so that confirming cannot overwrite a newer entry unseen."""
    row = CalendarYear.objects.filter(year=year).values_list("entered_at", flat=True).first()
    return row.isoformat() if row else "none"


def _year_record(row: CalendarYear | None) -> dict | None:
    if row is None:
        return None
    days = list(CalendarDay.objects.filter(date__year=row.year).order_by("date"))
    return {"year": row.year, "source": row.source, "note": row.note,
            "entered_by": row.entered_by_id, "entered_at": row.entered_at,
            "holidays": sum(1 for d in days if d.kind == HOLIDAY),
            "workdays": sum(1 for d in days if d.kind == WORKDAY),
            "days": [[d.date, d.kind, d.name] for d in days]}


def enter_year(*, actor, year: int, days: list[ParsedDay], note: str = "", replace: bool = False,
               expected_stamp: str | None = None) -> CalendarYear:
    """Record a year's holidays and adjusted working days as published (整改办录入), replacing
    whatever the year had. Only the office administrator may do this."""
    if not can_change_calendar(actor):
        raise PermissionDenied("只有整改办管理员可以录入节假日。")
    if not days:
        raise ValidationError("没有可保存的日期。")
    if any(d.date.year != year for d in days):
        raise ValidationError(f"所有日期都须在 {year} 年内。")
    with transaction.atomic():
        existing = CalendarYear.objects.select_for_update().filter(year=year).first()
        if expected_stamp is not None and expected_stamp != (existing.entered_at.isoformat() if existing else "none"):
            raise ValidationError(f"{year} 年的节假日在预览之后已被他人修改，请重新预览后再确认。")
        if existing is not None and not replace:
            raise ValidationError(f"{year} 年已有节假日记录，替换须勾选确认。")
        before = _year_record(existing)
        CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create([CalendarDay(date=d.date, kind=d.kind, name=d.name) for d in days])
        row, _ = CalendarYear.objects.update_or_create(year=year, defaults={
            "source": CalendarSource.OFFICE, "entered_by": actor, "entered_at": timezone.now(), "note": note[:300]})
        holidays = sum(1 for d in days if d.kind == HOLIDAY)
        workdays = len(days) - holidays
        was = f"（原为放假 {before['holidays']} 天，调休上班 {before['workdays']} 天）" if before else ""
        record_event(actor=actor, action="calendar_year_entered", obj=row,
                     summary=f"{'替换' if existing else '录入'} {year} 年法定节假日：放假 {holidays} 天，"
                             f"调休上班 {workdays} 天{was}",
                     before=before, after=_year_record(row))
        transaction.on_commit(invalidate)  # other threads may have reloaded the old rows meanwhile
    invalidate()
    return row
