from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.assessment.models import RATE_INDICATORS, AssessmentScheme, Indicator
from rectify.core.forms import ZhForm
from rectify.ledger.forms import DateInput
from rectify.ledger.models import Campaign
from rectify.orgs.models import Unit, UnitKind

TEXT = {"rows": 3, "maxlength": 2000}


def helper_units():
    return Unit.objects.filter(kind__in=[UnitKind.DEPARTMENT, UnitKind.COUNTY, UnitKind.OFFICE],
                               is_active=True).order_by("kind", "sort_order", "id")


class HelpRequestForm(ZhForm):
    needs = forms.CharField(label=_("需要的帮扶"), max_length=2000, widget=forms.Textarea(attrs=TEXT),
                            help_text=_("例如：技术指导、资金协调、跨部门协调、政策解释"))
    asked_unit = forms.ModelChoiceField(label=_("希望由哪个单位帮扶"), queryset=Unit.objects.none(), required=False)
    asked_of = forms.CharField(label=_("或说明希望由谁帮扶"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asked_unit"].queryset = helper_units()


class HelpStepForm(ZhForm):
    action = forms.CharField(widget=forms.HiddenInput, max_length=20)
    version = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.CharField(label=_("答复"), max_length=2000, required=False, widget=forms.Textarea(attrs=TEXT))
    helper_unit = forms.ModelChoiceField(label=_("帮扶单位"), queryset=Unit.objects.none(), required=False)
    help_due = forms.DateField(label=_("帮扶时限"), required=False, widget=DateInput())
    help_given = forms.CharField(label=_("帮扶情况"), max_length=2000, required=False,
                                 widget=forms.Textarea(attrs=TEXT))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helper_unit"].queryset = helper_units()


class VisitForm(ZhForm):
    county = forms.ModelChoiceField(label=_("县市区"), queryset=Unit.objects.none())
    quarter = forms.RegexField(label=_("季度"), regex=r"^20\d\d-Q[1-4]$", max_length=7,
                               help_text=_("如 2026-Q2"))
    planned_on = forms.DateField(label=_("计划日期"), widget=DateInput())
    team = forms.CharField(label=_("督导组"), max_length=300, help_text=_("带队领导和成员"))

    def __init__(self, *args, counties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties


class VisitRecordForm(ZhForm):
    action = forms.CharField(widget=forms.HiddenInput, max_length=20)
    version = forms.IntegerField(widget=forms.HiddenInput)
    visited_on = forms.DateField(label=_("督导日期"), required=False, widget=DateInput())
    team = forms.CharField(label=_("督导组"), max_length=300, required=False)
    findings = forms.CharField(label=_("督导发现的问题"), max_length=2000, required=False,
                               widget=forms.Textarea(attrs=TEXT))
    follow_ups = forms.CharField(label=_("整改要求"), max_length=5000, required=False,
                                 widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
                                 help_text=_("每行一项；可写“任务编号｜要求｜完成时限”，如：ZY2-05｜完成截污管网｜2026-09-30"))
    reason = forms.CharField(label=_("取消原因"), max_length=2000, required=False, widget=forms.Textarea(attrs=TEXT))


class SchemeForm(ZhForm):
    campaign = forms.ModelChoiceField(label=_("整改批次"), queryset=Campaign.objects.none(), empty_label=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        for value, label in Indicator.choices:
            self.fields[f"{value}_weight"] = forms.DecimalField(label=label, min_value=0, max_value=100,
                                                                decimal_places=2, required=False)
            if value not in RATE_INDICATORS:
                self.fields[f"{value}_per_item"] = forms.DecimalField(label=_("每项扣分"), min_value=0, max_value=100,
                                                                      decimal_places=2, required=False)

    def items(self) -> list[dict]:
        d = self.cleaned_data
        return [{"indicator": value, "weight": str(d[f"{value}_weight"]),
                 "per_item": str(d.get(f"{value}_per_item") or 0)}
                for value in Indicator.values if d.get(f"{value}_weight") not in (None, "")]

    def rows(self):
        return [(label, self[f"{value}_weight"], self[f"{value}_per_item"] if value not in RATE_INDICATORS else None)
                for value, label in Indicator.choices]


class ComputeForm(ZhForm):
    scheme = forms.ModelChoiceField(label=_("评分办法"), queryset=AssessmentScheme.objects.none(), empty_label=None)
    title = forms.CharField(label=_("名称"), max_length=100)
    period_start = forms.DateField(label=_("考核期起"), widget=DateInput())
    period_end = forms.DateField(label=_("考核期止"), widget=DateInput())

    def __init__(self, *args, schemes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = schemes
