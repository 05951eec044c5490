"""Forms of the administration pages (账号与单位管理). They bound and parse input; the services
(orgs/services.py) validate and write, and their ValidationErrors come back onto these forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import FastSelect, ZhForm
from rectify.orgs.models import Category, Role, Unit, UnitKind

STATE_CHOICES = [("", _("全部")), ("active", _("正常")), ("locked", _("已锁定")), ("inactive", _("已停用"))]
TOKEN_STATE_CHOICES = [("", _("全部")), ("active", _("有效")), ("revoked", _("已吊销"))]


class UnitField(forms.ModelChoiceField):
    """A unit shown by its full name."""

    def label_from_instance(self, obj):
        return obj.name


def _offer(form: forms.Form, name: str, units) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = units if units is not None else Unit.objects.none()


class UserFilterForm(ZhForm):
    q = forms.CharField(label=_("搜索"), max_length=50, required=False,
                        widget=forms.TextInput(attrs={"placeholder": _("用户名、姓名或职务")}))
    unit = UnitField(label=_("单位"), queryset=Unit.objects.none(), required=False,
                                  empty_label=_("全部"), widget=FastSelect)
    role = forms.ChoiceField(label=_("角色"), required=False, choices=[("", _("全部")), *Role.choices])
    state = forms.ChoiceField(label=_("状态"), required=False, choices=STATE_CHOICES)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer(self, "unit", units)


class UserForm(ZhForm):
    """Create (with username) or edit an account's profile, role and unit."""

    username = forms.RegexField(label=_("用户名"), max_length=150, regex=r"^[A-Za-z0-9_.@+-]+$",
                                help_text=_("字母、数字及 _ . @ + -，登录时使用，创建后不能修改"),
                                error_messages={"invalid": _("用户名只能包含字母、数字及 _ . @ + -")})
    display_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    title = forms.CharField(label=_("职务"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    unit = UnitField(label=_("所属单位"), queryset=Unit.objects.none(), required=False,
                                  empty_label=_("（无，仅市领导）"), widget=FastSelect)

    def __init__(self, *args, units=None, creating: bool = True, roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer(self, "unit", units)
        if roles is not None:
            field = self.fields["role"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = roles
        if not creating:
            del self.fields["username"]


class LockForm(ZhForm):
    reason = forms.CharField(label=_("锁定原因"), max_length=200, required=False)


class UnitForm(ZhForm):
    name = forms.CharField(label=_("名称"), max_length=100)
    short_name = forms.CharField(label=_("简称"), max_length=50, required=False)
    aliases = forms.CharField(label=_("别名"), max_length=300, required=False,
                              help_text=_("以逗号分隔；导入时用于匹配单位名称"))
    kind = forms.ChoiceField(label=_("类型"), choices=UnitKind.choices)
    county_kind = forms.CharField(label=_("区划类型"), max_length=20, required=False,
                                  help_text=_("县、县级市、区、管理区、经开区（仅县市区）"))
    region_code = forms.CharField(label=_("行政区划代码"), max_length=6, required=False,
                                  help_text=_("GB/T 2260，6 位数字（仅县市区）"))
    sort_order = forms.IntegerField(label=_("排序"), min_value=-99999, max_value=99999, initial=0)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    parent = UnitField(label=_("上级单位"), queryset=Unit.objects.none(), widget=FastSelect)

    def __init__(self, *args, units=None, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            _offer(self, "parent", units)
        else:
            del self.fields["parent"]


class MoveForm(ZhForm):
    parent = UnitField(label=_("新的上级单位"), queryset=Unit.objects.none(), widget=FastSelect)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer(self, "parent", units)


class AreaForm(ZhForm):
    county = UnitField(label=_("包县市区"), queryset=Unit.objects.none(), required=False,
                                    empty_label="—", widget=FastSelect)
    sector = forms.ChoiceField(label=_("分管领域"), required=False, choices=[("", "—"), *Category.choices])

    def __init__(self, *args, counties=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer(self, "county", counties)

    def clean(self):
        data = super().clean()
        if bool(data.get("county")) == bool(data.get("sector")):
            raise ValidationError(_("请选择一个县市区或一个分管领域（二者选一）。"))
        return data


class TokenFilterForm(ZhForm):
    state = forms.ChoiceField(label=_("状态"), required=False, choices=TOKEN_STATE_CHOICES)


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError onto the form: per field where the form has the field,
    otherwise at the top."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)
