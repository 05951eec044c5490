from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.closeout.models import FileStage, Standard, Verdict, Verifier
from rectify.core.forms import ZhForm
from rectify.ledger.forms import DateInput
from rectify.ledger.models import Campaign
from rectify.orgs.models import Category

TEXT = {"rows": 3, "maxlength": 2000}


class SelfAssessmentForm(ZhForm):
    completion_summary = forms.CharField(label=_("整改完成情况"), required=False, max_length=2000,
                                         widget=forms.Textarea(attrs=TEXT),
                                         help_text=_("将写入销号申请表和整改情况公示"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Standard.choices:
            self.fields[f"{value}_verdict"] = forms.ChoiceField(
                label=label, choices=Verdict.choices, widget=forms.RadioSelect, initial=Verdict.MET)
            self.fields[f"{value}_statement"] = forms.CharField(
                label=_("说明及佐证"), max_length=2000, widget=forms.Textarea(attrs=TEXT))

    def items(self) -> dict[str, tuple[str, str]]:
        d = self.cleaned_data
        return {s: (d[f"{s}_verdict"], d[f"{s}_statement"]) for s in Standard.values}

    def standards(self):
        return [(label, self[f"{value}_verdict"], self[f"{value}_statement"]) for value, label in Standard.choices]


class StepForm(ZhForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("原因"), required=False, max_length=2000, widget=forms.Textarea(attrs=TEXT))
    opinion = forms.CharField(label=_("核查意见"), required=False, max_length=2000, widget=forms.Textarea(attrs=TEXT))


class CheckForm(ZhForm):
    standard = forms.ChoiceField(label=_("销号标准"), choices=Standard.choices)
    finding = forms.CharField(label=_("核查情况"), max_length=2000, widget=forms.Textarea(attrs=TEXT))
    onsite = forms.BooleanField(label=_("现场核查"), required=False, initial=True)
    checked_on = forms.DateField(label=_("核查日期"), widget=DateInput())
    checkers = forms.CharField(label=_("核查人员"), max_length=200)
    passed = forms.TypedChoiceField(label=_("结论"), choices=[("1", _("符合销号标准")), ("0", _("不符合"))],
                                    coerce=lambda v: v == "1", widget=forms.RadioSelect)


class AnswerForm(ZhForm):
    action = forms.ChoiceField(label=_("答复结论"), choices=[("dismiss", _("异议不成立")), ("uphold", _("异议成立，退回整改"))],
                               widget=forms.RadioSelect)
    answer = forms.CharField(label=_("答复内容"), max_length=2000, widget=forms.Textarea(attrs=TEXT))


class PolicyForm(ZhForm):
    notice_workdays = forms.IntegerField(label=_("公示期（工作日）"), min_value=1, max_value=30)
    onsite_required = forms.BooleanField(label=_("核查须现场核查"), required=False)
    verifier = forms.ChoiceField(label=_("核查单位"), choices=Verifier.choices)


class LookBackForm(ZhForm):
    campaign = forms.ModelChoiceField(label=_("整改批次"), queryset=Campaign.objects.none(), empty_label=None)
    title = forms.CharField(label=_("名称"), max_length=100)
    share_percent = forms.IntegerField(label=_("随机抽取比例（%）"), min_value=0, max_value=100, initial=20)
    seed = forms.CharField(label=_("随机种子"), max_length=64, required=False,
                           help_text=_("留空则自动生成；记录在案，可据此复现抽取结果"))
    categories = forms.MultipleChoiceField(label=_("按类别全部选取"), choices=Category.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    closed_from = forms.DateField(label=_("销号日期自"), required=False, widget=DateInput())
    closed_to = forms.DateField(label=_("销号日期至"), required=False, widget=DateInput())
    manual = forms.CharField(label=_("人工指定任务编号"), required=False, max_length=2000,
                             help_text=_("以逗号或换行分隔"), widget=forms.Textarea(attrs={"rows": 2}))
    due_date = forms.DateField(label=_("复查时限"), widget=DateInput())

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class ResultForm(ZhForm):
    action = forms.ChoiceField(label=_("复查结论"), choices=[("hold", _("巩固")), ("rebound", _("反弹，重新整改"))],
                               widget=forms.RadioSelect)
    statement = forms.CharField(label=_("复查情况"), max_length=2000, widget=forms.Textarea(attrs=TEXT))
    new_deadline = forms.DateField(label=_("重新整改时限（反弹时填写）"), required=False, widget=DateInput())


class BulkForm(ZhForm):
    action = forms.ChoiceField(label=_("批量操作"), choices=[("accept_application", _("受理销号申请")),
                                                          ("file", _("备案销号"))])


EVIDENCE_HELP = _("照片（JPEG/PNG）、PDF、Word（.docx）、Excel（.xlsx），单个不超过 20 MB；按内容检查类型")


class FileForm(ZhForm):
    stage = forms.ChoiceField(choices=FileStage.choices, widget=forms.HiddenInput)
    standard = forms.ChoiceField(label=_("销号标准"), choices=Standard.choices)
    file = forms.FileField(allow_empty_file=True, label=_("佐证材料"), help_text=EVIDENCE_HELP)


class LookBackFileForm(ZhForm):
    file = forms.FileField(allow_empty_file=True, label=_("复查佐证"), help_text=EVIDENCE_HELP)
