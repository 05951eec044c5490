from django import forms

from rectify.core.forms import ZhForm
from rectify.ledger.forms import DateInput
from rectify.supervision.models import Rung


class EscalationForm(ZhForm):
    rung = forms.ChoiceField(label="督办措施", choices=[(r.value, r.label) for r in Rung if r != Rung.WARNING])
    target_unit = forms.ChoiceField(label="督办对象")
    reason = forms.CharField(label="督办事由", widget=forms.Textarea(attrs={"rows": 4}))
    reply_due = forms.DateField(label="回复期限", widget=DateInput())
    skip_reason = forms.CharField(label="越级理由（跳过中间措施时必填）", required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = {tu.unit_id: tu.unit.name for tu in task.task_units.select_related("unit")}
        self.fields["target_unit"].choices = list(units.items())


class ReplyForm(ZhForm):
    reply_text = forms.CharField(label="回复内容", widget=forms.Textarea(attrs={"rows": 5}))
