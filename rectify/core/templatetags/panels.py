"""``{% load panels %}{% render_panel panel %}``: draw a section another app contributed to a page.

A panel carries its own template and context (``ledger.hooks.TaskPanel``); the tag renders it
with that context on top of the page's, so the page need not know what the panel shows.
"""

from __future__ import annotations

from django import template
from django.template.loader import get_template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, panel):
    with context.push(**panel.context):
        return get_template(panel.template).template.render(context)
