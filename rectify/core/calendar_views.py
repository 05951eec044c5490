"""The work-day calendar pages (节假日设置): the office sees which years are on record and the
administrator enters or imports a year as the State Council publishes it. Thin: parsing and the
write live in :mod:`rectify.core.workdays`."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rectify.core import workdays
from rectify.core.forms import ZhForm
from rectify.core.models import CalendarDay, CalendarYear

MAX_UPLOAD_BYTES = 200 * 1024  # a year is a few dozen lines; anything bigger is the wrong file


class YearEntryForm(ZhForm):
    year = forms.IntegerField(label=_("年份"), min_value=2004, max_value=2100)
    text = forms.CharField(
        label=_("节假日安排（每行一条）"), required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text=_("格式：日期 名称 休/班。例如“2027-01-01 元旦 休”“2027年2月6日至2027年2月12日 春节 休”"
                  "“2027-02-13 春节调休 班”。“休”为放假（含假期中的周末），“班”为周末调休上班。"))
    upload = forms.FileField(label=_("或导入文件（.txt / .csv，格式同上）"), required=False)
    note = forms.CharField(label=_("依据文件/备注"), max_length=300, required=False,
                           help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕×号）"))

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload is not None:
            if not upload.name.lower().endswith((".txt", ".csv")):
                raise ValidationError(_("只能导入 .txt 或 .csv 文件。"))
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError(_("文件过大：节假日安排通常只有几十行。"))
            raw = upload.read()
            for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
                try:
                    data["text"] = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise ValidationError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的文本文件。"))
        if not (data.get("text") or "").strip():
            raise ValidationError(_("请粘贴节假日安排，或选择要导入的文件。"))
        return data


def _require_view(user) -> None:
    if not workdays.can_view_calendar(user):
        raise PermissionDenied(_("只有整改办可以查看节假日设置。"))


def _require_change(user) -> None:
    if not workdays.can_change_calendar(user):
        raise PermissionDenied(_("只有整改办管理员可以录入节假日。"))


def _year_counts(user) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    rows = CalendarDay.objects.visible_to(user).annotate(y=ExtractYear("date")).values("y", "kind").annotate(n=Count("id"))
    for row in rows:
        counts.setdefault(row["y"], {})[row["kind"]] = row["n"]
    return counts


@login_required
def calendar_index(request):
    _require_view(request.user)
    entered = {row.year: row for row in CalendarYear.objects.visible_to(request.user).select_related("entered_by")}
    counts = _year_counts(request.user)
    this_year = timezone.localdate().year
    lo, hi = min([*entered, this_year]), max([*entered, this_year + 1])
    rows = [{"year": y, "row": entered.get(y), "holidays": counts.get(y, {}).get(workdays.HOLIDAY, 0),
             "workdays": counts.get(y, {}).get(workdays.WORKDAY, 0)} for y in range(hi, lo - 1, -1)]
    return render(request, "core/calendar_index.html", {
        "rows": rows, "missing_soon": [y for y in (this_year, this_year + 1) if y not in entered],
        "can_change": workdays.can_change_calendar(request.user),
        "fallback_text": workdays.warning_text([y for y in (this_year, this_year + 1) if y not in entered]),
    })


@login_required
def calendar_year(request, year: int):
    _require_view(request.user)
    if not 1900 <= year <= 2200:
        raise Http404(_("年份超出范围"))
    row = CalendarYear.objects.visible_to(request.user).select_related("entered_by").filter(year=year).first()
    days = [workdays.ParsedDay(d.date, d.kind, d.name, 0)
            for d in CalendarDay.objects.visible_to(request.user).filter(date__year=year).order_by("date")] if row else []
    return render(request, "core/calendar_year.html", {
        "year": year, "row": row, "days": days,
        "total_workdays": workdays.workdays_between(dt.date(year - 1, 12, 31), dt.date(year, 12, 31)),
        "warning": workdays.warning_text(workdays.unknown_years_in(dt.date(year, 1, 1))),
        "can_change": workdays.can_change_calendar(request.user),
    })


def _default_year() -> int:
    # In the autumn the office enters next year: default to the first year not yet on record.
    year = timezone.localdate().year
    while workdays.year_known(year):
        year += 1
    return year


def _summary(year: int, days: list[workdays.ParsedDay]) -> dict[str, int]:
    holidays = [d for d in days if d.kind == workdays.HOLIDAY]
    weekday_holidays = sum(1 for d in holidays if not d.is_weekend)
    adjusted = len(days) - len(holidays)
    plain = sum(1 for i in range((dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1)
                if (dt.date(year, 1, 1) + dt.timedelta(days=i)).weekday() < 5)
    return {"holidays": len(holidays), "weekday_holidays": weekday_holidays, "adjusted": adjusted,
            "total_workdays": plain - weekday_holidays + adjusted}


@login_required
def calendar_enter(request):
    """录入/导入: paste or upload → preview (nothing saved) → confirm (saved, audited)."""
    _require_change(request.user)
    action = request.POST.get("action", "preview")
    if request.method != "POST":
        try:
            year = int(request.GET.get("year") or _default_year())
        except ValueError:
            year = _default_year()
        initial = {"year": year}
        if workdays.year_known(year):  # editing a year starts from what is on record
            initial["text"] = workdays.format_days(CalendarDay.objects.visible_to(request.user).filter(date__year=year))
            initial["note"] = (CalendarYear.objects.visible_to(request.user).filter(year=year)
                               .values_list("note", flat=True).first() or "")
        return render(request, "core/calendar_enter.html", {"form": YearEntryForm(initial=initial)})

    form = YearEntryForm(request.POST, request.FILES)
    if not form.is_valid() or action == "edit":
        return render(request, "core/calendar_enter.html", {"form": form})
    year, note = form.cleaned_data["year"], form.cleaned_data["note"]
    parsed = workdays.parse_calendar_text(form.cleaned_data["text"], year)
    if not parsed.ok:
        if not parsed.errors:
            form.add_error("text", _("没有读到任何日期。"))
        return render(request, "core/calendar_enter.html", {"form": form, "line_errors": parsed.errors})

    existing = CalendarYear.objects.visible_to(request.user).filter(year=year).first()
    errors: list[str] = []
    if action == "confirm":
        try:
            workdays.enter_year(actor=request.user, year=year, days=parsed.days, note=note,
                                replace=request.POST.get("confirm_replace") == "1",
                                expected_stamp=request.POST.get("stamp") or "none")
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("%(year)s 年法定节假日已保存，工作日即按新安排计算。") % {"year": year})
            return redirect("calendar:year", year=year)
    return render(request, "core/calendar_preview.html", {
        "year": year, "note": note, "days": parsed.days, "text": workdays.format_days(parsed.days),
        "existing": existing, "existing_count": CalendarDay.objects.visible_to(request.user).filter(date__year=year).count() if existing else 0,
        "stamp": workdays.year_stamp(year),  # a failed confirm shows the current state: that is the re-preview
        "summary": _summary(year, parsed.days), "errors": errors,
    })
