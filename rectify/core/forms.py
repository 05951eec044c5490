from django import forms
from django.utils.translation import gettext_lazy as _


class ZhForm(forms.Form):
    """A form whose labels end with the full-width colon Chinese text uses."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", _("："))
        super().__init__(*args, **kwargs)


class FastSelect(forms.Select):
    """Django's ``Select`` with the same markup, rendered in Python instead of one template per
    option. A filter listing every unit of a province (thousands of options) cost more to render
    through ``select_option.html`` than the page's queries took; here it is one string join."""

    def render(self, name, value, attrs=None, renderer=None):
        from django.forms.utils import flatatt
        from django.utils.html import conditional_escape
        from django.utils.safestring import mark_safe

        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{conditional_escape(widget["name"])}"{flatatt(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'<optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                parts.append(f'<option value="{conditional_escape(str(option["value"]))}"{flatatt(option["attrs"])}>'
                             f'{conditional_escape(option["label"])}</option>')
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 — every value above is escaped
