from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.accountability.models import CaseKind, Outcome
from rectify.core.forms import ZhForm
from rectify.ledger.forms import DateInput
from rectify.orgs.models import Unit, UnitKind

TEXT = {"rows": 4, "maxlength": 4000}
EVIDENCE_HELP = _("照片（JPEG/PNG）、PDF、Word（.docx）、Excel（.xlsx），单个不超过 20 MB；按内容检查类型")


def concernable_units():
    return Unit.objects.filter(kind__in=[UnitKind.COUNTY, UnitKind.DEPARTMENT], is_active=True).order_by(
        "kind", "sort_order", "id")


def commissions():
    return Unit.objects.filter(kind=UnitKind.DISCIPLINE, is_active=True).order_by("sort_order", "id")


class CaseForm(ZhForm):
    """立案 (and the handler's corrections before the investigation starts)."""

    task_codes = forms.CharField(label=_("关联任务编号"), max_length=2000, help_text=_("以逗号或换行分隔，至多 50 项"),
                                 widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(label=_("问题类型"), choices=CaseKind.choices)
    title = forms.CharField(label=_("案由"), max_length=200)
    facts = forms.CharField(label=_("问题线索"), max_length=4000, widget=forms.Textarea(attrs=TEXT))
    lead_unit = forms.ModelChoiceField(label=_("牵头调查单位"), queryset=Unit.objects.none(), required=False,
                                       help_text=_("一般为关联任务的牵头督导单位；不能是被调查的单位"))
    investigation_due = forms.DateField(label=_("调查时限"), widget=DateInput())
    units = forms.ModelMultipleChoiceField(label=_("涉及单位"), queryset=Unit.objects.none(), required=False,
                                           help_text=_("留空则为关联任务的主体责任单位；涉及单位及其人员看不到本案件"),
                                           widget=forms.SelectMultiple(attrs={"size": 6}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, choose_lead: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("lead_unit", "units"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = concernable_units()
        if not choose_lead:
            del self.fields["lead_unit"]

    def codes(self) -> list[str]:
        raw = self.cleaned_data["task_codes"].replace("，", ",").replace("、", ",").replace("\n", ",")
        return [c.strip() for c in raw.split(",") if c.strip()]


class FindingsForm(ZhForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    findings = forms.CharField(label=_("调查认定的事实"), max_length=4000, required=False,
                               widget=forms.Textarea(attrs={"rows": 6, "maxlength": 4000}))
    recommendation = forms.CharField(label=_("追责问责建议"), max_length=4000, required=False,
                                     widget=forms.Textarea(attrs={"rows": 4, "maxlength": 4000}))


class PersonForm(ZhForm):
    name = forms.CharField(label=_("姓名"), max_length=50)
    post = forms.CharField(label=_("职务"), max_length=100, required=False)
    unit = forms.ModelChoiceField(label=_("所在单位"), queryset=Unit.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = concernable_units()


class NoteForm(ZhForm):
    text = forms.CharField(label=_("记录内容"), max_length=4000, widget=forms.Textarea(attrs=TEXT))


class CaseFileForm(ZhForm):
    file = forms.FileField(allow_empty_file=True, label=_("材料"), help_text=EVIDENCE_HELP)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class StepForm(ZhForm):
    """One step of the table; which fields matter depends on the step (the service checks)."""

    action = forms.CharField(widget=forms.HiddenInput, max_length=30)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("理由"), required=False, max_length=4000, widget=forms.Textarea(attrs=TEXT))
    opinion = forms.CharField(label=_("审核意见"), required=False, max_length=4000, widget=forms.Textarea(attrs=TEXT))
    note = forms.CharField(label=_("移交说明"), required=False, max_length=4000, widget=forms.Textarea(attrs=TEXT))
    lead_unit = forms.ModelChoiceField(label=_("牵头调查单位"), queryset=Unit.objects.none(), required=False)
    investigation_due = forms.DateField(label=_("调查时限"), required=False, widget=DateInput())
    commission = forms.ModelChoiceField(label=_("移交至"), queryset=Unit.objects.none(), required=False)
    commission_ref = forms.CharField(label=_("受理编号"), required=False, max_length=60)
    handling_due = forms.DateField(label=_("办理时限"), required=False, widget=DateInput())
    outcome = forms.ChoiceField(label=_("处理结果"), choices=[("", "—"), *Outcome.choices], required=False)
    detail = forms.CharField(label=_("处理情况"), required=False, max_length=4000, widget=forms.Textarea(attrs=TEXT))

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].queryset = concernable_units()
        self.fields["commission"].queryset = commissions()
        self.person_ids = [p.pk for p in persons]
        for p in persons:
            self.fields[f"person_{p.pk}_outcome"] = forms.ChoiceField(
                label=_("处理结果"), choices=[("", "—"), *Outcome.choices], required=False)
            self.fields[f"person_{p.pk}_note"] = forms.CharField(label=_("处理情况"), required=False, max_length=1000)

    def person_outcomes(self) -> dict[int, tuple[str, str]]:
        d = self.cleaned_data
        return {pk: (d.get(f"person_{pk}_outcome") or "", d.get(f"person_{pk}_note") or "") for pk in self.person_ids}
