from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import ZhForm
from rectify.ledger.forms import DateInput
from rectify.supervision.models import Rung


class EscalationForm(ZhForm):
    rung = forms.ChoiceField(label=_("督办措施"), choices=[(r.value, r.label) for r in Rung if r != Rung.WARNING])
    target_unit = forms.ChoiceField(label=_("督办对象"))
    reason = forms.CharField(label=_("督办事由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    reply_due = forms.DateField(label=_("回复期限"), widget=DateInput())
    skip_reason = forms.CharField(label=_("越级理由（跳过中间措施时必填）"), required=False, max_length=1000,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Responsible units first (the usual target), each unit once, with its role on the task.
        order = {"responsible": 0, "lead_supervisor": 1, "co_supervisor": 2, "acceptance": 3}
        links = sorted(task.task_units.select_related("unit"), key=lambda tu: (order[tu.role], tu.ordinal))
        units: dict[int, str] = {}
        for tu in links:
            units.setdefault(tu.unit_id, f"{tu.unit.name}（{tu.get_role_display()}）")
        self.fields["target_unit"].choices = list(units.items())


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Django's pattern for several files in one field: each is cleaned; the service then checks
    every one by content."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ReplyForm(ZhForm):
    reply_text = forms.CharField(label=_("回复内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}))
    files = MultipleFileField(label=_("整改佐证材料（照片、PDF、Word、Excel，可多选，最多 10 个）"), required=False,
                              widget=MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf,.docx,.xlsx"}))
