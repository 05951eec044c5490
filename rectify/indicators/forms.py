from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import ZhForm
from rectify.indicators.models import Comparator, IndicatorScope
from rectify.indicators.services import IndicatorInput
from rectify.orgs.models import Unit, UnitKind


class IndicatorForm(ZhForm):
    name = forms.CharField(label=_("指标名称"), max_length=100)
    comparator = forms.ChoiceField(label=_("比较方式"), choices=Comparator.choices)
    value = forms.DecimalField(label=_("目标值"), max_digits=14, decimal_places=4,
                               help_text=_("“是否达到”类指标填 1"))
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)
    year = forms.IntegerField(label=_("目标年份"), min_value=2000, max_value=2100, required=False)
    kept = forms.BooleanField(label=_("须持续保持"), required=False)
    scope = forms.ChoiceField(label=_("适用范围"), choices=IndicatorScope.choices)
    county: forms.ModelChoiceField = forms.ModelChoiceField(label=_("县市区"), queryset=None, required=False, empty_label=_("（不适用）"))
    baseline = forms.DecimalField(label=_("基准值"), max_digits=14, decimal_places=4, required=False,
                                  help_text=_("“下降”“提高”类指标与之比较"))
    source_sentence = forms.CharField(label=_("依据（原文）"), max_length=2000, required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = Unit.objects.filter(kind=UnitKind.COUNTY, is_active=True).order_by(
            "sort_order", "id")

    def to_input(self) -> IndicatorInput:
        d = self.cleaned_data
        return IndicatorInput(name=d["name"], comparator=d["comparator"], value=d["value"], unit=d.get("unit") or "",
                              year=d.get("year"), kept=bool(d.get("kept")), scope=d["scope"], county=d.get("county"),
                              baseline=d.get("baseline"), source_sentence=d.get("source_sentence") or "")


class MeasurementForm(ZhForm):
    region: forms.ModelChoiceField = forms.ModelChoiceField(label=_("地区"), queryset=None, empty_label=None)
    period = forms.CharField(label=_("期间"), max_length=10, help_text=_("年份（如 2023）或年月（如 2023-06）"))
    value = forms.CharField(label=_("监测值"), max_length=30, help_text=_("“是否达到”类指标填 是 或 否"))
    source = forms.CharField(label=_("数据来源"), max_length=200, required=False)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Unit.objects.filter(pk__in=[r.pk for r in regions]).order_by("sort_order", "id")
        self.fields["region"].label_from_instance = lambda u: str(_("全市")) if u.kind == UnitKind.OFFICE else u.name


class ImportForm(ZhForm):
    file = forms.FileField(label=_("监测值文件（.xlsx 或 .csv）"))
    source = forms.CharField(label=_("数据来源"), max_length=200, required=False,
                             help_text=_("如：市生态环境局 2024 年环境质量公报；不填则记为文件名"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > min(settings.IMPORT_MAX_BYTES, 5 * 1024 * 1024):
            raise forms.ValidationError(_("文件过大（上限 5 MB）。"))
        if not f.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("请上传 .xlsx 或 .csv 文件。"))
        return f
