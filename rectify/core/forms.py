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
        from django.utils.safestring import mark_safe

        rows = queryset.values_list("pk", self.label_field)
        return mark_safe(self._options_html(name, value, attrs, rows))  # noqa: S308 — escaped there

    def _options_html(self, name, value, attrs, rows) -> str:
        """The select for (pk, label) rows: the same markup as the general path (Select.get_context:
        attributes, the empty choice, ' selected'), every value escaped."""
        from html import escape  # Django's escape is this one behind a lazy-text wrapper: labels here are str

        from django.forms.utils import flatatt
        from django.utils.html import conditional_escape

        context_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            context_attrs["multiple"] = True
        chosen = {str(v) for v in self.format_value(value)}
        parts = [f'<select name="{conditional_escape(name)}"{flatatt(context_attrs)}>']
        empty_label = getattr(getattr(self.choices, "field", None), "empty_label", None)
        if empty_label is not None:
            parts.append(f'<option value=""{" selected" if "" in chosen else ""}>{conditional_escape(empty_label)}</option>')
        for pk, label in rows:
            key = str(pk)
            parts.append(f'<option value="{key}"{" selected" if key in chosen else ""}>{escape(label)}</option>')
        parts.append("</select>")
        return "".join(parts)


class SearchSelect(FastSelect):
    """One unit (or campaign) among many in a filter: 涉及单位、县市区、牵头督导单位、整改批次.

    Up to ``settings.UNIT_PICKER_LIST_ALL`` choices it is the ordinary select listing them all. Past
    that (a province's thousands of units) a select listing them all is unusable and is most of the
    page's weight, so the select lists only the chosen unit and the units whose name holds the text
    typed in the search box beside it (``<name>_q``, at most ``SHOWN`` of them); the box is sent with
    the form (Enter), so it works without JavaScript. When the text names exactly one unit and none is
    chosen, that unit is the value: typing 「零陵区」 and pressing Enter filters by it.
    """

    SHOWN = 50
    MAX_QUERY = 40

    def __init__(self, attrs=None, choices=(), *, label_field: str = "name", noun=None):
        super().__init__(attrs, choices, label_field=label_field)
        self.noun = noun if noun is not None else _("单位")  # what the choices are, in the hints: 单位, 批次
        self.query = ""
        self.matches: list[tuple[int, str]] | None = None  # the search's matches, once looked up

    def _queryset(self):
        return getattr(self.choices, "queryset", None)

    def _search(self, query: str) -> list[tuple[int, str]]:
        if self.matches is None:
            queryset = self._queryset()
            self.matches = [] if queryset is None else list(
                queryset.filter(**{f"{self.label_field}__contains": query})
                .values_list("pk", self.label_field)[:self.SHOWN + 1])
        return self.matches

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        self.query = " ".join(str(data.get(f"{name}_q") or "").split())[:self.MAX_QUERY]
        if not value and self.query:
            found = self._search(self.query)
            if len(found) == 1:
                return str(found[0][0])
        return value

    @property
    def picking(self) -> bool:
        """A search is under way that did not settle on one choice: the filter panel stays open."""
        return bool(self.query) and self.matches is not None and len(self.matches) != 1

    def render(self, name, value, attrs=None, renderer=None):
        from html import escape

        from django.conf import settings
        from django.utils.safestring import mark_safe

        queryset = self._queryset()
        limit = settings.UNIT_PICKER_LIST_ALL
        if queryset is None:
            return super().render(name, value, attrs, renderer)
        if not self.query:  # a search under way always shows its matches, not the full list
            rows = list(queryset.values_list("pk", self.label_field)[:limit + 1])
            if len(rows) <= limit:
                return mark_safe(self._options_html(name, value, attrs, rows))  # noqa: S308 — escaped there
        chosen = {str(v) for v in self.format_value(value) if v}
        shown = list(queryset.filter(pk__in=[int(v) for v in chosen if v.isdigit()])
                     .values_list("pk", self.label_field)) if chosen else []
        found = self._search(self.query) if self.query else []
        shown += [row for row in found[:self.SHOWN] if str(row[0]) not in chosen]
        context_attrs = self.build_attrs(self.attrs, attrs)
        search_id = f"{context_attrs.get('id') or 'id_' + name}_q"
        if not self.query:
            hint = _("%(noun)s较多：在上方输入名称，按回车查找") % {"noun": self.noun}
        elif not found:
            hint = _("没有名称含“%(q)s”的%(noun)s") % {"q": self.query, "noun": self.noun}
        elif len(found) > self.SHOWN:
            hint = (_("名称含“%(q)s”的%(noun)s超过 %(n)s 个，请输入更完整的名称")
                    % {"q": self.query, "n": self.SHOWN, "noun": self.noun})
        elif len(found) > 1 and not chosen:
            hint = _("找到 %(n)s 个%(noun)s，请在下拉框中选择") % {"n": len(found), "noun": self.noun}
        else:
            hint = ""
        described = f' aria-describedby="{search_id}_hint"' if hint else ""
        return mark_safe(  # noqa: S308 — every value is escaped
            f'<span class="search-select"><input type="search" name="{escape(name)}_q" id="{escape(search_id)}"'
            f' value="{escape(self.query)}" maxlength="{self.MAX_QUERY}" autocomplete="off"'
            f' placeholder="{escape(str(_("输入名称查找")))}" aria-label="{escape(str(_("查找%(noun)s") % {"noun": self.noun}))}"{described}>'
            + self._options_html(name, value, attrs, shown)
            + (f'<small class="muted" id="{escape(search_id)}_hint">{escape(str(hint))}</small>' if hint else "")
            + "</span>")
