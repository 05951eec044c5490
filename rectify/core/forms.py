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

    def __init__(self, attrs=None, choices=(), *, label_field: str = ""):
        # label_field: for a model choice whose label is that field (str(obj) is obj.<field>), the
        # options are read as (pk, label) rows instead of model instances: a province's 1,400
        # units cost ~15 ms a select as instances, ~1 ms as rows.
        super().__init__(attrs, choices)
        self.label_field = label_field

    def render(self, name, value, attrs=None, renderer=None):
        from django.forms.utils import flatatt
        from django.utils.html import conditional_escape
        from django.utils.safestring import mark_safe

        queryset = getattr(self.choices, "queryset", None)
        if self.label_field and queryset is not None:
            return self._render_rows(name, value, attrs, queryset)
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

    def _render_rows(self, name, value, attrs, queryset):
        from html import escape  # Django's escape is this one behind a lazy-text wrapper: labels here are str

        from django.forms.utils import flatatt
        from django.utils.html import conditional_escape
        from django.utils.safestring import mark_safe

        # the same markup as the general path (Select.get_context: attributes, the empty choice, ' selected')
        context_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            context_attrs["multiple"] = True
        chosen = {str(v) for v in self.format_value(value)}
        parts = [f'<select name="{conditional_escape(name)}"{flatatt(context_attrs)}>']
        empty_label = getattr(self.choices.field, "empty_label", None)
        if empty_label is not None:
            parts.append(f'<option value=""{" selected" if "" in chosen else ""}>{conditional_escape(empty_label)}</option>')
        for pk, label in queryset.values_list("pk", self.label_field):
            key = str(pk)
            parts.append(f'<option value="{key}"{" selected" if key in chosen else ""}>{escape(label)}</option>')
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 — every value above is escaped
