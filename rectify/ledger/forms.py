from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import FastSelect, SearchSelect, ZhForm
from rectify.ledger.models import DeadlineKind, TaskStatus
from rectify.ledger.progress import COLOUR_LABELS, STATUS_LABELS
from rectify.ledger.services import MeasureInput, TaskInput
from rectify.orgs.models import Category, Role, Unit, UnitKind, User


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _units():
    return Unit.objects.filter(is_active=True).order_by("kind", "sort_order", "id")


class TaskFilterForm(ZhForm):
    q = forms.CharField(label=_("关键词"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("编号、名称、问题描述、目标"), "type": "search"}))
    campaign = forms.ModelChoiceField(label=_("整改批次"), queryset=None, required=False, empty_label=_("全部批次"),
                                      widget=SearchSelect(noun=_("批次")))
    category = forms.ChoiceField(label=_("问题类别"), required=False, choices=[("", _("全部类别")), *Category.choices],
                                 widget=FastSelect())
    # every unit and county of the tree: a select of them all for a city, a search box past
    # UNIT_PICKER_LIST_ALL (a province's thousands of units, its hundreds of campaigns)
    unit = forms.ModelChoiceField(label=_("涉及单位"), queryset=None, required=False, empty_label=_("全部单位"),
                                  widget=SearchSelect())
    county = forms.ModelChoiceField(label=_("县市区"), queryset=None, required=False, empty_label=_("全部县市区"),
                                    widget=SearchSelect())
    lead = forms.ModelChoiceField(label=_("牵头督导单位"), queryset=None, required=False, empty_label=_("全部"),
                                  widget=SearchSelect())
    status = forms.ChoiceField(label=_("台账状态"), required=False, choices=[("", _("全部状态")), *TaskStatus.choices],
                               widget=FastSelect())
    progress_status = forms.ChoiceField(label=_("进度状态"), required=False,
                                        choices=[("", _("全部")), *STATUS_LABELS.items()], widget=FastSelect())
    warning_colour = forms.ChoiceField(label=_("预警"), required=False, choices=[("", _("全部")), *COLOUR_LABELS.items()],
                                       widget=FastSelect())
    deadline_kind = forms.ChoiceField(label=_("时限类型"), required=False, choices=[("", _("全部")), *DeadlineKind.choices],
                                      widget=FastSelect())
    deadline_from = forms.DateField(label=_("时限自"), required=False, widget=DateInput())
    deadline_to = forms.DateField(label=_("时限至"), required=False, widget=DateInput())
    my_counties = forms.BooleanField(label=_("只看我负责的县区"), required=False)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=[
        ("warning", _("预警从重到轻，再按时限")), ("code", _("按编号")), ("deadline", _("时限从早到晚")), ("-deadline", _("时限从晚到早")),
        ("-updated", _("最近更新")), ("title", _("按名称")), ("colour", _("预警从重到轻")), ("progress", _("进度从低到高"))],
        widget=FastSelect())

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["unit"].queryset = _units()
        self.fields["county"].queryset = Unit.objects.filter(kind=UnitKind.COUNTY).order_by("sort_order", "id")
        self.fields["lead"].queryset = Unit.objects.filter(kind=UnitKind.DEPARTMENT).order_by("sort_order", "id")

    @property
    def picking(self) -> bool:
        """A search typed in the filter did not settle on one unit or campaign: keep the panel open."""
        return any(getattr(self.fields[name].widget, "picking", False) for name in ("campaign", "unit", "county", "lead"))


