"""Target (目标指标) pages: the list, a target's page (trend, per-county comparison, values), the
office's forms. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.core.paging import list_page
from rectify.indicators import selectors, services
from rectify.indicators.forms import ImportForm, IndicatorForm, MeasurementForm
from rectify.indicators.scope import manages_indicators


def _attach(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errs in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, [e.message % (e.params or {}) for e in errs])
    else:
        form.add_error(None, exc.messages)


@login_required
def indicator_list(request):
    page = list_page(request, selectors.indicator_queryset(request.user), 50)
    standing = selectors.standings(list(page), selectors.counties())
    for ind in page:
        ind.standing = standing[ind.pk]
    return render(request, "indicators/list.html", {"page": page, "can_manage": manages_indicators(request.user)})


@login_required
def indicator_detail(request, pk: int):
    ind = selectors.get_indicator_for_user(request.user, pk)
    data = selectors.indicator_page(ind)
    can_manage = selectors.Indicator.objects.actionable_by(request.user, "manage").filter(pk=pk).exists()
    return render(request, "indicators/detail.html", {
        "ind": ind, **data, "can_manage": can_manage,
        "form": MeasurementForm(regions=data["regions"]) if can_manage else None,
        "import_form": ImportForm() if can_manage else None})


@login_required
def indicator_create(request):
    if not manages_indicators(request.user):
        raise PermissionDenied(_("只有整改办可以设定目标指标。"))
    form = IndicatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ind = services.create_indicator(actor=request.user, data=form.to_input())
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("已设定目标指标「%(name)s」。") % {"name": ind.name})
            return redirect("indicators:detail", pk=ind.pk)
    return render(request, "indicators/form.html", {"form": form})


@login_required
def indicator_edit(request, pk: int):
    ind = selectors.get_indicator_for_user(request.user, pk, action="manage")
    initial = {"name": ind.name, "comparator": ind.comparator, "value": ind.value, "unit": ind.unit, "year": ind.year,
               "kept": ind.kept, "scope": ind.scope, "county": ind.county, "baseline": ind.baseline,
               "source_sentence": ind.source_sentence}
    form = IndicatorForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_indicator(actor=request.user, indicator=ind, data=form.to_input())
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("indicators:detail", pk=ind.pk)
    return render(request, "indicators/form.html", {"form": form, "ind": ind})


@login_required
@require_POST
def measurement_add(request, pk: int):
    ind = selectors.get_indicator_for_user(request.user, pk, action="manage")
    form = MeasurementForm(request.POST, regions=services.regions_of(ind))
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_measurement(actor=request.user, indicator=ind, region=d["region"], period=d["period"],
                                        value=d["value"], source=d.get("source") or "")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("已录入监测值。"))
    else:
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("indicators:detail", pk=ind.pk)


@login_required
def measurement_import(request, pk: int):
    ind = selectors.get_indicator_for_user(request.user, pk, action="manage")
    form = ImportForm(request.POST or None, request.FILES or None)
    row_errors: list[tuple[int, str]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            n = services.import_measurements(actor=request.user, indicator=ind, data=upload.read(), filename=upload.name,
                                             source=form.cleaned_data.get("source") or "")
        except services.ImportRejected as exc:
            row_errors = exc.row_errors
        else:
            messages.success(request, _("已导入监测值 %(n)s 条。") % {"n": n})
            return redirect("indicators:detail", pk=ind.pk)
    return render(request, "indicators/import.html", {"ind": ind, "form": form, "row_errors": row_errors})
