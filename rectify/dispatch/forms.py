from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import ZhForm
from rectify.ledger.forms import DateInput
from rectify.ledger.models import Measure


class OpenRoundForm(ZhForm):
    period = forms.RegexField(label=_("调度月份"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", help_text=_("格式 YYYY-MM"),
                              error_messages={"invalid": _("调度月份格式应为 YYYY-MM，例如 2026-11。")})
    due_date = forms.DateField(label=_("报送截止日期"), widget=DateInput())
    require_unit_review = forms.BooleanField(label=_("须本单位审核后上报"), required=False, initial=True)


class ReportForm(ZhForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    progress_text = forms.CharField(label=_("本月进展"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}), required=False)
    percent = forms.IntegerField(label=_("完成进度（%）"), min_value=0, max_value=100, required=False)
    measures_completed = forms.ModelMultipleChoiceField(label=_("本月已完成的措施"), queryset=Measure.objects.none(),
                                                        required=False, widget=forms.CheckboxSelectMultiple)
    difficulties = forms.CharField(label=_("存在困难"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), required=False)
    next_steps = forms.CharField(label=_("下步计划"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), required=False)
    public_summary = forms.CharField(label=_("公开摘要（一句话，可向社会公开）"), max_length=200, required=False)

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        if task is not None:
            self.fields["measures_completed"].queryset = Measure.objects.filter(task=task)
            self.fields["measures_completed"].label_from_instance = (
                lambda m: f"{m.ordinal}. {m.text[:60]}" + (_("（已完成）") if m.done else ""))


class DecisionForm(ZhForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("退回原因"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), required=False)
    judged_unable = forms.BooleanField(label=_("判断无法按期完成（红色预警）"), required=False)


class EvidenceForm(ZhForm):
    file = forms.FileField(allow_empty_file=True, label=_("佐证材料"), help_text=_("照片（JPEG/PNG）、PDF、Word（.docx）、Excel（.xlsx），单个不超过 20 MB"))