class TaskForm(ZhForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    campaign = forms.ModelChoiceField(label=_("整改批次"), queryset=None)
    code = forms.CharField(label=_("任务编号"), max_length=40)
    inspection_number = forms.CharField(label=_("督察问题编号"), max_length=40, required=False)
    title = forms.CharField(label=_("问题/任务名称"), max_length=300)
    problem = forms.CharField(label=_("问题描述"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    target = forms.CharField(label=_("整改目标"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label=_("问题类别"), choices=Category.choices)
    primary_unit = forms.ModelChoiceField(label=_("主体责任单位（牵头）"), queryset=None, required=False, empty_label=_("请选择"))
    other_units = forms.ModelMultipleChoiceField(label=_("其他主体责任单位"), queryset=None, required=False,
                                                 widget=forms.SelectMultiple(attrs={"size": 6}))
    lead_supervisor = forms.ModelChoiceField(label=_("牵头督导单位"), queryset=None, required=False, empty_label=_("请选择"))
    co_supervisors = forms.ModelMultipleChoiceField(label=_("配合督导单位"), queryset=None, required=False,
                                                    widget=forms.SelectMultiple(attrs={"size": 6}))
    acceptance_unit = forms.ModelChoiceField(label=_("牵头验收单位"), queryset=None, required=False,
                                             empty_label=_("同牵头督导单位"), help_text=_("不选则默认为牵头督导单位"))
    leader = forms.ModelChoiceField(label=_("责任领导"), queryset=None, required=False, empty_label=_("未指定"))
    deadline_kind = forms.ChoiceField(label=_("整改时限类型"), required=False,
                                      choices=[("", _("请选择")), *DeadlineKind.choices])
    deadline = forms.DateField(label=_("整改时限"), required=False, widget=DateInput())
    start_date = forms.DateField(label=_("开始日期"), required=False, widget=DateInput(),
                                 help_text=_("序时进度的起点；不填则取任务转为整改中（四清楚）之日"))
    location_name = forms.CharField(label=_("位置"), max_length=200, required=False,
                                    widget=forms.TextInput(attrs={"placeholder": _("如：零陵区潇水河萍洲段")}))
    latitude = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90,
                                widget=forms.NumberInput(attrs={"step": "any", "placeholder": "26.2208"}),
                                help_text=_("与经度同时填写，用于核对佐证照片的拍摄地点"))
    longitude = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180,
                                 widget=forms.NumberInput(attrs={"step": "any", "placeholder": "111.6133"}))
    progress_note = forms.CharField(label=_("整改进展"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    completion_note = forms.CharField(label=_("完成情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        for name in ("primary_unit", "other_units", "lead_supervisor", "co_supervisors", "acceptance_unit"):
            self.fields[name].queryset = _units()
        self.fields["leader"].queryset = User.objects.filter(role=Role.LEADER, is_active=True)
        self.fields["leader"].label_from_instance = lambda u: f"{u.display_name}（{u.title}）" if u.title else str(u)

    def to_input(self, measures: list[MeasureInput]) -> TaskInput:
        d = self.cleaned_data
        responsible = [d["primary_unit"]] if d.get("primary_unit") else []
        responsible += [u for u in d.get("other_units") or [] if u not in responsible]
        return TaskInput(
            code=d["code"], title=d["title"], problem=d.get("problem", ""), target=d.get("target", ""),
            inspection_number=d.get("inspection_number", ""), category=d["category"],
            responsible_units=responsible, lead_supervisor=d.get("lead_supervisor"),
            co_supervisors=list(d.get("co_supervisors") or []), acceptance_unit=d.get("acceptance_unit"),
            leader=d.get("leader"), deadline_kind=d.get("deadline_kind") or "", deadline=d.get("deadline"),
            start_date=d.get("start_date"), progress_note=d.get("progress_note", ""),
            completion_note=d.get("completion_note", ""), measures=measures,
            location_name=d.get("location_name") or "", latitude=d.get("latitude"), longitude=d.get("longitude"))


class MeasureForm(ZhForm):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(label=_("措施内容"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    owner_unit = forms.ModelChoiceField(label=_("责任单位"), queryset=None, required=False, empty_label=_("同任务"))
    due_date = forms.DateField(label=_("完成时限"), required=False, widget=DateInput())
    done = forms.BooleanField(label=_("已完成"), required=False)

    def __init__(self, *args, unit_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = _units()
        if unit_choices is not None:  # rows of a formset share one read of the units
            self.fields["owner_unit"].choices = unit_choices


class BaseMeasureFormSet(forms.BaseFormSet):
    """Every row's unit select lists the same units: read them once for the whole formset, not once
    per measure."""

    def get_form_kwargs(self, index):
        if not hasattr(self, "_unit_choices"):
            self._unit_choices = list(MeasureForm().fields["owner_unit"].choices)
        return {**super().get_form_kwargs(index), "unit_choices": self._unit_choices}


MeasureFormSet = forms.formset_factory(MeasureForm, formset=BaseMeasureFormSet, extra=2, can_delete=True)


def measures_from(formset) -> list[MeasureInput]:
    items = []
    for form in formset.forms:
        d = getattr(form, "cleaned_data", None) or {}
        if not d or d.get("DELETE") or not (d.get("text") or "").strip():
            continue
        items.append(MeasureInput(id=d.get("id"), text=d["text"], owner_unit=d.get("owner_unit"),
                                  due_date=d.get("due_date"), done=bool(d.get("done"))))
    return items
