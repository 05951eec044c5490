from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import ZhForm
from rectify.reports.figures import SECTIONS
from rectify.reports.services import MAX_TEXT


class ReceivedForm(ZhForm):
    received_date = forms.DateField(label=_("收到督察报告日期"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}),
                                    help_text=_("整改落实情况报告须在收到督察报告后 6 个月内报送；留空表示尚未收到。"))


class NarrativeForm(ZhForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2_000_000_000)
    intro = forms.CharField(label=_("引言"), required=False, max_length=MAX_TEXT,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("留空则使用默认引言。各部分的数字由系统根据台账生成，不能手工填写。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, heading in SECTIONS:
            self.fields[f"summary_{key}"] = forms.CharField(
                label=heading, required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("本部分小结（可选），置于该部分数字之前。"))

    def summaries(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(f"summary_{key}", "") for key, _heading in SECTIONS}


class GenerateForm(ZhForm):
    as_of = forms.DateField(label=_("报告截止日期"), widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("半年报告、季度、年度或最终报告均可：选择截止日期即可。"))


class DossierForm(ZhForm):
    codes = forms.CharField(label=_("任务编号"), required=False, max_length=60_000,
                            widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("每行或以逗号分隔一个任务编号；留空导出本批次全部任务")}))
