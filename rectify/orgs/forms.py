from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from rectify.core.forms import ZhForm


class LoginForm(AuthenticationForm):
    error_messages = {
        # Same words whether the user exists, the password is wrong or the account is locked.
        "invalid_login": _("用户名或密码错误，或账户已被临时锁定。连续 5 次失败将锁定 15 分钟。"),
        "inactive": _("用户名或密码错误，或账户已被临时锁定。连续 5 次失败将锁定 15 分钟。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")


class PasswordChangeForm(ZhForm):
    old_password = forms.CharField(label=_("当前密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(label=_("新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                    help_text=password_validators_help_text_html())
    new_password2 = forms.CharField(label=_("确认新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("当前密码不正确。"))
        return value

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data
