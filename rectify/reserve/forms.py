from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import ZhForm
from rectify.reserve.models import FundingSource, ProjectKind, Rating, Stage
from rectify.reserve.services import MAX_AMOUNT


def amount_field(label, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, max_digits=14, decimal_places=2, min_value=Decimal(0),
                              max_value=MAX_AMOUNT)


class ProjectFilterForm(ZhForm):
    q = forms.CharField(label=_("关键词"), required=False, max_length=100)
    county: forms.ModelChoiceField = forms.ModelChoiceField(label=_("县市区"), queryset=None, required=False,
                                                            empty_label=_("全部"))
    stage = forms.ChoiceField(label=_("阶段"), required=False, choices=[("", _("全部")), *Stage.choices])
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部")), *ProjectKind.choices])

    def __init__(self, *args, counties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties


class ProjectForm(ZhForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0, max_value=2_000_000_000)
    code = forms.CharField(label=_("项目编号"), max_length=40)
    name = forms.CharField(label=_("项目名称"), max_length=200)
    kind = forms.ChoiceField(label=_("项目类型"), choices=ProjectKind.choices)
    county: forms.ModelChoiceField = forms.ModelChoiceField(label=_("所在县市区"), queryset=None, required=False)
    location = forms.CharField(label=_("建设地点"), max_length=200, required=False)
    total_investment = amount_field(_("总投资（万元）"))
    annual_investment = amount_field(_("年度计划投资（万元）"))
    responsible_unit: forms.ModelChoiceField = forms.ModelChoiceField(label=_("责任单位"), queryset=None)
    start_date = forms.DateField(label=_("开工日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    completion_date = forms.DateField(label=_("完工日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    task_codes = forms.CharField(label=_("关联整改任务编号"), required=False, max_length=2000,
                                 help_text=_("多个编号以顿号或逗号分隔。"))

    def __init__(self, *args, counties=None, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        self.fields["responsible_unit"].queryset = units
        for source in FundingSource:
            self.fields[f"fund_{source.value}"] = amount_field(_("%(source)s（万元）") % {"source": source.label},
                                                              required=False)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content later (``evidence.inspect``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ProgressForm(ZhForm):
    round: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("调度轮次"), queryset=None, required=False, empty_label=_("（不经调度轮次，按月份记录）"),
        help_text=_("选择报送中的调度轮次时，月份取该轮次的月份。"))
    period = forms.RegexField(label=_("月份"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", max_length=7, required=False,
                              widget=forms.TextInput(attrs={"placeholder": "2026-11"}))
    percent = forms.IntegerField(label=_("形象进度（%）"), min_value=0, max_value=100)
    invested = amount_field(_("累计完成投资（万元）"))
    text = forms.CharField(label=_("进展情况"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    evidence_files = MultipleFileField(label=_("佐证材料（照片、PDF、Word、Excel，可多选）"), required=False)

    def __init__(self, *args, rounds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = rounds

    def clean(self):
        data = super().clean()
        if not data.get("round") and not data.get("period"):
            raise forms.ValidationError(_("请选择调度轮次，或填写月份。"))
        return data


class PerformanceForm(ZhForm):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    planned = amount_field(_("计划资金（万元）"))
    spent = amount_field(_("实际使用（万元）"))
    outputs = forms.CharField(label=_("产出与效益"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    rating = forms.ChoiceField(label=_("评价等级"), choices=Rating.choices)


class ImportForm(ZhForm):
    file = forms.FileField(label=_("储备项目文件（.xlsx）"))
